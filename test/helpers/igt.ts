/**
 * The igt-gpu-tools library helpers the ported tests use (lib/sw_sync.c,
 * lib/igt_dummyload-free parts), over a Process: each returns what the C
 * helper returns (a value or -errno) or asserts where the C one asserts.
 */
import assert from 'node:assert/strict';
import type { Process } from '../../src/machine/process.js';
import * as u from '../../src/uapi/index.js';

export const SW_SYNC_FENCE_STATUS_ERROR = -1;
export const SW_SYNC_FENCE_STATUS_ACTIVE = 0;
export const SW_SYNC_FENCE_STATUS_SIGNALED = 1;
export const ETIME = 62;

/** a syscall that returns -errno instead of throwing */
export function sys(fn: () => number): number {
  try {
    return fn();
  } catch (e) {
    const errno = (e as { errno?: number }).errno;
    if (typeof errno !== 'number') throw e;
    return errno;
  }
}

export function swSyncTimelineCreate(proc: Process): number {
  return proc.open('/sys/kernel/debug/sync/sw_sync', u.O_RDWR);
}

export function __swSyncTimelineCreateFence(proc: Process, timeline: number, seqno: number): number {
  const data = u.swSyncCreateFenceData.encode({ value: seqno, name: 'igt-fence' });
  const ret = sys(() => proc.ioctl(timeline, u.SW_SYNC_IOC_CREATE_FENCE, data));
  return ret ? ret : u.swSyncCreateFenceData.decode(data).fence;
}

export function swSyncTimelineCreateFence(proc: Process, timeline: number, seqno: number): number {
  const fence = __swSyncTimelineCreateFence(proc, timeline, seqno);
  assert.ok(fence >= 0, `sw_sync_timeline_create_fence: ${fence}`);
  return fence;
}

export function swSyncTimelineInc(proc: Process, timeline: number, count: number): void {
  assert.equal(sys(() => proc.ioctl(timeline, u.SW_SYNC_IOC_INC, u.u32Arg.encode(count))), 0);
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
  const info = u.syncFileInfo.encode({});
  const ret = sys(() => proc.ioctl(fd, u.SYNC_IOC_FILE_INFO, info));
  return ret ? ret : u.syncFileInfo.decode(info).status;
}

/** sync_file_info(): the struct and its fence records */
export function syncFileInfo(proc: Process, fd: number): { status: number; numFences: number; fences: u.SyncFenceInfoData[]; name: string } | null {
  const first = u.syncFileInfo.encode({});
  if (sys(() => proc.ioctl(fd, u.SYNC_IOC_FILE_INFO, first))) return null;
  const n = u.syncFileInfo.decode(first).numFences;
  const full = u.syncFileInfo.encode({ numFences: n }, n);
  if (sys(() => proc.ioctl(fd, u.SYNC_IOC_FILE_INFO, full))) return null;
  const info = u.syncFileInfo.decode(full);
  const fences = Array.from({ length: info.numFences }, (_, i) => u.syncFenceInfo.decode(full, info.syncFenceInfo + i * u.SIZEOF_SYNC_FENCE_INFO));
  return { status: info.status, numFences: info.numFences, fences, name: info.name };
}

/** sync_fence_count_status(fd, status): how many of the fences have exactly that status, -1 on error */
export function syncFenceCountStatus(proc: Process, fd: number, status: number): number {
  const info = syncFileInfo(proc, fd);
  if (!info) return -1;
  return info.fences.filter((f) => f.status === status).length;
}

/** sync_fence_merge(fd1, fd2): the merged fence fd, or -errno */
export function syncFenceMerge(proc: Process, fd1: number, fd2: number): number {
  const data = u.syncMergeData.encode({ name: 'igt-merge', fd2 });
  const ret = sys(() => proc.ioctl(fd1, u.SYNC_IOC_MERGE, data));
  return ret ? ret : u.syncMergeData.decode(data).fence;
}

/** close() that ignores a negative fd, as tests close(-1) harmlessly */
export function close(proc: Process, fd: number): void {
  if (fd >= 0) proc.close(fd);
}
