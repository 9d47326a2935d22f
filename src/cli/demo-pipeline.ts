/**
 * The main job: a zero-copy media pipeline on a machine of worker threads
 * (see pipeline-stage.ts for the three stages). Frames cycle through a ring
 * of system-heap buffers, synchronised only by the fences in each buffer's
 * reservation object; the main thread boots the machine, wires the stages,
 * shows progress, and reports what happened, including bufinfo mid-run.
 */
import { writeFileSync } from 'node:fs';
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import { boot, type Machine, type MachineStats } from '../machine/boot.js';
import type { StageData, StageReport } from './pipeline-stage.js';
import { chromeTrace, traceModel, type TraceModel } from './trace.js';
import { reportHtml } from './report.js';

export interface PipelineOptions {
  frames: number;
  width: number;
  height: number;
  ring: number;
  /** processor workers (frame n goes to processor n % workers) */
  workers: number;
  /** record the kernel's fence and buffer trace (PipelineResult.trace) */
  trace?: boolean;
  /** run on this machine (left running; `left` is then its stats after the run) instead of booting one */
  machine?: Machine;
}

export const PIPELINE_DEFAULTS: PipelineOptions = { frames: 120, width: 1280, height: 720, ring: 4, workers: 1 };

const median = (xs: number[]): number => (xs.length ? [...xs].sort((a, b) => a - b)[xs.length >> 1] : 0);
const p99 = (xs: number[]): number => (xs.length ? [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * 0.99))] : 0);

function bar(done: number, total: number): string {
  const w = 30;
  const fill = Math.round((done / total) * w);
  return `[${'#'.repeat(fill)}${'.'.repeat(w - fill)}] ${done}/${total} frames`;
}

export interface PipelineResult {
  seconds: number;
  reports: StageReport[];
  bufinfo: string;
  left: MachineStats;
  trace: TraceModel | null;
}

/** Run the pipeline; `progress(n)` after each frame the consumer checked. */
export async function runPipeline(opts: PipelineOptions, progress: (done: number) => void = () => {}): Promise<PipelineResult> {
  const { frames, width, height, ring, workers: nproc } = opts;
  if (!(frames > 0 && width > 0 && height > 0 && ring > 1 && nproc > 0)) throw new Error('frames, width, height and workers must be positive and the ring at least 2');

  const machine = opts.machine ?? (await boot());
  if (opts.trace) await machine.traceStart();
  const credits = new SharedArrayBuffer(4);
  // producer -> processor k -> consumer, one channel each way per processor
  const toProc = Array.from({ length: nproc }, () => new MessageChannel());
  const fromProc = Array.from({ length: nproc }, () => new MessageChannel());
  const stageUrl = new URL('./pipeline-stage.js', import.meta.url);
  const start = (role: StageData['role'], comm: string, ports: { next?: MessagePort[]; prev?: MessagePort[] }): Worker => {
    const handle = machine.channel(comm);
    const data: StageData = { role, handle, width, height, ring, frames, credits, trace: opts.trace, ...ports };
    return new Worker(stageUrl, { workerData: data, transferList: [handle.port, ...(ports.next ?? []), ...(ports.prev ?? [])] as never });
  };
  const stages: [string, Worker][] = [
    ['producer', start('producer', 'producer', { next: toProc.map((c) => c.port1) })],
    ...toProc.map((c, k): [string, Worker] => [`processor${nproc > 1 ? k : ''}`, start('processor', `processor${nproc > 1 ? k : ''}`, { prev: [c.port2], next: [fromProc[k].port1] })]),
    ['consumer', start('consumer', 'consumer', { prev: fromProc.map((c) => c.port2) })],
  ];
  const pids = new Map<Worker, number>();
  const reports: StageReport[] = [];
  let bufinfo = '';
  const t0 = performance.now();
  let tEnd = t0;
  const main = machine.spawn('dmabuf-demo');
  let left: MachineStats;
  let trace: TraceModel | null = null;

  try {
    await new Promise<void>((resolve, reject) => {
      const fail = (e: unknown): void => reject(e instanceof Error ? e : new Error(String(e)));
      for (const [role, w] of stages) {
        w.on('error', fail);
        w.on('exit', (code) => {
          if (code !== 0) fail(new Error(`the ${role} stage exited with code ${code}`));
        });
        w.on('message', (m: { pid?: number; shared?: unknown[]; progress?: number; report?: StageReport }) => {
          if (m.pid !== undefined) {
            pids.set(w, m.pid);
            // Everyone is there: the producer shares the ring with the processors and the consumer.
            if (pids.size === stages.length) stages[0][1].postMessage({ to: stages.slice(1).map(([, s]) => pids.get(s)) });
          } else if (m.shared) {
            stages.slice(1).forEach(([, s], k) => s.postMessage({ shared: m.shared![k] }));
          } else if (m.progress !== undefined) {
            progress(m.progress);
            if (m.progress === Math.ceil(frames / 2)) bufinfo = main.readFile('/sys/kernel/debug/dma_buf/bufinfo');
            if (m.progress === frames) tEnd = performance.now();
          } else if (m.report) {
            reports.push(m.report);
            if (m.report.errors.length) fail(new Error(m.report.errors.slice(0, 3).join('; ')));
            else if (reports.length === stages.length) resolve();
          }
        });
      }
    });
  } finally {
    main.exit();
    await Promise.all(stages.map(([, w]) => w.terminate()));
    if (opts.trace) {
      const t = await machine.traceStop();
      trace = traceModel(t.records, t.lost, reports.flatMap((r) => r.marks));
    }
    left = opts.machine ? await machine.stats() : await machine.shutdown();
  }

  return { seconds: (tEnd - t0) / 1000, reports, bufinfo, left, trace };
}

