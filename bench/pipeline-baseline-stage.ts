/**
 * The pipeline demo's three stages without dma-bufs, for the benchmark's
 * baselines: frames travel by postMessage, either copied (structured
 * clone) or transferred (the ArrayBuffer moves and comes back to the
 * producer the same way, as the ring). Same pixels, same transform, same
 * checks as src/cli/pipeline-stage.ts.
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { checksum, grayPixel, sourcePixel } from '../src/cli/frames.js';

interface Data {
  role: 'producer' | 'processor' | 'consumer';
  mode: 'copy' | 'transfer';
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
const xfer = (b: ArrayBuffer): ArrayBuffer[] => (d.mode === 'transfer' ? [b] : []);

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
    const px = new Uint32Array(buf);
    for (let y = 0, k = 0; y < d.height; y++) for (let x = 0; x < d.width; x++, k++) px[k] = sourcePixel(x, y, n);
    d.next!.postMessage({ n, buf }, xfer(buf));
  }
}

function processor(): void {
  d.prev!.on('message', ({ n, buf }: { n: number; buf: ArrayBuffer }) => {
    const px = new Uint32Array(buf);
    for (let k = 0; k < px.length; k++) px[k] = grayPixel(px[k]);
    d.next!.postMessage({ n, buf, sum: checksum(px) }, xfer(buf));
  });
}

function consumer(): void {
  let done = 0;
  d.prev!.on('message', ({ n, buf, sum }: { n: number; buf: ArrayBuffer; sum: number }) => {
    const px = new Uint32Array(buf);
    if (checksum(px) !== sum) throw new Error(`frame ${n}: checksum mismatch`);
    for (let k = 0; k < px.length; k += 4099) {
      if (px[k] !== grayPixel(sourcePixel(k % d.width, Math.floor(k / d.width), n))) throw new Error(`frame ${n}: pixel ${k} wrong`);
    }
    d.back!.postMessage(d.mode === 'transfer' ? buf : 1, xfer(buf));
    if (++done === d.frames) parentPort!.postMessage('done');
  });
}

if (d.role === 'producer') void producer();
else if (d.role === 'processor') processor();
else consumer();
