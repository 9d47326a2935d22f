/**
 * The pipeline demo (src/cli/demo-pipeline.ts): frames/s in steady state
 * and frame latency of the zero-copy dma-buf pipeline against the same
 * three stages passing frames by postMessage, copied (structured clone)
 * and transferred (bench/pipeline-baseline-stage.ts), measured in the
 * same run, interleaved. RGBA, a ring of 4, one processor. Two workloads
 * (src/cli/frames.ts): 'device', where the stages leave the pixels to
 * devices and touch a header and one 64x64 tile (where zero-copy matters),
 * and 'cpu', where every stage touches every pixel.
 *
 * Steady state: the first quarter of the frames is warm-up; the rate is
 * taken over the rest from the consumer's time stamps, so worker start is
 * excluded. Latency: from the producer handing frame n on (its fence
 * signalled, or its message posted) to the consumer having checked it,
 * CLOCK_MONOTONIC in both threads; p50 and p99 over the frames after
 * warm-up.
 */
import { MessageChannel, Worker } from 'node:worker_threads';
import { runPipeline } from '../src/cli/demo-pipeline.js';
import type { Work } from '../src/cli/frames.js';
import type { Row } from './harness.js';

export const title = 'pipeline demo (RGBA, ring of 4): steady-state frames/s and latency';

const RING = 4;
const ROUNDS = 3;

interface Run {
  fps: number;
  p50: number;
  p99: number;
}

const quantile = (xs: number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * q))];
};

/** Steady-state rate and latency from the producer's and the consumer's stamps (ms). */
function measure(produced: number[], consumed: number[]): Run {
  const n = consumed.length;
  const warm = Math.floor(n / 4);
  const fps = ((n - 1 - warm) * 1000) / (consumed[n - 1] - consumed[warm]);
  const lat = consumed.slice(warm).map((c, k) => c - produced[warm + k]);
  return { fps, p50: quantile(lat, 0.5), p99: quantile(lat, 0.99) };
}

async function baseline(mode: 'copy' | 'transfer', work: Work, width: number, height: number, frames: number): Promise<Run> {
  const a = new MessageChannel();
  const b = new MessageChannel();
  const back = new MessageChannel();
  const url = new URL('./pipeline-baseline-stage.js', import.meta.url);
  const common = { mode, work, width, height, ring: RING, frames };
  const workers = [
    new Worker(url, { workerData: { ...common, role: 'producer', next: a.port1, back: back.port2 }, transferList: [a.port1, back.port2] }),
    new Worker(url, { workerData: { ...common, role: 'processor', prev: a.port2, next: b.port1 }, transferList: [a.port2, b.port1] }),
    new Worker(url, { workerData: { ...common, role: 'consumer', prev: b.port2, back: back.port1 }, transferList: [b.port2, back.port1] }),
  ];
  try {
    const stamps: Record<string, number[]> = {};
    await new Promise<void>((resolve, reject) => {
      for (const w of workers) {
        w.on('error', reject);
        w.on('message', (m: { role: string; stamps: number[] }) => {
          stamps[m.role] = m.stamps;
          if (stamps.producer && stamps.consumer) resolve();
        });
      }
    });
    return measure(stamps.producer, stamps.consumer);
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

async function dmabuf(work: Work, width: number, height: number, frames: number): Promise<Run> {
  const r = await runPipeline({ frames, width, height, ring: RING, workers: 1, work });
  if (r.left.dmabufs || r.left.pages) throw new Error('the pipeline leaked');
  const stamps = (role: string): number[] => r.reports.find((x) => x.role === role)!.stamps;
  return measure(stamps('producer'), stamps('consumer'));
}

interface Config {
  work: Work;
  width: number;
  height: number;
  /** frames per run: the dma-buf and transfer pipelines, and the copying one (slow at large sizes) */
  frames: number;
  copyFrames: number;
  /** the dma-buf pipeline's rate against the copying pipeline's, at least */
  vsCopy: number;
}

const CONFIGS: Config[] = [
  { work: 'device', width: 1920, height: 1080, frames: 1200, copyFrames: 240, vsCopy: 5 },
  { work: 'device', width: 3840, height: 2160, frames: 1200, copyFrames: 80, vsCopy: 10 },
  { work: 'cpu', width: 1920, height: 1080, frames: 160, copyFrames: 160, vsCopy: 1.1 },
];

const best = (runs: Run[]): Run => runs.reduce((a, b) => (b.fps > a.fps ? b : a));

export async function run(): Promise<Row[]> {
  const rows: Row[] = [];
  for (const c of CONFIGS) {
    const zero: Run[] = [];
    const copy: Run[] = [];
    const transfer: Run[] = [];
    // Interleaved A B C A B C ...; the best round of each (its latency with it).
    for (let i = 0; i < ROUNDS; i++) {
      zero.push(await dmabuf(c.work, c.width, c.height, c.frames));
      copy.push(await baseline('copy', c.work, c.width, c.height, c.copyFrames));
      transfer.push(await baseline('transfer', c.work, c.width, c.height, c.frames));
    }
    const z = best(zero);
    const cp = best(copy);
    const tr = best(transfer);
    const tag = `--work ${c.work} ${c.width}x${c.height}`;
    const range = (runs: Run[]): string => `rounds ${runs.map((r) => r.fps.toFixed(0)).join(', ')}`;
    rows.push({ name: `${tag}: dma-buf pipeline`, value: z.fps, unit: 'frames/s', note: range(zero) });
    rows.push({
      name: `${tag}: dma-buf vs postMessage copies`, value: z.fps, unit: 'frames/s', baseline: { name: 'structured clone', value: cp.fps },
      ratio: z.fps / cp.fps, target: `≥ ${c.vsCopy}x`, pass: z.fps >= c.vsCopy * cp.fps, note: `copy ${range(copy)}`,
    });
    rows.push({
      name: `${tag}: dma-buf vs postMessage transfer`, value: z.fps, unit: 'frames/s', baseline: { name: 'transfer list', value: tr.fps },
      ratio: z.fps / tr.fps, target: '≥ 1x', pass: z.fps >= tr.fps, note: `transfer ${range(transfer)}`,
    });
    for (const [q, key] of [['p50', 'p50'], ['p99', 'p99']] as const) {
      rows.push({
        name: `${tag}: frame latency ${q}, dma-buf vs copy`, value: z[key], unit: 'ms', baseline: { name: 'structured clone', value: cp[key] },
        ratio: z[key] / cp[key], target: '≤ copy', pass: z[key] <= cp[key], note: `transfer ${tr[key].toFixed(3)} ms`,
      });
    }
  }
  return rows;
}
