/**
 * The dma-buf ioctls (dma_buf_ioctl, include/uapi/linux/dma-buf.h):
 * SYNC (the CPU-access bracket), SET_NAME (_A/_B), EXPORT_SYNC_FILE and
 * IMPORT_SYNC_FILE. Each is also callable from the kernel face with
 * decoded arguments.
 */
import { EFAULT, EINVAL, ENOMEM, ENOTTY } from '../lib/errno.js';
import { copyFromUser, copyToUser, strndupUser, type UserArg } from '../lib/uaccess.js';
import type { Task } from '../fs/task.js';
import { userMappingsCheck } from '../fs/user-mappings.js';
import { ktimeGet } from '../lib/time.js';
import { tracepoint } from '../lib/trace.js';
import { O_CLOEXEC } from '../../uapi/fcntl.js';
import {
  DMA_BUF_IOCTL_EXPORT_SYNC_FILE, DMA_BUF_IOCTL_IMPORT_SYNC_FILE, DMA_BUF_IOCTL_SYNC, DMA_BUF_NAME_LEN, DMA_BUF_SET_NAME_A,
  DMA_BUF_SET_NAME_B, DMA_BUF_SYNC_END, DMA_BUF_SYNC_READ, DMA_BUF_SYNC_RW, DMA_BUF_SYNC_VALID_FLAGS_MASK, DMA_BUF_SYNC_WRITE,
  dma_buf_export_sync_file, dma_buf_import_sync_file, dma_buf_sync,
} from '../../uapi/dma-buf.js';
import { type DmaFence, dmaFenceGetStub } from '../fence/dma-fence.js';
import { dmaFenceUnwrapForEach } from '../fence/dma-fence-unwrap.js';
import { DMA_RESV_USAGE_READ, DMA_RESV_USAGE_WRITE, dmaResvUsageRw } from '../resv/dma-resv.js';
import type { Out } from '../lib/out.js';
import { SyncFile, syncFileGetFence } from '../sync/sync-file.js';
import { DMA_BIDIRECTIONAL, DMA_FROM_DEVICE, DMA_TO_DEVICE, type DmaDataDirection } from '../mm/dma-mapping.js';
import type { File } from '../fs/file.js';
import type { FdTable } from '../fs/fdtable.js';
import type { DmaBuf } from './dma-buf-struct.js';
import { dmaBufBeginCpuAccess, dmaBufEndCpuAccess } from './cpu-access.js';

/**
 * Not in Linux (6.12 traces no CPU access): this project's own event, so a
 * trace shows who held a buffer. One record when DMA_BUF_IOCTL_SYNC
 * returns: `phase` 'begin' (SYNC_START, after its implicit-sync wait) or
 * 'end', the buffer's inode, the caller's pid and comm, the direction, the
 * ns the call took (`dur`) and its return value.
 */
const tpCpuAccess = tracepoint('dma_buf_cpu_access');
/**
 * Not in Linux: this project's own event, so a trace shows which fences a
 * process put on a buffer. One record per fence DMA_BUF_IOCTL_IMPORT_SYNC_FILE
 * added to the reservation object (its context and seqno), with the
 * buffer's inode, the caller's pid and comm, and the usage.
 */
const tpImportSyncFile = tracepoint('dma_buf_import_sync_file');

const SYNC_DIR = ['', 'read', 'write', 'rw'];

/**
 * DMA_BUF_IOCTL_SYNC with decoded flags (struct dma_buf_sync's __u64): the
 * direction rules, then begin or end CPU access. The unknown-bits test is
 * on all 64 bits, as in dma_buf_ioctl().
 */
export async function dmaBufSyncIoctl(dmabuf: DmaBuf, flags: bigint | number, signal?: AbortSignal): Promise<number> {
  const all = BigInt(flags);
  if (all & ~BigInt(DMA_BUF_SYNC_VALID_FLAGS_MASK)) return -EINVAL;
  const valid = Number(all);
  let dir: DmaDataDirection;
  switch (valid & DMA_BUF_SYNC_RW) {
    case DMA_BUF_SYNC_READ: dir = DMA_FROM_DEVICE; break;
    case DMA_BUF_SYNC_WRITE: dir = DMA_TO_DEVICE; break;
    case DMA_BUF_SYNC_RW: dir = DMA_BIDIRECTIONAL; break;
    default: return -EINVAL;
  }
  return valid & DMA_BUF_SYNC_END ? dmaBufEndCpuAccess(dmabuf, dir) : dmaBufBeginCpuAccess(dmabuf, dir, signal);
}

/** dma_buf_set_name(): replace the user name; -EINVAL for DMA_BUF_NAME_LEN bytes or more. */
export function dmaBufSetName(dmabuf: DmaBuf, name: string): number {
  if (new TextEncoder().encode(name).length >= DMA_BUF_NAME_LEN) return -EINVAL;
  dmabuf.name = name;
  return 0;
}

/**
 * dma_buf_export_sync_file() with decoded flags: a sync_file for the
 * fences a CPU access with `flags` would wait for (the signaled stub if
 * none). -EINVAL for flags outside READ|WRITE or neither; -ENOMEM.
 */
export function dmaBufExportSyncFile(dmabuf: DmaBuf, flags: number, out: Out<SyncFile | null>): number {
  out.value = null;
  if (flags & ~DMA_BUF_SYNC_RW) return -EINVAL;
  if ((flags & DMA_BUF_SYNC_RW) === 0) return -EINVAL;
  const usage = dmaResvUsageRw(!!(flags & DMA_BUF_SYNC_WRITE));
  const fence: Out<DmaFence | null> = { value: null };
  const ret = dmabuf.resv.getSingleton(usage, fence);
  if (ret) return ret;
  const f = fence.value ?? dmaFenceGetStub();
  const sf = SyncFile.create(f);
  f.put();
  if (!sf) return -ENOMEM;
  out.value = sf;
  return 0;
}

