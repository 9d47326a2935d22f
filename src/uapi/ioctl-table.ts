/**
 * Every ioctl request number this project knows, with its Linux name and
 * its argument's declaration: what a tracer prints, and what a native
 * backend needs to move an argument to real memory and back.
 */
import { _IOC_SIZE, type IoctlDecl } from './ioctl.js';
import { Scalar, Struct } from './struct.js';
import { relocatePointers, restorePointers, type UserPointer } from './user-pointers.js';
import { DMA_BUF_IOCTLS } from './dma-buf.js';
import { DMA_HEAP_IOCTLS } from './dma-heap.js';
import { SYNC_FILE_IOCTLS } from './sync_file.js';
import { SW_SYNC_IOCTLS } from './sw_sync.js';
import { UDMABUF_IOCTLS } from './udmabuf.js';
import { DRM_IOCTLS } from './drm.js';

/** All of them, header by header. Each number appears once (checked at load, with its argument's size). */
export const IOCTLS: readonly IoctlDecl[] = [
  ...DMA_BUF_IOCTLS, ...DMA_HEAP_IOCTLS, ...SYNC_FILE_IOCTLS, ...SW_SYNC_IOCTLS, ...UDMABUF_IOCTLS, ...DRM_IOCTLS,
];

const byRequest = new Map<number, IoctlDecl>();
for (const d of IOCTLS) {
  if (byRequest.has(d.request)) throw new Error(`ioctl ${d.name}: 0x${d.request.toString(16)} is already ${byRequest.get(d.request)!.name}`);
  const size = d.arg instanceof Struct || d.arg instanceof Scalar ? d.arg.size : null;
  if (size !== null && _IOC_SIZE(d.request) !== size) throw new Error(`ioctl ${d.name}: its number says ${_IOC_SIZE(d.request)} bytes, its argument is ${size}`);
  byRequest.set(d.request, d);
}

/**
 * The ioctl a request number is (`ioctlInfo(DMA_HEAP_IOCTL_ALLOC).arg === dma_heap_allocation_data`), or undefined.
 *
 * @example
 * ```ts
 * import { dma_heap_allocation_data, ioctlInfo } from 'dmabuf/uapi';
 * ioctlInfo(0x40086200)?.name; // → 'DMA_BUF_IOCTL_SYNC'
 * ioctlInfo(0xc0184800)?.arg === dma_heap_allocation_data; // → true
 * ioctlInfo(0xdead); // → undefined
 * ```
 */
export function ioctlInfo(request: number): IoctlDecl | undefined {
  return byRequest.get(request >>> 0);
}

/**
 * An ioctl argument moved to native memory at `base`: for a struct, a copy
 * with its user pointers relocated (see relocatePointers()); any other
 * argument is copied as is (a string pointer's argument is the string, at
 * `base`). undefined for an unknown request.
 *
 * @example
 * ```ts
 * import { SYNC_IOC_FILE_INFO, relocateIoctlArg, restoreIoctlArg } from 'dmabuf/uapi';
 * const moved = relocateIoctlArg(SYNC_IOC_FILE_INFO, arg, base, 1n << 63n)!; // 1n << 63n: non-canonical, so EFAULT
 * // …copy moved.bytes to `base`, make the real ioctl, copy the bytes back into moved.bytes…
 * arg.set(restoreIoctlArg(moved.bytes, moved.pointers));
 * ```
 */
export function relocateIoctlArg(request: number, arg: Uint8Array, base: bigint, fault: bigint): { bytes: Uint8Array; pointers: UserPointer[] } | undefined {
  const d = ioctlInfo(request);
  if (!d) return undefined;
  if (d.arg instanceof Struct && arg.length >= d.arg.size) return relocatePointers(d.arg, arg, base, fault);
  return { bytes: arg.slice(), pointers: [] };
}

/**
 * After the call: the bytes copied back, with the offsets restored (in
 * place; returned for chaining).
 *
 * @example
 * ```ts
 * import { SYNC_IOC_FILE_INFO, relocateIoctlArg, restoreIoctlArg, sync_file_info } from 'dmabuf/uapi';
 * const moved = relocateIoctlArg(SYNC_IOC_FILE_INFO, arg, base, 1n << 63n)!;
 * // …the real ioctl on moved.bytes at `base`; the bytes come back into moved.bytes…
 * const out = restoreIoctlArg(moved.bytes, moved.pointers);
 * sync_file_info.get(out, 'sync_fence_info'); // → 56n
 * ```
 */
export function restoreIoctlArg(bytes: Uint8Array, pointers: readonly UserPointer[]): Uint8Array {
  restorePointers(bytes, pointers);
  return bytes;
}
