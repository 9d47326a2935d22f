/**
 * The main job's pipeline (issue: the pipeline demo): frames/s of the
 * zero-copy dma-buf pipeline at 1920x1080 RGBA with a ring of 4, against
 * the same three stages passing frames by postMessage, copied (structured
 * clone) and transferred, measured in the same run.
 */
import { MessageChannel, Worker } from 'node:worker_threads';
import { runPipeline } from '../src/cli/demo-pipeline.js';
import type { Row } from './harness.js';

export const title = 'pipeline demo (1920x1080 RGBA, ring of 4)';

const W = 1920;
const H = 1080;
const RING = 4;
const FRAMES = 120;

async function baseline(mode: 'copy' | 'transfer', frames: number): Promise<number> {
  const a = new MessageChannel();
  const b = new MessageChannel();
  const back = new MessageChannel();
  const url = new URL('./pipeline-baseline-stage.js', import.meta.url);
  const common = { mode, width: W, height: H, ring: RING, frames };
  const t0 = performance.now();
  const workers = [
    new Worker(url, { workerData: { ...common, role: 'producer', next: a.port1, back: back.port2 }, transferList: [a.port1, back.port2] }),
    new Worker(url, { workerData: { ...common, role: 'processor', prev: a.port2, next: b.port1 }, transferList: [a.port2, b.port1] }),
    new Worker(url, { workerData: { ...common, role: 'consumer', prev: b.port2, back: back.port1 }, transferList: [b.port2, back.port1] }),
  ];
  try {
    await new Promise<void>((resolve, reject) => {
      for (const w of workers) w.on('error', reject);
      workers[2].on('message', () => resolve());
    });
    return frames / ((performance.now() - t0) / 1000);
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

async function dmabuf(frames: number): Promise<number> {
  const r = await runPipeline({ frames, width: W, height: H, ring: RING, workers: 1 });
  if (r.left.dmabufs || r.left.pages) throw new Error('the pipeline leaked');
  return frames / r.seconds;
}

export async function run(): Promise<Row[]> {
  let zero = 0;
  let copy = 0;
  let transfer = 0;
  // Interleaved, best of 3 (worker start-up included in every variant alike).
  for (let i = 0; i < 3; i++) {
    zero = Math.max(zero, await dmabuf(FRAMES));
    copy = Math.max(copy, await baseline('copy', FRAMES));
    transfer = Math.max(transfer, await baseline('transfer', FRAMES));
  }
  return [
    { name: 'dma-buf pipeline (zero-copy, fences)', value: zero, unit: 'frames/s' },
    { name: 'vs postMessage copies', value: zero, unit: 'frames/s', baseline: { name: 'structured clone', value: copy }, ratio: zero / copy, target: '≥ 5x', pass: zero >= 5 * copy },
    { name: 'vs postMessage transfer', value: zero, unit: 'frames/s', baseline: { name: 'transfer list', value: transfer }, ratio: zero / transfer, target: '≥ 1x', pass: zero >= transfer },
  ];
}
