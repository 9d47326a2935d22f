/**
 * Fences userspace can make without sw_sync: vgem's (DRM_IOCTL_VGEM_FENCE_*),
 * and the sync_files around them (drivers/dma-buf/sync_file.c): EXPORT and
 * IMPORT_SYNC_FILE with pending and signalled fences, MERGE, FILE_INFO with
 * its byte-exact names, SET_DEADLINE, and poll on dma-bufs and sync files.
 * Nothing here waits: a pending fence is only polled (timeout 0).
 */
import * as u from '../../../src/uapi/index.js';
import type { Recorder } from '../recorder.js';
import type { Env } from '../env.js';
import { exportSyncFile, fenceAttach, fenceSignal, fileInfo, importSyncFile, merge, systemBuf, vgemBuffer } from './lib.js';

const BOTH = u.POLLIN | u.POLLOUT;

/** A write fence on a vgem buffer: what poll, an exported sync_file and FILE_INFO say before and after the signal. */
export function attachAndSignal(r: Recorder, env: Env): void {
  const { card, handle, buf } = vgemBuffer(r, env);
  r.poll([{ fd: buf, events: BOTH }]);
  const fence = fenceAttach(r, card, handle, u.VGEM_FENCE_WRITE);
  r.poll([{ fd: buf, events: BOTH }]);
  const rd = exportSyncFile(r, buf, u.DMA_BUF_SYNC_READ);
  const wr = exportSyncFile(r, buf, u.DMA_BUF_SYNC_WRITE);
  fileInfo(r, rd, 0);
  fileInfo(r, rd, 1);
  r.poll([{ fd: rd, events: BOTH }, { fd: wr, events: u.POLLIN }]);
  r.readFile('/sys/kernel/debug/dma_buf/bufinfo');
  fenceSignal(r, card, fence);
  r.poll([{ fd: buf, events: BOTH }, { fd: rd, events: BOTH }, { fd: wr, events: u.POLLIN }]);
  fileInfo(r, rd, 1);
  fileInfo(r, wr, 0);
  // after the signal: an export sees the signalled fence, not the stub
  const again = exportSyncFile(r, buf, u.DMA_BUF_SYNC_WRITE);
  fileInfo(r, again, 1);
  r.readFile('/sys/kernel/debug/dma_buf/bufinfo');
  r.close(again);
  r.close(rd);
  r.close(wr);
  r.close(buf);
  r.close(card);
}

/** Readers and writers: which attaches vgem refuses while others are pending (EBUSY), and its argument checks. */
export function attachRules(r: Recorder, env: Env): void {
  const { card, handle, buf } = vgemBuffer(r, env);
  fenceAttach(r, card, handle, 2);
  r.ioctl(card, u.DRM_IOCTL_VGEM_FENCE_ATTACH, u.drm_vgem_fence_attach.encode({ handle, pad: 1 }));
  fenceAttach(r, card, 999);
  const r1 = fenceAttach(r, card, handle, 0);
  const r2 = fenceAttach(r, card, handle, 0);
  r.poll([{ fd: buf, events: BOTH }]);
  fenceAttach(r, card, handle, u.VGEM_FENCE_WRITE);
  fenceSignal(r, card, r1);
  fenceAttach(r, card, handle, u.VGEM_FENCE_WRITE);
  fenceSignal(r, card, r2);
  const w = fenceAttach(r, card, handle, u.VGEM_FENCE_WRITE);
  fenceAttach(r, card, handle, 0);
  fenceAttach(r, card, handle, u.VGEM_FENCE_WRITE);
  fenceSignal(r, card, w, 1);
  fenceSignal(r, card, 999);
  fenceSignal(r, card, w);
  fenceSignal(r, card, w);
  fenceSignal(r, card, 0);
  r.ioctl(card, u.DRM_IOCTL_VGEM_FENCE_ATTACH, 0);
  r.ioctl(card, u.DRM_IOCTL_VGEM_FENCE_SIGNAL, 0);
  r.poll([{ fd: buf, events: BOTH }]);
  r.close(buf);
  r.close(card);
}

/** A pending vgem fence imported into a system-heap buffer: poll, export, and the signal reaching both. */
export function importPending(r: Recorder, env: Env): void {
  const { card, handle, buf } = vgemBuffer(r, env);
  const fence = fenceAttach(r, card, handle, u.VGEM_FENCE_WRITE);
  const sf = exportSyncFile(r, buf, u.DMA_BUF_SYNC_READ);
  const heap = systemBuf(r);
  importSyncFile(r, heap, u.DMA_BUF_SYNC_READ, sf);
  r.poll([{ fd: heap, events: BOTH }]);
  const rd = exportSyncFile(r, heap, u.DMA_BUF_SYNC_READ);
  const wr = exportSyncFile(r, heap, u.DMA_BUF_SYNC_WRITE);
  fileInfo(r, rd, 1);
  fileInfo(r, wr, 2);
  importSyncFile(r, heap, u.DMA_BUF_SYNC_WRITE, sf);
  r.poll([{ fd: heap, events: BOTH }]);
  const wr2 = exportSyncFile(r, heap, u.DMA_BUF_SYNC_READ);
  fileInfo(r, wr2, 2);
  r.readFile('/sys/kernel/debug/dma_buf/bufinfo');
  fenceSignal(r, card, fence);
  r.poll([{ fd: heap, events: BOTH }, { fd: rd, events: u.POLLIN }, { fd: wr, events: u.POLLIN }]);
  fileInfo(r, wr, 2);
  for (const fd of [wr2, wr, rd, sf, heap, buf, card]) r.close(fd);
}

