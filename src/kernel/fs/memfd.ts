/**
 * memfd and its shmem file (mm/memfd.c, mm/shmem.c): anonymous memory
 * with a file descriptor, resizable with ftruncate, restrictable with seals.
 *
 * The bytes live in a growable SharedArrayBuffer, so a shared mapping is a
 * zero-copy view that stays valid (and grows) as the file grows. Pages get
 * page frames lazily, when something pins them (udmabuf does).
 */
import { EBUSY, EFBIG, EINVAL, ENOMEM, EPERM } from '../lib/errno.js';
import {
  F_SEAL_EXEC, F_SEAL_FUTURE_WRITE, F_SEAL_GROW, F_SEAL_SEAL, F_SEAL_SHRINK, F_SEAL_WRITE,
  MFD_ALLOW_SEALING, MFD_CLOEXEC, MFD_EXEC, MFD_HUGETLB, MFD_NOEXEC_SEAL, O_LARGEFILE, O_RDWR, SEEK_CUR, SEEK_END, SEEK_SET,
} from '../../uapi/fcntl.js';
import { allocPages, freePages, GFP_KERNEL } from '../mm/page-alloc.js';
import { Backing, type Page, PAGE_SIZE } from '../mm/page.js';
import { VM_SHARED, VM_WRITE, type Vma } from '../mm/vma.js';
import { File, FMODE_WRITE, Inode, type FileOperations } from './file.js';
import { S_IFREG } from '../../uapi/stat.js';

/**
 * The largest a memfd may grow: 4 GiB, the longest a growable
 * SharedArrayBuffer may be on Node 20 (its address space is reserved, not
 * committed: pages come as they are touched). Linux allows MAX_LFS_FILESIZE
 * (docs/linux-differences.md).
 */
export const MEMFD_MAX_BYTES = 2 ** 32;

const F_ALL_SEALS = F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_FUTURE_WRITE | F_SEAL_EXEC;
const MFD_ALL_FLAGS = MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_HUGETLB | MFD_NOEXEC_SEAL | MFD_EXEC;
/** NAME_MAX minus the "memfd:" prefix */
const MFD_NAME_MAX_LEN = 255 - 6;

/** shmem_inode_info: the object behind a memfd's inode */
export class ShmemInode {
  readonly backing: Backing;
  size = 0;
  seals: number;
  /** page cache: page index -> page (present once pinned) */
  readonly pages = new Map<number, Page>();
  /** writable shared mappings (mapping_writably_mapped) */
  writableMappings = 0;
  constructor(readonly name: string, seals: number) {
    this.backing = new Backing(`memfd:${name}`, 0, MEMFD_MAX_BYTES);
    this.seals = seals;
  }
}

const shmemFops: FileOperations = {
  // An unlinked tmpfs file: d_path() appends " (deleted)".
  dname: (file) => `/${file.name} (deleted)`,
  llseek(file, offset, whence): number {
    const info = file.privateData as ShmemInode;
    let base: number;
    if (whence === SEEK_SET) base = 0;
    else if (whence === SEEK_CUR) base = file.fPos;
    else if (whence === SEEK_END) base = info.size;
    else return -EINVAL;
    const pos = base + offset;
    if (pos < 0) return -EINVAL;
    file.fPos = pos;
    return pos;
  },
  mmap(file, vma: Vma): number {
    const info = file.privateData as ShmemInode;
    if ((vma.vmFlags & VM_SHARED) && (vma.vmFlags & VM_WRITE) && (info.seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE))) return -EPERM;
    const start = vma.vmPgoff * PAGE_SIZE;
    const end = start + vma.length();
    if (end > info.backing.sab.byteLength) {
      // Mapping past EOF is allowed; pages there read as zero until the file grows.
      if (end > MEMFD_MAX_BYTES) return -ENOMEM;
      info.backing.sab.grow(Math.max(info.backing.sab.byteLength, end));
    }
    if (vma.vmFlags & VM_SHARED) {
      vma.view = info.backing.view(start, vma.length());
      if (vma.vmFlags & VM_WRITE) {
        info.writableMappings++;
        vma.close = () => void info.writableMappings--;
      }
    } else {
      // MAP_PRIVATE: the process gets its own copy.
      vma.view = info.backing.view(start, vma.length()).slice();
    }
    return 0;
  },
  read(file, length, pos): Uint8Array {
    const info = file.privateData as ShmemInode;
    const end = Math.min(info.size, pos + length);
    return pos >= end ? new Uint8Array(0) : info.backing.view(pos, end - pos).slice();
  },
  write(file, data, pos): number {
    const info = file.privateData as ShmemInode;
    if (info.seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE)) return -EPERM;
    const end = pos + data.length;
    if (end > info.size) {
      if (info.seals & F_SEAL_GROW) return -EPERM;
      const r = shmemResize(info, end);
      if (r) return r;
    }
    info.backing.bytes.set(data, pos);
    return data.length;
  },
  release(_inode, file): void {
    const info = file.privateData as ShmemInode;
    for (const p of info.pages.values()) shmemPutPage(p);
    info.pages.clear();
  },
};

