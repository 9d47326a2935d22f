// Two processes share a buffer and a fence through 'dmabuf/user': the
// producer (this thread) writes a frame and signals a sw_sync fence; the
// consumer (share-buffer-consumer.mjs, a worker thread and a process of its
// own) waits for the fence and reads the frame, zero-copy.
//
//   npm run build && node examples/share-buffer.mjs
import { boot } from 'dmabuf';
import { DmaHeap, Timeline } from 'dmabuf/user';
import { Worker } from 'node:worker_threads';
import { once } from 'node:events';

const machine = await boot();
const proc = machine.spawn('producer');
const heap = DmaHeap.open(proc, 'system');
const frame = heap.allocate(1 << 20, { name: 'frame-0' });
// A sw_sync timeline stands in for a GPU: its fence means "written".
const gpu = Timeline.open(proc);

// The consumer's process exists (and has its pid) before its worker attaches.
const handle = machine.channel('consumer');
const consumer = new Worker(new URL('./share-buffer-consumer.mjs', import.meta.url), {
  workerData: { handle },
  transferList: [handle.port],
});
const failed = once(consumer, 'error').then(([e]) => Promise.reject(e));
const answered = once(consumer, 'message').then(([m]) => m);

try {
  // Take the CPU access first (it waits for every fence already on the buffer),
  // then put the fence in the buffer's reservation object: readers of the
  // buffer now wait for it too (implicit sync).
  const cpu = frame.access('write');
  const written = gpu.createFence(1, 'render');
  try {
    frame.importSyncFile(written, 'write');
    consumer.postMessage({ frame: frame.share(handle.pid), written: written.share(handle.pid) });
    cpu.bytes.set(new TextEncoder().encode('hello'));
  } finally {
    cpu.end();
    written.close();
  }
  console.log(`producer: wrote 'hello' into ${frame.name} (${frame.size} bytes), then signalled its fence`);
  gpu.inc(1); // signal: the consumer wakes

  console.log(`consumer: ${await Promise.race([answered, failed])}`);
  await once(consumer, 'exit');
} finally {
  await consumer.terminate();
  gpu.close();
  frame.close();
  heap.close();
  proc.exit();
}
console.log(`after shutdown: ${JSON.stringify(await machine.shutdown())}`);
