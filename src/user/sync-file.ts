/**
 * Sync files as objects (in the spirit of libsync): wait as a promise with
 * a timeout and an AbortSignal, or blocking where that is allowed; merge;
 * info; deadlines; and sw_sync timelines to make fences of one's own.
 */
import type { ProcessLike as Process } from '../machine/process-api.js';
import { O_RDWR } from '../uapi/fcntl.js';
import { POLLIN } from '../uapi/poll.js';
import { SYNC_IOC_FILE_INFO, SYNC_IOC_MERGE, SYNC_IOC_SET_DEADLINE, sync_fence_info, sync_file_info, sync_merge_data, sync_set_deadline } from '../uapi/sync_file.js';
import { SW_SYNC_IOC_CREATE_FENCE, SW_SYNC_IOC_INC, sw_sync_create_fence_data } from '../uapi/sw_sync.js';
import { __u32, cstr, type StructValue } from '../uapi/struct.js';
import { FdResource } from './resource.js';
import { openDrmDevice } from './drm.js';
import {
  DRM_IOCTL_GEM_CLOSE, DRM_IOCTL_MODE_CREATE_DUMB, DRM_IOCTL_PRIME_HANDLE_TO_FD, DRM_IOCTL_VGEM_FENCE_ATTACH, DRM_IOCTL_VGEM_FENCE_SIGNAL, VGEM_FENCE_WRITE,
  drm_gem_close, drm_mode_create_dumb, drm_prime_handle, drm_vgem_fence_attach, drm_vgem_fence_signal,
} from '../uapi/drm.js';
import { DMA_BUF_IOCTL_EXPORT_SYNC_FILE, DMA_BUF_SYNC_READ, dma_buf_export_sync_file } from '../uapi/dma-buf.js';
import { O_CLOEXEC } from '../uapi/fcntl.js';
import { errnoName } from '../uapi/errno.js';
import { U32_MAX, uintArg } from './args.js';
import { pollReady, pollReadySync, type WaitOptions } from './wait.js';

/** One fence of a sync file (struct sync_fence_info, as text and numbers). */
export interface SyncFenceInfo {
  /** the timeline's name */
  objName: string;
  /** the driver that made the fence ('sw_sync', 'vgem', ...) */
  driverName: string;
  /** 1 signalled, 0 active, < 0 signalled with that error */
  status: number;
  /** always 0 in Linux 6.x (reserved) */
  flags: number;
  /** when it signalled (CLOCK_MONOTONIC ns), 0 while active */
  timestampNs: number;
}

/** What SYNC_IOC_FILE_INFO tells of a sync file ({@link SyncFile.info}). */
export interface SyncFileInfo {
  /** the name given at creation or merge (at most 31 bytes) */
  name: string;
  /** 1 signalled, 0 active, < 0 signalled with that error */
  status: number;
  fences: SyncFenceInfo[];
}

/** A name as the kernel's char[32] takes it: at most 31 bytes of UTF-8 (longer names are cut). */
function nameBytes(name: string): Uint8Array {
  return new TextEncoder().encode(name).subarray(0, 31);
}

function fenceInfo(r: StructValue<typeof sync_fence_info>): SyncFenceInfo {
  return { objName: cstr(r.obj_name), driverName: cstr(r.driver_name), status: r.status, flags: r.flags, timestampNs: Number(r.timestamp_ns) };
}

/**
 * A sync file signalled with an error (status < 0), e.g. -ETIMEDOUT from a GPU reset: `code` and `errno` are that error's.
 *
 * @example
 * ```ts
 * try {
 *   await rendered.wait({ timeout: 1000 });
 * } catch (e) {
 *   if (e instanceof FenceError && e.code === 'ETIMEDOUT') console.log('the GPU was reset; drop the frame');
 *   else throw e;
 * }
 * ```
 */
