/** sw_sync timelines (drivers/dma-buf/sw_sync.c, sync_debug.c). */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import '../../helpers/harness.js';
import { mockFence } from '../../helpers/mock-fence.js';
import { DmaFence, DmaFenceCb } from '../../../src/kernel/fence/dma-fence.js';
import { SyncTimeline, swSyncGetDeadline, swSyncOpen, syncInfoDebugfsShow } from '../../../src/kernel/sync/sw-sync.js';
import { EINVAL, ENOENT } from '../../../src/kernel/lib/errno.js';
import { FdTable } from '../../../src/kernel/fs/fdtable.js';
import { fput, type File } from '../../../src/kernel/fs/file.js';
import { Task } from '../../../src/kernel/fs/task.js';
import { O_RDWR } from '../../../src/uapi/fcntl.js';
import { __u32 } from '../../../src/uapi/struct.js';
import { SW_SYNC_GET_DEADLINE, SW_SYNC_IOC_CREATE_FENCE, SW_SYNC_IOC_INC, sw_sync_create_fence_data, sw_sync_get_deadline } from '../../../src/uapi/sw_sync.js';
import { SYNC_IOC_SET_DEADLINE, sync_set_deadline } from '../../../src/uapi/sync_file.js';
import { failAllocDisarm, failNthAlloc } from '../../../src/kernel/lib/failslab.js';
import type { Out } from '../../../src/kernel/lib/out.js';

describe('sw_sync', () => {
  test('points signal when the timeline reaches them, in seqno order', () => {
    const tl = new SyncTimeline('tl');
    const order: number[] = [];
    const pts = [3, 1, 2, 5].map((v) => tl.createFence(v)!);
    for (const p of pts) p.addCallback(new DmaFenceCb(), (f) => void order.push(f.seqno));
    tl.inc(1);
    assert.deepEqual(order, [1]);
    tl.inc(2);
    assert.deepEqual(order, [1, 2, 3]);
    assert.equal(pts[3].isSignaled(), false);
    tl.inc(10);
    assert.deepEqual(order, [1, 2, 3, 5]);
    assert.equal(tl.value, 13);
    for (const p of pts) p.put();
    tl.release();
  });

  test('fence names and identity', () => {
    const tl = new SyncTimeline('my-timeline');
    const p = tl.createFence(1)!;
    assert.equal(p.driverName(), 'sw_sync');
    assert.equal(p.timelineName(), 'my-timeline');
    assert.equal(p.context, tl.context);
    p.put();
    tl.release();
  });

  test('a value already reached gives a signaled, untracked point', () => {
    const tl = new SyncTimeline('tl');
    tl.inc(5);
    const p = tl.createFence(3)!;
    assert.ok(p.testSignaledFlag());
    assert.equal(tl.activePoints().length, 0);
    p.put();
    tl.release();
  });

  test('the same pending value gives the same fence', () => {
    const tl = new SyncTimeline('tl');
    const a = tl.createFence(4)!;
    const b = tl.createFence(4)!;
    assert.equal(a, b);
    assert.equal(a.refcount, 2);
    assert.equal(tl.activePoints().length, 1);
    a.put();
    b.put();
    assert.equal(tl.activePoints().length, 0, 'released points leave the list');
    tl.release();
  });

  test('32-bit wrap-around: the timeline may pass 2^32', () => {
    const tl = new SyncTimeline('wrap');
    tl.inc(0xfffffff0);
    const before = tl.createFence(0xfffffff8)!;
    const after = tl.createFence(0x00000004)!; // after the wrap
    assert.equal(before.isSignaled(), false);
    assert.equal(after.isSignaled(), false);
    tl.inc(0x10);
    assert.equal(tl.value, 0);
    assert.equal(before.isSignaled(), true);
    assert.equal(after.isSignaled(), false);
    tl.inc(4);
    assert.equal(after.isSignaled(), true);
    before.put();
    after.put();
    tl.release();
  });

  test('an increment above INT_MAX is applied in steps', () => {
    const tl = new SyncTimeline('big');
    const p = tl.createFence(0x7fffffff)!;
    tl.inc(0xffffffff);
    assert.ok(p.isSignaled(), 'passed on the way');
    assert.equal(tl.value, 0xffffffff);
    p.put();
    tl.release();
  });

  test('closing the timeline completes pending points with -ENOENT', () => {
    const tl = new SyncTimeline('tl');
    const p = tl.createFence(10)!;
    const q = tl.createFence(1)!;
    tl.inc(1);
    tl.release();
    assert.ok(p.isSignaled());
    assert.equal(p.getStatus(), -ENOENT);
    assert.equal(q.getStatus(), 1);
    assert.ok(tl.refcount > 0, 'points keep the timeline');
    p.put();
    q.put();
    assert.equal(tl.refcount, 0, 'freed with the last point');
  });

  test('deadlines: the earliest is kept; -ENOENT without one; -EINVAL for other fences', () => {
    const tl = new SyncTimeline('tl');
    const p = tl.createFence(1)!;
    const out: Out<bigint> = { value: 0n };
    assert.equal(swSyncGetDeadline(p, out), -ENOENT);
    p.setDeadline(500n);
    p.setDeadline(900n);
    p.setDeadline(300n);
    assert.equal(swSyncGetDeadline(p, out), 0);
    assert.equal(out.value, 300n);
    const other: DmaFence = mockFence();
    assert.equal(swSyncGetDeadline(other, out), -EINVAL);
    other.put();
    p.put();
    tl.release();
  });

  test('createFence fails with null on ENOMEM', () => {
    const tl = new SyncTimeline('tl');
    failNthAlloc(1, ['slab']);
    try {
      assert.equal(tl.createFence(1), null);
    } finally {
      failAllocDisarm();
    }
    assert.equal(tl.refcount, 1);
    tl.release();
  });

  test('<debugfs>/sync/info', () => {
    const tl = new SyncTimeline('infotl');
    const p = tl.createFence(2)!;
    const text = syncInfoDebugfsShow();
    assert.match(text, /^objs:\n--------------\n/);
    // sync_print_fence() (Linux 6.12 drivers/dma-buf/sync_debug.c) appends sw_sync's
    // fence_value_str and timeline_value_str: ": <seqno> / <timeline value>".
    assert.ok(text.includes('infotl: 0\n  fence active: 2 / 0\n\n'), text);
    tl.signal(1);
    assert.ok(syncInfoDebugfsShow().includes('infotl: 1\n  fence active: 2 / 1\n\n'));
    assert.ok(text.endsWith('fences:\n--------------\n'));
    p.put();
    tl.release();
    assert.ok(!syncInfoDebugfsShow().includes('infotl'));
  });
});

