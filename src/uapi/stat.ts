/**
 * The file-type and permission bits of st_mode (include/uapi/linux/stat.h)
 * and struct stat.
 */
import { field, struct, type StructValue } from './struct.js';

/** The file-type bits of st_mode (include/uapi/linux/stat.h): `(st_mode & S_IFMT) === S_IFREG` and so on. */
export const S_IFMT = 0o170000;
/** File type: a socket. */
export const S_IFSOCK = 0o140000;
/** File type: a symbolic link. */
export const S_IFLNK = 0o120000;
/** File type: a regular file (a memfd is one). */
export const S_IFREG = 0o100000;
/** File type: a block device. */
export const S_IFBLK = 0o060000;
/** File type: a directory. */
export const S_IFDIR = 0o040000;
/** File type: a character device (/dev/dma_heap/*, /dev/udmabuf, /dev/dri/*). */
export const S_IFCHR = 0o020000;
/** File type: a FIFO (pipe). */
export const S_IFIFO = 0o010000;
/** Permission bits: the owner may read, write and search/execute. */
export const S_IRWXU = 0o700;
/** Permission bit: the owner may read. */
export const S_IRUSR = 0o400;
/** Permission bit: the owner may write. */
export const S_IWUSR = 0o200;
/** Permission bits: everyone may read (0444; a kernel shorthand from include/linux/stat.h, not in the uapi header). */
export const S_IRUGO = 0o444;
/** Permission bits: everyone may write (0222; kernel shorthand, include/linux/stat.h). */
export const S_IWUGO = 0o222;

/**
 * struct stat as the kernel's fstat(2) fills it on x86-64
 * (arch/x86/include/uapi/asm/stat.h; glibc's struct stat is the same).
 */
export const stat = struct('stat', 144, {
  st_dev: field('__u64', 0),
  st_ino: field('__u64', 8),
  st_nlink: field('__u64', 16),
  st_mode: field('unsigned int', 24),
  st_uid: field('unsigned int', 28),
  st_gid: field('unsigned int', 32),
  __pad0: field('unsigned int', 36),
  st_rdev: field('__u64', 40),
  st_size: field('__s64', 48),
  st_blksize: field('__s64', 56),
  st_blocks: field('__s64', 64),
  st_atime: field('__u64', 72),
  st_atime_nsec: field('__u64', 80),
  st_mtime: field('__u64', 88),
  st_mtime_nsec: field('__u64', 96),
  st_ctime: field('__u64', 104),
  st_ctime_nsec: field('__u64', 112),
});

/** What fstat() returns: the struct's fields, by their C names. */
export type Stat = StructValue<typeof stat>;
