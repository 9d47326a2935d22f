/**
 * Port of drivers/dma-buf/st-dma-resv.c (suite "dma-buf-resv"), the 5.19+
 * version where every case but sanitycheck runs once per usage (KUnit's
 * parameter descriptions: kernel, write, read, bookkeep). The 5.16 version
 * ran the same cases as excl/shared pairs; the usage model replaced that
 * split. Fences: driver and timeline "selftest", context 0, seqno 0.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import '../helpers/harness.js';
import { DmaFence, type DmaFenceOps } from '../../src/kernel/fence/dma-fence.js';
import {
  DmaResv, DmaResvIter, type DmaResvList, type DmaResvUsage, dmaResvForEachFence,
  DMA_RESV_USAGE_BOOKKEEP, DMA_RESV_USAGE_KERNEL, DMA_RESV_USAGE_READ, DMA_RESV_USAGE_WRITE,
} from '../../src/kernel/resv/dma-resv.js';
import { ENOENT, EINVAL } from '../../src/kernel/lib/errno.js';
import type { Out } from '../../src/kernel/lib/out.js';

const fenceOps: DmaFenceOps = { getDriverName: () => 'selftest', getTimelineName: () => 'selftest' };
const allocFence = (): DmaFence => new DmaFence(fenceOps, 0, 0);

const usages: [string, DmaResvUsage][] = [
  ['kernel', DMA_RESV_USAGE_KERNEL],
  ['write', DMA_RESV_USAGE_WRITE],
  ['read', DMA_RESV_USAGE_READ],
  ['bookkeep', DMA_RESV_USAGE_BOOKKEEP],
];

/** lock, reserve one slot, add f with `usage` (the common preamble) */
async function resvWith(f: DmaFence, usage: DmaResvUsage): Promise<DmaResv> {
  const resv = new DmaResv();
  assert.equal(await resv.lockResv(null), 0, 'Resv locking failed');
  assert.equal(resv.reserveFences(1), 0, 'Resv shared slot allocation failed');
  resv.addFence(f, usage);
  return resv;
}

describe('dma-buf-resv', () => {
  test('sanitycheck', async () => {
    const f = allocFence();
    f.signal();
    f.put();
    const resv = new DmaResv();
    const r = await resv.lockResv(null);
    assert.equal(r, 0, 'Resv locking failed');
    resv.unlock();
    resv.fini();
  });

  for (const [name, usage] of usages) {
    test(`test_signaling (${name})`, async () => {
      const f = allocFence();
      const resv = await resvWith(f, usage);
      assert.equal(resv.testSignaled(usage), false, 'Resv unexpectedly signaled');
      f.signal();
      assert.equal(resv.testSignaled(usage), true, 'Resv not reporting signaled');
      resv.unlock();
      resv.fini();
      f.put();
    });

    test(`test_for_each (${name})`, async () => {
      const f = allocFence();
      const resv = await resvWith(f, usage);
      let r = -ENOENT;
      for (const [fence, fenceUsage] of dmaResvForEachFence(resv, usage)) {
        assert.notEqual(r, 0, 'More than one fence found');
        assert.equal(fence, f, 'Unexpected fence');
        assert.equal(fenceUsage, usage, 'Unexpected fence usage');
        r = 0;
      }
      assert.equal(r, 0, 'No fence found');
      f.signal();
      resv.unlock();
      resv.fini();
      f.put();
    });

    test(`test_for_each_unlocked (${name})`, async () => {
      const f = allocFence();
      const resv = await resvWith(f, usage);
      resv.unlock();
      let r = -ENOENT;
      const cursor = new DmaResvIter(resv, usage);
      for (let fence = cursor.firstUnlocked(); fence; fence = cursor.nextUnlocked()) {
        assert.notEqual(r, 0, 'More than one fence found');
        assert.ok(cursor.isRestarted(), 'No restart flag');
        assert.equal(fence, f, 'Unexpected fence');
        assert.equal(cursor.iterUsage(), usage, 'Unexpected fence usage');
        // We use r as state here
        if (r === -ENOENT) {
          r = -EINVAL;
          // That should trigger a restart
          cursor.fences = {} as DmaResvList;
        } else if (r === -EINVAL) {
          r = 0;
        }
      }
      assert.equal(r, 0, 'No fence found');
      cursor.end();
      f.signal();
      resv.fini();
      f.put();
    });

    test(`test_get_fences (${name})`, async () => {
      const f = allocFence();
      const resv = await resvWith(f, usage);
      resv.unlock();
      const fences: Out<DmaFence[]> = { value: [] };
      const r = resv.getFences(usage, fences);
      assert.equal(r, 0, 'get_fences failed');
      assert.ok(fences.value.length === 1 && fences.value[0] === f, 'get_fences returned unexpected fence');
      f.signal();
      for (const x of fences.value) x.put();
      resv.fini();
      f.put();
    });
  }
});