export class FenceError extends Error {
  /** the error's name ('ETIMEDOUT') */
  readonly code: string;
  /** the negative errno the fence signalled with (the same as `status`) */
  readonly errno: number;
  constructor(readonly status: number, name: string) {
    const code = errnoName(status) ?? `E${Math.abs(status)}`;
    super(`sync file '${name}' signalled with error ${code} (${status})`);
    this.name = 'FenceError';
    this.code = code;
    this.errno = status;
  }
}

/** What crosses postMessage for a sync file (see receive()). */
export interface SyncFileDescriptor {
  /** tells it from a {@link DmaBufferDescriptor} */
  kind: 'sync_file';
  /** the in-flight fd's ticket, redeemed once by the receiving process */
  token: string;
}

/**
 * A sync file: an fd holding one or more dma-fences, the currency of
 * explicit synchronisation (Android's sync framework, Vulkan and EGL
 * sync fds, KMS IN_FENCE_FD/OUT_FENCE_PTR). Wait for it as a promise or
 * blocking, merge two, read its fences' state, set a deadline, and pass it
 * to another process. Made by {@link Timeline.createFence},
 * {@link DmaBuffer.exportSyncFile} or {@link SyncFile.fromFd}.
 *
 * @example
 * ```ts
 * using gpu = Timeline.open(proc);
 * using a = gpu.createFence(1, 'pass-a');
 * using b = gpu.createFence(2, 'pass-b');
 * using both = a.merge(b, 'frame');
 * gpu.inc(2);
 * await both.wait({ timeout: 1000 });
 * console.log(both.info().fences.map((f) => f.status));   // [ 1, 1 ]
 * ```
 */
export class SyncFile extends FdResource {
  /** Own an fd that holds a sync file (it is closed with this object). */
  static fromFd(proc: Process, fd: number): SyncFile {
    return new SyncFile(proc, fd);
  }

  private constructor(proc: Process, fd: number) {
    super(proc, fd, 'a sync_file');
  }

  /** SYNC_IOC_FILE_INFO: name, status, and each fence's driver, timeline, status and timestamp. */
  info(): SyncFileInfo {
    const h = this.header();
    if (h.num_fences === 0) return { name: cstr(h.name), status: h.status, fences: [] };
    // the records go right after the struct, in the same argument
    const full = sync_file_info.encode({ num_fences: h.num_fences, sync_fence_info: sync_file_info.size }, h.num_fences * sync_fence_info.size);
    this.proc.ioctl(this.fd, SYNC_IOC_FILE_INFO, full);
    const f = sync_file_info.decode(full);
    const fences = (sync_file_info.deref(full, 'sync_fence_info') ?? []).map(fenceInfo);
    return { name: cstr(f.name), status: f.status, fences };
  }

  /** The status alone: 1 signalled, 0 active, < 0 an error. */
  get status(): number {
    return this.header().status;
  }

  /** SYNC_IOC_FILE_INFO with num_fences 0: the name and status only. */
  private header(): StructValue<typeof sync_file_info> {
    const b = sync_file_info.encode();
    this.proc.ioctl(this.fd, SYNC_IOC_FILE_INFO, b);
    return sync_file_info.decode(b);
  }

  private settled(): void {
    const { status, name } = this.header();
    if (status < 0) throw new FenceError(status, cstr(name));
  }

  /**
   * Resolves when every fence has signalled; rejects with FenceError,
   * WaitTimeoutError (ETIME) or the abort reason. `{ timeout, signal }` as
   * DmaBuffer.wait() takes them (a bare number is still read as the timeout).
   */
  async wait(opts: WaitOptions | number = {}): Promise<void> {
    await pollReady(this.proc, this.fd, POLLIN, 'sync file', typeof opts === 'number' ? { timeout: opts } : opts);
    this.settled();
  }

  /** The blocking form of wait() (worker threads, or a main thread that may block). */
  waitSync(timeout = Infinity): void {
    pollReadySync(this.proc, this.fd, POLLIN, 'sync file', timeout);
    this.settled();
  }

