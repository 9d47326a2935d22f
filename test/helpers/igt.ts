/**
 * The igt-gpu-tools library helpers the ported tests use (lib/sw_sync.c,
 * lib/igt_dummyload-free parts), over a Process: each returns what the C
 * helper returns (a value or -errno) or asserts where the C one asserts.
 */
import assert from 'node:assert/strict';
import type { ProcessLike as Process } from '../../src/machine/process-api.js';
import * as u from '../../src/uapi/index.js';
import { openVgem, sys } from './machine.js';

export const SW_SYNC_FENCE_STATUS_ERROR = -1;
export const SW_SYNC_FENCE_STATUS_ACTIVE = 0;
export const SW_SYNC_FENCE_STATUS_SIGNALED = 1;
export const ETIME = 62;

export { sys };

export function swSyncTimelineCreate(proc: Process): number {
  return proc.open('/sys/kernel/debug/sync/sw_sync', u.O_RDWR);
}

export function __swSyncTimelineCreateFence(proc: Process, timeline: number, seqno: number): number {
  const data = u.sw_sync_create_fence_data.encode({ value: seqno, name: u.cbytes('igt-fence', 32) });
  const ret = sys(() => proc.ioctl(timeline, u.SW_SYNC_IOC_CREATE_FENCE, data));
  return ret ? ret : u.sw_sync_create_fence_data.get(data, 'fence');
}

export function swSyncTimelineCreateFence(proc: Process, timeline: number, seqno: number): number {
  const fence = __swSyncTimelineCreateFence(proc, timeline, seqno);
  assert.ok(fence >= 0, `sw_sync_timeline_create_fence: ${fence}`);
  return fence;
}

export function swSyncTimelineInc(proc: Process, timeline: number, count: number): void {
  assert.equal(sys(() => proc.ioctl(timeline, u.SW_SYNC_IOC_INC, u.__u32.encode(count))), 0);
}

/** sync_fence_wait(fd, timeout): 0 signaled, -ETIME on timeout, -EINVAL for POLLERR/POLLNVAL */
export function syncFenceWait(proc: Process, fd: number, timeout: number): number {
  const fds = [{ fd, events: u.POLLIN, revents: 0 }];
  const ret = sys(() => proc.poll(fds, timeout));
  if (ret > 0) return fds[0].revents & (u.POLLERR | u.POLLNVAL) ? -22 : 0;
  if (ret === 0) return -ETIME;
  return ret;
}

export async function syncFenceWaitAsync(proc: Process, fd: number, timeout: number): Promise<number> {
  const fds = [{ fd, events: u.POLLIN, revents: 0 }];
  let ret: number;
  try {
    ret = await proc.pollAsync(fds, timeout);
  } catch (e) {
    return (e as { errno: number }).errno;
  }
  if (ret > 0) return fds[0].revents & (u.POLLERR | u.POLLNVAL) ? -22 : 0;
  return ret === 0 ? -ETIME : ret;
}

/** sync_fence_status(): the whole fence's status from SYNC_IOC_FILE_INFO with no records */
export function syncFenceStatus(proc: Process, fd: number): number {
  const info = u.sync_file_info.encode();
  const ret = sys(() => proc.ioctl(fd, u.SYNC_IOC_FILE_INFO, info));
  return ret ? ret : u.sync_file_info.get(info, 'status');
}

/** sync_file_info(): the struct and its fence records (placed right after it) */
export function syncFileInfo(proc: Process, fd: number): (u.StructValue<typeof u.sync_file_info> & { fences: u.StructValue<typeof u.sync_fence_info>[] }) | null {
  const first = u.sync_file_info.encode();
  if (sys(() => proc.ioctl(fd, u.SYNC_IOC_FILE_INFO, first))) return null;
  const n = u.sync_file_info.get(first, 'num_fences');
  const full = u.sync_file_info.encode({ num_fences: n, sync_fence_info: u.sync_file_info.size }, n * u.sync_fence_info.size);
  if (sys(() => proc.ioctl(fd, u.SYNC_IOC_FILE_INFO, full))) return null;
  return { ...u.sync_file_info.decode(full), fences: u.sync_file_info.deref(full, 'sync_fence_info') ?? [] };
}

