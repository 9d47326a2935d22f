/**
 * sync_file: a fence packaged for userspace (drivers/dma-buf/sync_file.c).
 * This is the kernel object; the file descriptor, poll and ioctls on it
 * are built on it by the file layer.
 */
import { shouldFailAlloc } from '../lib/failslab.js';
import { strscpy, strscpyBytes } from '../lib/string.js';
import { EFAULT, EINVAL, ENOENT, ENOMEM, ENOTTY } from '../lib/errno.js';
import { copyFromUser, copyToUser, userPtr, type UserArg } from '../lib/uaccess.js';
import type { Task } from '../fs/task.js';
import { DmaFenceCb, type DmaFence } from '../fence/dma-fence.js';
import { dmaFenceUnwrapForEach, dmaFenceUnwrapMerge } from '../fence/dma-fence-unwrap.js';
import { File, WaitQueue, anonInodeInode, fput, type FileOperations, type PollTable } from '../fs/file.js';
import type { FdTable } from '../fs/fdtable.js';
import { O_CLOEXEC, O_RDONLY } from '../../uapi/fcntl.js';
import { EPOLLIN } from '../../uapi/eventpoll.js';
import {
  SYNC_IOC_FILE_INFO, SYNC_IOC_MERGE, SYNC_IOC_SET_DEADLINE, sync_fence_info, sync_file_info, sync_merge_data, sync_set_deadline,
} from '../../uapi/sync_file.js';

/** sizeof(sync_file.user_name), sizeof(sync_file_info.name) */
export const SYNC_FILE_NAME_LEN = 32;

/** The fields of struct sync_fence_info (include/uapi/linux/sync_file.h) for one fence. */
export interface SyncFenceInfo {
  /** obj_name: the timeline name (at most 31 bytes) */
  objName: string;
  /** driver_name (at most 31 bytes) */
  driverName: string;
  /** dma_fence_get_status(): 0, 1 or a negative errno */
  status: number;
  flags: number;
  /** signal time in ns (CLOCK_MONOTONIC), 0 while unsignaled */
  timestampNs: number;
}

/** The output fields of struct sync_file_info. */
export interface SyncFileInfo {
  name: string;
  status: number;
  flags: number;
  numFences: number;
  /** one record per leaf fence, present only when requested */
  fences: SyncFenceInfo[] | null;
}

/** The poll callback of a sync_file: wakes its wait queue once the fence signals. */
class SyncFilePollCb extends DmaFenceCb {
  constructor(readonly sf: SyncFile) {
    super();
  }
}

function fenceCheckCb(_f: DmaFence, cb: DmaFenceCb): void {
  (cb as SyncFilePollCb).sf.wq.wake(EPOLLIN);
}

/** struct sync_file (the kernel side of a sync_file fd) */
export class SyncFile {
  /** the fence; the sync_file holds one reference */
  fence: DmaFence;
  /** user_name: the name given by SYNC_IOC_MERGE, as bytes (at most 31; empty if none) */
  userName: Uint8Array = new Uint8Array(0);
  /** the anon "sync_file" file; its last reference releases the sync_file */
  readonly file: File;
  /** pollers */
  readonly wq = new WaitQueue();
  /** POLL_ENABLED: the poll callback was installed */
  pollEnabled = false;
  readonly cb: SyncFilePollCb;

  private constructor(fence: DmaFence) {
    this.fence = fence;
    this.cb = new SyncFilePollCb(this);
    // anon_inode_getfile("sync_file", &sync_file_fops, sync_file, 0): the shared anon inode
    this.file = new File(anonInodeInode, 'sync_file', O_RDONLY, syncFileFops, this);
  }

  /** sync_file_create(fence): takes its own reference; null on allocation failure. */
  static create(fence: DmaFence): SyncFile | null {
    if (shouldFailAlloc('slab')) return null;
    return new SyncFile(fence.get());
  }

  /**
   * sync_file_merge(name, a, b): a new sync_file whose fence signals when
   * both have (dma_fence_unwrap_merge); null on allocation failure. The
   * name is kept as bytes (a string as its UTF-8, cut at a character).
   */
  static merge(name: string | Uint8Array, a: SyncFile, b: SyncFile): SyncFile | null {
    if (shouldFailAlloc('slab')) return null;
    const fence = dmaFenceUnwrapMerge(a.fence, b.fence);
    if (!fence) return null;
    const sf = new SyncFile(fence);
    sf.userName = strscpyBytes(typeof name === 'string' ? strscpy(name, SYNC_FILE_NAME_LEN) : name, SYNC_FILE_NAME_LEN);
    return sf;
  }

