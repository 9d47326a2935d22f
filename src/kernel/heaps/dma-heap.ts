/**
 * The DMA-BUF heap core (drivers/dma-buf/dma-heap.c): named allocators of
 * dma-bufs, one /dev/dma_heap/<name> node each.
 */
import { O_ACCMODE, O_CLOEXEC } from '../../uapi/fcntl.js';
import { pageAlignU64 } from '../mm/page.js';
import type { DmaBuf } from '../buf/dma-buf.js';
import type { Task } from '../fs/task.js';
import { EBUSY, EFAULT, EINVAL, ENODEV, ENOTTY, ESPIPE, kerr, ptrErr } from '../lib/errno.js';
import { copyFromUser, copyToUser, type UserArg } from '../lib/uaccess.js';
import { File, Inode, type FileOperations } from '../fs/file.js';
import { miscRegister } from '../fs/miscdevice.js';
import { mkdev } from '../fs/super.js';
import { dmaBufFdInstall, dmaBufPut } from '../buf/dma-buf.js';
import { DMA_HEAP_IOCTL_ALLOC, dma_heap_allocation_data } from '../../uapi/dma-heap.js';
import { _IOC_NR, _IOC_SIZE, _IOC_READ, _IOC_WRITE, _IOC_DIRSHIFT } from '../../uapi/ioctl.js';

/** DMA_HEAP_VALID_FD_FLAGS */
export const DMA_HEAP_VALID_FD_FLAGS = O_CLOEXEC | O_ACCMODE;
/** DMA_HEAP_VALID_HEAP_FLAGS (a u64 mask: no heap flags are defined) */
export const DMA_HEAP_VALID_HEAP_FLAGS = 0n;
/** NUM_HEAP_MINORS */
export const NUM_HEAP_MINORS = 128;
/** The major of the heaps' char region (alloc_chrdev_region: whatever major was free at boot) */
const DMA_HEAP_MAJOR = 251;

/** struct dma_heap_ops */
export interface DmaHeapOps {
  /** a new dma-buf of `len` bytes (page aligned), or throws KernelError; heapFlags is the u64 heap_flags */
  allocate(heap: DmaHeap, len: number, fdFlags: number, heapFlags: bigint, task?: Task): DmaBuf | Promise<DmaBuf>;
}

/** struct dma_heap_export_info */
export interface DmaHeapExportInfo {
  name: string;
  ops: DmaHeapOps;
  priv?: unknown;
}

/** struct dma_heap */
export class DmaHeap {
  constructor(readonly name: string, readonly ops: DmaHeapOps, readonly priv: unknown, readonly minor: number) {}
}

const heaps: DmaHeap[] = [];

/**
 * dma_heap_add(exp_info): register a heap and its /dev/dma_heap/<name>
 * node. Throws -EINVAL without a name or an allocate op, or for a name in
 * use; -EBUSY when all minors are taken; the node's error if it cannot be
 * made.
 */
export function dmaHeapAdd(info: DmaHeapExportInfo): DmaHeap {
  if (!info.name || !info.name.length) throw kerr(-EINVAL, 'dma_heap: cannot add heap without a name');
  if (!info.ops || !info.ops.allocate) throw kerr(-EINVAL, 'dma_heap: cannot add heap with invalid ops struct');
  if (heaps.some((h) => h.name === info.name)) throw kerr(-EINVAL, `dma_heap: Already registered heap named ${info.name}`);
  const used = new Set(heaps.map((h) => h.minor));
  let minor = 0;
  while (used.has(minor)) minor++;
  if (minor >= NUM_HEAP_MINORS) throw kerr(-EBUSY, 'dma_heap: Unable to get minor number for heap');
  const heap = new DmaHeap(info.name, info.ops, info.priv ?? null, minor);
  const name = info.name;
  const ret = miscRegister({ name: `dma_heap/${name}`, rdev: mkdev(DMA_HEAP_MAJOR, minor), open: ({ flags }) => dmaHeapOpen(name, flags) });
  if (ret) throw kerr(ret, `dma_heap: Unable to create device for ${name}`);
  heaps.push(heap);
  return heap;
}

/** dma_heap_get_drvdata() */
export function dmaHeapGetDrvdata(heap: DmaHeap): unknown {
  return heap.priv;
}

/** dma_heap_get_name() */
export function dmaHeapGetName(heap: DmaHeap): string {
  return heap.name;
}

/** dma_heap_find(): a heap by name, or null. */
export function dmaHeapFind(name: string): DmaHeap | null {
  return heaps.find((h) => h.name === name) ?? null;
}

/** The registered heaps (what /dev/dma_heap lists). */
export function dmaHeaps(): readonly DmaHeap[] {
  return heaps;
}

/**
 * The checks of DMA_HEAP_IOCTL_ALLOC and dma_heap_buffer_alloc() (without
 * the fd): -EINVAL for fd flags beyond O_CLOEXEC|O_ACCMODE, for any of the
 * 64 heap flag bits, or for a length (a u64) that page-aligns to 0; then
 * the heap's allocator.
 */