  /** SYNC_IOC_MERGE: a new sync file that signals when both have. */
  merge(other: SyncFile, name = 'merged'): SyncFile {
    const b = sync_merge_data.encode({ name: nameBytes(name), fd2: other.fd });
    this.proc.ioctl(this.fd, SYNC_IOC_MERGE, b);
    return new SyncFile(this.proc, sync_merge_data.get(b, 'fence'));
  }

  /** SYNC_IOC_SET_DEADLINE: a hint to the fences' drivers (absolute CLOCK_MONOTONIC ns, a safe non-negative integer). */
  setDeadline(deadlineNs: number): void {
    const deadline_ns = uintArg(deadlineNs, 'deadlineNs');
    this.proc.ioctl(this.fd, SYNC_IOC_SET_DEADLINE, sync_set_deadline.encode({ deadline_ns }));
  }

  /** Send to process `toPid` (SCM_RIGHTS semantics): a plain object to postMessage; this one stays open. */
  share(toPid: number): SyncFileDescriptor {
    return { kind: 'sync_file', token: this.proc.sendFd(this.fd, toPid) };
  }

  /** The other side of share(). */
  static receive(proc: Process, d: SyncFileDescriptor): SyncFile {
    if (d?.kind !== 'sync_file') throw new TypeError('not a sync file descriptor (from SyncFile.share())');
    return new SyncFile(proc, proc.receiveFd(d.token));
  }

  /** Send over an AF_UNIX socket (SCM_RIGHTS; across OS processes on the native backend); this one stays open. */
  sendTo(socket: number): void {
    this.proc.sendFdTo(socket, this.fd);
  }

  /** The other side of sendTo(). */
  static receiveFrom(proc: Process, socket: number): SyncFile {
    return new SyncFile(proc, proc.receiveFdFrom(socket, O_CLOEXEC));
  }

  /** receiveFrom() for event-loop code; `{ signal }` aborts the wait. */
  static async receiveFromAsync(proc: Process, socket: number, opts: { signal?: AbortSignal } = {}): Promise<SyncFile> {
    return new SyncFile(proc, await proc.receiveFdFromAsync(socket, O_CLOEXEC, opts));
  }
}

/** Where a Timeline's fences come from. */
export type TimelineSource = 'sw_sync' | 'vgem';

/** sw_sync's node in debugfs */
const SW_SYNC_PATH = '/sys/kernel/debug/sync/sw_sync';

/**
 * A timeline of one's own: fences that signal when inc() reaches their
 * value, for standing in for a device (a GPU, a camera) from userspace.
 * Made with sw_sync (debugfs, CONFIG_SW_SYNC) where the kernel has it —
 * the emulator does; most distribution kernels do not — else with vgem's
 * fences (DRM_IOCTL_VGEM_FENCE_ATTACH/SIGNAL, exported as sync files
 * through a buffer: `modprobe vgem`). A vgem fence signals on its own
 * after 10 s (vgem's timeout) if inc() has not reached it.
 *
 * @example
 * ```ts
 * using gpu = Timeline.open(proc);
 * using done = gpu.createFence(1, 'render');
 * gpu.inc(1); // done signals
 * ```
 */
export class Timeline extends FdResource {
  /** which kernel facility makes the fences */
  readonly source: TimelineSource;
  private value = 0;
  /** vgem: fences not yet signalled, by value */
  private readonly pending: { value: number; id: number }[] = [];

  /** Open a timeline: `source` picks the facility (default: sw_sync if the kernel has it, else vgem). */
  static open(proc: Process, opts: { source?: TimelineSource } = {}): Timeline {
    let source = opts.source;
    if (!source) {
      try {
        return new Timeline(proc, proc.open(SW_SYNC_PATH, O_RDWR | O_CLOEXEC), 'sw_sync');
      } catch (e) {
        if ((e as { code?: string }).code !== 'ENOENT') throw e;
        source = 'vgem';
      }
    }
    if (source === 'sw_sync') return new Timeline(proc, proc.open(SW_SYNC_PATH, O_RDWR | O_CLOEXEC), 'sw_sync');
    // Dumb buffers (the fences' carriers) need the primary node: a render node refuses them (EACCES).
    return new Timeline(proc, openDrmDevice(proc, 'vgem', 'card'), 'vgem');
  }

