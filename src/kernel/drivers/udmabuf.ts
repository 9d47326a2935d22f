/**
 * udmabuf (drivers/dma-buf/udmabuf.c, /dev/udmabuf): a dma-buf made of
 * ranges of memfds. The memfd must be sealed against shrinking (so the
 * pages cannot go away under the device) and not sealed against writing.
 * Its pages are pinned for the buffer's lifetime.
 */
import { EBADFD, EFAULT, EINVAL, ENOMEM, ENOTTY, kerr, ptrErr } from '../lib/errno.js';
import { copyFromUser, type UserArg } from '../lib/uaccess.js';
import type { Task } from '../fs/task.js';
import { File, Inode, type FileOperations } from '../fs/file.js';
import { miscRegister } from '../fs/miscdevice.js';
import { UDMABUF_CREATE, UDMABUF_CREATE_LIST, udmabuf_create, udmabuf_create_item, udmabuf_create_list } from '../../uapi/udmabuf.js';
import { shouldFailAlloc } from '../lib/failslab.js';
import { O_CLOEXEC, O_RDWR, F_SEAL_FUTURE_WRITE, F_SEAL_SHRINK, F_SEAL_WRITE } from '../../uapi/fcntl.js';
import { Device } from '../mm/device.js';
import { dmaMapNewSgtable, dmaSyncSgtableForCpu, dmaSyncSgtableForDevice, dmaUnmapSgtable, DMA_BIDIRECTIONAL, type DmaDataDirection } from '../mm/dma-mapping.js';
import type { IosysMap } from '../mm/iosys-map.js';
import { type Page, PAGE_SHIFT, pageAlignedU64, PAGE_SIZE } from '../mm/page.js';
import { sgAllocTable, sgFreeTable, sgSetPage, type SgTable } from '../mm/scatterlist.js';
import { VM_MAYSHARE, VM_SHARED, vmaMapPages, type Vma } from '../mm/vma.js';
import { isShmemFile, memfdGetSeals, shmemPinPages, shmemUnpinPages } from '../fs/memfd.js';
import type { FdTable } from '../fs/fdtable.js';
import { fget, fput } from '../fs/file.js';
import { dmaBufExport, dmaBufFd, dmaBufPut, type DmaBuf, type DmaBufAttachment, type DmaBufOps } from '../buf/dma-buf.js';

/** module parameters */
export const udmabufParams = { listLimit: 1024, sizeLimitMb: 64 };

export const UDMABUF_FLAGS_CLOEXEC = 0x01;

const SEALS_WANTED = F_SEAL_SHRINK;
const SEALS_DENIED = F_SEAL_WRITE | F_SEAL_FUTURE_WRITE;

/** struct udmabuf_create_item (offset and size are u64s; numbers are taken as exact integers) */
export interface UdmabufItem {
  memfd: number;
  offset: number | bigint;
  size: number | bigint;
}

/** The misc device (/dev/udmabuf) the CPU-access syncs go through. */
export const udmabufDevice = new Device({ name: 'udmabuf' });

/** struct udmabuf */
export class Udmabuf {
  pages: Page[] = [];
  /** the CPU-access table (made on the first begin_cpu_access) and its direction */
  sg: SgTable | null = null;
  sgDir: DmaDataDirection = DMA_BIDIRECTIONAL;
  vmapCount = 0;
  get pagecount(): number {
    return this.pages.length;
  }
}

function getSgTable(dev: Device, ubuf: Udmabuf, dir: DmaDataDirection): SgTable {
  const sg = sgAllocTable(ubuf.pagecount);
  sg?.sgl.forEach((s, i) => sgSetPage(s, ubuf.pages[i], PAGE_SIZE, 0));
  return dmaMapNewSgtable(dev, sg, dir);
}

function putSgTable(dev: Device, sg: SgTable, dir: DmaDataDirection): void {
  dmaUnmapSgtable(dev, sg, dir, 0);
  sgFreeTable(sg);
}

