/**
 * The main job: a zero-copy media pipeline on a machine of worker threads
 * (see pipeline-stage.ts for the three stages). Frames cycle through a ring
 * of system-heap buffers, synchronised only by the fences in each buffer's
 * reservation object; the main thread boots the machine, wires the stages,
 * shows progress, and reports what happened, including bufinfo mid-run.
 */
import { MessageChannel, Worker } from 'node:worker_threads';
import { boot, type MachineStats } from '../machine/boot.js';
import type { StageData, StageReport } from './pipeline-stage.js';

export interface PipelineOptions {
  frames: number;
  width: number;
  height: number;
  ring: number;
}

export const PIPELINE_DEFAULTS: PipelineOptions = { frames: 120, width: 1280, height: 720, ring: 4 };

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
}

/** Run the pipeline; `progress(n)` after each frame the consumer checked. */
export async function runPipeline(opts: PipelineOptions, progress: (done: number) => void = () => {}): Promise<PipelineResult> {
  const { frames, width, height, ring } = opts;
  if (!(frames > 0 && width > 0 && height > 0 && ring > 1)) throw new Error('frames, width and height must be positive and the ring at least 2');

  const machine = await boot();
  const credits = new SharedArrayBuffer(4);
  const a = new MessageChannel();
  const b = new MessageChannel();
  const stageUrl = new URL('./pipeline-stage.js', import.meta.url);
  const start = (role: StageData['role'], ports: { next?: typeof a.port1; prev?: typeof a.port1 }): Worker => {
    const handle = machine.channel(role);
    const data: StageData = { role, handle, width, height, ring, frames, credits, ...ports };
    return new Worker(stageUrl, { workerData: data, transferList: [handle.port, ...Object.values(ports)] as never });
  };
  const workers = {
    producer: start('producer', { next: a.port1 }),
    processor: start('processor', { prev: a.port2, next: b.port1 }),
    consumer: start('consumer', { prev: b.port2 }),
  };
  const pids: Record<string, number> = {};
  const reports: StageReport[] = [];
  let bufinfo = '';
  const t0 = performance.now();
  let tEnd = t0;
  const main = machine.spawn('dmabuf-demo');
  let left: MachineStats;

  try {
    await new Promise<void>((resolve, reject) => {
      const fail = (e: unknown): void => reject(e instanceof Error ? e : new Error(String(e)));
      for (const [role, w] of Object.entries(workers)) {
        w.on('error', fail);
        w.on('exit', (code) => {
          if (code !== 0) fail(new Error(`the ${role} stage exited with code ${code}`));
        });
        w.on('message', (m: { pid?: number; tokens?: string[][]; progress?: number; report?: StageReport }) => {
          if (m.pid !== undefined) {
            pids[role] = m.pid;
            if (Object.keys(pids).length === 3) workers.producer.postMessage({ to: [pids.processor, pids.consumer] });
          } else if (m.tokens) {
            workers.processor.postMessage({ tokens: m.tokens[0] });
            workers.consumer.postMessage({ tokens: m.tokens[1] });
          } else if (m.progress !== undefined) {
            progress(m.progress);
            if (m.progress === Math.ceil(frames / 2)) bufinfo = main.readFile('/sys/kernel/debug/dma_buf/bufinfo');
            if (m.progress === frames) tEnd = performance.now();
          } else if (m.report) {
            reports.push(m.report);
            if (m.report.errors.length) fail(new Error(m.report.errors.slice(0, 3).join('; ')));
            else if (reports.length === 3) resolve();
          }
        });
      }
    });
  } finally {
    main.exit();
    await Promise.all(Object.values(workers).map((w) => w.terminate()));
    left = await machine.shutdown();
  }

  return { seconds: (tEnd - t0) / 1000, reports, bufinfo, left };
}

export async function demoPipeline(opts: PipelineOptions, out: (s: string) => void = console.log): Promise<number> {
  const { frames, width, height, ring } = opts;
  const frameBytes = width * height * 4;
  out(`dmabuf demo: ${frames} frames of ${width}x${height} RGBA through a ring of ${ring} system-heap buffers`);
  out('producer (fills) -> processor (grayscale in place) -> consumer (vgem PRIME import, checks)\n');
  const tty = process.stderr.isTTY;
  let result: PipelineResult;
  try {
    result = await runPipeline(opts, (n) => {
      if (tty) process.stderr.write(`\r${bar(n, frames)}`);
    });
  } finally {
    if (tty) process.stderr.write('\n');
  }
  const { seconds: secs, reports, bufinfo, left } = result;
  const byRole = (r: string): StageReport => reports.find((x) => x.role === r)!;
  // Bytes the stages touched: the producer writes each frame, the processor reads and writes it, the consumer reads it.
  const touched = frames * frameBytes * 4;
  const posted = reports.reduce((s, r) => s + r.postedBytes, 0);
  out(`frames: ${frames} in ${secs.toFixed(2)} s = ${(frames / secs).toFixed(1)} frames/s`);
  out(`memory touched: ${(touched / 2 ** 30).toFixed(2)} GiB = ${(touched / 2 ** 30 / secs).toFixed(2)} GiB/s`);
  out(`frame bytes copied between threads: 0 (messages carried ${posted} bytes of frame numbers and fd tokens for ${(frames * frameBytes / 2 ** 20).toFixed(0)} MiB of frames)`);
  out('fence waits (ms, median / p99):');
  for (const role of ['producer', 'processor', 'consumer']) {
    const w = byRole(role).waits;
    out(`  ${role.padEnd(9)} ${median(w).toFixed(3)} / ${p99(w).toFixed(3)}  (${role === 'producer' ? 'POLLOUT: the consumer\'s read fence' : role === 'processor' ? 'POLLOUT: the producer\'s write fence' : 'POLLIN: the processor\'s write fence'})`);
  }
  out('every frame checked: checksums match and sampled pixels are the expected grayscale');
  out('\nbufinfo at mid-run (/sys/kernel/debug/dma_buf/bufinfo):');
  out(bufinfo.trimEnd());
  out(`\nafter shutdown: dma-bufs ${left.dmabufs}, pages ${left.pages}, fds in flight ${left.inFlight}, taint ${left.taint}`);
  return left.dmabufs || left.pages || left.taint ? 1 : 0;
}

/** Parse `--frames N --width W --height H --ring R`. */
export function parsePipelineArgs(args: string[]): PipelineOptions {
  const o = { ...PIPELINE_DEFAULTS };
  for (let i = 0; i < args.length; i++) {
    const key = args[i].replace(/^--/, '') as keyof PipelineOptions;
    if (!(key in o) || !args[i].startsWith('--')) throw new Error(`unknown option '${args[i]}'`);
    const v = Number(args[++i]);
    if (!Number.isInteger(v) || v <= 0) throw new Error(`--${key} needs a positive integer, not '${args[i] ?? ''}'`);
    o[key] = v;
  }
  return o;
}