function shmemResize(info: ShmemInode, length: number): number {
  if (length > MEMFD_MAX_BYTES) return -EFBIG;
  const sab = info.backing.sab;
  if (length > sab.byteLength) sab.grow(length);
  if (length < info.size) {
    // Truncation drops the pages past the new end: they read as zeroes if the file grows again.
    info.backing.bytes.fill(0, length, info.size);
    for (const [idx, p] of info.pages) {
      if (idx * PAGE_SIZE >= length) {
        info.pages.delete(idx);
        shmemPutPage(p);
      }
    }
  }
  info.size = length;
  return 0;
}

/**
 * memfd_create(name, flags): a new shmem file, or -EINVAL (unknown flags,
 * a name too long). Without MFD_ALLOW_SEALING the file is sealed against
 * sealing.
 */
export function memfdCreate(name: string, flags: number): File | number {
  if (flags & ~MFD_ALL_FLAGS) return -EINVAL;
  if (flags & MFD_HUGETLB) return -EINVAL; // no hugetlbfs on this machine
  if (new TextEncoder().encode(name).length > MFD_NAME_MAX_LEN) return -EINVAL;
  let seals = flags & MFD_ALLOW_SEALING ? 0 : F_SEAL_SEAL;
  if (flags & MFD_NOEXEC_SEAL) seals |= F_SEAL_EXEC;
  const info = new ShmemInode(name, seals);
  const inode = new Inode();
  inode.private = info;
  // shmem_file_setup(): a regular file, rwx for everyone (the memfd is reachable only through its fd).
  inode.mode = S_IFREG | 0o777;
  return new File(inode, `memfd:${name}`, O_RDWR | O_LARGEFILE, shmemFops, info);
}

/** i_size of a shmem file. */
export function shmemSize(file: File): number {
  return (file.privateData as ShmemInode).size;
}

/** shmem_file(): whether a file is backed by shmem (a memfd). */
export function isShmemFile(file: File): boolean {
  return file.fOp === shmemFops;
}

/** The shmem object behind a memfd. */
export function shmemInfo(file: File): ShmemInode {
  return file.privateData as ShmemInode;
}

/** ftruncate() on a memfd: 0, -EINVAL (negative, not writable), -EPERM (sealed), -EFBIG. */
export function shmemTruncate(file: File, length: number): number {
  if (length < 0 || !(file.fMode & FMODE_WRITE)) return -EINVAL;
  const info = shmemInfo(file);
  if ((length < info.size && info.seals & F_SEAL_SHRINK) || (length > info.size && info.seals & F_SEAL_GROW)) return -EPERM;
  return shmemResize(info, length);
}

/** F_GET_SEALS */
export function memfdGetSeals(file: File): number {
  return isShmemFile(file) ? shmemInfo(file).seals : -EINVAL;
}

/**
 * F_ADD_SEALS (memfd_add_seals): -EPERM without write access or once
 * F_SEAL_SEAL is set, -EINVAL for unknown seals or a non-memfd, -EBUSY
 * for F_SEAL_WRITE while writable mappings or pins exist.
 */
export function memfdAddSeals(file: File, seals: number): number {
  if (!isShmemFile(file)) return -EINVAL;
  if (!(file.fMode & FMODE_WRITE)) return -EPERM;
  if (seals & ~F_ALL_SEALS) return -EINVAL;
  const info = shmemInfo(file);
  if (info.seals & F_SEAL_SEAL) return -EPERM;
  if (seals & F_SEAL_WRITE && !(info.seals & F_SEAL_WRITE)) {
    if (info.writableMappings > 0) return -EBUSY;
    for (const p of info.pages.values()) if (p.refcount > 1) return -EBUSY;
  }
  info.seals |= seals;
  return 0;
}

/**
 * memfd_pin_folios(): pin the pages [pgoff, pgoff + npages) of the file
 * (giving them page frames if they have none). -EINVAL past the end of
 * the file, -ENOMEM when memory runs out (nothing stays pinned).
 */
export function shmemPinPages(file: File, pgoff: number, npages: number): Page[] | number {
  const info = shmemInfo(file);
  if (!Number.isInteger(pgoff) || pgoff < 0 || (pgoff + npages) * PAGE_SIZE > info.size) return -EINVAL;
  const out: Page[] = [];
  for (let i = 0; i < npages; i++) {
    const idx = pgoff + i;
    let p = info.pages.get(idx);
    if (!p) {
      const got = allocPages(GFP_KERNEL, 0, info.backing, idx * PAGE_SIZE);
      if (!got) {
        shmemUnpinPages(out);
        return -ENOMEM;
      }
      p = got[0];
      info.pages.set(idx, p);
    }
    p.refcount++;
    out.push(p);
  }
  return out;
}

/** unpin_folios() */
export function shmemUnpinPages(pages: readonly Page[]): void {
  for (const p of pages) shmemPutPage(p);
}

function shmemPutPage(p: Page): void {
  if (--p.refcount === 0) freePages(p, 0);
}