/** sync_fence_count_status(fd, status): how many of the fences have exactly that status, -1 on error */
export function syncFenceCountStatus(proc: Process, fd: number, status: number): number {
  const info = syncFileInfo(proc, fd);
  if (!info) return -1;
  return info.fences.filter((f) => f.status === status).length;
}

/** sync_fence_merge(fd1, fd2): the merged fence fd, or -errno */
export function syncFenceMerge(proc: Process, fd1: number, fd2: number): number {
  const data = u.sync_merge_data.encode({ name: u.cbytes('igt-merge', 32), fd2 });
  const ret = sys(() => proc.ioctl(fd1, u.SYNC_IOC_MERGE, data));
  return ret ? ret : u.sync_merge_data.get(data, 'fence');
}

/** close() that ignores a negative fd, as tests close(-1) harmlessly */
export function close(proc: Process, fd: number): void {
  if (fd >= 0) proc.close(fd);
}

/* lib/igt_vgem.c and lib/ioctl_wrappers.c: the vgem and PRIME helpers */

export interface VgemBo { handle: number; width: number; height: number; bpp: number; pitch: number; size: bigint }

/** drm_open_driver(DRIVER_VGEM): the first /dev/dri/cardN whose DRM_IOCTL_VERSION name is "vgem" */
export function drmOpenVgem(proc: Process): number {
  const fd = openVgem(proc);
  assert.ok(fd >= 0, 'no vgem device');
  return fd;
}

/** vgem_create(): a dumb buffer of width x height x bpp */
export function vgemCreate(proc: Process, fd: number, width: number, height: number, bpp: number): VgemBo {
  const arg = u.drm_mode_create_dumb.encode({ width, height, bpp });
  assert.equal(sys(() => proc.ioctl(fd, u.DRM_IOCTL_MODE_CREATE_DUMB, arg)), 0);
  const d = u.drm_mode_create_dumb.decode(arg);
  return { handle: d.handle, width, height, bpp, pitch: d.pitch, size: d.size };
}

/** vgem_fence_attach(): the fence id; flags 0 (read) or VGEM_FENCE_WRITE */
export function vgemFenceAttach(proc: Process, fd: number, bo: VgemBo, flags: number): number {
  const arg = u.drm_vgem_fence_attach.encode({ handle: bo.handle, flags });
  assert.equal(sys(() => proc.ioctl(fd, u.DRM_IOCTL_VGEM_FENCE_ATTACH, arg)), 0);
  return u.drm_vgem_fence_attach.get(arg, 'out_fence');
}

export function vgemFenceSignal(proc: Process, fd: number, fence: number): void {
  assert.equal(sys(() => proc.ioctl(fd, u.DRM_IOCTL_VGEM_FENCE_SIGNAL, u.drm_vgem_fence_signal.encode({ fence }))), 0);
}

/** prime_handle_to_fd(): DRM_CLOEXEC | DRM_RDWR as igt asks */
export function primeHandleToFd(proc: Process, fd: number, handle: number): number {
  const arg = u.drm_prime_handle.encode({ handle, flags: u.DRM_CLOEXEC | u.O_RDWR });
  assert.equal(sys(() => proc.ioctl(fd, u.DRM_IOCTL_PRIME_HANDLE_TO_FD, arg)), 0);
  return u.drm_prime_handle.get(arg, 'fd');
}

export function gemClose(proc: Process, fd: number, handle: number): void {
  assert.equal(sys(() => proc.ioctl(fd, u.DRM_IOCTL_GEM_CLOSE, u.drm_gem_close.encode({ handle }))), 0);
}

/* lib/dmabuf_sync_file.c */

