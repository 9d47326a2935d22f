/**
 * The pipeline demo's three stages without dma-bufs, for the benchmark's
 * baselines: frames travel by postMessage, either copied (structured
 * clone) or transferred (the ArrayBuffer moves and comes back to the
 * producer the same way, as the ring). Same workload (src/cli/frames.ts:
 * 'cpu' or 'device'), same checks and the same time stamps as
 * src/cli/pipeline-stage.ts.
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { WORKLOADS, type Work } from '../src/cli/frames.js';

interface Data {
  role: 'producer' | 'processor' | 'consumer';
  mode: 'copy' | 'transfer';
  work: Work;
  width: number;
  height: number;
  ring: number;
  frames: number;
  next?: MessagePort;
  prev?: MessagePort;
  /** consumer -> producer: buffers coming back (transfer mode) or credits (copy mode) */
  back?: MessagePort;
}

const d = workerData as Data;
const bytes = d.width * d.height * 4;
const work = WORKLOADS[d.work];
const xfer = (b: ArrayBuffer): ArrayBuffer[] => (d.mode === 'transfer' ? [b] : []);
/** CLOCK_MONOTONIC in ms, as the dma-buf stages stamp their frames */
const monotonicMs = (): number => Number(process.hrtime.bigint()) / 1e6;
const stamps: number[] = [];

async function producer(): Promise<void> {
  const free: ArrayBuffer[] = Array.from({ length: d.ring }, () => new ArrayBuffer(bytes));
  let credits = d.ring;
  let wake: (() => void) | null = null;
  d.back!.on('message', (b: ArrayBuffer | number) => {
    if (typeof b === 'number') credits++;
    else free.push(b);
    wake?.();
  });
  for (let n = 0; n < d.frames; n++) {
    while (d.mode === 'transfer' ? free.length === 0 : credits === 0) await new Promise<void>((r) => (wake = r));
    wake = null;
    const buf = d.mode === 'transfer' ? free.shift()! : free[n % d.ring];
    if (d.mode === 'copy') credits--;
    work.produce(new Uint32Array(buf), d.width, d.height, n);
    stamps.push(monotonicMs());
    d.next!.postMessage({ n, buf }, xfer(buf));
  }
  parentPort!.postMessage({ role: 'producer', stamps });
}

function processor(): void {
  d.prev!.on('message', ({ n, buf }: { n: number; buf: ArrayBuffer }) => {
    const sum = work.process(new Uint32Array(buf), d.width, d.height, n);
    d.next!.postMessage({ n, buf, sum }, xfer(buf));
  });
}

function consumer(): void {
  let done = 0;
  d.prev!.on('message', ({ n, buf, sum }: { n: number; buf: ArrayBuffer; sum: number }) => {
    const wrong = work.check(new Uint32Array(buf), d.width, d.height, n, sum);
    if (wrong) throw new Error(wrong);
    stamps.push(monotonicMs());
    d.back!.postMessage(d.mode === 'transfer' ? buf : 1, xfer(buf));
    if (++done === d.frames) parentPort!.postMessage({ role: 'consumer', stamps });
  });
}

if (d.role === 'producer') void producer();
else if (d.role === 'processor') processor();
else consumer();
