/** dma_fence_array contract (drivers/dma-buf/dma-fence-array.c). */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { expectWarn } from '../../helpers/harness.js';
import { mockFence } from '../../helpers/mock-fence.js';
import { DmaFence, DmaFenceCb, dmaFenceContextAlloc } from '../../../src/kernel/fence/dma-fence.js';
import {
  DmaFenceArray, dmaFenceArrayCreate, dmaFenceArrayFirst, dmaFenceArrayForEach, dmaFenceArrayNext, dmaFenceIsArray,
  dmaFenceIsContainer, dmaFenceMatchContext, toDmaFenceArray,
} from '../../../src/kernel/fence/dma-fence-array.js';
import { DmaFenceChain } from '../../../src/kernel/fence/dma-fence-chain.js';
import { EIO, ETIME } from '../../../src/kernel/lib/errno.js';
import { failAllocDisarm, failNthAlloc } from '../../../src/kernel/lib/failslab.js';

function make(n: number, signalOnAny = false): { fences: DmaFence[]; array: DmaFenceArray } {
  const fences = Array.from({ length: n }, () => mockFence());
  const array = dmaFenceArrayCreate(fences.map((f) => f.get()), dmaFenceContextAlloc(1), 1, signalOnAny)!;
  return { fences, array };
}

function done(fences: DmaFence[], array: DmaFence): void {
  for (const f of fences) {
    f.signal();
    f.put();
  }
  array.put();
}