  private constructor(proc: Process, fd: number, source: TimelineSource) {
    super(proc, fd, `a ${source} timeline`);
    this.source = source;
  }

  /** A sync file that signals when the timeline reaches `value` (a u32): SW_SYNC_IOC_CREATE_FENCE, or a vgem fence. */
  createFence(value: number, name = 'fence'): SyncFile {
    uintArg(value, 'value', U32_MAX);
    if (this.source === 'sw_sync') {
      const b = sw_sync_create_fence_data.encode({ value, name: nameBytes(name) });
      this.proc.ioctl(this.fd, SW_SYNC_IOC_CREATE_FENCE, b);
      return SyncFile.fromFd(this.proc, sw_sync_create_fence_data.get(b, 'fence'));
    }
    return this.vgemFence(value);
  }

  /** Advance the timeline by `step` (a u32), signalling the fences it reaches: SW_SYNC_IOC_INC, or VGEM_FENCE_SIGNAL of each. */
  inc(step = 1): void {
    uintArg(step, 'step', U32_MAX);
    if (this.source === 'sw_sync') {
      this.proc.ioctl(this.fd, SW_SYNC_IOC_INC, __u32.encode(step));
      return;
    }
    this.value += step;
    this.pending.sort((a, b) => a.value - b.value);
    while (this.pending.length && this.pending[0].value <= this.value) {
      const { id } = this.pending.shift()!;
      try {
        this.proc.ioctl(this.fd, DRM_IOCTL_VGEM_FENCE_SIGNAL, drm_vgem_fence_signal.encode({ fence: id }));
      } catch (e) {
        // vgem's 10 s timeout signalled it already: ETIMEDOUT (it is signalled all the same).
        if ((e as { code?: string }).code !== 'ETIMEDOUT') throw e;
      }
    }
  }

  /**
   * A vgem fence as a sync file: a one-page object with a write fence
   * attached, exported as a dma-buf whose write fences become the sync
   * file (DMA_BUF_IOCTL_EXPORT_SYNC_FILE of a read). The object goes; the
   * fence stays vgem's until signalled.
   */
  private vgemFence(value: number): SyncFile {
    const { proc, fd } = this;
    const dumb = drm_mode_create_dumb.encode({ width: 1024, height: 1, bpp: 32 });
    proc.ioctl(fd, DRM_IOCTL_MODE_CREATE_DUMB, dumb);
    const handle = drm_mode_create_dumb.get(dumb, 'handle');
    try {
      const attach = drm_vgem_fence_attach.encode({ handle, flags: VGEM_FENCE_WRITE });
      proc.ioctl(fd, DRM_IOCTL_VGEM_FENCE_ATTACH, attach);
      const id = drm_vgem_fence_attach.get(attach, 'out_fence');
      const prime = drm_prime_handle.encode({ handle, flags: O_CLOEXEC | O_RDWR });
      proc.ioctl(fd, DRM_IOCTL_PRIME_HANDLE_TO_FD, prime);
      const buf = drm_prime_handle.get(prime, 'fd');
      let sync: number;
      try {
        const exp = dma_buf_export_sync_file.encode({ flags: DMA_BUF_SYNC_READ, fd: -1 });
        proc.ioctl(buf, DMA_BUF_IOCTL_EXPORT_SYNC_FILE, exp);
        sync = dma_buf_export_sync_file.get(exp, 'fd');
      } finally {
        proc.close(buf);
      }
      if (value <= this.value) proc.ioctl(fd, DRM_IOCTL_VGEM_FENCE_SIGNAL, drm_vgem_fence_signal.encode({ fence: id }));
      else this.pending.push({ value, id });
      return SyncFile.fromFd(proc, sync);
    } finally {
      proc.ioctl(fd, DRM_IOCTL_GEM_CLOSE, drm_gem_close.encode({ handle }));
    }
  }
}