/**
 * dma_buf_import_sync_file() with a decoded fence: add its leaves to the
 * reservation object as writers (WRITE set) or readers. -EINVAL for bad
 * flags; -ENOMEM.
 */
export async function dmaBufImportSyncFence(dmabuf: DmaBuf, flags: number, fence: DmaFence): Promise<number> {
  if (flags & ~DMA_BUF_SYNC_RW) return -EINVAL;
  if ((flags & DMA_BUF_SYNC_RW) === 0) return -EINVAL;
  const usage = flags & DMA_BUF_SYNC_WRITE ? DMA_RESV_USAGE_WRITE : DMA_RESV_USAGE_READ;
  let n = 0;
  for (const _ of dmaFenceUnwrapForEach(fence)) n++;
  let ret = 0;
  if (n > 0) {
    await dmabuf.resv.lockResv(null);
    ret = dmabuf.resv.reserveFences(n);
    if (!ret) for (const f of dmaFenceUnwrapForEach(fence)) dmabuf.resv.addFence(f, usage);
    dmabuf.resv.unlock();
  }
  return ret;
}

async function ioctlExportSyncFile(dmabuf: DmaBuf, arg: UserArg, files: FdTable): Promise<number> {
  const raw = copyFromUser(arg, dma_buf_export_sync_file.size);
  if (!raw) return -EFAULT;
  const a = dma_buf_export_sync_file.decode(raw);
  if (a.flags & ~DMA_BUF_SYNC_RW || (a.flags & DMA_BUF_SYNC_RW) === 0) return -EINVAL;
  const fd = files.getUnusedFdFlags(O_CLOEXEC);
  if (fd < 0) return fd;
  const sf: Out<SyncFile | null> = { value: null };
  const ret = dmaBufExportSyncFile(dmabuf, a.flags, sf);
  if (ret) {
    files.putUnusedFd(fd);
    return ret;
  }
  dma_buf_export_sync_file.set(raw, 'fd', fd);
  if (!copyToUser(arg, raw)) {
    sf.value!.release();
    files.putUnusedFd(fd);
    return -EFAULT;
  }
  files.fdInstall(fd, sf.value!.file);
  return 0;
}

async function ioctlImportSyncFile(dmabuf: DmaBuf, arg: UserArg, task: Task): Promise<number> {
  const raw = copyFromUser(arg, dma_buf_import_sync_file.size);
  if (!raw) return -EFAULT;
  const a = dma_buf_import_sync_file.decode(raw);
  if (a.flags & ~DMA_BUF_SYNC_RW || (a.flags & DMA_BUF_SYNC_RW) === 0) return -EINVAL;
  const fence = syncFileGetFence(a.fd, task.files);
  if (!fence) return -EINVAL;
  const ret = await dmaBufImportSyncFence(dmabuf, a.flags, fence);
  if (ret === 0 && tpImportSyncFile.enabled) {
    const usage = a.flags & DMA_BUF_SYNC_WRITE ? 'write' : 'read';
    for (const f of dmaFenceUnwrapForEach(fence))
      tpImportSyncFile.emit({ ino: dmabuf.ino, pid: task.pid, comm: task.comm, context: f.context, seqno: f.seqno, usage });
  }
  fence.put();
  return ret;
}

/** dma_buf_ioctl(file, cmd, arg) */
export async function dmaBufIoctl(file: File, cmd: number, arg: UserArg, task: Task): Promise<number> {
  const dmabuf = file.privateData as DmaBuf;
  switch (cmd) {
    case DMA_BUF_IOCTL_SYNC: {
      const raw = copyFromUser(arg, dma_buf_sync.size);
      if (!raw) return -EFAULT;
      const flags = dma_buf_sync.get(raw, 'flags');
      // The end of a CPU access is where a write through a read-only view is looked for (DMABUF_CHECK_USER_MAPPINGS).
      if (BigInt(flags) & BigInt(DMA_BUF_SYNC_END)) userMappingsCheck(task);
      if (!tpCpuAccess.enabled) return dmaBufSyncIoctl(dmabuf, flags, task.signal);
      const t0 = ktimeGet();
      const ret = await dmaBufSyncIoctl(dmabuf, flags, task.signal);
      const f = Number(BigInt(flags) & BigInt(DMA_BUF_SYNC_END | DMA_BUF_SYNC_RW));
      tpCpuAccess.emit({
        ino: dmabuf.ino, pid: task.pid, comm: task.comm, phase: f & DMA_BUF_SYNC_END ? 'end' : 'begin',
        dir: SYNC_DIR[f & DMA_BUF_SYNC_RW], dur: ktimeGet() - t0, ret,
      });
      return ret;
    }
    case DMA_BUF_SET_NAME_A:
    case DMA_BUF_SET_NAME_B: {
      const name = strndupUser(arg, DMA_BUF_NAME_LEN);
      if (typeof name === 'number') return name;
      dmabuf.name = name;
      return 0;
    }
    case DMA_BUF_IOCTL_EXPORT_SYNC_FILE:
      return ioctlExportSyncFile(dmabuf, arg, task.files);
    case DMA_BUF_IOCTL_IMPORT_SYNC_FILE:
      return ioctlImportSyncFile(dmabuf, arg, task);
    default:
      return -ENOTTY;
  }
}
