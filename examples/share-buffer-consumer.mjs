// The consumer of share-buffer.mjs, in a worker thread: a process of its
// own. It gets the buffer and the fence as plain descriptors, waits for the
// fence, and reads the frame through its own mapping (no copy).
import { attach } from 'dmabuf';
import { DmaBuffer, SyncFile } from 'dmabuf/user';
import { parentPort, workerData } from 'node:worker_threads';
import { once } from 'node:events';

const proc = attach(workerData.handle);
try {
  const [msg] = await once(parentPort, 'message');
  const frame = DmaBuffer.receive(proc, msg.frame);
  const written = SyncFile.receive(proc, msg.written);
  await written.wait({ timeout: 5000 }); // the producer's fence (a WaitTimeoutError after 5 s)
  const read = frame.access('read'); // DMA_BUF_IOCTL_SYNC start .. end
  try {
    parentPort.postMessage(`${frame.name}: ${new TextDecoder().decode(read.bytes.subarray(0, 5))}`);
  } finally {
    read.end();
  }
} finally {
  proc.exit(); // closes its fds; the buffer lives on in the producer
}
