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
import { O_CLOEXEC } from '../uapi/fcntl.js';
import { errnoName } from '../uapi/errno.js';
import { U32_MAX, uintArg } from './args.js';
import { pollReady, pollReadySync, type WaitOptions } from './wait.js';

/** One fence of a sync file (struct sync_fence_info, as text and numbers). */
export interface SyncFenceInfo {
  /** the timeline's name */
  objName: string;
  driverName: string;
  /** 1 signalled, 0 active, < 0 signalled with that error */
  status: number;
  flags: number;
  /** when it signalled (CLOCK_MONOTONIC ns), 0 while active */
  timestampNs: number;
}

export interface SyncFileInfo {
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

/** A sync file signalled with an error (status < 0), e.g. -ETIMEDOUT from a GPU reset: `code` and `errno` are that error's. */
export class FenceError extends Error {
  readonly code: string;
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
  kind: 'sync_file';
  token: string;
}

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

/** A sw_sync timeline (debugfs sw_sync): fences of one's own, signalled by inc(). */
export class Timeline extends FdResource {
  static open(proc: Process): Timeline {
    return new Timeline(proc, proc.open('/sys/kernel/debug/sync/sw_sync', O_RDWR));
  }

  private constructor(proc: Process, fd: number) {
    super(proc, fd, 'a sw_sync timeline');
  }

  /** SW_SYNC_IOC_CREATE_FENCE: a sync file that signals when the timeline reaches `value` (a u32). */
  createFence(value: number, name = 'fence'): SyncFile {
    const b = sw_sync_create_fence_data.encode({ value: uintArg(value, 'value', U32_MAX), name: nameBytes(name) });
    this.proc.ioctl(this.fd, SW_SYNC_IOC_CREATE_FENCE, b);
    return SyncFile.fromFd(this.proc, sw_sync_create_fence_data.get(b, 'fence'));
  }

  /** SW_SYNC_IOC_INC: advance the timeline by `step` (a u32), signalling the fences it passes. */
  inc(step = 1): void {
    this.proc.ioctl(this.fd, SW_SYNC_IOC_INC, __u32.encode(uintArg(step, 'step', U32_MAX)));
  }
}
