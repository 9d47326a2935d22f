/** dma_fence_chain contract (drivers/dma-buf/dma-fence-chain.c). */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { expectWarn } from '../../helpers/harness.js';
import { mockFence } from '../../helpers/mock-fence.js';
import { DmaFence, DmaFenceCb, DMA_FENCE_FLAG_SEQNO64_BIT } from '../../../src/kernel/fence/dma-fence.js';
import {
  DmaFenceChain, dmaFenceChainContained, dmaFenceChainCreate, dmaFenceChainFindSeqno, dmaFenceChainForEach,
  dmaFenceChainWalk, dmaFenceIsChain,
} from '../../../src/kernel/fence/dma-fence-chain.js';
import { EINVAL } from '../../../src/kernel/lib/errno.js';
import { failAllocDisarm, failNthAlloc } from '../../../src/kernel/lib/failslab.js';
import type { Out } from '../../../src/kernel/lib/out.js';

describe('dma_fence_chain', () => {
  test('names, 64-bit seqnos, contained fence', () => {
    const f = mockFence();
    const c = new DmaFenceChain(null, f.get(), 1);
    assert.equal(c.driverName(), 'dma_fence_chain');
    assert.equal(c.timelineName(), 'unbound');
    assert.ok(c.flags & (1 << DMA_FENCE_FLAG_SEQNO64_BIT));
    assert.ok(dmaFenceIsChain(c));
    assert.equal(dmaFenceChainContained(c), f);
    assert.equal(dmaFenceChainContained(f), f);
    f.signal();
    f.put();
    c.put();
  });

  test('a later seqno reuses the previous node\'s context and records prev_seqno', () => {
    const f1 = mockFence();
    const f2 = mockFence();
    const c1 = new DmaFenceChain(null, f1.get(), 10);
    const c2 = new DmaFenceChain(c1.get(), f2.get(), 20);
    assert.equal(c2.context, c1.context);
    assert.equal(c2.prevSeqno, 10);
    // Not later: a new context, and the seqno never goes below prev's.
    const f3 = mockFence();
    const c3 = new DmaFenceChain(c2.get(), f3.get(), 5);
    assert.notEqual(c3.context, c2.context);
    assert.equal(c3.seqno, 20);
    assert.equal(c3.prevSeqno, 0);
    for (const f of [f1, f2, f3]) {
      f.signal();
      f.put();
    }
    for (const c of [c1, c2, c3]) c.put();
  });

  test('64-bit seqnos beyond 2^32 keep the context', () => {
    const f1 = mockFence();
    const f2 = mockFence();
    const c1 = new DmaFenceChain(null, f1.get(), 2 ** 32 - 1);
    const c2 = new DmaFenceChain(c1.get(), f2.get(), 2 ** 32 + 1);
    assert.equal(c2.context, c1.context, 'no 32-bit wrap for chains');
    for (const f of [f1, f2]) {
      f.signal();
      f.put();
    }
    c2.put();
    c1.put();
  });

  test('a chain as the contained fence WARNs', async () => {
    const f = mockFence();
    const inner = new DmaFenceChain(null, f.get(), 1);
    const outer = await expectWarn(() => new DmaFenceChain(null, inner, 2), 1);
    f.signal();
    f.put();
    outer.put();
  });

  test('create fails with null on ENOMEM', () => {
    const f = mockFence();
    failNthAlloc(1, ['slab']);
    try {
      assert.equal(dmaFenceChainCreate(null, f, 1), null);
    } finally {
      failAllocDisarm();
    }
    f.put();
  });

  test('a node signals only when its fence and every earlier one have', () => {
    const f1 = mockFence();
    const f2 = mockFence();
    const c1 = new DmaFenceChain(null, f1.get(), 1);
    const c2 = new DmaFenceChain(c1.get(), f2.get(), 2);
    let fired = 0;
    c2.addCallback(new DmaFenceCb(), () => void fired++);
    f2.signal();
    assert.equal(fired, 0);
    assert.equal(c2.isSignaled(), false);
    f1.signal();
    assert.equal(fired, 1);
    for (const f of [f1, f2]) f.put();
    c2.put();
    c1.put();
  });

  test('walk: a non-chain gives null (and drops the reference)', () => {
    const f = mockFence();
    f.get();
    assert.equal(dmaFenceChainWalk(f), null);
    assert.equal(f.refcount, 1);
    f.put();
  });

  test('walk collects signaled links', () => {
    const fences = [mockFence(), mockFence(), mockFence()];
    let tail: DmaFence | null = null;
    const chains: DmaFenceChain[] = [];
    for (let i = 0; i < 3; i++) {
      const c: DmaFenceChain = new DmaFenceChain(tail ? tail.get() : null, fences[i].get(), i + 1);
      chains.push(c);
      tail = c;
    }
    fences[1].signal();
    const next = dmaFenceChainWalk(chains[2].get());
    assert.equal(next, chains[0], 'the signaled middle link is skipped');
    assert.equal(chains[2].prev, chains[0], 'and cut out');
    next!.put();
    for (const f of fences) {
      f.signal();
      f.put();
    }
    for (const c of chains) c.put();
  });

  test('for_each yields each pending node from the head', () => {
    const fences = [mockFence(), mockFence()];
    const c1 = new DmaFenceChain(null, fences[0].get(), 1);
    const c2 = new DmaFenceChain(c1.get(), fences[1].get(), 2);
    assert.deepEqual([...dmaFenceChainForEach(c2)], [c2, c1]);
    for (const f of fences) {
      f.signal();
      f.put();
    }
    c2.put();
    c1.put();
  });

  test('find_seqno: not a chain, or a future seqno, is -EINVAL; seqno 0 is a no-op', () => {
    const f = mockFence();
    const p: Out<DmaFence | null> = { value: f };
    assert.equal(dmaFenceChainFindSeqno(p, 1), -EINVAL);
    assert.equal(dmaFenceChainFindSeqno(p, 0), 0);
    assert.equal(p.value, f);
    const c = new DmaFenceChain(null, f.get(), 3);
    const q: Out<DmaFence | null> = { value: c.get() };
    assert.equal(dmaFenceChainFindSeqno(q, 4), -EINVAL);
    assert.equal(q.value, c);
    q.value!.put();
    f.signal();
    f.put();
    c.put();
  });

  test('releasing a 100k-node chain does not recurse', () => {
    let tail: DmaFence | null = null;
    const fence = mockFence();
    for (let i = 1; i <= 100_000; i++) tail = new DmaFenceChain(tail, fence.get(), i);
    tail!.put();
    assert.equal(fence.refcount, 1, 'every node released its fence reference');
    fence.put();
  });

  test('set_deadline reaches every contained fence', () => {
    const seen: bigint[] = [];
    const ops = { getDriverName: () => 'd', getTimelineName: () => 't', setDeadline: (_f: DmaFence, d: bigint) => void seen.push(d) };
    const f1 = new DmaFence(ops, 0, 0);
    const f2 = new DmaFence(ops, 0, 0);
    const c1 = new DmaFenceChain(null, f1, 1);
    const c2 = new DmaFenceChain(c1, f2, 2);
    c2.setDeadline(99n);
    assert.deepEqual(seen, [99n, 99n]);
    f1.signal();
    f2.signal();
    c2.put();
  });
});