describe('sw_sync ioctls work on the struct as copied in (drivers/dma-buf/sw_sync.c)', () => {
  const ioctl = (file: File, cmd: number, arg: Uint8Array, task: Task): number => file.fOp.unlockedIoctl!(file, cmd, arg, task) as number;

  test('SW_SYNC_IOC_CREATE_FENCE returns the caller\'s struct unchanged but for fence (name is not even read)', () => {
    const files = new FdTable();
    const task = new Task(files);
    const tl = swSyncOpen(task, O_RDWR);
    // sw_sync_ioctl_create_fence(): copy_from_user(&data); ...; data.fence = fd; copy_to_user(arg, &data, sizeof(data))
    const arg = sw_sync_create_fence_data.encode({ value: 5, name: new Uint8Array(32).fill(0xee), fence: -1234 });
    const before = arg.slice();
    assert.equal(ioctl(tl, SW_SYNC_IOC_CREATE_FENCE, arg, task), 0);
    const fd = sw_sync_create_fence_data.get(arg, 'fence');
    assert.ok(fd >= 0);
    sw_sync_create_fence_data.set(before, 'fence', fd);
    assert.deepEqual(arg, before);
    assert.equal(ioctl(tl, SW_SYNC_IOC_INC, __u32.encode(5), task), 0);
    files.closeAll();
    fput(tl);
  });

  test('SW_SYNC_GET_DEADLINE: deadline_ns and pad must be 0 (all 64 bits); the deadline comes back exactly, compared as a signed ktime_t', () => {
    const files = new FdTable();
    const task = new Task(files);
    const tl = swSyncOpen(task, O_RDWR);
    const create = sw_sync_create_fence_data.encode({ value: 1 });
    assert.equal(ioctl(tl, SW_SYNC_IOC_CREATE_FENCE, create, task), 0);
    const fence = sw_sync_create_fence_data.get(create, 'fence');
    const sf = files.lookup(fence)!;
    const setDeadline = (ns: bigint): number => ioctl(sf, SYNC_IOC_SET_DEADLINE, sync_set_deadline.encode({ deadline_ns: ns }), task);
    const get = (v: Parameters<typeof sw_sync_get_deadline.encode>[0] = {}): { ret: number; arg: Uint8Array } => {
      const arg = sw_sync_get_deadline.encode({ fence_fd: fence, ...v });
      return { ret: ioctl(tl, SW_SYNC_GET_DEADLINE, arg, task), arg };
    };
    assert.equal(get().ret, -ENOENT);
    assert.equal(get({ deadline_ns: 1n << 32n }).ret, -EINVAL, 'a deadline_ns with only high bits set is still non-zero');
    assert.equal(get({ pad: 1 }).ret, -EINVAL);
    assert.equal(setDeadline(2n ** 60n + 1n), 0);
    let r = get();
    assert.equal(r.ret, 0);
    assert.deepEqual(sw_sync_get_deadline.decode(r.arg), { deadline_ns: 2n ** 60n + 1n, pad: 0, fence_fd: fence }, 'exact above 2^53');
    assert.equal(setDeadline(2n ** 60n + 2n), 0);
    assert.equal(sw_sync_get_deadline.get(get().arg, 'deadline_ns'), 2n ** 60n + 1n, 'the earliest is kept');
    // ktime_before() is signed: bit 63 set is a negative ktime_t, earlier than any positive one.
    assert.equal(setDeadline(2n ** 63n + 5n), 0);
    r = get();
    assert.equal(sw_sync_get_deadline.get(r.arg, 'deadline_ns'), 2n ** 63n + 5n);
    files.closeAll();
    fput(tl);
  });
});