export async function dmaHeapBufferAlloc(heap: DmaHeap, len: number | bigint, fdFlags: number, heapFlags: number | bigint = 0n, task?: Task): Promise<DmaBuf> {
  if (fdFlags & ~DMA_HEAP_VALID_FD_FLAGS) throw kerr(-EINVAL, 'invalid fd_flags');
  const flags = BigInt(heapFlags);
  if (flags & ~DMA_HEAP_VALID_HEAP_FLAGS) throw kerr(-EINVAL, 'invalid heap_flags');
  const aligned = pageAlignU64(BigInt(len));
  if (!aligned) throw kerr(-EINVAL, 'zero length');
  // a multiple of the page size below 2^64 is an exact double
  return heap.ops.allocate(heap, Number(aligned), fdFlags, flags, task);
}

// ---- the /dev/dma_heap/<name> character device (dma_heap_fops) ----

const IOC_IN = _IOC_WRITE << _IOC_DIRSHIFT;
const IOC_OUT = (_IOC_READ << _IOC_DIRSHIFT) >>> 0;
const dmaHeapIoctlCmds = [DMA_HEAP_IOCTL_ALLOC];

/**
 * dma_heap_ioctl_allocate(): the ALLOC checks, the buffer, its fd. len and
 * heap_flags are u64s, checked on all 64 bits.
 */
/** An allocation whose fd is reserved but not yet installed: published only once the result reached userspace. */
interface PendingFd {
  fd: number;
  dmabuf: DmaBuf;
}

/**
 * dma_heap_ioctl_allocate(): the ALLOC checks and the buffer, with an fd
 * reserved for it (not installed: see dmaHeapIoctl).
 */
async function dmaHeapIoctlAllocate(heap: DmaHeap, kdata: Uint8Array, task: Task, pending: { value: PendingFd | null }): Promise<number> {
  const a = dma_heap_allocation_data.decode(kdata);
  if (a.fd) return -EINVAL;
  if (a.fd_flags & ~DMA_HEAP_VALID_FD_FLAGS) return -EINVAL;
  if (a.heap_flags & ~DMA_HEAP_VALID_HEAP_FLAGS) return -EINVAL;
  // PAGE_ALIGN() of a u64: lengths in the last page of the range wrap to 0.
  const len = pageAlignU64(a.len);
  if (!len) return -EINVAL;
  let dmabuf;
  try {
    dmabuf = await heap.ops.allocate(heap, Number(len), a.fd_flags, a.heap_flags, task);
  } catch (e) {
    return ptrErr(e);
  }
  const fd = task.files.getUnusedFdFlags(a.fd_flags);
  if (fd < 0) {
    dmaBufPut(dmabuf);
    return fd;
  }
  pending.value = { fd, dmabuf };
  dma_heap_allocation_data.set(kdata, 'fd', fd);
  return 0;
}

/**
 * dma_heap_ioctl(): the command is picked by its number alone and the
 * argument copied at the user's size, zero-extended to the kernel's, so
 * older and newer struct layouts work. A number past the table is -EINVAL.
 * The new buffer's fd is installed only after the result was copied to
 * userspace: if that copy faults, the fd is given back and the buffer
 * freed, so no fd is left behind (the stable fix of Linux 6.12.113).
 */
async function dmaHeapIoctl(file: File, ucmd: number, arg: UserArg, task: Task): Promise<number> {
  const nr = _IOC_NR(ucmd);
  if (nr >= dmaHeapIoctlCmds.length) return -EINVAL;
  const kcmd = dmaHeapIoctlCmds[nr];
  const drvSize = _IOC_SIZE(kcmd);
  let outSize = _IOC_SIZE(ucmd);
  let inSize = outSize;
  if (((ucmd & kcmd) & IOC_IN) === 0) inSize = 0;
  if ((((ucmd & kcmd) >>> 0) & IOC_OUT) === 0) outSize = 0;
  const ksize = Math.max(inSize, outSize, drvSize);
  const kdata = new Uint8Array(ksize);
  if (inSize) {
    const src = copyFromUser(arg, inSize);
    if (!src) return -EFAULT;
    kdata.set(src);
  }
  const pending: { value: PendingFd | null } = { value: null };
  let ret: number;
  switch (kcmd) {
    case DMA_HEAP_IOCTL_ALLOC:
      ret = await dmaHeapIoctlAllocate(file.privateData as DmaHeap, kdata, task, pending);
      break;
    default:
      return -ENOTTY;
  }
  if (outSize && !copyToUser(arg, kdata.subarray(0, outSize))) ret = -EFAULT;
  const p = pending.value;
  if (p) {
    if (ret) {
      task.files.putUnusedFd(p.fd);
      dmaBufPut(p.dmabuf);
    } else {
      dmaBufFdInstall(p.dmabuf, p.fd, task.files);
    }
  }
  return ret;
}

const dmaHeapFops: FileOperations = {
  unlockedIoctl: dmaHeapIoctl,
  llseek: () => -ESPIPE,
};

/** dma_heap_open(): a file on the heap; -ENODEV if no heap has that name. */
export function dmaHeapOpen(name: string, flags: number): File | number {
  const heap = dmaHeapFind(name);
  if (!heap) return -ENODEV;
  return new File(new Inode(), `dma_heap/${name}`, flags, dmaHeapFops, heap);
}
