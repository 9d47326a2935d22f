/**
 * The main job: a zero-copy media pipeline on a machine of worker threads
 * (see pipeline-stage.ts for the three stages). Frames cycle through a ring
 * of system-heap buffers, synchronised only by the fences in each buffer's
 * reservation object; the main thread boots the machine, wires the stages,
 * shows progress, and reports what happened, including bufinfo mid-run:
 * for people (text) or for scripts (`--json`, one object).
 */
import { accessSync, constants, statSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import { boot, type Machine, type MachineStats } from '../index.js';
import type { StageData, StageReport } from './pipeline-stage.js';
import { chromeTrace, traceModel, type TraceModel } from './trace.js';
import { reportHtml } from './report.js';
import { parseArgs, UsageError, type OptionSpec, type Parsed } from './args.js';
import { ProgressLine, stdoutTerminal, type Terminal } from './progress.js';

/** Who transforms the frames: the processor's CPU, or a device (the processor programs it). */
export type Work = 'cpu' | 'device';

export interface PipelineOptions {
  frames: number;
  width: number;
  height: number;
  ring: number;
  /** processor workers (frame n goes to processor n % workers) */
  workers: number;
  /** who does the processing (default 'cpu') */
  work?: Work;
  /** record the kernel's fence and buffer trace (PipelineResult.trace) */
  trace?: boolean;
  /** run on this machine (left running; `left` is then its stats after the run) instead of booting one */
  machine?: Machine;
  /** boot the emulator (the default) or use the host's Linux kernel ('linux'), when no machine is given */
  backend?: 'emulator' | 'linux';
}

/** `dmabuf demo`'s options: the parser and the help text are made from this. */
export const DEMO_OPTIONS = [
  { name: 'frames', kind: 'int', arg: 'N', default: 120, min: 1, max: Number.MAX_SAFE_INTEGER, help: 'frames to run' },
  { name: 'width', kind: 'int', arg: 'W', default: 1280, min: 1, max: 16384, help: 'frame width in pixels' },
  { name: 'height', kind: 'int', arg: 'H', default: 720, min: 1, max: 16384, help: 'frame height in pixels' },
  { name: 'ring', kind: 'int', arg: 'R', default: 4, min: 2, max: 4096, help: 'buffers in the ring' },
  { name: 'workers', kind: 'int', arg: 'P', default: 1, min: 1, max: 64, help: 'processor workers; frame n goes to n % P' },
  { name: 'work', kind: 'choice', choices: ['cpu', 'device'], default: 'cpu', help: 'who processes the frames: the CPU, or a device' },
  { name: 'backend', kind: 'choice', choices: ['emulator', 'linux'], default: (process.env.DMABUF_BACKEND === 'linux' ? 'linux' : 'emulator') as 'emulator' | 'linux', help: "the kernel: this package's emulator or the host's Linux ('linux': needs the system heap, vgem and the koffi package); the default follows DMABUF_BACKEND" },
  { name: 'trace', kind: 'path', arg: 'FILE', help: 'write the fences and buffer lifetimes as Chrome trace-event JSON (Perfetto UI opens it)' },
  { name: 'report', kind: 'path', arg: 'FILE', help: 'write a self-contained HTML report: frame latency, stage busy/waiting time and what each wait waited for, the slowest frames, a zoomable timeline' },
  { name: 'bufinfo', kind: 'choice', arg: 'MODE', choices: ['summary', 'full', 'none'], default: 'summary', help: "bufinfo at mid-run: 'summary' (its first buffers and the totals), 'full' or 'none'" },
  { name: 'json', kind: 'flag', help: "print the run's summary as one JSON object, and nothing else, on stdout" },
] as const satisfies readonly OptionSpec[];

export type DemoArgs = Parsed<typeof DEMO_OPTIONS>;

const median = (xs: number[]): number => (xs.length ? [...xs].sort((a, b) => a - b)[xs.length >> 1] : 0);
const p99 = (xs: number[]): number => (xs.length ? [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * 0.99))] : 0);

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

  const machine = opts.machine ?? (await boot({ backend: opts.backend }));
  if (opts.trace) await machine.traceStart();
  const credits = new SharedArrayBuffer(4);
  // producer -> processor k -> consumer, one channel each way per processor
  const toProc = Array.from({ length: nproc }, () => new MessageChannel());
  const fromProc = Array.from({ length: nproc }, () => new MessageChannel());
  const stageUrl = new URL('./pipeline-stage.js', import.meta.url);
  const start = (role: StageData['role'], comm: string, ports: { next?: MessagePort[]; prev?: MessagePort[] }): Worker => {
    const handle = machine.channel(comm);
    // `work` rides along for the stages (pipeline-stage.ts reads it once it knows it).
    const data: StageData & Pick<PipelineOptions, 'work'> = { role, handle, width, height, ring, frames, credits, trace: opts.trace, work: opts.work ?? 'cpu', ...ports };
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


/** How many of bufinfo's buffers the summary shows (the default ring's). */
const BUFINFO_SUMMARY_BUFFERS = 4;

/**
 * bufinfo cut short: its header, the first `keep` buffers, a line saying
 * how many more there are, and the totals. A large ring would otherwise
 * print six lines per buffer.
 */
export function summarizeBufinfo(text: string, keep = BUFINFO_SUMMARY_BUFFERS): string {
  const lines = text.trimEnd().split('\n');
  // A buffer's entry begins with its size and flags (`%08zu\t%08x\t...`); the totals line ends the list.
  const starts = lines.flatMap((l, k) => (/^[0-9]{8}\t[0-9a-f]{8}\t/.test(l) ? [k] : []));
  const totals = lines.findIndex((l) => /^Total \d+ objects, \d+ bytes$/.test(l));
  if (starts.length <= keep || totals < 0) return lines.join('\n');
  return [
    ...lines.slice(0, starts[keep]),
    `\u2026 ${starts.length - keep} more buffers (use --bufinfo full)`,
    '',
    ...lines.slice(totals),
  ].join('\n');
}

/** bufinfo's totals line: objects and bytes. */
function bufinfoTotals(text: string): { objects: number; bytes: number } | null {
  const m = /^Total (\d+) objects, (\d+) bytes$/m.exec(text);
  return m ? { objects: Number(m[1]), bytes: Number(m[2]) } : null;
}

/**
 * Check before the run that `path` can be written: an existing file must be
 * writable (and not a directory); a new one needs a directory that exists
 * and is writable. A run that takes a minute should not fail at its end
 * over a typo.
 */
export function checkOutputPath(flag: string, path: string): void {
  let target;
  try {
    target = statSync(path);
  } catch {
    target = null; // a new file
  }
  if (target) {
    if (target.isDirectory()) throw new UsageError(`--${flag} ${path}: is a directory`);
    try {
      accessSync(path, constants.W_OK);
    } catch {
      throw new UsageError(`--${flag} ${path}: cannot write it`);
    }
    return;
  }
  const dir = dirname(resolve(path));
  let st;
  try {
    st = statSync(dir);
  } catch {
    throw new UsageError(`--${flag} ${path}: no directory ${dir}`);
  }
  if (!st.isDirectory()) throw new UsageError(`--${flag} ${path}: ${dir} is not a directory`);
  try {
    accessSync(dir, constants.W_OK | constants.X_OK);
  } catch {
    throw new UsageError(`--${flag} ${path}: cannot create files in ${dir}`);
  }
}

/** Write an output file; a failure names the option and the file. */
function writeOutput(flag: string, path: string, text: string): void {
  try {
    writeFileSync(path, text);
  } catch (e) {
    throw new Error(`cannot write --${flag} ${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** Parse `dmabuf demo`'s arguments and check its output paths (a UsageError if anything is wrong). */
export function parseDemoArgs(args: readonly string[]): { options: DemoArgs; help: boolean } {
  const r = parseArgs(args, DEMO_OPTIONS);
  if (r.help) return r;
  const o = r.options;
  if (o.trace !== undefined) checkOutputPath('trace', o.trace);
  if (o.report !== undefined) checkOutputPath('report', o.report);
  if (o.trace !== undefined && o.report !== undefined && resolve(o.trace) === resolve(o.report)) {
    throw new UsageError('--trace and --report name the same file');
  }
  return r;
}

/** What a script gets from `dmabuf demo --json`. */
export interface DemoSummary {
  frames: number;
  width: number;
  height: number;
  ring: number;
  workers: number;
  work: Work;
  /** from the first frame's start to the last frame checked */
  seconds: number;
  fps: number;
  /** bytes of the frames themselves */
  frameBytes: number;
  /** bytes the stages touched (the producer writes, the processor reads and writes, the consumer reads) */
  bytesTouched: number;
  /** every byte copied between threads: the messages (frame numbers and fd tokens); frames are shared, never copied */
  bytesCopied: number;
  /** ms each stage was blocked in fence waits, per frame */
  fenceWaits: Record<'producer' | 'processor' | 'consumer', { count: number; medianMs: number; p99Ms: number }>;
  /** bufinfo's totals at mid-run */
  bufinfo: { objects: number; bytes: number } | null;
  /** what the kernel still held after shutdown (all zero: nothing leaked) */
  afterShutdown: MachineStats;
  leaked: boolean;
  trace: string | null;
  report: string | null;
}

const round = (x: number, digits: number): number => Number(x.toFixed(digits));

/** Anything still held after shutdown is a leak: every counter is 0 when nothing leaked (on either backend). */
function leaked(left: MachineStats): boolean {
  return Object.values(left).some((v) => v !== 0);
}

export function demoSummary(o: DemoArgs, r: PipelineResult): DemoSummary {
  const frameBytes = o.frames * o.width * o.height * 4;
  const waits = (role: string): { count: number; medianMs: number; p99Ms: number } => {
    const w = r.reports.filter((x) => x.role === role).flatMap((x) => x.waits);
    return { count: w.length, medianMs: round(median(w), 3), p99Ms: round(p99(w), 3) };
  };
  return {
    frames: o.frames,
    width: o.width,
    height: o.height,
    ring: o.ring,
    workers: o.workers,
    work: o.work,
    seconds: round(r.seconds, 4),
    fps: round(o.frames / r.seconds, 1),
    frameBytes,
    bytesTouched: frameBytes * 4,
    bytesCopied: r.reports.reduce((s, x) => s + x.postedBytes, 0),
    fenceWaits: { producer: waits('producer'), processor: waits('processor'), consumer: waits('consumer') },
    bufinfo: bufinfoTotals(r.bufinfo),
    afterShutdown: r.left,
    leaked: leaked(r.left),
    trace: o.trace ?? null,
    report: o.report ?? null,
  };
}

const WAITED_FOR = {
  producer: "POLLOUT: the consumer's read fence",
  processor: "POLLOUT: the producer's write fence",
  consumer: "POLLIN: the processor's write fence",
} as const;

/** `dmabuf demo`: run the pipeline and say what happened. 0 if nothing leaked, else 1. */
export async function demoPipeline(o: DemoArgs, term: Terminal = stdoutTerminal): Promise<number> {
  const { frames, width, height, ring, workers } = o;
  const human = !o.json;
  const out = (s: string): void => {
    if (human) term.write(s + '\n');
  };
  out(`dmabuf demo: ${frames} frames of ${width}x${height} RGBA through a ring of ${ring} system-heap buffers`);
  out(`producer (fills) -> ${workers > 1 ? `${workers} processors` : 'processor'} (grayscale in place) -> consumer (vgem PRIME import, checks)\n`);
  // Progress only for a person at a terminal: --json output is for a program.
  const progress = new ProgressLine(human ? term : { write: () => {}, isTTY: false }, frames, 'frames');
  let result: PipelineResult;
  try {
    result = await runPipeline({ frames, width, height, ring, workers, work: o.work, backend: o.backend, trace: Boolean(o.trace || o.report) }, (n) => progress.update(n));
  } finally {
    progress.clear();
  }
  const trace = result.trace;
  if (trace && o.trace) writeOutput('trace', o.trace, JSON.stringify(chromeTrace(trace)));
  if (trace && o.report) writeOutput('report', o.report, reportHtml(trace, `dmabuf demo: ${frames} frames of ${width}x${height}, ring ${ring}, ${workers} processor${workers > 1 ? 's' : ''}`));
  const s = demoSummary(o, result);
  if (o.json) {
    term.write(JSON.stringify(s) + '\n');
    if (s.leaked) process.stderr.write(`dmabuf demo: the kernel still held something after shutdown: ${JSON.stringify(s.afterShutdown)}\n`);
    return s.leaked ? 1 : 0;
  }

  out(`frames: ${frames} in ${s.seconds.toFixed(2)} s = ${s.fps.toFixed(1)} frames/s`);
  out(`memory touched: ${(s.bytesTouched / 2 ** 30).toFixed(2)} GiB = ${(s.bytesTouched / 2 ** 30 / s.seconds).toFixed(2)} GiB/s`);
  out(`frame bytes copied between threads: 0 (messages carried ${s.bytesCopied} bytes of frame numbers and fd tokens for ${(s.frameBytes / 2 ** 20).toFixed(0)} MiB of frames)`);
  out('fence waits (ms, median / p99):');
  for (const role of ['producer', 'processor', 'consumer'] as const) {
    const w = s.fenceWaits[role];
    out(`  ${role.padEnd(9)} ${w.medianMs.toFixed(3)} / ${w.p99Ms.toFixed(3)}  (${WAITED_FOR[role]})`);
  }
  out('every frame checked: checksums match and sampled pixels are the expected grayscale');
  if (o.bufinfo !== 'none') {
    out('\nbufinfo at mid-run (/sys/kernel/debug/dma_buf/bufinfo):');
    out(o.bufinfo === 'full' ? result.bufinfo.trimEnd() : summarizeBufinfo(result.bufinfo));
  }
  const left = s.afterShutdown;
  // The emulator's kernel counters, or on the real kernel what the machine's processes still held.
  const shown = o.backend === 'linux'
    ? `processes ${left.processes}, fds ${left.fds}, mappings ${left.mappings}, fds in flight ${left.inFlight}`
    : `dma-bufs ${left.dmabufs}, pages ${left.pages}, fds in flight ${left.inFlight}, fences ${left.fences}, taint ${left.taint}`;
  out(`\nafter shutdown: ${shown}`);
  if (trace && o.trace) {
    out(`trace: ${o.trace} (${trace.fences.length} fences, ${trace.buffers.length} buffers, ${trace.waits.length} waits; open it in https://ui.perfetto.dev)`);
  }
  if (trace && o.report) out(`report: ${o.report}`);
  if (s.leaked) process.stderr.write(`dmabuf demo: the kernel still held something after shutdown: ${JSON.stringify(left)}\n`);
  return s.leaked ? 1 : 0;
}
