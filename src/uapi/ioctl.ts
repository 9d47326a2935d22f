/**
 * include/uapi/asm-generic/ioctl.h: the ioctl request encoding (x86-64,
 * arm64, riscv): nr bits 0-7, type 8-15, size 16-29, direction 30-31.
 */
import type { AnyStruct, CScalarType, Scalar } from './struct.js';

/** Width of the command-number field of a request (bits 0-7), include/uapi/asm-generic/ioctl.h. */
export const _IOC_NRBITS = 8;
/** Width of the type ("magic") field (bits 8-15): one driver's letter, e.g. 'b' for dma-buf. */
export const _IOC_TYPEBITS = 8;
/** Width of the argument-size field (bits 16-29): the largest argument a request can name is 16 KiB - 1. */
export const _IOC_SIZEBITS = 14;
/** Width of the direction field (bits 30-31): _IOC_NONE, _IOC_WRITE, _IOC_READ or both. */
export const _IOC_DIRBITS = 2;
/** Where the command number starts. */
export const _IOC_NRSHIFT = 0;
/** Where the type field starts. */
export const _IOC_TYPESHIFT = _IOC_NRSHIFT + _IOC_NRBITS;
/** Where the size field starts. */
export const _IOC_SIZESHIFT = _IOC_TYPESHIFT + _IOC_TYPEBITS;
/** Where the two direction bits start. */
export const _IOC_DIRSHIFT = _IOC_SIZESHIFT + _IOC_SIZEBITS;
/** Direction: no argument is copied either way (_IO). */
export const _IOC_NONE = 0;
/** Direction: userspace writes the argument, the kernel copies it in (_IOW). */
export const _IOC_WRITE = 1;
/** Direction: the kernel copies the argument back out to userspace (_IOR; with _IOC_WRITE, _IOWR). */
export const _IOC_READ = 2;

/**
 * _IOC(dir, type, nr, size) as an unsigned 32-bit number. `type` is the
 * driver's magic, as a number or a one-character string. A field that
 * does not fit its bits is a RangeError (Linux refuses an oversized size at
 * compile time, in _IOC_TYPECHECK; a wrapped one would name another ioctl).
 *
 * @example
 * ```ts
 * import { _IOC, _IOC_READ, _IOC_WRITE } from 'dmabuf/uapi';
 * _IOC(_IOC_READ | _IOC_WRITE, 'H', 0, 24); // → 0xc0184800 (DMA_HEAP_IOCTL_ALLOC)
 * ```
 */
export function _IOC(dir: number, type: number | string, nr: number, size: number): number {
  const t = typeof type === 'string' ? type.charCodeAt(0) : type;
  const fits = (v: number, bits: number): boolean => Number.isInteger(v) && v >= 0 && v < 2 ** bits;
  if (!fits(dir, _IOC_DIRBITS) || !fits(t, _IOC_TYPEBITS) || !fits(nr, _IOC_NRBITS) || !fits(size, _IOC_SIZEBITS)) {
    throw new RangeError(`_IOC(${dir}, ${String(type)}, ${nr}, ${size}): dir < 4, type < 256, nr < 256 and size < 16384 are what fit in a request`);
  }
  return ((dir << _IOC_DIRSHIFT) | (t << _IOC_TYPESHIFT) | (nr << _IOC_NRSHIFT) | (size << _IOC_SIZESHIFT)) >>> 0;
}
/**
 * _IO(type, nr): a request that takes no argument through memory.
 *
 * @example
 * ```ts
 * import { _IO } from 'dmabuf/uapi';
 * _IO('d', 0x1e); // → 0x641e (DRM_IOCTL_SET_MASTER)
 * ```
 */
export const _IO = (type: number | string, nr: number): number => _IOC(_IOC_NONE, type, nr, 0);
/**
 * _IOR(type, nr, size): the kernel fills a `size`-byte argument. Linux's
 * macro takes the C type; here `size` is its sizeof.
 *
 * @example
 * ```ts
 * import { _IOR, __u32 } from 'dmabuf/uapi';
 * _IOR('d', 0x02, __u32.size); // → 0x80046402 (DRM_IOCTL_GET_MAGIC: struct drm_auth is one unsigned int)
 * ```
 */