/** SYNC_IOC_MERGE: two pending fences, one fence with itself, signalled and pending, names at the limit, bad arguments. */
export function merges(r: Recorder, env: Env): void {
  const a = vgemBuffer(r, env);
  const other = (() => {
    const arg = u.drm_mode_create_dumb.encode({ width: 16, height: 16, bpp: 32 });
    r.ioctl(a.card, u.DRM_IOCTL_MODE_CREATE_DUMB, arg);
    return u.drm_mode_create_dumb.get(arg, 'handle');
  })();
  const f1 = fenceAttach(r, a.card, a.handle, u.VGEM_FENCE_WRITE);
  const f2 = fenceAttach(r, a.card, other, u.VGEM_FENCE_WRITE);
  const s1 = exportSyncFile(r, a.buf, u.DMA_BUF_SYNC_READ);
  const otherBuf = (() => {
    const arg = u.drm_prime_handle.encode({ handle: other, flags: u.DRM_CLOEXEC | u.DRM_RDWR, fd: -1 });
    r.ioctl(a.card, u.DRM_IOCTL_PRIME_HANDLE_TO_FD, arg);
    return u.drm_prime_handle.get(arg, 'fd');
  })();
  const s2 = exportSyncFile(r, otherBuf, u.DMA_BUF_SYNC_READ);
  const m12 = merge(r, s1, s2, 'both');
  fileInfo(r, m12, 0);
  fileInfo(r, m12, 2);
  fileInfo(r, m12, 1);
  const self = merge(r, s1, s1, 'self');
  fileInfo(r, self, 2);
  // names: 31 bytes, 32 bytes without a NUL (cut to 31), empty (the generated name)
  const long = u.sync_merge_data.encode({ name: new Uint8Array(32).fill(0x6e), fd2: s2, fence: -1 });
  if (r.ioctl(s1, u.SYNC_IOC_MERGE, long) === 0) {
    const fd = u.sync_merge_data.get(long, 'fence');
    fileInfo(r, fd, 0);
    r.close(fd);
  }
  const empty = u.sync_merge_data.encode({ fd2: s2, fence: -1 });
  if (r.ioctl(s1, u.SYNC_IOC_MERGE, empty) === 0) {
    const fd = u.sync_merge_data.get(empty, 'fence');
    fileInfo(r, fd, 0);
    r.close(fd);
  }
  const m31 = merge(r, s1, s2, 'x'.repeat(31));
  fileInfo(r, m31, 0);
  r.close(m31);
  fenceSignal(r, a.card, f1);
  fileInfo(r, m12, 2);
  r.poll([{ fd: m12, events: u.POLLIN }, { fd: self, events: u.POLLIN }]);
  const m1x = merge(r, s1, m12, 'signalled+pending');
  fileInfo(r, m1x, 3);
  fenceSignal(r, a.card, f2);
  fileInfo(r, m12, 2);
  r.poll([{ fd: m12, events: u.POLLIN }, { fd: m1x, events: u.POLLIN }]);
  // bad arguments
  r.ioctl(s1, u.SYNC_IOC_MERGE, u.sync_merge_data.encode({ name: u.cbytes('f', 32), fd2: s2, fence: -1, flags: 1 }));
  r.ioctl(s1, u.SYNC_IOC_MERGE, u.sync_merge_data.encode({ name: u.cbytes('p', 32), fd2: s2, fence: -1, pad: 1 }));
  r.ioctl(s1, u.SYNC_IOC_MERGE, u.sync_merge_data.encode({ name: u.cbytes('m', 32), fd2: -1, fence: -1 }));
  r.ioctl(s1, u.SYNC_IOC_MERGE, u.sync_merge_data.encode({ name: u.cbytes('d', 32), fd2: a.buf, fence: -1 }));
  r.ioctl(s1, u.SYNC_IOC_MERGE, 0);
  for (const fd of [m1x, self, m12, s2, s1, otherBuf, a.buf, a.card]) r.close(fd);
}

