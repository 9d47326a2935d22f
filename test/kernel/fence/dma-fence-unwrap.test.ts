/** dma_fence_unwrap_merge edge cases and dedup (drivers/dma-buf/dma-fence-unwrap.c). */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import '../../helpers/harness.js';
import { mockFence } from '../../helpers/mock-fence.js';
import { DmaFence, dmaFenceContextAlloc, dmaFenceGetStub } from '../../../src/kernel/fence/dma-fence.js';
import { dmaFenceArrayCreate, dmaFenceIsArray } from '../../../src/kernel/fence/dma-fence-array.js';
import { dmaFenceDedupArray, dmaFenceUnwrapForEach, dmaFenceUnwrapMerge } from '../../../src/kernel/fence/dma-fence-unwrap.js';
import { failAllocDisarm, failNthAlloc } from '../../../src/kernel/lib/failslab.js';

describe('dma_fence_unwrap_merge', () => {
  test('only signaled inputs: a new private stub with the latest signal time', () => {
    const a = mockFence(dmaFenceContextAlloc(1), 1);
    const b = mockFence(dmaFenceContextAlloc(1), 1);
    a.signal();
    b.signalTimestamp(a.timestamp + 1000);
    const stub = dmaFenceGetStub();
    const m = dmaFenceUnwrapMerge(a, b, stub)!;
    stub.put();
    assert.ok(m.isSignaled());
    assert.equal(m.getTimestamp(), a.timestamp + 1000, 'the latest of the inputs (the global stub signaled at boot)');
    assert.notEqual(m, stub, 'not the global stub');
    for (const f of [m, a, b]) f.put();
  });

  test('one pending leaf is returned itself', () => {
    const a = mockFence(dmaFenceContextAlloc(1), 1);
    const b = mockFence(dmaFenceContextAlloc(1), 1);
    b.signal();
    const m = dmaFenceUnwrapMerge(a, b);
    assert.equal(m, a);
    assert.equal(a.refcount, 2, 'with a new reference');
    for (const f of [m!, a, b]) f.put();
  });

  test('allocation failure gives null and leaves nothing behind', () => {
    const a = mockFence(dmaFenceContextAlloc(1), 1);
    const b = mockFence(dmaFenceContextAlloc(1), 1);
    for (let nth = 1; nth <= 2; nth++) {
      failNthAlloc(nth, ['slab']);
      try {
        assert.equal(dmaFenceUnwrapMerge(a, b), null, `allocation ${nth} fails`);
      } finally {
        failAllocDisarm();
      }
      assert.equal(a.refcount, 1);
      assert.equal(b.refcount, 1);
    }
    for (const f of [a, b]) f.put();
  });

  test('the result is an array of the latest pending fence per context, sorted by context', () => {
    const c1 = dmaFenceContextAlloc(1);
    const c2 = dmaFenceContextAlloc(1);
    const fs = [mockFence(c2, 5), mockFence(c1, 3), mockFence(c2, 9), mockFence(c1, 1)];
    const arr = dmaFenceArrayCreate(fs.slice(0, 2).map((f) => f.get()), dmaFenceContextAlloc(1), 1, false)!;
    const m = dmaFenceUnwrapMerge(arr, fs[2], fs[3])!;
    assert.ok(dmaFenceIsArray(m));
    assert.deepEqual([...dmaFenceUnwrapForEach(m)], [fs[1], fs[2]]);
    for (const f of [m, arr, ...fs]) f.put();
  });

  test('dedup_array keeps the latest per context, 32-bit wrap-aware', () => {
    const ctx = dmaFenceContextAlloc(1);
    const early = mockFence(ctx, 0xfffffffe);
    const late = mockFence(ctx, 1); // wrapped: later
    const other = mockFence(ctx - 0, 0xffffffff);
    const arr: DmaFence[] = [early.get(), late.get(), other.get()];
    assert.equal(dmaFenceDedupArray(arr), 1);
    assert.deepEqual(arr, [late]);
    late.put();
    for (const f of [early, late, other]) f.put();
  });
});
