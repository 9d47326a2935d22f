/**
 * How the recorder spells values: flags by their Linux names where the set
 * is small and known, C strings escaped byte for byte, errnos by name.
 */
import * as u from '../../src/uapi/index.js';

type FlagTable = readonly (readonly [string, number])[];

/** A bit set as `A|B|0x100` (the bits no name covers in hex); 0 as `zero`. */
export function flagNames(value: number | bigint, table: FlagTable, zero = '0'): string {
  let rest = BigInt(value);
  if (rest === 0n) return zero;
  const out: string[] = [];
  for (const [name, bit] of table) {
    const b = BigInt(bit);
    if (b && (rest & b) === b) {
      out.push(name);
      rest &= ~b;
    }
  }
  if (rest) out.push(`0x${rest.toString(16)}`);
  return out.join('|');
}

const OPEN_FLAGS: FlagTable = [
  ['O_CREAT', u.O_CREAT], ['O_EXCL', u.O_EXCL], ['O_NOCTTY', u.O_NOCTTY], ['O_TRUNC', u.O_TRUNC], ['O_APPEND', u.O_APPEND],
  ['O_NONBLOCK', u.O_NONBLOCK], ['O_DSYNC', u.O_DSYNC], ['O_DIRECT', u.O_DIRECT], ['O_LARGEFILE', u.O_LARGEFILE],
  ['O_DIRECTORY', u.O_DIRECTORY], ['O_NOFOLLOW', u.O_NOFOLLOW], ['O_NOATIME', u.O_NOATIME], ['O_CLOEXEC', u.O_CLOEXEC],
  ['O_PATH', u.O_PATH],
];

/** open(2) flags: the access mode, then the other bits. */
export function openFlags(flags: number): string {
  const acc = ['O_RDONLY', 'O_WRONLY', 'O_RDWR', 'O_ACCMODE'][flags & u.O_ACCMODE];
  const rest = flags & ~u.O_ACCMODE;
  return rest ? `${acc}|${flagNames(rest, OPEN_FLAGS)}` : acc;
}

export const SEALS: FlagTable = [
  ['F_SEAL_SEAL', u.F_SEAL_SEAL], ['F_SEAL_SHRINK', u.F_SEAL_SHRINK], ['F_SEAL_GROW', u.F_SEAL_GROW],
  ['F_SEAL_WRITE', u.F_SEAL_WRITE], ['F_SEAL_FUTURE_WRITE', u.F_SEAL_FUTURE_WRITE], ['F_SEAL_EXEC', u.F_SEAL_EXEC],
];
export const MFD_FLAGS: FlagTable = [
  ['MFD_CLOEXEC', u.MFD_CLOEXEC], ['MFD_ALLOW_SEALING', u.MFD_ALLOW_SEALING], ['MFD_HUGETLB', u.MFD_HUGETLB],
  ['MFD_NOEXEC_SEAL', u.MFD_NOEXEC_SEAL], ['MFD_EXEC', u.MFD_EXEC],
];
export const PROT: FlagTable = [['PROT_READ', u.PROT_READ], ['PROT_WRITE', u.PROT_WRITE], ['PROT_EXEC', u.PROT_EXEC]];
export const POLL: FlagTable = [
  ['POLLIN', u.POLLIN], ['POLLPRI', u.POLLPRI], ['POLLOUT', u.POLLOUT], ['POLLERR', u.POLLERR], ['POLLHUP', u.POLLHUP],
  ['POLLNVAL', u.POLLNVAL], ['POLLRDNORM', u.POLLRDNORM], ['POLLRDBAND', u.POLLRDBAND], ['POLLWRNORM', u.POLLWRNORM], ['POLLWRBAND', u.POLLWRBAND],
];

/** mmap flags: the map type, then the other bits. */
export function mapFlags(flags: number): string {
  const type = flags & u.MAP_TYPE;
  const name = type === u.MAP_SHARED ? 'MAP_SHARED' : type === u.MAP_PRIVATE ? 'MAP_PRIVATE' : type === u.MAP_SHARED_VALIDATE ? 'MAP_SHARED_VALIDATE' : `0x${type.toString(16)}`;
  const rest = flags & ~u.MAP_TYPE;
  return rest ? `${name}|${flagNames(rest, [['MAP_FIXED', u.MAP_FIXED], ['MAP_ANONYMOUS', u.MAP_ANONYMOUS], ['MAP_POPULATE', u.MAP_POPULATE]])}` : name;
}

