/** sw_sync timelines (drivers/dma-buf/sw_sync.c, sync_debug.c). */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import '../../helpers/harness.js';
import { mockFence } from '../../helpers/mock-fence.js';
import { DmaFence, DmaFenceCb } from '../../../src/kernel/fence/dma-fence.js';
import { SyncTimeline, swSyncGetDeadline, syncInfoDebugfsShow } from '../../../src/kernel/sync/sw-sync.js';
import { EINVAL, ENOENT } from '../../../src/kernel/lib/errno.js';
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
    const out: Out<number> = { value: 0 };
    assert.equal(swSyncGetDeadline(p, out), -ENOENT);
    p.setDeadline(500);
    p.setDeadline(900);
    p.setDeadline(300);
    assert.equal(swSyncGetDeadline(p, out), 0);
    assert.equal(out.value, 300);
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
    assert.ok(text.includes('infotl: 0\n  fence active\n\n'), text);
    assert.ok(text.endsWith('fences:\n--------------\n'));
    p.put();
    tl.release();
    assert.ok(!syncInfoDebugfsShow().includes('infotl'));
  });
});
