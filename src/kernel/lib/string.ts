/**
 * C string helpers for fixed-size char arrays.
 */
const enc = new TextEncoder();

/**
 * strscpy(dst, src, size): the string as it fits a char[size] with its NUL,
 * i.e. at most size-1 bytes of UTF-8. Cuts at a character boundary so the
 * result stays valid text.
 */
export function strscpy(src: string, size: number): string {
  if (size <= 0) return '';
  if (src.length < size && enc.encode(src).length < size) return src;
  let out = '';
  let bytes = 0;
  for (const ch of src) {
    const n = enc.encode(ch).length;
    if (bytes + n > size - 1) break;
    out += ch;
    bytes += n;
  }
  return out;
}

/**
 * strscpy() on bytes, as C does it: the bytes of `src` before its first
 * NUL, at most size-1 of them (a cut may fall inside a UTF-8 character,
 * as in Linux). Strings are taken as their UTF-8.
 */
export function strscpyBytes(src: string | Uint8Array, size: number): Uint8Array {
  const b = typeof src === 'string' ? enc.encode(src) : src;
  const nul = b.indexOf(0);
  const len = Math.max(0, Math.min(nul < 0 ? b.length : nul, size - 1));
  return b.slice(0, len);
}

/** The number of UTF-8 bytes in a string. */
export function byteLength(s: string): number {
  return enc.encode(s).length;
}
