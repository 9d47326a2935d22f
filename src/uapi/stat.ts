/**
 * The file-type and permission bits of st_mode (include/uapi/linux/stat.h)
 * and struct stat.
 */
import { field, struct, type StructValue } from './struct.js';

export const S_IFMT = 0o170000;
export const S_IFSOCK = 0o140000;
export const S_IFLNK = 0o120000;
export const S_IFREG = 0o100000;
export const S_IFBLK = 0o060000;
export const S_IFDIR = 0o040000;
export const S_IFCHR = 0o020000;
export const S_IFIFO = 0o010000;
export const S_IRWXU = 0o700;
export const S_IRUSR = 0o400;
export const S_IWUSR = 0o200;
export const S_IRUGO = 0o444;
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
