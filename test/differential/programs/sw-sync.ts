/**
 * sw_sync (drivers/dma-buf/sw_sync.c, sync_debug.c): timelines, points,
 * SW_SYNC_IOC_INC, <debugfs>/sync/info, deadlines, and a timeline closed
 * with points pending. Only on a kernel built with CONFIG_SW_SYNC.
 */
import * as u from '../../../src/uapi/index.js';
import type { Recorder } from '../recorder.js';
import type { Env } from '../env.js';
import { fdLink, fileInfo, merge, swFence, swInc, swTimeline } from './lib.js';

const INFO = '/sys/kernel/debug/sync/info';

/** Points below, at and above the timeline's value; the info text as the timeline moves. */
export function timeline(r: Recorder, env: Env): void {
  const tl = swTimeline(r, env);
  r.fstat(tl);
  fdLink(r, tl);
  r.readFile(INFO);
  const p1 = swFence(r, tl, 1, 'one');
  const p3 = swFence(r, tl, 3);
  const p3b = swFence(r, tl, 3, 'again');
  const p0 = swFence(r, tl, 0);
  r.readFile(INFO);
  for (const fd of [p1, p3, p0]) fileInfo(r, fd, 1);
  r.poll([{ fd: p1, events: u.POLLIN }, { fd: p3, events: u.POLLIN }, { fd: p0, events: u.POLLIN }]);
  swInc(r, tl, 1);
  r.readFile(INFO);
  fileInfo(r, p1, 1);
  r.poll([{ fd: p1, events: u.POLLIN }, { fd: p3, events: u.POLLIN }]);
  swInc(r, tl, 5);
  r.readFile(INFO);
  fileInfo(r, p3b, 1);
  r.poll([{ fd: p3, events: u.POLLIN }, { fd: p3b, events: u.POLLIN }]);
  for (const fd of [p0, p3b, p3, p1]) r.close(fd);
  r.readFile(INFO);
  r.close(tl);
  r.readFile(INFO);
}

/** INC by 0, by more than INT_MAX, to the wrap-around; points across the wrap; the ioctls' bad arguments. */
export function increments(r: Recorder, env: Env): void {
  const tl = swTimeline(r, env);
  const far = swFence(r, tl, 0x7fffffff);
  swInc(r, tl, 0);
  swInc(r, tl, 0x7ffffffe);
  fileInfo(r, far, 1);
  swInc(r, tl, 1);
  fileInfo(r, far, 1);
  const wrap = swFence(r, tl, 5);
  r.readFile(INFO);
  swInc(r, tl, 0x80000005);
  fileInfo(r, wrap, 1);
  r.readFile(INFO);
  swInc(r, tl, 0xffffffff);
  r.ioctl(tl, u.SW_SYNC_IOC_INC, 0);
  r.ioctl(tl, u.SW_SYNC_IOC_CREATE_FENCE, 0);
  r.ioctl(tl, u._IOW('W', 3, 4), u.__u32.encode(1));
  r.ioctl(tl, u.DMA_BUF_IOCTL_SYNC, u.dma_buf_sync.encode({ flags: 1n }));
  // the name and the fence field going in are not used
  const arg = u.sw_sync_create_fence_data.encode({ value: 1, name: new Uint8Array(32).fill(0x41), fence: 99 });
  if (r.ioctl(tl, u.SW_SYNC_IOC_CREATE_FENCE, arg) === 0) {
    const fd = u.sw_sync_create_fence_data.get(arg, 'fence');
    fileInfo(r, fd, 1);
    r.close(fd);
  }
  r.close(wrap);
  r.close(far);
  r.close(tl);
}

/** Merges of points: one timeline (the later point stays), two timelines, signalled and pending. */
export function merges(r: Recorder, env: Env): void {
  const a = swTimeline(r, env);
  const b = swTimeline(r, env);
  const a1 = swFence(r, a, 1);
  const a2 = swFence(r, a, 2);
  const b1 = swFence(r, b, 1);
  const same = merge(r, a1, a2, 'same timeline');
  fileInfo(r, same, 2);
  const two = merge(r, a2, b1, 'two timelines');
  fileInfo(r, two, 2);
  const nested = merge(r, two, same, 'nested');
  fileInfo(r, nested, 4);
  swInc(r, a, 2);
  fileInfo(r, nested, 4);
  r.poll([{ fd: nested, events: u.POLLIN }, { fd: same, events: u.POLLIN }]);
  const unnamed = u.sync_merge_data.encode({ fd2: a1, fence: -1 });
  if (r.ioctl(b1, u.SYNC_IOC_MERGE, unnamed) === 0) {
    const fd = u.sync_merge_data.get(unnamed, 'fence');
    fileInfo(r, fd, 0);
    r.close(fd);
  }
  fileInfo(r, b1, 0);
  r.readFile(INFO);
  swInc(r, b, 1);
  fileInfo(r, nested, 4);
  for (const fd of [nested, two, same, b1, a2, a1, b, a]) r.close(fd);
}

/** SYNC_IOC_SET_DEADLINE on points and SW_SYNC_GET_DEADLINE back: the earliest wins; no deadline is ENOENT; other fences are EINVAL. */
export function deadlines(r: Recorder, env: Env): void {
  const tl = swTimeline(r, env);
  const p = swFence(r, tl, 1);
  const q = swFence(r, tl, 2);
  const get = (fence_fd: number, deadline_ns = 0n, pad = 0): void => {
    r.ioctl(tl, u.SW_SYNC_GET_DEADLINE, u.sw_sync_get_deadline.encode({ fence_fd, deadline_ns, pad }));
  };
  get(p);
  const set = (fd: number, deadline_ns: bigint): void => void r.ioctl(fd, u.SYNC_IOC_SET_DEADLINE, u.sync_set_deadline.encode({ deadline_ns }));
  set(p, 5000n);
  get(p);
  set(p, 7000n);
  get(p);
  set(p, 3000n);
  get(p);
  set(p, 1n << 63n);
  get(p);
  set(q, 0xffffffffffffffffn);
  get(q);
  get(p, 1n);
  get(p, 0n, 1);
  get(-1);
  get(tl);
  const m = merge(r, p, q, 'pq');
  get(m);
  set(m, 100n);
  get(p);
  get(q);
  swInc(r, tl, 2);
  get(p);
  r.ioctl(tl, u.SW_SYNC_GET_DEADLINE, 0);
  for (const fd of [m, q, p, tl]) r.close(fd);
}

/** A timeline closed while points are pending: they signal with an error (ENOENT). */
export function closePending(r: Recorder, env: Env): void {
  const tl = swTimeline(r, env);
  const p = swFence(r, tl, 10);
  const q = swFence(r, tl, 1);
  swInc(r, tl, 1);
  r.readFile(INFO);
  r.close(tl);
  fileInfo(r, p, 1);
  fileInfo(r, p, 0);
  fileInfo(r, q, 1);
  r.poll([{ fd: p, events: u.POLLIN | u.POLLERR }]);
  r.readFile(INFO);
  r.close(p);
  r.close(q);
}