/** has_dmabuf_export_sync_file(): the ioctl works, or fails only with ENOTTY */
export function hasDmabufExportSyncFile(proc: Process, fd: number): boolean {
  const bo = vgemCreate(proc, fd, 1, 1, 32);
  const dmabuf = primeHandleToFd(proc, fd, bo.handle);
  gemClose(proc, fd, bo.handle);
  const arg = u.dma_buf_export_sync_file.encode({ flags: u.DMA_BUF_SYNC_WRITE, fd: -1 });
  const ret = sys(() => proc.ioctl(dmabuf, u.DMA_BUF_IOCTL_EXPORT_SYNC_FILE, arg));
  proc.close(dmabuf);
  assert.ok(ret === 0 || ret === -25, `export sync_file: ${ret}`);
  if (ret === 0) proc.close(u.dma_buf_export_sync_file.get(arg, 'fd'));
  return ret === 0;
}

/** has_dmabuf_import_sync_file(): importing a signalled sw_sync fence works, or ENOTTY */
export function hasDmabufImportSyncFile(proc: Process, fd: number): boolean {
  const bo = vgemCreate(proc, fd, 1, 1, 32);
  const dmabuf = primeHandleToFd(proc, fd, bo.handle);
  gemClose(proc, fd, bo.handle);
  const timeline = swSyncTimelineCreate(proc);
  const fence = swSyncTimelineCreateFence(proc, timeline, 1);
  swSyncTimelineInc(proc, timeline, 1);
  const ret = sys(() => proc.ioctl(dmabuf, u.DMA_BUF_IOCTL_IMPORT_SYNC_FILE, u.dma_buf_import_sync_file.encode({ flags: u.DMA_BUF_SYNC_RW, fd: fence })));
  proc.close(dmabuf);
  proc.close(fence);
  proc.close(timeline);
  assert.ok(ret === 0 || ret === -25, `import sync_file: ${ret}`);
  return ret === 0;
}

export function dmabufExportSyncFile(proc: Process, dmabuf: number, flags: number): number {
  const arg = u.dma_buf_export_sync_file.encode({ flags, fd: -1 });
  assert.equal(sys(() => proc.ioctl(dmabuf, u.DMA_BUF_IOCTL_EXPORT_SYNC_FILE, arg)), 0);
  return u.dma_buf_export_sync_file.get(arg, 'fd');
}

export function dmabufImportSyncFile(proc: Process, dmabuf: number, flags: number, syncFd: number): void {
  assert.equal(sys(() => proc.ioctl(dmabuf, u.DMA_BUF_IOCTL_IMPORT_SYNC_FILE, u.dma_buf_import_sync_file.encode({ flags, fd: syncFd }))), 0);
}

export function dmabufImportTimelineFence(proc: Process, dmabuf: number, flags: number, timeline: number, seqno: number): void {
  const fence = swSyncTimelineCreateFence(proc, timeline, seqno);
  dmabufImportSyncFile(proc, dmabuf, flags, fence);
  proc.close(fence);
}

/**
 * dmabuf_busy(): a zero-timeout poll. WRITE asks POLLOUT only (all fences);
 * READ alone asks POLLIN (writers only), since POLLIN would be ready with
 * read fences still pending.
 */
export function dmabufBusy(proc: Process, dmabuf: number, flags: number): boolean {
  let events = 0;
  if (flags & u.DMA_BUF_SYNC_WRITE) events |= u.POLLOUT;
  else if (flags & u.DMA_BUF_SYNC_READ) events |= u.POLLIN;
  return proc.poll([{ fd: dmabuf, events, revents: 0 }], 0) === 0;
}

export function syncFileBusy(proc: Process, syncFile: number): boolean {
  return proc.poll([{ fd: syncFile, events: u.POLLIN, revents: 0 }], 0) === 0;
}

export function dmabufSyncFileBusy(proc: Process, dmabuf: number, flags: number): boolean {
  const syncFile = dmabufExportSyncFile(proc, dmabuf, flags);
  const busy = syncFileBusy(proc, syncFile);
  proc.close(syncFile);
  return busy;
}
