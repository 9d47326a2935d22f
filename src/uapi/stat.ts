/**
 * struct stat as fstat(2) fills it on x86-64 (arch/x86/include/uapi/asm/stat.h)
 * and the file-type bits of st_mode (include/uapi/linux/stat.h).
 */
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

/** sizeof(struct stat) on x86-64 */
export const SIZEOF_STAT = 144;

/** The fields of struct stat a program reads (times in ns since the epoch). */
export interface Stat {
  st_dev: bigint;
  st_ino: bigint;
  st_nlink: bigint;
  st_mode: number;
  st_uid: number;
  st_gid: number;
  st_rdev: bigint;
  st_size: bigint;
  st_blksize: bigint;
  st_blocks: bigint;
  st_atime_ns: bigint;
  st_mtime_ns: bigint;
  st_ctime_ns: bigint;
}

const ns = (dv: DataView, off: number): bigint => dv.getBigInt64(off, true) * 1_000_000_000n + dv.getBigUint64(off + 8, true);

/** Decode the bytes of a struct stat. */
export function decodeStat(b: Uint8Array): Stat {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return {
    st_dev: dv.getBigUint64(0, true),
    st_ino: dv.getBigUint64(8, true),
    st_nlink: dv.getBigUint64(16, true),
    st_mode: dv.getUint32(24, true),
    st_uid: dv.getUint32(28, true),
    st_gid: dv.getUint32(32, true),
    st_rdev: dv.getBigUint64(40, true),
    st_size: dv.getBigInt64(48, true),
    st_blksize: dv.getBigInt64(56, true),
    st_blocks: dv.getBigInt64(64, true),
    st_atime_ns: ns(dv, 72),
    st_mtime_ns: ns(dv, 88),
    st_ctime_ns: ns(dv, 104),
  };
}

/** Encode a struct stat (the kernel's cp_new_stat). */
export function encodeStat(s: Partial<Stat>): Uint8Array {
  const b = new Uint8Array(SIZEOF_STAT);
  const dv = new DataView(b.buffer);
  const time = (off: number, t: bigint | undefined): void => {
    const v = t ?? 0n;
    dv.setBigInt64(off, v / 1_000_000_000n, true);
    dv.setBigUint64(off + 8, v % 1_000_000_000n, true);
  };
  dv.setBigUint64(0, s.st_dev ?? 0n, true);
  dv.setBigUint64(8, s.st_ino ?? 0n, true);
  dv.setBigUint64(16, s.st_nlink ?? 0n, true);
  dv.setUint32(24, s.st_mode ?? 0, true);
  dv.setUint32(28, s.st_uid ?? 0, true);
  dv.setUint32(32, s.st_gid ?? 0, true);
  dv.setBigUint64(40, s.st_rdev ?? 0n, true);
  dv.setBigInt64(48, s.st_size ?? 0n, true);
  dv.setBigInt64(56, s.st_blksize ?? 0n, true);
  dv.setBigInt64(64, s.st_blocks ?? 0n, true);
  time(72, s.st_atime_ns);
  time(88, s.st_mtime_ns);
  time(104, s.st_ctime_ns);
  return b;
}