const udmabufOps: DmaBufOps = {
  mapDmaBuf(attach: DmaBufAttachment, dir: DmaDataDirection): SgTable {
    return getSgTable(attach.dev, attach.dmabuf.priv as Udmabuf, dir);
  },
  unmapDmaBuf(attach: DmaBufAttachment, sg: SgTable, dir: DmaDataDirection): void {
    putSgTable(attach.dev, sg, dir);
  },
  release(dmabuf: DmaBuf): void {
    const ubuf = dmabuf.priv as Udmabuf;
    // Linux unmaps with DMA_BIDIRECTIONAL whatever the table was mapped with
    // (CONFIG_DMA_API_DEBUG flags that); unmap with the mapping's direction.
    if (ubuf.sg) putSgTable(udmabufDevice, ubuf.sg, ubuf.sgDir);
    shmemUnpinPages(ubuf.pages);
    ubuf.pages = [];
  },
  /** mmap_udmabuf(): shared mappings only */
  mmap(dmabuf: DmaBuf, vma: Vma): number {
    if ((vma.vmFlags & (VM_SHARED | VM_MAYSHARE)) === 0) return -EINVAL;
    const ubuf = dmabuf.priv as Udmabuf;
    return vmaMapPages(vma, ubuf.pages);
  },
  vmap(dmabuf: DmaBuf, map: IosysMap): number {
    const ubuf = dmabuf.priv as Udmabuf;
    const first = ubuf.pages[0];
    // vm_map_ram() of the pages: one view, so they must be consecutive bytes of one store.
    for (let i = 1; i < ubuf.pages.length; i++) {
      const p = ubuf.pages[i];
      if (p.backing !== first.backing || p.offset !== first.offset + i * PAGE_SIZE) return -ENOMEM;
    }
    map.setVaddr(first.backing.view(first.offset, ubuf.pagecount * PAGE_SIZE));
    ubuf.vmapCount++;
    return 0;
  },
  vunmap(dmabuf: DmaBuf, map: IosysMap): void {
    (dmabuf.priv as Udmabuf).vmapCount--;
    map.clear();
  },
  beginCpuAccess(dmabuf: DmaBuf, dir: DmaDataDirection): number {
    const ubuf = dmabuf.priv as Udmabuf;
    if (!ubuf.sg) {
      try {
        ubuf.sg = getSgTable(udmabufDevice, ubuf, dir);
        ubuf.sgDir = dir;
      } catch (e) {
        ubuf.sg = null;
        return ptrErr(e);
      }
    } else {
      dmaSyncSgtableForCpu(udmabufDevice, ubuf.sg, dir);
    }
    return 0;
  },
  endCpuAccess(dmabuf: DmaBuf, dir: DmaDataDirection): number {
    const ubuf = dmabuf.priv as Udmabuf;
    if (!ubuf.sg) return -EINVAL;
    dmaSyncSgtableForDevice(udmabufDevice, ubuf.sg, dir);
    return 0;
  },
};

/** check_memfd_seals(): -EBADFD for a file that is not shmem, -EINVAL for the wrong seals. */
function checkMemfdSeals(file: Parameters<typeof isShmemFile>[0]): number {
  if (!isShmemFile(file)) return -EBADFD;
  const seals = memfdGetSeals(file);
  if (seals === -EINVAL) return -EBADFD;
  if ((seals & SEALS_WANTED) !== SEALS_WANTED || (seals & SEALS_DENIED) !== 0) return -EINVAL;
  return 0;
}

/**
 * udmabuf_create(): a dma-buf over the items. Throws -EINVAL (unaligned
 * offset or size, over size_limit_mb, empty, wrong seals, a range past the
 * memfd's end), -EBADFD (not an open memfd), -ENOMEM.
 */