describe('dma_fence_array', () => {
  test('names, identity, and container checks', () => {
    const { fences, array } = make(2);
    assert.equal(array.driverName(), 'dma_fence_array');
    assert.equal(array.timelineName(), 'unbound');
    assert.ok(dmaFenceIsArray(array));
    assert.ok(dmaFenceIsContainer(array));
    assert.equal(toDmaFenceArray(fences[0]), null);
    assert.equal(array.numFences, 2);
    done(fences, array);
  });

  test('signals once every element has (all mode), via callbacks', () => {
    const { fences, array } = make(3);
    let fired = 0;
    assert.equal(array.addCallback(new DmaFenceCb(), () => void fired++), 0);
    fences[0].signal();
    fences[2].signal();
    assert.equal(array.isSignaled(), false);
    fences[1].signal();
    assert.equal(fired, 1);
    assert.equal(array.getStatus(), 1);
    done(fences, array);
  });

  test('signal_on_any: the first element signals the array', () => {
    const { fences, array } = make(3, true);
    assert.equal(array.numPending, 1);
    array.enableSwSignaling();
    fences[1].signal();
    assert.ok(array.testSignaledFlag());
    done(fences, array);
  });

  test('signaled() polls the elements when signaling is not enabled', () => {
    const { fences, array } = make(2);
    fences[0].signal();
    assert.equal(array.isSignaled(), false);
    fences[1].signal();
    assert.equal(array.isSignaled(), true);
    assert.equal(array.getStatus(), 1, 'the pending-error sentinel is cleared');
    done(fences, array);
  });

  test('signal_on_any signaled() polls for any element', () => {
    const { fences, array } = make(3, true);
    assert.equal(array.isSignaled(), false);
    fences[2].signal();
    assert.equal(array.isSignaled(), true);
    done(fences, array);
  });

  test('the first error of an element becomes the array error', () => {
    const { fences, array } = make(3);
    array.enableSwSignaling();
    fences[1].setError(-EIO);
    fences[1].signal();
    fences[0].setError(-ETIME);
    fences[0].signal();
    fences[2].signal();
    assert.equal(array.getStatus(), -EIO);
    done(fences, array);
  });

  test('elements already signaled at enable time count (and propagate errors)', () => {
    const { fences, array } = make(2);
    fences[0].setError(-EIO);
    fences[0].signal();
    fences[1].signal();
    const cb = new DmaFenceCb();
    assert.notEqual(array.addCallback(cb, () => {}), 0, 'enable_signaling returned false: the array signaled at once');
    assert.equal(array.getStatus(), -EIO);
    done(fences, array);
  });

  test('an array is pending (status 0) until it signals, though it carries a sentinel', () => {
    const { fences, array } = make(1);
    assert.equal(array.getStatus(), 0);
    done(fences, array);
  });

  test('each pending element callback holds the array: it outlives its last put', () => {
    const { fences, array } = make(2);
    let fired = 0;
    array.addCallback(new DmaFenceCb(), () => void fired++);
    array.put();
    assert.ok(array.refcount > 0, 'callbacks keep it alive');
    fences[0].signal();
    fences[1].signal();
    assert.equal(fired, 1);
    assert.equal(array.refcount, 0, 'released after the last callback');
    for (const f of fences) f.put();
  });

  test('empty arrays and container elements WARN', async () => {
    await expectWarn(() => dmaFenceArrayCreate([], dmaFenceContextAlloc(1), 1, false)!.put(), 1);
    const f = mockFence();
    const inner = dmaFenceArrayCreate([f.get()], dmaFenceContextAlloc(1), 1, false)!;
    const chain = new DmaFenceChain(null, f.get(), 1);
    const outer = await expectWarn(() => dmaFenceArrayCreate([inner, chain], dmaFenceContextAlloc(1), 1, false)!, 2);
    outer.put();
    f.signal();
    f.put();
  });

  test('create fails with null on ENOMEM, leaving the references with the caller', () => {
    const f = mockFence();
    failNthAlloc(1, ['slab']);
    try {
      assert.equal(dmaFenceArrayCreate([f], dmaFenceContextAlloc(1), 1, false), null);
    } finally {
      failAllocDisarm();
    }
    assert.equal(f.refcount, 1);
    f.put();
  });

  test('the seqno is 32-bit', () => {
    const f = mockFence();
    const a = dmaFenceArrayCreate([f], dmaFenceContextAlloc(1), 2 ** 32 + 5, false)!;
    assert.equal(a.seqno, 5);
    a.put();
  });

  test('first / next / for_each', () => {
    const { fences, array } = make(3);
    assert.equal(dmaFenceArrayFirst(null), null);
    assert.equal(dmaFenceArrayFirst(fences[0]), fences[0], 'a plain fence is its own first');
    assert.equal(dmaFenceArrayFirst(array), fences[0]);
    assert.equal(dmaFenceArrayNext(array, 2), fences[2]);
    assert.equal(dmaFenceArrayNext(array, 3), null);
    assert.equal(dmaFenceArrayNext(fences[0], 1), null);
    assert.deepEqual([...dmaFenceArrayForEach(array)], fences);
    assert.deepEqual([...dmaFenceArrayForEach(fences[1])], [fences[1]]);
    done(fences, array);
  });

  test('dma_fence_match_context', () => {
    const ctx = dmaFenceContextAlloc(1);
    const a = mockFence(ctx, 1);
    const b = mockFence(ctx, 2);
    const c = mockFence(ctx + 1000, 1);
    const same = dmaFenceArrayCreate([a.get(), b.get()], dmaFenceContextAlloc(1), 1, false)!;
    const mixed = dmaFenceArrayCreate([a.get(), c.get()], dmaFenceContextAlloc(1), 1, false)!;
    assert.ok(dmaFenceMatchContext(a, ctx));
    assert.ok(!dmaFenceMatchContext(c, ctx));
    assert.ok(dmaFenceMatchContext(same, ctx));
    assert.ok(!dmaFenceMatchContext(mixed, ctx));
    for (const f of [same, mixed, a, b, c]) f.put();
  });

  test('set_deadline reaches every element', () => {
    const seen: bigint[] = [];
    const ops = { getDriverName: () => 'd', getTimelineName: () => 't', setDeadline: (_f: DmaFence, d: bigint) => void seen.push(d) };
    const fences = [new DmaFence(ops, 0, 0), new DmaFence(ops, 0, 0)];
    const array = dmaFenceArrayCreate(fences, dmaFenceContextAlloc(1), 1, false)!;
    array.setDeadline(777n);
    assert.deepEqual(seen, [777n, 777n]);
    for (const f of fences) f.signal();
    array.put();
  });
});
