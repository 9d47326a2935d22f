/** sync_file kernel object (drivers/dma-buf/sync_file.c). */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { expectWarn } from '../../helpers/harness.js';
import { DmaFence, type DmaFenceOps, dmaFenceContextAlloc } from '../../../src/kernel/fence/dma-fence.js';
import { SyncFile } from '../../../src/kernel/sync/sync-file.js';
import { EIO } from '../../../src/kernel/lib/errno.js';
import { failAllocDisarm, failNthAlloc } from '../../../src/kernel/lib/failslab.js';

const ops: DmaFenceOps = { getDriverName: () => 'drv', getTimelineName: () => 'tl' };
const fence = (ctx = dmaFenceContextAlloc(1), seqno = 1): DmaFence => new DmaFence(ops, ctx, seqno);

describe('sync_file', () => {
  test('create takes its own reference; the file\'s last reference drops it; a second release WARNs', async () => {
    const f = fence();
    const sf = SyncFile.create(f)!;
    assert.equal(f.refcount, 2);
    assert.equal(sf.file.name, 'sync_file');
    const got = sf.getFence();
    assert.equal(got, f);
    got.put();
    sf.release();
    assert.equal(f.refcount, 1);
    await expectWarn(() => sf.release(), 1);
    assert.equal(f.refcount, 1);
    f.put();
  });

  test('name: driver-timelineCONTEXT-SEQNO, cut to 31 bytes', () => {
    const f = fence(42, 7);
    const sf = SyncFile.create(f)!;
    assert.equal(sf.getName(), 'drv-tl42-7');
    const long = new DmaFence({ getDriverName: () => 'a-very-long-driver-name', getTimelineName: () => 'and-a-long-timeline' }, 1234, 5);
    const sf2 = SyncFile.create(long)!;
    assert.equal(sf2.getName(), 'a-very-long-driver-name-and-a-l');
    assert.equal(sf2.getName().length, 31);
    sf.release();
    sf2.release();
    f.put();
    long.put();
  });

  test('merge: the user name (cut to 31 bytes) and a fence for both', () => {
    const a = fence();
    const b = fence();
    const sa = SyncFile.create(a)!;
    const sb = SyncFile.create(b)!;
    const m = SyncFile.merge('x'.repeat(40), sa, sb)!;
    assert.equal(m.getName(), 'x'.repeat(31));
    assert.equal(m.numFences(), 2);
    a.signal();
    assert.equal(m.fence.isSignaled(), false);
    b.signal();
    assert.equal(m.fence.isSignaled(), true);
    for (const s of [sa, sb, m]) s.release();
    a.put();
    b.put();
  });

  test('merge with itself dedups; merge fails with null on ENOMEM', () => {
    const a = fence();
    const sa = SyncFile.create(a)!;
    const m = SyncFile.merge('self', sa, sa)!;
    assert.equal(m.fence, a);
    m.release();
    for (let nth = 1; nth <= 2; nth++) {
      failNthAlloc(nth, ['slab']);
      try {
        assert.equal(SyncFile.merge('n', sa, sa), null);
      } finally {
        failAllocDisarm();
      }
    }
    assert.equal(a.refcount, 2);
    sa.release();
    a.signal();
    a.put();
  });

  test('info: without fences only the whole status; with fences one record per leaf', () => {
    const a = fence(11, 1);
    const b = fence(12, 1);
    const sa = SyncFile.create(a)!;
    const sb = SyncFile.create(b)!;
    const m = SyncFile.merge('m', sa, sb)!;
    assert.deepEqual(m.info(false), { name: 'm', status: 0, flags: 0, numFences: 2, fences: null });
    b.setError(-EIO);
    b.signalTimestamp(555);
    let info = m.info(true);
    assert.equal(info.numFences, 2);
    assert.equal(info.status, 0, 'the first leaf that is pending decides');
    assert.deepEqual(info.fences, [
      { objName: 'tl', driverName: 'drv', status: 0, flags: 0, timestampNs: 0 },
      { objName: 'tl', driverName: 'drv', status: -EIO, flags: 0, timestampNs: 555 },
    ]);
    a.signalTimestamp(444);
    info = m.info(true);
    assert.equal(info.status, -EIO, 'a failed leaf decides once nothing before it is pending');
    // The merged array never had signaling enabled, so dma_fence_array_signaled()
    // polls the elements and clears the pending-error sentinel to 0 without
    // collecting their errors (drivers/dma-buf/dma-fence-array.c): status 1.
    assert.equal(m.info(false).status, 1);
    for (const s of [sa, sb, m]) s.release();
    a.put();
    b.put();
  });

  test('create fails with null on ENOMEM', () => {
    const a = fence();
    failNthAlloc(1, ['slab']);
    try {
      assert.equal(SyncFile.create(a), null);
    } finally {
      failAllocDisarm();
    }
    assert.equal(a.refcount, 1);
    a.put();
  });
});