export function udmabufCreateBuf(items: readonly UdmabufItem[], files: FdTable): DmaBuf {
  if (shouldFailAlloc('slab')) throw kerr(-ENOMEM);
  const pglimit = BigInt(udmabufParams.sizeLimitMb) * 1024n * 1024n >> BigInt(PAGE_SHIFT);
  let pgcnt = 0n;
  for (const it of items) {
    // offset and size are u64s: checked and counted in bigint, exactly
    if (!pageAlignedU64(BigInt(it.offset))) throw kerr(-EINVAL, 'udmabuf: offset not page aligned');
    if (!pageAlignedU64(BigInt(it.size))) throw kerr(-EINVAL, 'udmabuf: size not page aligned');
    pgcnt += BigInt(it.size) >> BigInt(PAGE_SHIFT);
    if (pgcnt > pglimit) throw kerr(-EINVAL, `udmabuf: over size_limit_mb (${udmabufParams.sizeLimitMb})`);
  }
  if (!pgcnt) throw kerr(-EINVAL, 'udmabuf: empty');
  const ubuf = new Udmabuf();
  try {
    for (const it of items) {
      const memfd = fget(files, it.memfd);
      if (!memfd) throw kerr(-EBADFD, 'udmabuf: memfd is not an open file');
      try {
        const r = checkMemfdSeals(memfd);
        if (r) throw kerr(r, 'udmabuf: memfd seals');
        // page numbers of a u64 are below 2^52: exact numbers
        const pages = shmemPinPages(memfd, Number(BigInt(it.offset) >> BigInt(PAGE_SHIFT)), Number(BigInt(it.size) >> BigInt(PAGE_SHIFT)));
        if (typeof pages === 'number') throw kerr(pages, 'udmabuf: pinning the memfd range');
        ubuf.pages.push(...pages);
      } finally {
        fput(memfd);
      }
    }
    return dmaBufExport({ expName: 'udmabuf', ops: udmabufOps, size: ubuf.pagecount * PAGE_SIZE, flags: O_RDWR, priv: ubuf });
  } catch (e) {
    shmemUnpinPages(ubuf.pages);
    throw e;
  }
}

/** UDMABUF_CREATE / UDMABUF_CREATE_LIST after decoding: the fd, or a negative errno. */
export function udmabufCreate(flags: number, items: readonly UdmabufItem[], files: FdTable): number {
  let dmabuf: DmaBuf;
  try {
    dmabuf = udmabufCreateBuf(items, files);
  } catch (e) {
    return ptrErr(e);
  }
  const fd = dmaBufFd(dmabuf, flags & UDMABUF_FLAGS_CLOEXEC ? O_CLOEXEC : 0, files);
  if (fd < 0) dmaBufPut(dmabuf);
  return fd;
}

// ---- /dev/udmabuf (udmabuf_fops) ----

/** udmabuf_ioctl(): CREATE (one item) and CREATE_LIST; anything else -ENOTTY. */
function udmabufIoctl(_file: File, cmd: number, arg: UserArg, task: Task): number {
  switch (cmd) {
    case UDMABUF_CREATE: {
      const raw = copyFromUser(arg, udmabuf_create.size);
      if (!raw) return -EFAULT;
      const c = udmabuf_create.decode(raw);
      return udmabufCreate(c.flags, [{ memfd: c.memfd, offset: c.offset, size: c.size }], task.files);
    }
    case UDMABUF_CREATE_LIST: {
      const raw = copyFromUser(arg, udmabuf_create_list.size);
      if (!raw) return -EFAULT;
      const count = udmabuf_create_list.get(raw, 'count');
      if (count > udmabufParams.listLimit) return -EINVAL;
      // memdup_user(arg + sizeof(head), count * sizeof(item))
      const all = copyFromUser(arg, udmabuf_create_list.size + count * udmabuf_create_item.size);
      if (!all) return -EFAULT;
      const head = udmabuf_create_list.decode(all);
      return udmabufCreate(head.flags, head.list, task.files);
    }
    default:
      return -ENOTTY;
  }
}

const udmabufFops: FileOperations = { unlockedIoctl: udmabufIoctl };

/** open() of /dev/udmabuf (a misc device) */
export function udmabufOpen(flags: number): File {
  return new File(new Inode(), 'udmabuf', flags, udmabufFops, udmabufDevice);
}

/** udmabuf_dev_init(): the /dev/udmabuf misc device (module_init). */
export function udmabufDevInit(): number {
  return miscRegister({ name: 'udmabuf', open: ({ flags }) => udmabufOpen(flags) });
}
