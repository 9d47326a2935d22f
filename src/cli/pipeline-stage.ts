/**
 * One stage of the pipeline demo, in its own worker thread and process:
 * - producer: allocates the ring from the system heap, names and maps the
 *   buffers, and fills frame n into buffer n % ring under its write fence;
 * - processor: waits for the producer's write (poll POLLIN on the dma-buf:
 *   implicit sync through the reservation object), turns RGBA into
 *   grayscale in place under its own write fence;
 * - consumer (display-like): imports each buffer through vgem PRIME and maps
 *   it through the DRM fd, waits for the processor, takes a read fence,
 *   hands the buffer back to the producer (which waits for that read fence
 *   with POLLOUT before it writes again), and checks every frame.
 * Only frame numbers and fd tokens travel in messages; pixels never do.
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { attach } from '../machine/process.js';
import type { Process } from '../machine/process.js';
import type { ProcessHandle } from '../machine/protocol.js';
import * as u from '../uapi/index.js';
import { checksum, grayPixel, sourcePixel } from './frames.js';

export interface StageData {
  role: 'producer' | 'processor' | 'consumer';
  handle: ProcessHandle;
  width: number;
  height: number;
  ring: number;
  frames: number;
  /** Int32[0]: frames the consumer handed back (the producer's credits) */
  credits: SharedArrayBuffer;
  /** to the next stage (producer, processor) / from the previous one (processor, consumer) */
  next?: MessagePort;
  prev?: MessagePort;
}

export interface StageReport {
  role: string;
  /** ms spent blocked waiting for fences, per frame */
  waits: number[];
  /** bytes this stage posted to other threads */
  postedBytes: number;
  errors: string[];
}

const now = (): number => performance.now();

/** Add a fence of this stage's timeline at `value` to the buffer's reservation object (IMPORT_SYNC_FILE). */
function importFence(proc: Process, timeline: number, buf: number, value: number, flags: number): void {
  const arg = u.swSyncCreateFenceData.encode({ value, name: 'frame' });
  proc.ioctl(timeline, u.SW_SYNC_IOC_CREATE_FENCE, arg);
  const fence = u.swSyncCreateFenceData.decode(arg).fence;
  try {
    proc.ioctl(buf, u.DMA_BUF_IOCTL_IMPORT_SYNC_FILE, u.dmaBufSyncFile.encode({ flags, fd: fence }));
  } finally {
    proc.close(fence);
  }
}

/** Block in poll() until the buffer's fences of `events` have signalled; the ms it took. */
function waitBuffer(proc: Process, buf: number, events: number): number {
  const t0 = now();
  const fds = [{ fd: buf, events, revents: 0 }];
  if (proc.poll(fds, 10_000) !== 1) throw new Error(`frame buffer fence wait timed out after 10 s (events 0x${events.toString(16)})`);
  return now() - t0;
}

function recv<T>(port: MessagePort): Promise<T> {
  return new Promise((resolve) => port.once('message', resolve));
}

