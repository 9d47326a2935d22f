// A bounded BufferPool under pressure (dmabuf/user): more users than
// buffers. acquire() waits for a free buffer up to its timeout or until its
// AbortSignal fires; when it gives up, PoolExhaustedError names who holds
// each buffer and for how long, rather than stalling without a word.
//
//   npm run build && node examples/buffer-pool.mjs
import { boot } from 'dmabuf';
import { BufferPool, DmaHeap, PoolExhaustedError } from 'dmabuf/user';
import { setTimeout as sleep } from 'node:timers/promises';

const machine = await boot();
const proc = machine.spawn('pool-demo');
const heap = DmaHeap.open(proc, 'system');
// Two 64 KiB buffers from the system heap, named frames-0 and frames-1.
const pool = BufferPool.create(heap, { count: 2, size: 64 << 10, name: 'frames' });
heap.close(); // the buffers have fds of their own

try {
  // Two holders take both buffers.
  const encoder = await pool.acquire({ holder: 'encoder' });
  const display = await pool.acquire({ holder: 'display' });
  console.log(`${pool.size - pool.available} of ${pool.size} buffers held: ${pool.holders().map((h) => `${h.buffer} by ${h.holder}`).join(', ')}`);

  // A third waits 50 ms, then gives up: the error says who holds what.
  try {
    await pool.acquire({ holder: 'thumbnailer', timeout: 50 });
  } catch (e) {
    if (!(e instanceof PoolExhaustedError)) throw e;
    console.log(`thumbnailer: ${e.message}`);
  }

  // A wait with no time limit still ends when its AbortSignal fires.
  const closing = new AbortController();
  const preview = pool.acquire({ holder: 'preview', timeout: Infinity, signal: closing.signal });
  closing.abort(new Error('the preview window closed'));
  await preview.then(
    () => console.log('preview: got a buffer?'),
    (e) => console.log(`preview: gave up waiting (${e.message})`),
  );

  encoder.release();
  display.release();

  // Under pressure: six jobs share the two buffers, each waiting its turn.
  const job = async (n) => {
    const lease = await pool.acquire({ holder: `job-${n}`, timeout: 5000 });
    try {
      const cpu = lease.buffer.access('write');
      try {
        cpu.bytes.fill(n);
      } finally {
        cpu.end();
      }
      await sleep(5); // the buffer is busy for a while
      return lease.buffer.name;
    } finally {
      lease.release();
    }
  };
  const used = await Promise.all([0, 1, 2, 3, 4, 5].map(job));
  console.log(`6 jobs done on ${new Set(used).size} buffers (${[...new Set(used)].sort().join(', ')}); ${pool.available} free`);
} finally {
  pool.close();
  proc.exit();
}
console.log(`after shutdown: ${JSON.stringify(await machine.shutdown())}`);
