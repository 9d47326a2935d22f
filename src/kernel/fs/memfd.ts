/**
 * memfd and its shmem file (mm/memfd.c, mm/shmem.c): anonymous memory
 * with a file descriptor, resizable with ftruncate, restrictable with seals.
 *
 * The bytes live in a growable SharedArrayBuffer, so a shared mapping is a
 * zero-copy view that stays valid (and grows) as the file grows. Pages get
 * page frames lazily, when something pins them (udmabuf does).
 */
import { EBUSY, EFBIG, EINVAL, ENOMEM, ENOSYS, ENXIO, EPERM } from '../lib/errno.js';
import {
  F_SEAL_EXEC, F_SEAL_FUTURE_WRITE, F_SEAL_GROW, F_SEAL_SEAL, F_SEAL_SHRINK, F_SEAL_WRITE,
  MFD_ALLOW_SEALING, MFD_CLOEXEC, MFD_EXEC, MFD_HUGETLB, MFD_NOEXEC_SEAL, O_LARGEFILE, O_RDWR, SEEK_CUR, SEEK_DATA, SEEK_END, SEEK_HOLE, SEEK_SET,
} from '../../uapi/fcntl.js';
import { allocPages, freePages, GFP_KERNEL } from '../mm/page-alloc.js';
import { Backing, type Page, PAGE_SIZE } from '../mm/page.js';
import { VM_SHARED, VM_WRITE, type Vma } from '../mm/vma.js';
import { File, FMODE_WRITE, Inode, type FileOperations } from './file.js';
import { shmemSb } from './super.js';
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
/** MFD_HUGE_SHIFT, MFD_HUGE_MASK (include/uapi/linux/hugetlb_encode.h): a huge page size's log2 */
const MFD_HUGE_SHIFT = 26;
const MFD_HUGE_MASK = 0x3f;
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
  /**
   * Page indexes that have a page in the cache (info->alloced: what
   * st_blocks counts): those written with write(2) or pinned. A page first
   * touched through a mapping is not seen (JavaScript cannot observe a
   * store into a view; docs/linux-differences.md).
   */
  readonly allocated = new Set<number>();
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
    if (whence === SEEK_DATA || whence === SEEK_HOLE) return shmemSeekHoleData(file, info, offset, whence);
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
    // shmem_file_write_iter(): generic_write_checks() ends a write of nothing (0) before shmem_write_begin() looks at the seals.
    if (!data.length) return 0;
    if (info.seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE)) return -EPERM;
    const end = pos + data.length;
    if (end > info.size) {
      if (info.seals & F_SEAL_GROW) return -EPERM;
      const r = shmemResize(info, end);
      if (r) return r;
    }
    info.backing.bytes.set(data, pos);
    for (let p = Math.floor(pos / PAGE_SIZE); p * PAGE_SIZE < end; p++) info.allocated.add(p);
    return data.length;
  },
  release(_inode, file): void {
    const info = file.privateData as ShmemInode;
    for (const p of info.pages.values()) shmemPutPage(p);
    info.pages.clear();
  },
};

/**
 * shmem_file_llseek() for SEEK_DATA and SEEK_HOLE (mapping_seek_hole_data):
 * data is a page the file has (written or pinned), a hole one it has not,
 * and the end of the file is a hole. -ENXIO for an offset at or past the
 * end (or no data after it).
 */
function shmemSeekHoleData(file: File, info: ShmemInode, offset: number, whence: number): number {
  if (offset < 0 || offset >= info.size) return -ENXIO;
  let pos = offset;
  while (pos < info.size) {
    const has = info.allocated.has(Math.floor(pos / PAGE_SIZE));
    if (has === (whence === SEEK_DATA)) break;
    pos = (Math.floor(pos / PAGE_SIZE) + 1) * PAGE_SIZE;
  }
  if (pos >= info.size) {
    if (whence === SEEK_DATA) return -ENXIO;
    pos = info.size;
  }
  file.fPos = pos;
  return pos;
}

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
    for (const idx of info.allocated) if (idx * PAGE_SIZE >= pageAlignUp(length)) info.allocated.delete(idx);
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
  // MFD_HUGETLB may carry a huge page size in the bits from MFD_HUGE_SHIFT up
  if (flags & ~(flags & MFD_HUGETLB ? MFD_ALL_FLAGS | MFD_HUGE_MASK << MFD_HUGE_SHIFT : MFD_ALL_FLAGS)) return -EINVAL;
  if (flags & MFD_EXEC && flags & MFD_NOEXEC_SEAL) return -EINVAL;
  if (new TextEncoder().encode(name).length > MFD_NAME_MAX_LEN) return -EINVAL;
  // hugetlb_file_setup() of a kernel without CONFIG_HUGETLBFS (this machine has no hugetlbfs)
  if (flags & MFD_HUGETLB) return -ENOSYS;
  // MFD_NOEXEC_SEAL allows sealing and seals the exec bits; otherwise only MFD_ALLOW_SEALING allows it
  const seals = flags & MFD_NOEXEC_SEAL ? F_SEAL_EXEC : flags & MFD_ALLOW_SEALING ? 0 : F_SEAL_SEAL;
  const info = new ShmemInode(name, seals);
  const inode = new Inode(undefined, shmemSb);
  inode.private = info;
  // shmem_file_setup(): a regular file, rwx for everyone (the memfd is reachable only through its fd),
  // without the x bits under MFD_NOEXEC_SEAL (memfd_create, Linux 6.3+); unlinked from the start.
  inode.mode = S_IFREG | (flags & MFD_NOEXEC_SEAL ? 0o666 : 0o777);
  inode.nlink = 0;
  return new File(inode, `memfd:${name}`, O_RDWR | O_LARGEFILE, shmemFops, info);
}

/** i_size of a shmem file. */
export function shmemSize(file: File): number {
  return (file.privateData as ShmemInode).size;
}

/** inode_get_bytes() of a shmem file: the bytes of the pages it has (i_blocks * 512). */
export function shmemBytes(file: File): number {
  return (file.privateData as ShmemInode).allocated.size * PAGE_SIZE;
}

const pageAlignUp = (n: number): number => Math.ceil(n / PAGE_SIZE) * PAGE_SIZE;

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
  // mm/memfd.c (Linux 6.12) memfd_add_seals(), reached from fcntl for any file: the file's mode, then the seal
  // bits, and only then whether it is a memfd at all (memfd_file_seals_ptr()).
  if (!(file.fMode & FMODE_WRITE)) return -EPERM;
  if (seals & ~F_ALL_SEALS) return -EINVAL;
  if (!isShmemFile(file)) return -EINVAL;
  const info = shmemInfo(file);
  if (info.seals & F_SEAL_SEAL) return -EPERM;
  if (seals & F_SEAL_WRITE && !(info.seals & F_SEAL_WRITE)) {
    if (info.writableMappings > 0) return -EBUSY;
    for (const p of info.pages.values()) if (p.refcount > 1) return -EBUSY;
  }
  // F_SEAL_EXEC on an executable memfd implies the write seals (W^X from the start, Linux 6.3+); added
  // after the checks above, as mm/memfd.c does
  if (seals & F_SEAL_EXEC && file.inode.mode & 0o111) seals |= F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_FUTURE_WRITE;
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
      info.allocated.add(idx);
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
