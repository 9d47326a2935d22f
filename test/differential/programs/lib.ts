/**
 * Steps the programs share: each is made of recorded calls, so it is part
 * of every recording that uses it.
 */
import * as u from '../../../src/uapi/index.js';
import type { Recorder } from '../recorder.js';
import type { Env } from '../env.js';

export const PAGE = 4096;

/** open /dev/dma_heap/<name> and allocate `len` bytes: [heap fd, dma-buf fd] (the dma-buf fd negative on failure). */
export function heapAlloc(r: Recorder, len: number | bigint, fdFlags = u.O_RDWR | u.O_CLOEXEC, heap = 'system'): [number, number] {
  const h = r.open(`/dev/dma_heap/${heap}`, u.O_RDONLY | u.O_CLOEXEC);
  if (h < 0) return [h, h];
  const arg = u.dma_heap_allocation_data.encode({ len: BigInt(len), fd_flags: fdFlags });
  const ret = r.ioctl(h, u.DMA_HEAP_IOCTL_ALLOC, arg);
  return [h, ret < 0 ? ret : u.dma_heap_allocation_data.get(arg, 'fd')];
}

/** A system-heap dma-buf of `len` bytes; the heap fd is closed. */
export function systemBuf(r: Recorder, len: number = PAGE, fdFlags = u.O_RDWR | u.O_CLOEXEC): number {
  const [h, fd] = heapAlloc(r, len, fdFlags);
  if (h >= 0) r.close(h);
  return fd;
}

/** A memfd of `size` bytes sealed for udmabuf (F_SEAL_SHRINK), optionally filled with a byte pattern. */
export function sealedMemfd(r: Recorder, size: number, name = 'udmabuf-src'): number {
  const fd = r.memfdCreate(name, u.MFD_ALLOW_SEALING);
  r.ftruncate(fd, size);
  r.fcntl(fd, u.F_ADD_SEALS, u.F_SEAL_SHRINK);
  return fd;
}

/** UDMABUF_CREATE over [offset, offset + size) of `memfd`: the dma-buf fd or a negative errno. */
export function udmabufCreate(r: Recorder, dev: number, memfd: number, offset: number | bigint, size: number | bigint, flags = 0): number {
  return r.ioctl(dev, u.UDMABUF_CREATE, u.udmabuf_create.encode({ memfd, flags, offset: BigInt(offset), size: BigInt(size) }));
}

/** A vgem dumb buffer on `card`: its handle (or a negative errno) and size. */
export function dumbCreate(r: Recorder, card: number, width = 64, height = 16, bpp = 32): { handle: number; size: bigint } {
  const arg = u.drm_mode_create_dumb.encode({ width, height, bpp });
  const ret = r.ioctl(card, u.DRM_IOCTL_MODE_CREATE_DUMB, arg);
  return { handle: ret < 0 ? ret : u.drm_mode_create_dumb.get(arg, 'handle'), size: u.drm_mode_create_dumb.get(arg, 'size') };
}

/** PRIME export of a handle: the dma-buf fd or a negative errno. */
export function primeExport(r: Recorder, card: number, handle: number, flags = u.DRM_CLOEXEC | u.DRM_RDWR): number {
  const arg = u.drm_prime_handle.encode({ handle, flags, fd: -1 });
  const ret = r.ioctl(card, u.DRM_IOCTL_PRIME_HANDLE_TO_FD, arg);
  return ret < 0 ? ret : u.drm_prime_handle.get(arg, 'fd');
}

/** PRIME import of a dma-buf fd: the handle or a negative errno. */
export function primeImport(r: Recorder, card: number, fd: number): number {
  const arg = u.drm_prime_handle.encode({ fd });
  const ret = r.ioctl(card, u.DRM_IOCTL_PRIME_FD_TO_HANDLE, arg);
  return ret < 0 ? ret : u.drm_prime_handle.get(arg, 'handle');
}

/** Attach a vgem fence to a handle: the fence id or a negative errno. */
export function fenceAttach(r: Recorder, card: number, handle: number, flags = 0): number {
  const arg = u.drm_vgem_fence_attach.encode({ handle, flags });
  const ret = r.ioctl(card, u.DRM_IOCTL_VGEM_FENCE_ATTACH, arg);
  return ret < 0 ? ret : u.drm_vgem_fence_attach.get(arg, 'out_fence');
}

/** Signal a vgem fence by id. */
export function fenceSignal(r: Recorder, card: number, fence: number, flags = 0): number {
  return r.ioctl(card, u.DRM_IOCTL_VGEM_FENCE_SIGNAL, u.drm_vgem_fence_signal.encode({ fence, flags }));
}

