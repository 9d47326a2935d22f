/**
 * struct dma_buf: export, the file behind it, reference counting, release
 * and the global list (drivers/dma-buf/dma-buf.c as of Linux 6.x; the
 * structs of include/linux/dma-buf.h are in dma-buf-struct.ts).
 */
import { BUG, WARN } from '../lib/bug.js';
import { EBADF, EINVAL, ENOENT, ENOMEM } from '../lib/errno.js';
import { kerr } from '../lib/errno.js';
import { shouldFailAlloc } from '../lib/failslab.js';
import { kconfig } from '../lib/kconfig.js';
import { tracepoint } from '../lib/trace.js';
import { O_ACCMODE, O_NONBLOCK, SEEK_END, SEEK_SET } from '../../uapi/fcntl.js';
import { File, Inode, fget, fput, getFile, type FileOperations } from '../fs/file.js';
import { dmabufSb } from '../fs/super.js';
import type { FdTable } from '../fs/fdtable.js';
import { PAGE_SHIFT } from '../mm/page.js';
import { DmaBuf, type DmaBufAttachment, type DmaBufExportInfo } from './dma-buf-struct.js';
import { dmaBufPoll } from './poll.js';
import { dmaBufIoctl } from './ioctl.js';

export {
  DmaBuf, DmaBufAttachment, DmaBufPollCb, DMA_BUF_NAME_LEN,
  type DmaBufOps, type DmaBufAttachOps, type DmaBufExportInfo, type ModuleRef,
} from './dma-buf-struct.js';

/**
 * The global list of dma-bufs (db_list), by inode number, oldest first: a
 * Map keeps insertion order and removes in O(1), as list_del does, and is
 * also the index sysfs looks a buffer up by.
 */
const dbList = new Map<number, DmaBuf>();

/** dma-bufs alive, for leak checks; the dmabuf inode counter. */
export const dmaBufStats = { live: 0, exported: 0, bytes: 0 };
let dmabufInode = 0;

const tpExport = tracepoint('dma_buf_export');
const tpFd = tracepoint('dma_buf_fd');
const tpGet = tracepoint('dma_buf_get');
const tpPut = tracepoint('dma_buf_put');
/** Not in Linux (which traces no release): the end of a buffer's life, with the name it ended with, for lifetime traces. */
const tpRelease = tracepoint('dma_buf_release');

/** is_dma_buf_file() */
export function isDmaBufFile(file: File): boolean {
  return file.fOp === dmaBufFops;
}

/** dma_buf_is_dynamic(): the exporter has pin, so it moves storage and is called with the resv lock. */
export function dmaBufIsDynamic(dmabuf: DmaBuf): boolean {
  return dmabuf.ops.pin !== undefined;
}

/** dma_buf_attachment_is_dynamic(): the importer attached with importer ops. */
export function dmaBufAttachmentIsDynamic(attach: DmaBufAttachment): boolean {
  return attach.importerOps !== null;
}

const dmaBufFops: FileOperations = {
  // dmabuffs_dname(): "/dmabuf:" and the buffer's name (empty if it has none).
  dname: (file) => `/${file.name}:${(file.privateData as DmaBuf).name ?? ''}`,
  release(_inode, file): void {
    // dma_buf_file_release: off the list; the teardown follows with the dentry.
    const dmabuf = file.privateData as DmaBuf;
    if (dbList.get(dmabuf.ino) === dmabuf) dbList.delete(dmabuf.ino);
  },
  /** dma_buf_mmap_internal() */
  mmap(file, vma): number | Promise<number> {
    if (!isDmaBufFile(file)) return -EINVAL;
    const dmabuf = file.privateData as DmaBuf;
    if (!dmabuf.ops.mmap) return -EINVAL;
    // The size check truncates: a partial last page is not mappable.
    if (vma.vmPgoff + vma.pages() > Math.floor(dmabuf.size / 2 ** PAGE_SHIFT)) return -EINVAL;
    return dmabuf.ops.mmap(dmabuf, vma);
  },
  /** dma_buf_llseek(): only SEEK_END/SEEK_SET with offset 0 (to learn the size). */
  llseek(file, offset, whence): number {
    if (!isDmaBufFile(file)) return -EBADF;
    const dmabuf = file.privateData as DmaBuf;
    let base: number;
    if (whence === SEEK_END) base = dmabuf.size;
    else if (whence === SEEK_SET) base = 0;
    else return -EINVAL;
    if (offset !== 0) return -EINVAL;
    return base;
  },
  poll(file, pt) {
    return dmaBufPoll(file, pt);
  },
  unlockedIoctl(file, cmd, arg, task) {
    return dmaBufIoctl(file, cmd, arg, task);
  },
  showFdinfo(file): string {
    return dmaBufShowFdinfo(file);
  },
  finalRelease(file): void {
    dmaBufRelease(file.privateData as DmaBuf);
  },
};

