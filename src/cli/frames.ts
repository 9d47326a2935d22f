/**
 * The pipeline demo's frames: what the producer draws, what the processor
 * makes of it, and the checksum the consumer verifies (shared with the
 * benchmark's postMessage baselines so that they do the same work).
 */

/** The producer's pixel at (x, y) of frame n: RGBA packed little-endian. */
export function sourcePixel(x: number, y: number, n: number): number {
  const r = (x + n) & 255;
  const g = (y + 2 * n) & 255;
  const b = (x ^ y) & 255;
  return (r | (g << 8) | (b << 16) | (255 << 24)) >>> 0;
}

/** The processor's transform of one RGBA pixel: BT.601 luma into R, G and B. */
export function grayPixel(p: number): number {
  const yv = (77 * (p & 255) + 150 * ((p >>> 8) & 255) + 29 * ((p >>> 16) & 255)) >> 8;
  return (yv | (yv << 8) | (yv << 16) | (255 << 24)) >>> 0;
}

/** A frame's checksum: the 32-bit words summed modulo 2^32. */
export function checksum(words: Uint32Array): number {
  let s = 0;
  for (let i = 0; i < words.length; i++) s = (s + words[i]) >>> 0;
  return s;
}
