/**
 * One stage of the pipeline demo, in its own worker thread and process,
 * written against the userspace library (src/user):
 * - producer: allocates the ring from the system heap (named buffers),
 *   shares them with every other stage, and fills frame n into buffer
 *   n % ring under its write fence;
 * - processors (one or more; frame n goes to processor n % count): wait
 *   for the producer's write (implicit sync: poll on the dma-buf), turn
 *   RGBA into grayscale in place under their own write fence;
 * - consumer (display-like): imports each buffer through vgem PRIME and
 *   maps it through the DRM fd, waits for the processor, takes a read
 *   fence, hands the buffer back to the producer (which waits for that
 *   read fence before it writes again), and checks every frame in order.
 * Only frame numbers and fd tokens travel in messages; pixels never do.
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { attach, type Process, type ProcessHandle } from '../index.js';
import * as u from '../uapi/index.js';
import { DmaBuffer, DmaHeap, openDrmDevice, Timeline, type Access, type DmaBufferDescriptor } from '../user/index.js';
import { WORKLOADS, type Work } from './frames.js';
import { FrameMarks, type FrameMark } from './report/marks.js';

export interface StageData {
  role: 'producer' | 'processor' | 'consumer';
  handle: ProcessHandle;
  width: number;
  height: number;
  ring: number;
  frames: number;
  /** Int32[0]: frames the consumer handed back (the producer's credits) */
  credits: SharedArrayBuffer;
  /** to the next stage(s): the producer has one port per processor */
  next?: MessagePort[];
  /** from the previous stage(s): the consumer has one port per processor */
  prev?: MessagePort[];
  /** note each frame's times for the trace (StageReport.marks) */
  trace?: boolean;
  /** who works on the pixels (frames.ts): the CPU (default), or devices, the stages touching a header and a tile */
  work?: Work;
}

export interface StageReport {
  role: string;
  /** ms spent blocked waiting for fences, per frame */
  waits: number[];
  /** bytes this stage posted to other threads */
  postedBytes: number;
  errors: string[];
  /** each frame's times, when traced */
  marks: FrameMark[];
  /**
   * CLOCK_MONOTONIC ms (process.hrtime, the same clock in every thread) of
   * each frame: when the producer handed it on, when the consumer had
   * checked it (latency and steady-state rate come from these)
   */
  stamps: number[];
}

interface FrameMsg {
  n: number;
  i: number;
  sum?: number;
}

const now = (): number => performance.now();
/** CLOCK_MONOTONIC in ms: comparable across threads, unlike performance.now() */
const monotonicMs = (): number => Number(process.hrtime.bigint()) / 1e6;
/** The longest any fence wait may take before the run is declared stuck. */
const WAIT_MS = 10_000;

/** Put a fence of `timeline` at `value` into the buffer's reservation object (IMPORT_SYNC_FILE). */
function fenceBuffer(timeline: Timeline, buf: DmaBuffer, value: number, access: Access): void {
  const fence = timeline.createFence(value, 'frame');
  try {
    buf.importSyncFile(fence, access);
  } finally {
    fence.close();
  }
}

/** Block until `access` would not race the buffer's fences; the ms it took. */
function waitBuffer(buf: DmaBuffer, access: Access): number {
  const t0 = now();
  buf.waitSync(access, WAIT_MS);
  return now() - t0;
}

/** DMA_BUF_IOCTL_SYNC START or END: the bracket Linux asks around CPU access through a mapping (START does not block here: the fences were waited for). */
function cpuAccessSync(buf: DmaBuffer, access: Access, end: boolean): void {
  const dir = access === 'read' ? u.DMA_BUF_SYNC_READ : access === 'write' ? u.DMA_BUF_SYNC_WRITE : u.DMA_BUF_SYNC_RW;
  const flags = (end ? u.DMA_BUF_SYNC_END : u.DMA_BUF_SYNC_START) | dir;
  buf.proc.ioctl(buf.fd, u.DMA_BUF_IOCTL_SYNC, u.dma_buf_sync.encode({ flags: BigInt(flags) }));
}