  /**
   * sync_file_get_name(sync_file, buf, len): the merge name, else
   * `driver-timelineCONTEXT-SEQNO`, cut to fit char[len].
   */
  getName(len = SYNC_FILE_NAME_LEN): string {
    if (this.userName.length) return strscpy(new TextDecoder().decode(this.userName), len);
    return strscpy(this.generatedName(), len);
  }

  /**
   * The bytes sync_file_get_name() writes into a char[len] before its NUL:
   * strscpy() of the merge name or snprintf() of the generated one, both
   * cut at len-1 bytes.
   */
  getNameBytes(len = SYNC_FILE_NAME_LEN): Uint8Array {
    return strscpyBytes(this.userName.length ? this.userName : this.generatedName(), len);
  }

  private generatedName(): string {
    const f = this.fence;
    return `${f.driverName()}-${f.timelineName()}${f.context}-${f.seqno}`;
  }

  /** sync_file_get_fence(): a new reference to the fence. */
  getFence(): DmaFence {
    return this.fence.get();
  }

  /** The number of leaf fences (what FILE_INFO reports in num_fences). */
  numFences(): number {
    let n = 0;
    for (const _ of dmaFenceUnwrapForEach(this.fence)) n++;
    return n;
  }

  /**
   * The fields SYNC_IOC_FILE_INFO reports. With `withFences` false (the
   * caller passed num_fences == 0) only name, status of the whole fence and
   * the leaf count; otherwise one record per leaf, and a status that is 1
   * unless some leaf is pending (0) or failed (its error) — the first such.
   */
  info(withFences: boolean): SyncFileInfo {
    if (!withFences) {
      return { name: this.getName(), status: this.fence.getStatus(), flags: 0, numFences: this.numFences(), fences: null };
    }
    const fences: SyncFenceInfo[] = [];
    let status = 1;
    for (const f of dmaFenceUnwrapForEach(this.fence)) {
      const rec = syncFillFenceInfo(f);
      fences.push(rec);
      if (status > 0) status = rec.status;
    }
    return { name: this.getName(), status, flags: 0, numFences: fences.length, fences };
  }

  /** Drop the creator's reference to the file (fput); the last one releases the sync_file. */
  release(): void {
    fput(this.file);
  }
}

/** sync_file_fdget(): the sync_file behind a descriptor, or null. */
export function syncFileFdget(fd: number, files: FdTable): SyncFile | null {
  const file = files.lookup(fd);
  return file && file.fOp === syncFileFops ? (file.privateData as SyncFile) : null;
}

/** sync_file_get_fence(fd): a new reference to the fence of a sync_file descriptor, or null. */
export function syncFileGetFence(fd: number, files: FdTable): DmaFence | null {
  const sf = syncFileFdget(fd, files);
  return sf ? sf.fence.get() : null;
}

/** Whether a file is a sync_file. */
export function isSyncFile(file: File): boolean {
  return file.fOp === syncFileFops;
}

function ioctlMerge(sf: SyncFile, arg: UserArg, files: FdTable): number {
  const fd = files.getUnusedFdFlags(O_CLOEXEC);
  if (fd < 0) return fd;
  const fail = (err: number): number => {
    files.putUnusedFd(fd);
    return err;
  };
  const raw = copyFromUser(arg, sync_merge_data.size);
  if (!raw) return fail(-EFAULT);
  const data = sync_merge_data.decode(raw);
  if (data.flags || data.pad) return fail(-EINVAL);
  const fence2 = syncFileFdget(data.fd2, files);
  if (!fence2) return fail(-ENOENT);
  // data.name[sizeof(data.name) - 1] = '\0': the one byte of the struct changed besides fence
  raw[sync_merge_data.fields.name.offset + SYNC_FILE_NAME_LEN - 1] = 0;
  const fence3 = SyncFile.merge(sync_merge_data.get(raw, 'name'), sf, fence2);
  if (!fence3) return fail(-ENOMEM);
  sync_merge_data.set(raw, 'fence', fd);
  if (!copyToUser(arg, raw)) {
    fence3.release();
    return fail(-EFAULT);
  }
  files.fdInstall(fd, fence3.file);
  return 0;
}

/**
 * SYNC_IOC_FILE_INFO: the records go to the user pointer sync_fence_info
 * (a kzalloc'd array, so whole records); the name is written into the
 * struct as copied in (its NUL ends it, the bytes after it stay), then
 * status and num_fences, and the struct goes back.
 */
