/**
 * Little helpers for C struct bytes (x86-64: little-endian, natural
 * alignment). A struct is read from and written to a Uint8Array.
 */
const enc = new TextEncoder();
const dec = new TextDecoder();

export function dv(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}
export const u32 = (b: Uint8Array, off: number): number => dv(b).getUint32(off, true);
export const s32 = (b: Uint8Array, off: number): number => dv(b).getInt32(off, true);
export const u64 = (b: Uint8Array, off: number): number => Number(dv(b).getBigUint64(off, true));
export const u64big = (b: Uint8Array, off: number): bigint => dv(b).getBigUint64(off, true);
export const setU32 = (b: Uint8Array, off: number, v: number): void => dv(b).setUint32(off, v >>> 0, true);
export const setS32 = (b: Uint8Array, off: number, v: number): void => dv(b).setInt32(off, v | 0, true);
export const setU64 = (b: Uint8Array, off: number, v: number | bigint): void => dv(b).setBigUint64(off, BigInt(v), true);

/** A char[len] field: the text before the first NUL. */
export function cstr(b: Uint8Array, off: number, len: number): string {
  const field = b.subarray(off, off + len);
  const nul = field.indexOf(0);
  return dec.decode(nul < 0 ? field : field.subarray(0, nul));
}

/** Write a char[len] field (NUL-padded; the caller has already cut the text to fit). */
export function setCstr(b: Uint8Array, off: number, len: number, s: string): void {
  const bytes = enc.encode(s).subarray(0, len - 1);
  b.fill(0, off, off + len);
  b.set(bytes, off);
}

/** A zeroed buffer for a struct of `size` bytes (with `extra` bytes after it for pointed-to data). */
export function alloc(size: number, extra = 0): Uint8Array {
  return new Uint8Array(size + extra);
}