async function run(d: StageData): Promise<StageReport> {
  const proc = attach(d.handle);
  const report: StageReport = { role: d.role, waits: [], postedBytes: 0, errors: [] };
  const post = (port: MessagePort | typeof parentPort, msg: object): void => {
    report.postedBytes += JSON.stringify(msg).length;
    port!.postMessage(msg);
  };
  const frameBytes = d.width * d.height * 4;
  const timeline = proc.open('/sys/kernel/debug/sync/sw_sync', u.O_RDWR);
  const credits = new Int32Array(d.credits);
  parentPort!.postMessage({ pid: proc.pid });
  try {
    if (d.role === 'producer') {
      const { to } = await recv<{ to: number[] }>(parentPort as unknown as MessagePort);
      const heap = proc.open('/dev/dma_heap/system', u.O_RDWR);
      const bufs: number[] = [];
      const views: Uint32Array[] = [];
      const maps: Uint8Array[] = [];
      for (let i = 0; i < d.ring; i++) {
        const a = u.dmaHeapAllocationData.encode({ len: frameBytes, fdFlags: u.O_RDWR | u.O_CLOEXEC });
        proc.ioctl(heap, u.DMA_HEAP_IOCTL_ALLOC, a);
        const fd = u.dmaHeapAllocationData.decode(a).fd;
        proc.ioctl(fd, u.DMA_BUF_SET_NAME_B, new TextEncoder().encode(`frame-${i}\0`));
        const view = proc.mmap(frameBytes, u.PROT_READ | u.PROT_WRITE, u.MAP_SHARED, fd, 0);
        maps.push(view);
        bufs.push(fd);
        views.push(new Uint32Array(view.buffer, view.byteOffset, frameBytes / 4));
      }
      proc.close(heap);
      post(parentPort, { tokens: to.map((pid) => bufs.map((fd) => proc.sendFd(fd, pid))) });
      for (let n = 0; n < d.frames; n++) {
        const i = n % d.ring;
        // The ring: buffer i comes back once the consumer took frame n - ring.
        while (Atomics.load(credits, 0) < n - d.ring + 1) Atomics.wait(credits, 0, Atomics.load(credits, 0), 1000);
        // Implicit sync: every fence on the buffer (the consumer's read) before writing.
        report.waits.push(waitBuffer(proc, bufs[i], u.POLLOUT));
        importFence(proc, timeline, bufs[i], n + 1, u.DMA_BUF_SYNC_WRITE);
        const px = views[i];
        for (let y = 0, k = 0; y < d.height; y++) for (let x = 0; x < d.width; x++, k++) px[k] = sourcePixel(x, y, n);
        proc.ioctl(timeline, u.SW_SYNC_IOC_INC, u.u32Arg.encode(1));
        post(d.next!, { n, i });
      }
      // Drain: the last frames' readers, then unmap and close.
      for (const fd of bufs) waitBuffer(proc, fd, u.POLLOUT);
      for (const m of maps) proc.munmap(m);
      for (const fd of bufs) proc.close(fd);
    } else {
      const { tokens } = await recv<{ tokens: string[] }>(parentPort as unknown as MessagePort);
      const bufs = tokens.map((t) => proc.receiveFd(t));
      const maps: Uint8Array[] = [];
      let drm = -1;
      const handles: number[] = [];
      if (d.role === 'processor') {
        for (const fd of bufs) maps.push(proc.mmap(frameBytes, u.PROT_READ | u.PROT_WRITE, u.MAP_SHARED, fd, 0));
      } else {
        // The display imports through its DRM device (PRIME) and maps the GEM object.
        drm = proc.open('/dev/dri/card0', u.O_RDWR);
        for (const fd of bufs) {
          const h = u.drmPrimeHandle.encode({ fd });
          proc.ioctl(drm, u.DRM_IOCTL_PRIME_FD_TO_HANDLE, h);
          const handle = u.drmPrimeHandle.decode(h).handle;
          handles.push(handle);
          const m = u.drmModeMapDumb.encode(handle);
          proc.ioctl(drm, u.DRM_IOCTL_MODE_MAP_DUMB, m);
          maps.push(proc.mmap(frameBytes, u.PROT_READ, u.MAP_SHARED, drm, u.drmModeMapDumb.decode(m).offset));
        }
      }
      const views = maps.map((v) => new Uint32Array(v.buffer, v.byteOffset, frameBytes / 4));
      for (let done = 0; done < d.frames; ) {
        const { n, i, sum } = await recv<{ n: number; i: number; sum?: number }>(d.prev!);
        // Implicit sync: a writer waits for every fence (POLLOUT), a reader for the writers (POLLIN).
        report.waits.push(waitBuffer(proc, bufs[i], d.role === 'processor' ? u.POLLOUT : u.POLLIN));
        const px = views[i];
        if (d.role === 'processor') {
          importFence(proc, timeline, bufs[i], n + 1, u.DMA_BUF_SYNC_WRITE);
          for (let k = 0; k < px.length; k++) px[k] = grayPixel(px[k]);
          const s = checksum(px);
          proc.ioctl(timeline, u.SW_SYNC_IOC_INC, u.u32Arg.encode(1));
          post(d.next!, { n, i, sum: s });
        } else {
          importFence(proc, timeline, bufs[i], n + 1, u.DMA_BUF_SYNC_READ);
          // Hand the buffer back now: the producer's POLLOUT waits for this read fence.
          Atomics.add(credits, 0, 1);
          Atomics.notify(credits, 0);
          const s = checksum(px);
          if (s !== sum) report.errors.push(`frame ${n}: checksum ${s} != processor's ${sum}`);
          for (let k = 0; k < px.length; k += 4099) {
            const want = grayPixel(sourcePixel(k % d.width, Math.floor(k / d.width), n));
            if (px[k] !== want) {
              report.errors.push(`frame ${n}: pixel ${k} is 0x${px[k].toString(16)}, expected 0x${want.toString(16)}`);
              break;
            }
          }
          proc.ioctl(timeline, u.SW_SYNC_IOC_INC, u.u32Arg.encode(1));
          post(parentPort, { progress: n + 1 });
        }
        done++;
      }
      for (const m of maps) proc.munmap(m);
      for (const h of handles) proc.ioctl(drm, u.DRM_IOCTL_GEM_CLOSE, u.drmGemClose.encode(h));
      if (drm >= 0) proc.close(drm);
      for (const fd of bufs) proc.close(fd);
    }
  } catch (e) {
    report.errors.push(`${d.role}: ${e instanceof Error ? e.message : String(e)}`);
  } finally {
    proc.close(timeline);
    proc.exit();
  }
  return report;
}

if (parentPort && workerData?.role) {
  void run(workerData as StageData).then((report) => {
    parentPort!.postMessage({ report });
    const d = workerData as StageData;
    d.next?.close();
    d.prev?.close();
  });
}