/** dma_buf_show_fdinfo(): the dma-buf's lines of /proc/<pid>/fdinfo/<fd> (count excludes procfs's own reference). */
export function dmaBufShowFdinfo(file: File): string {
  const dmabuf = file.privateData as DmaBuf;
  let s = `size:\t${dmabuf.size}\ncount:\t${dmabuf.file.refcount - 1}\nexp_name:\t${dmabuf.expName}\n`;
  if (dmabuf.name !== null) s += `name:\t${dmabuf.name}\n`;
  return s;
}

/** dma_buf_release(): the teardown after the file's last reference. */
function dmaBufRelease(dmabuf: DmaBuf): void {
  if (dmabuf.vmappingCounter) BUG('dma_buf_release: buffer still vmapped');
  // A pending poll callback holds a file reference, so this cannot happen unless references are unbalanced.
  if (dmabuf.pollActive) BUG('dma_buf_release: poll callback still active');
  if (tpRelease.enabled) tpRelease.emit({ exp_name: dmabuf.expName, ino: dmabuf.ino, size: dmabuf.size, name: dmabuf.name ?? '' });
  dmabuf.ops.release(dmabuf);
  if (dmabuf.ownResv) dmabuf.resv.fini();
  WARN(dmabuf.attachments.length > 0, `dma_buf_release: ${dmabuf.attachments.length} attachment(s) left on ${dmabuf.expName}`);
  dmabuf.owner?.put();
  dmabuf.released = true;
  dmaBufStats.live--;
  dmaBufStats.bytes -= dmabuf.size;
}

/**
 * dma_buf_export(exp_info): a new dma-buf with its file, or throws
 * KernelError: -EINVAL (WARN) for missing priv, ops, map_dma_buf,
 * unmap_dma_buf or release, for cache_sgt_mapping with pin/unpin and for
 * pin without unpin (or the reverse); -ENOENT when the owner module is
 * going away; -ENOMEM; -EINVAL for an empty exporter name when sysfs stats
 * are on. Must be called without the resv lock.
 */
export function dmaBufExport(info: DmaBufExportInfo): DmaBuf {
  const ops = info.ops;
  if (!info.priv || !ops || !ops.mapDmaBuf || !ops.unmapDmaBuf || !ops.release) {
    WARN(true, 'dma_buf_export: priv, ops, map_dma_buf, unmap_dma_buf and release are mandatory');
    throw kerr(-EINVAL, 'dma_buf_export: missing priv or mandatory ops');
  }
  if (ops.cacheSgtMapping && (ops.pin || ops.unpin)) {
    WARN(true, 'dma_buf_export: cache_sgt_mapping together with pin/unpin');
    throw kerr(-EINVAL, 'dma_buf_export: cache_sgt_mapping with pin/unpin');
  }
  if (!ops.pin !== !ops.unpin) {
    WARN(true, 'dma_buf_export: pin without unpin, or unpin without pin');
    throw kerr(-EINVAL, 'dma_buf_export: pin and unpin go together');
  }
  if (info.owner && !info.owner.tryGet()) throw kerr(-ENOENT, 'dma_buf_export: exporter module is going away');
  if (shouldFailAlloc('slab')) {
    info.owner?.put();
    throw kerr(-ENOMEM);
  }
  if (kconfig.DMABUF_SYSFS_STATS && !info.expName) {
    info.owner?.put();
    throw kerr(-EINVAL, 'exporter name must not be empty if stats needed');
  }
  const dmabuf = new DmaBuf(info, info.resv ?? null);
  // dma_buf_getfile(): an anon inode with a unique number and the size.
  // dma_buf_getfile(): an anon inode of the dmabuf filesystem with its size, and its bytes (st_blocks)
  const inode = new Inode(++dmabufInode, dmabufSb);
  inode.size = info.size;
  inode.bytes = info.size;
  const file = new File(inode, 'dmabuf', info.flags & (O_ACCMODE | O_NONBLOCK), dmaBufFops, dmabuf);
  dmabuf.file = file;
  dbList.set(inode.ino, dmabuf);
  dmaBufStats.live++;
  dmaBufStats.exported++;
  dmaBufStats.bytes += info.size;
  if (tpExport.enabled) tpExport.emit({ exp_name: info.expName, size: info.size, ino: inode.ino });
  return dmabuf;
}