function ioctlFileInfo(sf: SyncFile, arg: UserArg): number {
  const raw = copyFromUser(arg, sync_file_info.size);
  if (!raw) return -EFAULT;
  const info = sync_file_info.decode(raw);
  if (info.flags || info.pad) return -EINVAL;
  const count = sf.numFences();
  let status: number;
  if (!info.num_fences) {
    status = sf.fence.getStatus();
  } else {
    if (info.num_fences < count) return -EINVAL;
    if (shouldFailAlloc('slab')) return -ENOMEM;
    const records = new Uint8Array(count * sync_fence_info.size);
    let i = 0;
    status = 1;
    for (const f of dmaFenceUnwrapForEach(sf.fence)) {
      const st = syncFillFenceInfoBytes(f, records, i++ * sync_fence_info.size);
      status = status <= 0 ? status : st;
    }
    // copy_to_user() of 0 bytes succeeds whatever the pointer
    if (records.length) {
      const dst = userPtr(arg, info.sync_fence_info, records.length);
      if (!dst) return -EFAULT;
      dst.set(records);
    }
  }
  const name = sf.getNameBytes(SYNC_FILE_NAME_LEN);
  const at = sync_file_info.fields.name.offset;
  raw.set(name, at);
  raw[at + name.length] = 0;
  // A merge's name is copied with strscpy(): with CONFIG_FORTIFY_SOURCE (distribution kernels) it is
  // limited to the name and its NUL, so the bytes after stay, as here; without it strscpy() copies a word
  // at a time and zeroes the rest of the NUL's word (docs/linux-differences.md).
  sync_file_info.set(raw, 'status', status);
  sync_file_info.set(raw, 'num_fences', count);
  return copyToUser(arg, raw) ? 0 : -EFAULT;
}

/** SYNC_IOC_SET_DEADLINE: pad (a u64) must be 0; deadline_ns becomes a ktime_t (ns_to_ktime: the s64 of its bits). */
function ioctlSetDeadline(sf: SyncFile, arg: UserArg): number {
  const raw = copyFromUser(arg, sync_set_deadline.size);
  if (!raw) return -EFAULT;
  const ts = sync_set_deadline.decode(raw);
  if (ts.pad) return -EINVAL;
  sf.fence.setDeadline(BigInt.asIntN(64, ts.deadline_ns));
  return 0;
}

const syncFileFops: FileOperations = {
  release(_inode, file): void {
    const sf = file.privateData as SyncFile;
    if (sf.pollEnabled) sf.fence.removeCallback(sf.cb);
    sf.fence.put();
  },
  /** sync_file_poll(): EPOLLIN once the fence has signaled (with or without an error). */
  poll(file, pt: PollTable | null): number {
    const sf = file.privateData as SyncFile;
    pt?.wait(sf.wq);
    if (sf.cb.owner === null && !sf.pollEnabled) {
      sf.pollEnabled = true;
      if (sf.fence.addCallback(sf.cb, fenceCheckCb) < 0) sf.wq.wake(EPOLLIN);
    }
    return sf.fence.isSignaled() ? EPOLLIN : 0;
  },
  unlockedIoctl(file, cmd, arg, task: Task): number {
    const sf = file.privateData as SyncFile;
    switch (cmd) {
      case SYNC_IOC_MERGE: return ioctlMerge(sf, arg, task.files);
      case SYNC_IOC_FILE_INFO: return ioctlFileInfo(sf, arg);
      case SYNC_IOC_SET_DEADLINE: return ioctlSetDeadline(sf, arg);
      default: return -ENOTTY;
    }
  },
};

/**
 * sync_fill_fence_info() into a zeroed struct sync_fence_info at `at` of
 * `dst`: the names as strscpy() cuts them (bytes), status, timestamp.
 * Returns the status.
 */
function syncFillFenceInfoBytes(f: DmaFence, dst: Uint8Array, at: number): number {
  const status = f.getStatus();
  sync_fence_info.write(dst, {
    obj_name: strscpyBytes(f.timelineName(), SYNC_FILE_NAME_LEN),
    driver_name: strscpyBytes(f.driverName(), SYNC_FILE_NAME_LEN),
    status,
    timestamp_ns: f.isSignaled() ? BigInt(Math.trunc(f.getTimestamp())) : 0n,
  }, at);
  return status;
}

/** sync_fill_fence_info() */
export function syncFillFenceInfo(f: DmaFence): SyncFenceInfo {
  const status = f.getStatus();
  return {
    objName: strscpy(f.timelineName(), SYNC_FILE_NAME_LEN),
    driverName: strscpy(f.driverName(), SYNC_FILE_NAME_LEN),
    status,
    flags: 0,
    timestampNs: f.isSignaled() ? f.getTimestamp() : 0,
  };
}
