/**
 * Port of drivers/dma-buf/st-dma-fence-unwrap.c (suite
 * "dma-buf-fence-unwrap", the version with the merge subtests), every
 * subtest under its original name, asserting what the original asserts.
 * Mock fences get a fresh context each and seqno 1 unless given.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import './../helpers/harness.js';
import { mockFence as rawMockFence } from '../helpers/mock-fence.js';
import { DmaFence, dmaFenceContextAlloc, dmaFenceGetStub } from '../../src/kernel/fence/dma-fence.js';
import { dmaFenceArrayCreate } from '../../src/kernel/fence/dma-fence-array.js';
import { DmaFenceChain } from '../../src/kernel/fence/dma-fence-chain.js';
import { dmaFenceUnwrapForEach, dmaFenceUnwrapMerge } from '../../src/kernel/fence/dma-fence-unwrap.js';

/** __mock_fence(context, seqno) */
const mockFenceAt = (context: number, seqno: number): DmaFence => rawMockFence(context, seqno);
/** mock_fence(): a fresh context, seqno 1 */
const mockFence = (): DmaFence => mockFenceAt(dmaFenceContextAlloc(1), 1);

/** mock_array(num, ...): consumes the references. */
function mockArray(...fences: DmaFence[]): DmaFence {
  const array = dmaFenceArrayCreate(fences, dmaFenceContextAlloc(1), 1, false);
  assert.ok(array);
  return array;
}

/** mock_chain(prev, fence): consumes the references, seqno 1. */
function mockChain(prev: DmaFence | null, fence: DmaFence): DmaFence {
  return new DmaFenceChain(prev, fence, 1);
}

/** What dma_fence_unwrap_for_each yields, in order. */
function leaves(head: DmaFence): DmaFence[] {
  return [...dmaFenceUnwrapForEach(head)];
}

describe('dma-buf-fence-unwrap', () => {
  test('sanitycheck', () => {
    const f = mockFence();
    const array = mockArray(f);
    const chain = mockChain(null, array);
    f.signal();
    chain.put();
  });

  test('unwrap_array', () => {
    const f1 = mockFence();
    const f2 = mockFence();
    const array = mockArray(f1, f2);
    const seen = leaves(array);
    assert.equal(seen.length, 2, 'Unexpected fence!');
    assert.ok(seen.includes(f1) && seen.includes(f2), 'Not all fences seen!');
    f1.signal();
    f2.signal();
    array.put();
  });

  test('unwrap_chain', () => {
    const f1 = mockFence();
    const f2 = mockFence();
    const chain = mockChain(f1, f2);
    const seen = leaves(chain);
    assert.equal(seen.length, 2, 'Unexpected fence!');
    assert.ok(seen.includes(f1) && seen.includes(f2), 'Not all fences seen!');
    f1.signal();
    f2.signal();
    chain.put();
  });

  test('unwrap_chain_array', () => {
    const f1 = mockFence();
    const f2 = mockFence();
    const array = mockArray(f1, f2);
    const chain = mockChain(null, array);
    const seen = leaves(chain);
    assert.equal(seen.length, 2, 'Unexpected fence!');
    assert.ok(seen.includes(f1) && seen.includes(f2), 'Not all fences seen!');
    f1.signal();
    f2.signal();
    chain.put();
  });

  test('unwrap_merge', () => {
    const f1 = mockFence();
    f1.enableSwSignaling();
    const f2 = mockFence();
    f2.enableSwSignaling();
    const f3 = dmaFenceUnwrapMerge(f1, f2);
    assert.ok(f3);
    const seen = leaves(f3);
    assert.equal(seen.length, 2, 'Unexpected fence!');
    assert.ok(seen.includes(f1) && seen.includes(f2), 'Not all fences seen!');
    f3.put();
    f2.put();
    f1.put();
  });

  test('unwrap_merge_duplicate', () => {
    const f1 = mockFence();
    f1.enableSwSignaling();
    const f2 = dmaFenceUnwrapMerge(f1, f1);
    assert.ok(f2);
    assert.deepEqual(leaves(f2), [f1], 'exactly f1, once');
    f2.put();
    f1.put();
  });

  test('unwrap_merge_seqno', () => {
    const ctx = [dmaFenceContextAlloc(1), dmaFenceContextAlloc(1)];
    const f1 = mockFenceAt(ctx[1], 1);
    f1.enableSwSignaling();
    const f2 = mockFenceAt(ctx[1], 2);
    f2.enableSwSignaling();
    const f3 = mockFenceAt(ctx[0], 1);
    f3.enableSwSignaling();
    const f4 = dmaFenceUnwrapMerge(f1, f2, f3);
    assert.ok(f4);
    // f3 (context 0) first, then f2, the later of context 1; f1 dropped.
    assert.deepEqual(leaves(f4), [f3, f2]);
    f4.put();
    f3.put();
    f2.put();
    f1.put();
  });

  test('unwrap_merge_order', () => {
    const f1 = mockFence();
    f1.enableSwSignaling();
    const f2 = mockFence();
    f2.enableSwSignaling();
    const a1 = mockArray(f1, f2);
    const c1 = mockChain(null, f1.get());
    const c2 = mockChain(c1, f2.get());
    // The chain holds the fences in the opposite order; merge sorts them.
    const a2 = dmaFenceUnwrapMerge(a1, c2);
    assert.ok(a2);
    assert.deepEqual(leaves(a2), [f1, f2], 'Unexpected order!');
    a2.put();
    a1.put();
    c2.put();
  });

  test('unwrap_merge_complex', () => {
    const f1 = mockFence();
    f1.enableSwSignaling();
    const f2 = mockFence();
    f2.enableSwSignaling();
    const f3 = dmaFenceUnwrapMerge(f1, f2);
    assert.ok(f3);
    // The resulting array has the fences in reverse
    const f4 = mockArray(f2.get(), f1.get());
    // Signaled fences should be filtered, the two arrays merged.
    const stub = dmaFenceGetStub();
    const f5 = dmaFenceUnwrapMerge(f3, f4, stub);
    stub.put();
    assert.ok(f5);
    const seen = leaves(f5);
    assert.equal(seen.length, 2, 'Unexpected fence!');
    assert.ok(seen.includes(f1) && seen.includes(f2), 'Not all fences seen!');
    f5.put();
    f4.put();
    f3.put();
    f2.put();
    f1.put();
  });

  test('unwrap_merge_complex_seqno', () => {
    const ctx = [dmaFenceContextAlloc(1), dmaFenceContextAlloc(1)];
    const f1 = mockFenceAt(ctx[0], 2);
    f1.enableSwSignaling();
    const f2 = mockFenceAt(ctx[1], 1);
    f2.enableSwSignaling();
    const f3 = mockFenceAt(ctx[0], 1);
    f3.enableSwSignaling();
    const f4 = mockFenceAt(ctx[1], 2);
    f4.enableSwSignaling();
    const f5 = mockArray(f1.get(), f2.get());
    const f6 = mockArray(f3.get(), f4.get());
    const f7 = dmaFenceUnwrapMerge(f5, f6);
    assert.ok(f7);
    assert.deepEqual(leaves(f7), [f1, f4]);
    f7.put();
    f6.put();
    f5.put();
    f4.put();
    f3.put();
    f2.put();
    f1.put();
  });
});