export interface DemoOptions extends PipelineOptions {
  /** write the Chrome trace-event JSON here */
  tracePath?: string;
  /** write the HTML report here */
  reportPath?: string;
}

export async function demoPipeline(opts: DemoOptions, out: (s: string) => void = console.log): Promise<number> {
  const { frames, width, height, ring, workers } = opts;
  const frameBytes = width * height * 4;
  out(`dmabuf demo: ${frames} frames of ${width}x${height} RGBA through a ring of ${ring} system-heap buffers`);
  out(`producer (fills) -> ${workers > 1 ? `${workers} processors` : 'processor'} (grayscale in place) -> consumer (vgem PRIME import, checks)\n`);
  const tty = process.stderr.isTTY;
  let result: PipelineResult;
  try {
    result = await runPipeline({ ...opts, trace: Boolean(opts.tracePath || opts.reportPath) }, (n) => {
      if (tty) process.stderr.write(`\r${bar(n, frames)}`);
    });
  } finally {
    if (tty) process.stderr.write('\n');
  }
  const { seconds: secs, reports, bufinfo, left, trace } = result;
  const waitsOf = (r: string): number[] => reports.filter((x) => x.role === r).flatMap((x) => x.waits);
  // Bytes the stages touched: the producer writes each frame, the processor reads and writes it, the consumer reads it.
  const touched = frames * frameBytes * 4;
  const posted = reports.reduce((s, r) => s + r.postedBytes, 0);
  out(`frames: ${frames} in ${secs.toFixed(2)} s = ${(frames / secs).toFixed(1)} frames/s`);
  out(`memory touched: ${(touched / 2 ** 30).toFixed(2)} GiB = ${(touched / 2 ** 30 / secs).toFixed(2)} GiB/s`);
  out(`frame bytes copied between threads: 0 (messages carried ${posted} bytes of frame numbers and fd tokens for ${(frames * frameBytes / 2 ** 20).toFixed(0)} MiB of frames)`);
  out('fence waits (ms, median / p99):');
  for (const role of ['producer', 'processor', 'consumer']) {
    const w = waitsOf(role);
    out(`  ${role.padEnd(9)} ${median(w).toFixed(3)} / ${p99(w).toFixed(3)}  (${role === 'producer' ? 'POLLOUT: the consumer\'s read fence' : role === 'processor' ? 'POLLOUT: the producer\'s write fence' : 'POLLIN: the processor\'s write fence'})`);
  }
  out('every frame checked: checksums match and sampled pixels are the expected grayscale');
  out('\nbufinfo at mid-run (/sys/kernel/debug/dma_buf/bufinfo):');
  out(bufinfo.trimEnd());
  out(`\nafter shutdown: dma-bufs ${left.dmabufs}, pages ${left.pages}, fds in flight ${left.inFlight}, taint ${left.taint}`);
  if (trace && opts.tracePath) {
    writeFileSync(opts.tracePath, JSON.stringify(chromeTrace(trace)));
    out(`trace: ${opts.tracePath} (${trace.fences.length} fences, ${trace.buffers.length} buffers, ${trace.waits.length} waits; open it in https://ui.perfetto.dev)`);
  }
  if (trace && opts.reportPath) {
    writeFileSync(opts.reportPath, reportHtml(trace, `dmabuf demo: ${frames} frames of ${width}x${height}, ring ${ring}, ${workers} processor${workers > 1 ? 's' : ''}`));
    out(`report: ${opts.reportPath}`);
  }
  return left.dmabufs || left.pages || left.taint ? 1 : 0;
}

const NUMERIC: (keyof PipelineOptions)[] = ['frames', 'width', 'height', 'ring', 'workers'];

/** Parse `--frames N --width W --height H --ring R --workers P --trace FILE --report FILE`. */
export function parsePipelineArgs(args: string[]): DemoOptions {
  const o: DemoOptions = { ...PIPELINE_DEFAULTS };
  for (let i = 0; i < args.length; i++) {
    const key = args[i].startsWith('--') ? args[i].slice(2) : '';
    const value = args[++i];
    if (key === 'trace' || key === 'report') {
      if (!value || value.startsWith('--')) throw new Error(`--${key} needs a file name`);
      o[key === 'trace' ? 'tracePath' : 'reportPath'] = value;
      continue;
    }
    if (!NUMERIC.includes(key as keyof PipelineOptions)) throw new Error(`unknown option '${args[i - 1]}'`);
    const v = Number(value);
    if (!Number.isInteger(v) || v <= 0) throw new Error(`--${key} needs a positive integer, not '${value ?? ''}'`);
    (o as unknown as Record<string, number>)[key] = v;
  }
  if (o.ring < 2) throw new Error('--ring needs at least 2 buffers');
  return o;
}