/** Messages from several ports, taken in frame order. */
class InOrder {
  private readonly early = new Map<number, FrameMsg>();
  private want = 0;
  private wake: (() => void) | null = null;
  constructor(ports: MessagePort[]) {
    for (const p of ports)
      p.on('message', (m: FrameMsg) => {
        this.early.set(m.n, m);
        this.wake?.();
      });
  }
  async next(): Promise<FrameMsg> {
    while (!this.early.has(this.want)) await new Promise<void>((r) => (this.wake = r));
    this.wake = null;
    const m = this.early.get(this.want)!;
    this.early.delete(this.want++);
    return m;
  }
}

function recv<T>(port: MessagePort): Promise<T> {
  return new Promise((resolve) => port.once('message', resolve));
}

/**
 * The consumer's buffers: PRIME-imported into vgem, as a display driver
 * imports what it scans out (each import is an attachment of the
 * device), and read through mappings of the dma-bufs themselves — Linux
 * maps no imported GEM object through the importer (MODE_MAP_DUMB of one
 * is EINVAL).
 */
function primeImport(proc: Process, bufs: DmaBuffer[], frameBytes: number): { views: Uint32Array[]; release(): void } {
  const drm = openDrmDevice(proc, 'vgem', 'any');
  const handles: number[] = [];
  const maps: Uint8Array[] = [];
  for (const b of bufs) {
    const h = u.drm_prime_handle.encode({ fd: b.fd });
    proc.ioctl(drm, u.DRM_IOCTL_PRIME_FD_TO_HANDLE, h);
    handles.push(u.drm_prime_handle.get(h, 'handle'));
    maps.push(proc.mmap(frameBytes, u.PROT_READ, u.MAP_SHARED, b.fd, 0));
  }
  return {
    views: maps.map((v) => new Uint32Array(v.buffer, v.byteOffset, frameBytes / 4)),
    release(): void {
      for (const m of maps) proc.munmap(m);
      for (const h of handles) proc.ioctl(drm, u.DRM_IOCTL_GEM_CLOSE, u.drm_gem_close.encode({ handle: h }));
      proc.close(drm);
    },
  };
}