const FCNTL: Record<number, string> = {
  [u.F_DUPFD]: 'F_DUPFD', [u.F_GETFD]: 'F_GETFD', [u.F_SETFD]: 'F_SETFD', [u.F_GETFL]: 'F_GETFL', [u.F_SETFL]: 'F_SETFL',
  [u.F_DUPFD_CLOEXEC]: 'F_DUPFD_CLOEXEC', [u.F_ADD_SEALS]: 'F_ADD_SEALS', [u.F_GET_SEALS]: 'F_GET_SEALS',
};
export function fcntlCmd(cmd: number): string {
  return FCNTL[cmd] ?? String(cmd);
}

export function whence(w: number): string {
  return ['SEEK_SET', 'SEEK_CUR', 'SEEK_END', 'SEEK_DATA', 'SEEK_HOLE'][w] ?? String(w);
}

const SYNC_FLAGS: FlagTable = [['DMA_BUF_SYNC_READ', u.DMA_BUF_SYNC_READ], ['DMA_BUF_SYNC_WRITE', u.DMA_BUF_SYNC_WRITE], ['DMA_BUF_SYNC_END', u.DMA_BUF_SYNC_END]];

/** Flag fields of the ioctl structs: `struct.field` -> how to spell them. */
export const FIELD_FLAGS: Record<string, (v: number | bigint) => string> = {
  'dma_heap_allocation_data.fd_flags': (v) => openFlags(Number(v)),
  'dma_buf_sync.flags': (v) => flagNames(v, SYNC_FLAGS, 'DMA_BUF_SYNC_START'),
  'dma_buf_export_sync_file.flags': (v) => flagNames(v, SYNC_FLAGS),
  'dma_buf_import_sync_file.flags': (v) => flagNames(v, SYNC_FLAGS),
  'drm_prime_handle.flags': (v) => flagNames(v, [['DRM_CLOEXEC', u.DRM_CLOEXEC], ['DRM_RDWR', u.DRM_RDWR]]),
  'udmabuf_create.flags': (v) => flagNames(v, [['UDMABUF_FLAGS_CLOEXEC', u.UDMABUF_FLAGS_CLOEXEC]]),
  'udmabuf_create_list.flags': (v) => flagNames(v, [['UDMABUF_FLAGS_CLOEXEC', u.UDMABUF_FLAGS_CLOEXEC]]),
  'drm_vgem_fence_attach.flags': (v) => flagNames(v, [['VGEM_FENCE_WRITE', u.VGEM_FENCE_WRITE]]),
};

/** st_mode: the file type, then the permission bits in octal. */
export function fileMode(mode: number): string {
  const types: Record<number, string> = {
    [u.S_IFSOCK]: 'S_IFSOCK', [u.S_IFLNK]: 'S_IFLNK', [u.S_IFREG]: 'S_IFREG', [u.S_IFBLK]: 'S_IFBLK',
    [u.S_IFDIR]: 'S_IFDIR', [u.S_IFCHR]: 'S_IFCHR', [u.S_IFIFO]: 'S_IFIFO',
  };
  const type = mode & u.S_IFMT;
  const perm = `0${(mode & 0o7777).toString(8).padStart(3, '0')}`;
  if (!type) return `${perm} (no file type)`;
  return `${types[type] ?? `0${type.toString(8)}`}|${perm}`;
}

/** Bytes as a C string literal: printable ASCII as is, the rest escaped (\t, \n, \0, \xNN). */
export function cEscape(b: Uint8Array): string {
  let s = '"';
  for (const c of b) {
    if (c === 0x22) s += '\\"';
    else if (c === 0x5c) s += '\\\\';
    else if (c === 0x0a) s += '\\n';
    else if (c === 0x09) s += '\\t';
    else if (c === 0) s += '\\0';
    else if (c >= 0x20 && c < 0x7f) s += String.fromCharCode(c);
    else s += `\\x${c.toString(16).padStart(2, '0')}`;
  }
  return s + '"';
}

/** A char[N] field byte for byte: up to its last nonzero byte (the bytes after a NUL count: names are compared byte-exactly). */
export function charArray(b: Uint8Array): string {
  let end = b.length;
  while (end > 0 && b[end - 1] === 0) end--;
  return cEscape(b.subarray(0, end));
}

/** Bytes in hex, 16 to a group. */
export function hex(b: Uint8Array): string {
  return Array.from(b, (c) => c.toString(16).padStart(2, '0')).join(' ');
}

/** A number: decimal below 2^32 (and negative ones), hex above. */
export function num(v: number | bigint): string {
  const b = BigInt(v);
  return b >= 0n && b >= 1n << 32n ? `0x${b.toString(16)}` : String(b);
}

/** An errno (negative or positive) by name. */
export function errnoStr(e: number): string {
  return u.errnoName(e) ?? `E${Math.abs(e)}`;
}
