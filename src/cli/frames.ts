/**
 * The pipeline demo's frames: what the producer draws, what the processor
 * makes of it, and what the consumer checks, for each workload (shared
 * with the benchmark's postMessage baselines so that they do the same
 * work):
 * - 'cpu': the CPU draws every pixel, turns every pixel gray and checks
 *   the whole frame's checksum and a sample of its pixels;
 * - 'device': the pixels are left to devices (a camera fills the frame, a
 *   GPU or an encoder works on it), as in a real camera/GPU/encoder
 *   pipeline: each stage touches only a fixed small part of the frame, a
 *   header and one 64x64 tile (a different one each frame), and the
 *   consumer checks exactly those.
 */

/** Who transforms the frames: the CPU, or a device. */
export type Work = 'cpu' | 'device';

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

/** What each stage does to a frame. */
export interface Workload {
  /** the producer writes frame n */
  produce(px: Uint32Array, width: number, height: number, n: number): void;
  /** the processor's work on frame n, in place: the checksum it hands on */
  process(px: Uint32Array, width: number, height: number, n: number): number;
  /** the consumer's check of frame n against the processor's checksum: null, or what is wrong */
  check(px: Uint32Array, width: number, height: number, n: number, sum: number): string | null;
}

const cpu: Workload = {
  produce(px, width, height, n) {
    for (let y = 0, k = 0; y < height; y++) for (let x = 0; x < width; x++, k++) px[k] = sourcePixel(x, y, n);
  },
  process(px) {
    for (let k = 0; k < px.length; k++) px[k] = grayPixel(px[k]);
    return checksum(px);
  },
  check(px, width, _height, n, sum) {
    const s = checksum(px);
    if (s !== sum) return `frame ${n}: checksum ${s} != processor's ${sum}`;
    for (let k = 0; k < px.length; k += 4099) {
      const want = grayPixel(sourcePixel(k % width, Math.floor(k / width), n));
      if (px[k] !== want) return `frame ${n}: pixel ${k} is 0x${px[k].toString(16)}, expected 0x${want.toString(16)}`;
    }
    return null;
  },
};

/** The device workload's header: words at the start of the frame (as a camera's or encoder's metadata). */
const H_FRAME = 0;
const H_MAGIC = 1;
const H_TILE = 2;
const H_SUM = 3;
const HEADER_WORDS = 16;
const MAGIC = 0x46425544; // 'DUBF'
const TILE = 64;

/** Frame n's tile: its corner and size (below the header's rows; clipped to small frames, empty if none fits). */
function tileOf(width: number, height: number, n: number): { x0: number; y0: number; w: number; h: number } {
  const top = Math.ceil(HEADER_WORDS / width);
  const w = Math.min(TILE, width);
  const h = Math.max(0, Math.min(TILE, height - top));
  const across = Math.max(1, Math.floor(width / TILE));
  const down = Math.max(1, Math.floor((height - top) / TILE));
  const t = n % (across * down);
  return { x0: (t % across) * TILE, y0: top + Math.floor(t / across) * TILE, w, h };
}

/** The header's words that fit in the frame. */
function header(px: Uint32Array): number {
  return Math.min(HEADER_WORDS, px.length);
}

const device: Workload = {
  produce(px, width, height, n) {
    const { x0, y0, w, h } = tileOf(width, height, n);
    for (let y = y0; y < y0 + h; y++) for (let x = x0, k = y * width + x0; x < x0 + w; x++, k++) px[k] = sourcePixel(x, y, n);
    const words = [n >>> 0, MAGIC, (x0 << 16) | y0, 0];
    for (let i = 0; i < Math.min(words.length, header(px)); i++) px[i] = words[i];
  },
  process(px, width, height, n) {
    const { x0, y0, w, h } = tileOf(width, height, n);
    let s = 0;
    for (let y = y0; y < y0 + h; y++) {
      for (let x = x0, k = y * width + x0; x < x0 + w; x++, k++) {
        const g = grayPixel(px[k]);
        px[k] = g;
        s = (s + g) >>> 0;
      }
    }
    if (header(px) > H_SUM) px[H_SUM] = s;
    return s;
  },
  check(px, width, height, n, sum) {
    const hw = header(px);
    const want = [n >>> 0, MAGIC, 0, sum];
    for (const i of [H_FRAME, H_MAGIC, H_SUM]) {
      if (i < hw && px[i] !== want[i]) return `frame ${n}: header word ${i} is 0x${px[i].toString(16)}, expected 0x${want[i].toString(16)}`;
    }
    const { x0, y0, w, h } = tileOf(width, height, n);
    if (H_TILE < hw && px[H_TILE] !== ((x0 << 16) | y0)) return `frame ${n}: the header names tile 0x${px[H_TILE].toString(16)}`;
    let s = 0;
    for (let y = y0; y < y0 + h; y++) {
      for (let x = x0, k = y * width + x0; x < x0 + w; x++, k++) {
        const g = grayPixel(sourcePixel(x, y, n));
        if (px[k] !== g) return `frame ${n}: pixel (${x}, ${y}) is 0x${px[k].toString(16)}, expected 0x${g.toString(16)}`;
        s = (s + g) >>> 0;
      }
    }
    if (s !== sum) return `frame ${n}: tile checksum ${s} != processor's ${sum}`;
    return null;
  },
};

/** The workload of each kind. */
export const WORKLOADS: Readonly<Record<Work, Workload>> = { cpu, device };