async function run(d: StageData): Promise<StageReport> {
  const proc = attach(d.handle);
  const marks = new FrameMarks(d.trace === true, proc.pid, d.role);
  const report: StageReport = { role: d.role, waits: [], postedBytes: 0, errors: [], marks: marks.marks, stamps: [] };
  const work = WORKLOADS[d.work ?? 'cpu'];
  // A device reaches the buffer through its own mapping, ordered by the fences alone: only the CPU
  // workload brackets its access with DMA_BUF_IOCTL_SYNC.
  const cpuSync = (d.work ?? 'cpu') === 'cpu' ? cpuAccessSync : (): void => {};
  const post = (port: MessagePort | typeof parentPort, msg: object): void => {
    report.postedBytes += JSON.stringify(msg).length;
    port!.postMessage(msg);
  };
  const frameBytes = d.width * d.height * 4;
  const timeline = Timeline.open(proc);
  const credits = new Int32Array(d.credits);
  const bufs: DmaBuffer[] = [];
  parentPort!.postMessage({ pid: proc.pid });
  try {
    if (d.role === 'producer') {
      const { to } = await recv<{ to: number[] }>(parentPort as unknown as MessagePort);
      const heap = DmaHeap.open(proc, 'system');
      try {
        for (let i = 0; i < d.ring; i++) bufs.push(heap.allocate(frameBytes, { name: `frame-${i}` }));
      } finally {
        heap.close();
      }
      post(parentPort, { shared: to.map((pid) => bufs.map((b) => b.share(pid))) });
      const views = bufs.map((b) => new Uint32Array(b.bytes.buffer, b.bytes.byteOffset, frameBytes / 4));
      const next = d.next!;
      for (let n = 0; n < d.frames; n++) {
        const i = n % d.ring;
        marks.begin();
        // The ring: buffer i comes back once the consumer took frame n - ring.
        while (Atomics.load(credits, 0) < n - d.ring + 1) Atomics.wait(credits, 0, Atomics.load(credits, 0), 1000);
        marks.step();
        // Implicit sync: every fence on the buffer (the consumer's read) before writing.
        report.waits.push(waitBuffer(bufs[i], 'write'));
        marks.step();
        cpuSync(bufs[i], 'write', false);
        fenceBuffer(timeline, bufs[i], n + 1, 'write');
        work.produce(views[i], d.width, d.height, n);
        cpuSync(bufs[i], 'write', true);
        timeline.inc(1);
        marks.done(n, i, n + 1);
        report.stamps.push(monotonicMs());
        post(next[n % next.length], { n, i });
      }
      // Drain: the last frames' readers, then let go.
      for (const b of bufs) b.waitSync('write', WAIT_MS);
    } else if (d.role === 'processor') {
      const { shared } = await recv<{ shared: DmaBufferDescriptor[] }>(parentPort as unknown as MessagePort);
      for (const s of shared) bufs.push(DmaBuffer.receive(proc, s));
      const views = bufs.map((b) => new Uint32Array(b.bytes.buffer, b.bytes.byteOffset, frameBytes / 4));
      const prev = d.prev![0];
      const next = d.next![0];
      // Frames n, n + count, ... come here; this processor's timeline counts the frames it did.
      for (let mine = 1; ; mine++) {
        marks.begin();
        const m = await recv<FrameMsg | { end: true }>(prev);
        if ('end' in m) break;
        const { n, i } = m;
        marks.step();
        report.waits.push(waitBuffer(bufs[i], 'write'));
        marks.step();
        cpuSync(bufs[i], 'readwrite', false);
        fenceBuffer(timeline, bufs[i], mine, 'write');
        const sum = work.process(views[i], d.width, d.height, n);
        cpuSync(bufs[i], 'readwrite', true);
        timeline.inc(1);
        marks.done(n, i, mine);
        post(next, { n, i, sum });
      }
    } else {
      const { shared } = await recv<{ shared: DmaBufferDescriptor[] }>(parentPort as unknown as MessagePort);
      for (const s of shared) bufs.push(DmaBuffer.receive(proc, s));
      const display = primeImport(proc, bufs, frameBytes);
      const inOrder = new InOrder(d.prev!);
      try {
        for (let n = 0; n < d.frames; n++) {
          marks.begin();
          const { i, sum } = await inOrder.next();
          marks.step();
          // A reader waits for the writers (the processor's fence).
          report.waits.push(waitBuffer(bufs[i], 'read'));
          marks.step();
          cpuSync(bufs[i], 'read', false);
          fenceBuffer(timeline, bufs[i], n + 1, 'read');
          // Hand the buffer back now: the producer's write wait covers this read fence.
          Atomics.add(credits, 0, 1);
          Atomics.notify(credits, 0);
          const wrong = work.check(display.views[i], d.width, d.height, n, sum!);
          if (wrong) report.errors.push(wrong);
          cpuSync(bufs[i], 'read', true);
          report.stamps.push(monotonicMs());
          timeline.inc(1);
          marks.done(n, i, n + 1);
          post(parentPort, { progress: n + 1 });
        }
      } finally {
        display.release();
      }
    }
    if (d.role === 'producer') for (const p of d.next!) p.postMessage({ end: true });
  } catch (e) {
    report.errors.push(`${d.role}: ${e instanceof Error ? e.message : String(e)}`);
  } finally {
    for (const b of bufs) b.close();
    timeline.close();
    proc.exit();
  }
  return report;
}

if (parentPort && workerData?.role) {
  void run(workerData as StageData).then((report) => {
    parentPort!.postMessage({ report });
    const d = workerData as StageData;
    for (const p of [...(d.next ?? []), ...(d.prev ?? [])]) p.close();
  });
}
