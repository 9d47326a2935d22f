/**
 * include/uapi/asm-generic/ioctl.h: the ioctl request encoding (x86-64,
 * arm64, riscv): nr bits 0-7, type 8-15, size 16-29, direction 30-31.
 */
import type { AnyStruct, CScalarType, Scalar } from './struct.js';

export const _IOC_NRBITS = 8;
export const _IOC_TYPEBITS = 8;
export const _IOC_SIZEBITS = 14;
export const _IOC_NRSHIFT = 0;
export const _IOC_TYPESHIFT = _IOC_NRSHIFT + _IOC_NRBITS;
export const _IOC_SIZESHIFT = _IOC_TYPESHIFT + _IOC_TYPEBITS;
export const _IOC_DIRSHIFT = _IOC_SIZESHIFT + _IOC_SIZEBITS;
export const _IOC_NONE = 0;
export const _IOC_WRITE = 1;
export const _IOC_READ = 2;

/** _IOC(dir, type, nr, size) as an unsigned 32-bit number */
export function _IOC(dir: number, type: number | string, nr: number, size: number): number {
  const t = typeof type === 'string' ? type.charCodeAt(0) : type;
  return ((dir << _IOC_DIRSHIFT) | (t << _IOC_TYPESHIFT) | (nr << _IOC_NRSHIFT) | (size << _IOC_SIZESHIFT)) >>> 0;
}
export const _IO = (type: number | string, nr: number): number => _IOC(_IOC_NONE, type, nr, 0);
export const _IOR = (type: number | string, nr: number, size: number): number => _IOC(_IOC_READ, type, nr, size);
export const _IOW = (type: number | string, nr: number, size: number): number => _IOC(_IOC_WRITE, type, nr, size);
export const _IOWR = (type: number | string, nr: number, size: number): number => _IOC(_IOC_READ | _IOC_WRITE, type, nr, size);

export const _IOC_DIR = (nr: number): number => (nr >>> _IOC_DIRSHIFT) & 0x3;
export const _IOC_TYPE = (nr: number): number => (nr >>> _IOC_TYPESHIFT) & 0xff;
export const _IOC_NR = (nr: number): number => (nr >>> _IOC_NRSHIFT) & 0xff;
export const _IOC_SIZE = (nr: number): number => (nr >>> _IOC_SIZESHIFT) & 0x3fff;

/**
 * What an ioctl's argument is: a struct (its declaration), a scalar the
 * argument points to, a pointer to a NUL-terminated string (the argument
 * itself), an integer passed by value, or nothing.
 */
export type IoctlArg = AnyStruct | Scalar<CScalarType> | 'string pointer' | 'int' | 'none';

/** One ioctl request number: its Linux name (and other names of the same number) and its argument. */
export interface IoctlDecl {
  readonly name: string;
  readonly aliases?: readonly string[];
  readonly request: number;
  readonly arg: IoctlArg;
}