/** A vgem setup: the card fd, a dumb buffer's handle and its dma-buf fd. */
export function vgemBuffer(r: Recorder, env: Env): { card: number; handle: number; buf: number } {
  env.need('vgem');
  const card = r.open(env.vgemCard!, u.O_RDWR | u.O_CLOEXEC);
  const { handle } = dumbCreate(r, card);
  const buf = primeExport(r, card, handle);
  return { card, handle, buf };
}

/** DMA_BUF_IOCTL_EXPORT_SYNC_FILE: the sync_file fd or a negative errno. */
export function exportSyncFile(r: Recorder, buf: number, flags: number): number {
  const arg = u.dma_buf_export_sync_file.encode({ flags, fd: -1 });
  const ret = r.ioctl(buf, u.DMA_BUF_IOCTL_EXPORT_SYNC_FILE, arg);
  return ret < 0 ? ret : u.dma_buf_export_sync_file.get(arg, 'fd');
}

/** DMA_BUF_IOCTL_IMPORT_SYNC_FILE */
export function importSyncFile(r: Recorder, buf: number, flags: number, syncFd: number): number {
  return r.ioctl(buf, u.DMA_BUF_IOCTL_IMPORT_SYNC_FILE, u.dma_buf_import_sync_file.encode({ flags, fd: syncFd }));
}

/** DMA_BUF_IOCTL_SYNC with `flags` (a u64). */
export function bufSync(r: Recorder, buf: number, flags: number | bigint): number {
  return r.ioctl(buf, u.DMA_BUF_IOCTL_SYNC, u.dma_buf_sync.encode({ flags: BigInt(flags) }));
}

/** SYNC_IOC_FILE_INFO with room for `room` fence records (0: the summary only). */
export function fileInfo(r: Recorder, fd: number, room: number): number {
  const arg = u.sync_file_info.encode({ num_fences: room, sync_fence_info: room ? BigInt(u.sync_file_info.size) : 0n }, room * u.sync_fence_info.size);
  return r.ioctl(fd, u.SYNC_IOC_FILE_INFO, arg);
}

/** SYNC_IOC_MERGE of two sync files under `name`: the new fd or a negative errno. */
export function merge(r: Recorder, a: number, b: number, name = 'merged'): number {
  const arg = u.sync_merge_data.encode({ name: u.cbytes(name, 32), fd2: b, fence: -1 });
  const ret = r.ioctl(a, u.SYNC_IOC_MERGE, arg);
  return ret < 0 ? ret : u.sync_merge_data.get(arg, 'fence');
}

/** A sw_sync timeline fd (env must have sw_sync). */
export function swTimeline(r: Recorder, env: Env): number {
  env.need('swSync');
  return r.open('/sys/kernel/debug/sync/sw_sync', u.O_RDWR | u.O_CLOEXEC);
}

/** SW_SYNC_IOC_CREATE_FENCE at `value`: the sync_file fd or a negative errno. */
export function swFence(r: Recorder, timeline: number, value: number, name = 'pt'): number {
  const arg = u.sw_sync_create_fence_data.encode({ value, name: u.cbytes(name, 32), fence: -1 });
  const ret = r.ioctl(timeline, u.SW_SYNC_IOC_CREATE_FENCE, arg);
  return ret < 0 ? ret : u.sw_sync_create_fence_data.get(arg, 'fence');
}

/** SW_SYNC_IOC_INC */
export function swInc(r: Recorder, timeline: number, by: number): number {
  return r.ioctl(timeline, u.SW_SYNC_IOC_INC, u.__u32.encode(by));
}

/** The fdinfo of an fd of this process. */
export function fdinfo(r: Recorder, fd: number): string | number {
  return r.readFile(`/proc/self/fdinfo/${fd}`);
}

/** What /proc/self/fd/N links to. */
export function fdLink(r: Recorder, fd: number): string | number {
  return r.readlink(`/proc/self/fd/${fd}`);
}

/** An ioctl request number with another size field (a wrong-size call of a known ioctl). */
export function withSize(request: number, size: number): number {
  return u._IOC(u._IOC_DIR(request), u._IOC_TYPE(request), u._IOC_NR(request), size);
}

/** An ioctl request number with another direction. */
export function withDir(request: number, dir: number): number {
  return u._IOC(dir, u._IOC_TYPE(request), u._IOC_NR(request), u._IOC_SIZE(request));
}