/** FILE_INFO's checks (flags, pad, too few records, pointers) and what it writes: the name over the bytes that came in. */
export function fileInfoArgs(r: Recorder, env: Env): void {
  const { card, handle, buf } = vgemBuffer(r, env);
  const f = fenceAttach(r, card, handle, 0);
  const other = systemBuf(r);
  const s0 = exportSyncFile(r, buf, u.DMA_BUF_SYNC_WRITE);
  const s1 = exportSyncFile(r, other, u.DMA_BUF_SYNC_WRITE);
  const sf = merge(r, s0, s1, 'two');
  r.ioctl(sf, u.SYNC_IOC_FILE_INFO, u.sync_file_info.encode({ flags: 1 }));
  r.ioctl(sf, u.SYNC_IOC_FILE_INFO, u.sync_file_info.encode({ pad: 1 }));
  r.ioctl(sf, u.SYNC_IOC_FILE_INFO, u.sync_file_info.encode({ num_fences: 1, sync_fence_info: 56n }, 80));
  r.ioctl(sf, u.SYNC_IOC_FILE_INFO, u.sync_file_info.encode({ num_fences: 2 }));
  r.ioctl(sf, u.SYNC_IOC_FILE_INFO, u.sync_file_info.encode({ num_fences: 3, sync_fence_info: 56n }, 240));
  r.ioctl(sf, u.SYNC_IOC_FILE_INFO, 0);
  // a pointer outside the argument (an address the kernel cannot write), with and without an earlier error
  r.ioctl(sf, u.SYNC_IOC_FILE_INFO, u.sync_file_info.encode({ num_fences: 2, sync_fence_info: 4096n }, 160));
  r.ioctl(sf, u.SYNC_IOC_FILE_INFO, u.sync_file_info.encode({ flags: 1, num_fences: 2, sync_fence_info: 4096n }, 160));
  r.ioctl(sf, u.SYNC_IOC_FILE_INFO, u.sync_file_info.encode({ num_fences: 1, sync_fence_info: 4096n }, 160));
  // the name field going in holds other bytes: the kernel writes the name and its NUL over them
  const garbage = u.sync_file_info.encode({ name: new Uint8Array(32).fill(0x2a) });
  r.ioctl(sf, u.SYNC_IOC_FILE_INFO, garbage);
  r.ioctl(s0, u.SYNC_IOC_FILE_INFO, u.sync_file_info.encode({ name: new Uint8Array(32).fill(0x2a) }));
  r.ioctl(s1, u.SYNC_IOC_FILE_INFO, u.sync_file_info.encode({ name: new Uint8Array(32).fill(0x2a), status: 7, num_fences: 0 }));
  // records going in are overwritten whole
  const recs = u.sync_file_info.encode({ num_fences: 2, sync_fence_info: 56n }, 160);
  recs.fill(0x55, 56);
  r.ioctl(sf, u.SYNC_IOC_FILE_INFO, recs);
  fenceSignal(r, card, f);
  for (const fd of [sf, s1, s0, other, buf, card]) r.close(fd);
}

/** SYNC_IOC_SET_DEADLINE on vgem and stub fences: any deadline is taken, pad must be 0. */
export function setDeadline(r: Recorder, env: Env): void {
  const { card, handle, buf } = vgemBuffer(r, env);
  const f = fenceAttach(r, card, handle, u.VGEM_FENCE_WRITE);
  const sf = exportSyncFile(r, buf, u.DMA_BUF_SYNC_READ);
  const stub = exportSyncFile(r, systemBuf(r), u.DMA_BUF_SYNC_READ);
  for (const fd of [sf, stub]) {
    for (const [deadline_ns, pad] of [[0n, 0n], [1n, 0n], [1n << 63n, 0n], [0xffffffffffffffffn, 0n], [5n, 1n], [5n, 1n << 40n]]) {
      r.ioctl(fd, u.SYNC_IOC_SET_DEADLINE, u.sync_set_deadline.encode({ deadline_ns, pad }));
    }
    r.ioctl(fd, u.SYNC_IOC_SET_DEADLINE, 0);
  }
  r.ioctl(buf, u.SYNC_IOC_SET_DEADLINE, u.sync_set_deadline.encode({ deadline_ns: 1n }));
  fenceSignal(r, card, f);
  r.close(stub);
  r.close(sf);
  r.close(buf);
  r.close(card);
}

/** Closing the card signals the fences it still has pending: their sync_files and the buffer see it. */
export function closeSignals(r: Recorder, env: Env): void {
  const { card, handle, buf } = vgemBuffer(r, env);
  fenceAttach(r, card, handle, u.VGEM_FENCE_WRITE);
  const sf = exportSyncFile(r, buf, u.DMA_BUF_SYNC_READ);
  r.poll([{ fd: buf, events: BOTH }, { fd: sf, events: u.POLLIN }]);
  r.close(card);
  r.poll([{ fd: buf, events: BOTH }, { fd: sf, events: u.POLLIN }]);
  fileInfo(r, sf, 1);
  r.close(sf);
  r.close(buf);
}