/** get_dma_buf(): another reference (on the file). */
export function getDmaBuf(dmabuf: DmaBuf): DmaBuf {
  getFile(dmabuf.file);
  return dmabuf;
}

/** dma_buf_put(): drop a reference; WARNs for a NULL buffer. */
export function dmaBufPut(dmabuf: DmaBuf | null | undefined): void {
  if (!dmabuf || !dmabuf.file) {
    WARN(true, 'dma_buf_put(NULL)');
    return;
  }
  if (tpPut.enabled) tpPut.emit({ exp_name: dmabuf.expName, ino: dmabuf.ino });
  fput(dmabuf.file);
}

/**
 * dma_buf_fd(dmabuf, flags): a descriptor in `files` for the buffer; the
 * descriptor takes over the caller's reference. -EINVAL without a buffer,
 * -EMFILE when the table is full.
 */
export function dmaBufFd(dmabuf: DmaBuf | null, flags: number, files: FdTable): number {
  if (!dmabuf || !dmabuf.file) return -EINVAL;
  const fd = files.getUnusedFdFlags(flags);
  if (fd < 0) return fd;
  dmaBufFdInstall(dmabuf, fd, files);
  return fd;
}

/**
 * fd_install() of a dma-buf into a number reserved with
 * get_unused_fd_flags(): the second half of dma_buf_fd, for callers that
 * publish the fd only once nothing can fail any more.
 */
export function dmaBufFdInstall(dmabuf: DmaBuf, fd: number, files: FdTable): void {
  files.fdInstall(fd, dmabuf.file);
  if (tpFd.enabled) tpFd.emit({ exp_name: dmabuf.expName, ino: dmabuf.ino, fd });
}

/**
 * dma_buf_get(fd): the buffer behind a descriptor, with a new reference.
 * Throws -EBADF for a closed descriptor, -EINVAL if it is not a dma-buf.
 */
export function dmaBufGet(fd: number, files: FdTable): DmaBuf {
  const file = fget(files, fd);
  if (!file) throw kerr(-EBADF);
  if (!isDmaBufFile(file)) {
    fput(file);
    throw kerr(-EINVAL, 'not a dma-buf');
  }
  const dmabuf = file.privateData as DmaBuf;
  if (tpGet.enabled) tpGet.emit({ exp_name: dmabuf.expName, ino: dmabuf.ino, fd });
  return dmabuf;
}

/** dma_buf_get() from a file (the kernel-internal form). */
export function dmaBufFromFile(file: File): DmaBuf | null {
  return isDmaBufFile(file) ? (file.privateData as DmaBuf) : null;
}

/** The global list, most recent first (what bufinfo walks). */
export function dmaBufList(): readonly DmaBuf[] {
  return Array.from(dbList.values()).reverse();
}

/** The live buffer with inode number `ino`, or undefined. */
export function dmaBufByIno(ino: number): DmaBuf | undefined {
  return dbList.get(ino);
}