export const _IOR = (type: number | string, nr: number, size: number): number => _IOC(_IOC_READ, type, nr, size);
/**
 * _IOW(type, nr, size): the kernel reads a `size`-byte argument.
 *
 * @example
 * ```ts
 * import { _IOW, dma_buf_sync } from 'dmabuf/uapi';
 * _IOW('b', 0, dma_buf_sync.size); // → 0x40086200 (DMA_BUF_IOCTL_SYNC)
 * ```
 */
export const _IOW = (type: number | string, nr: number, size: number): number => _IOC(_IOC_WRITE, type, nr, size);
/**
 * _IOWR(type, nr, size): the kernel reads the argument and writes results back into it.
 *
 * @example
 * ```ts
 * import { _IOWR, sync_merge_data } from 'dmabuf/uapi';
 * _IOWR('>', 3, sync_merge_data.size); // → 0xc0303e03 (SYNC_IOC_MERGE)
 * ```
 */
export const _IOWR = (type: number | string, nr: number, size: number): number => _IOC(_IOC_READ | _IOC_WRITE, type, nr, size);

/**
 * The direction bits of a request: _IOC_NONE, _IOC_WRITE, _IOC_READ or both.
 *
 * @example
 * ```ts
 * import { _IOC_DIR, _IOC_READ, DMA_BUF_IOCTL_EXPORT_SYNC_FILE } from 'dmabuf/uapi';
 * (_IOC_DIR(DMA_BUF_IOCTL_EXPORT_SYNC_FILE) & _IOC_READ) !== 0; // → true: the kernel writes the fd back
 * ```
 */
export const _IOC_DIR = (nr: number): number => (nr >>> _IOC_DIRSHIFT) & 0x3;
/**
 * The type (magic) of a request, as a character code.
 *
 * @example
 * ```ts
 * import { _IOC_TYPE, SYNC_IOC_MERGE } from 'dmabuf/uapi';
 * String.fromCharCode(_IOC_TYPE(SYNC_IOC_MERGE)); // → '>'
 * ```
 */
export const _IOC_TYPE = (nr: number): number => (nr >>> _IOC_TYPESHIFT) & 0xff;
/**
 * The command number of a request within its type: what a driver's
 * ioctl switch dispatches on.
 *
 * @example
 * ```ts
 * import { _IOC_NR, DMA_BUF_IOCTL_IMPORT_SYNC_FILE } from 'dmabuf/uapi';
 * _IOC_NR(DMA_BUF_IOCTL_IMPORT_SYNC_FILE); // → 3
 * ```
 */
export const _IOC_NR = (nr: number): number => (nr >>> _IOC_NRSHIFT) & 0xff;
/**
 * The argument size a request names, in bytes: how much the kernel copies
 * in and out.
 *
 * @example
 * ```ts
 * import { _IOC_SIZE, SYNC_IOC_FILE_INFO } from 'dmabuf/uapi';
 * _IOC_SIZE(SYNC_IOC_FILE_INFO); // → 56, sizeof(struct sync_file_info)
 * ```
 */
export const _IOC_SIZE = (nr: number): number => (nr >>> _IOC_SIZESHIFT) & 0x3fff;

/**
 * What an ioctl's argument is: a struct (its declaration), a scalar the
 * argument points to, a pointer to a NUL-terminated string (the argument
 * itself), an integer passed by value, or nothing.
 */
export type IoctlArg = AnyStruct | Scalar<CScalarType> | 'string pointer' | 'int' | 'none';

/** One ioctl request number: its Linux name (and other names of the same number) and its argument. */
export interface IoctlDecl {
  /** the name Linux's header gives the number (`DMA_BUF_IOCTL_SYNC`) */
  readonly name: string;
  /** other macros that expand to the same number (`DMA_BUF_SET_NAME` for DMA_BUF_SET_NAME_B) */
  readonly aliases?: readonly string[];
  /** the request number, unsigned 32-bit */
  readonly request: number;
  /** what the argument is, for tracers and for moving it to native memory */
  readonly arg: IoctlArg;
}
