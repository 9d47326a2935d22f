/**
 * Port of drivers/dma-buf/st-dma-fence-chain.c (suite "dma-buf-fence-chain"),
 * every subtest under its original name, asserting what the original
 * asserts. As in the newer versions of the file, fence_chains_init() enables
 * signaling on every node.
 *
 * Concurrency: kthreads become async tasks of the one kernel thread
 * (DESIGN.md) that yield between steps, so find_race interleaves lookups
 * and signals, and the wait_* tests really block a waiter while the main
 * task signals.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sleep, yieldNow } from '../helpers/harness.js';
import { mockFence } from '../helpers/mock-fence.js';
import { DmaFence, dmaFenceGet } from '../../src/kernel/fence/dma-fence.js';
import { DmaFenceChain, dmaFenceChainFindSeqno } from '../../src/kernel/fence/dma-fence-chain.js';
import type { Out } from '../../src/kernel/lib/out.js';

const CHAIN_SZ = 4 << 10;

/** mock_chain(): takes its own references on prev and fence. */
function mockChain(prev: DmaFence | null, fence: DmaFence, seqno: number): DmaFence {
  return new DmaFenceChain(dmaFenceGet(prev), fence.get(), seqno);
}

interface FenceChains {
  chainLength: number;
  fences: DmaFence[];
  chains: DmaFence[];
  tail: DmaFence | null;
}

const seqnoInc = (i: number): number => i + 1;
const seqnoInc2 = (i: number): number => 2 * i + 2;

function fenceChainsInit(count: number, seqnoFn: (i: number) => number): FenceChains {
  const fc: FenceChains = { chainLength: 0, fences: [], chains: [], tail: null };
  for (let i = 0; i < count; i++) {
    fc.fences[i] = mockFence();
    fc.chains[i] = mockChain(fc.tail, fc.fences[i], seqnoFn(i));
    fc.tail = fc.chains[i];
    fc.chains[i].enableSwSignaling();
  }
  fc.chainLength = count;
  return fc;
}

function fenceChainsFini(fc: FenceChains): void {
  for (let i = 0; i < fc.chainLength; i++) {
    fc.fences[i].signal();
    fc.fences[i].put();
  }
  for (let i = 0; i < fc.chainLength; i++) fc.chains[i].put();
}

/** find_seqno on a new reference to `start`; returns the error and the fence found (reference dropped, as the original does). */
function find(start: DmaFence | null, seqno: number): { err: number; fence: DmaFence | null } {
  const p: Out<DmaFence | null> = { value: dmaFenceGet(start) };
  const err = dmaFenceChainFindSeqno(p, seqno);
  p.value?.put();
  return { err, fence: p.value };
}

/** Run `task` as a kthread and fail (instead of hanging) if it does not finish in `ms`. */
async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: timed out after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, t]);
  } finally {
    clearTimeout(timer);
  }
}

describe('dma-buf-fence-chain', () => {
  test('sanitycheck', () => {
    const f = mockFence();
    const chain = mockChain(null, f, 1);
    f.signal();
    f.put();
    chain.put();
  });

  test('find_seqno', () => {
    const fc = fenceChainsInit(64, seqnoInc);
    try {
      let r = find(fc.tail, 0);
      assert.equal(r.err, 0, `Reported ${r.err} for find_seqno(0)!`);
      for (let i = 0; i < fc.chainLength; i++) {
        r = find(fc.tail, i + 1);
        assert.equal(r.err, 0, `Reported ${r.err} for find_seqno(${fc.chainLength + 1}:${i + 1})!`);
        assert.equal(r.fence, fc.chains[i], `Incorrect fence reported by find_seqno(${fc.chainLength + 1}:${i + 1})`);

        r = find(r.fence, i + 1);
        assert.equal(r.err, 0, 'Error reported for finding self');
        assert.equal(r.fence, fc.chains[i], 'Incorrect fence reported by find self');

        const future = find(r.fence, i + 2);
        assert.notEqual(future.err, 0, `Error not reported for future fence: find_seqno(${i + 1}:${i + 2})!`);

        r = find(r.fence, i);
        assert.equal(r.err, 0, 'Error reported for previous fence!');
        if (i > 0) assert.equal(r.fence, fc.chains[i - 1], `Incorrect fence reported by find_seqno(${i + 1}:${i})`);
      }
    } finally {
      fenceChainsFini(fc);
    }
  });

  test('find_signaled', () => {
    const fc = fenceChainsInit(2, seqnoInc);
    try {
      fc.fences[0].signal();
      const r = find(fc.tail, 1);
      assert.equal(r.err, 0, `Reported ${r.err} for find_seqno()!`);
      assert.ok(!r.fence || r.fence === fc.chains[0], `Incorrect chain-fence.seqno:${r.fence?.seqno} reported for completed seqno:1`);
    } finally {
      fenceChainsFini(fc);
    }
  });

  test('find_out_of_order', () => {
    const fc = fenceChainsInit(3, seqnoInc);
    try {
      fc.fences[1].signal();
      const r = find(fc.tail, 2);
      assert.equal(r.err, 0, `Reported ${r.err} for find_seqno()!`);
      // Fence 1 is still pending, so it is what seqno 2 must wait for;
      // node 2 is collected during the walk.
      assert.equal(r.fence, fc.chains[0], `Incorrect chain-fence.seqno:${r.fence?.seqno ?? 0} reported for completed seqno:2`);
    } finally {
      fenceChainsFini(fc);
    }
  });

  test('find_gap', () => {
    const fc = fenceChainsInit(64, seqnoInc2);
    try {
      for (let i = 0; i < fc.chainLength; i++) {
        let r = find(fc.tail, 2 * i + 1);
        assert.equal(r.err, 0, `Reported ${r.err} for find_seqno(${fc.chainLength + 1}:${2 * i + 1})!`);
        assert.equal(r.fence, fc.chains[i], `Incorrect fence.seqno:${r.fence?.seqno} reported by find_seqno(${fc.chainLength + 1}:${2 * i + 1})`);
        r = find(r.fence, 2 * i + 2);
        assert.equal(r.err, 0, 'Error reported for finding self');
        assert.equal(r.fence, fc.chains[i], 'Incorrect fence reported by find self');
      }
    } finally {
      fenceChainsFini(fc);
    }
  });

  test('find_race', async () => {
    const fc = fenceChainsInit(CHAIN_SZ, seqnoInc);
    const stop = { now: false };
    const ncpus = 2;
    let children = 0;
    async function findRace(): Promise<number> {
      let err = 0;
      while (!stop.now) {
        const seqno = 1 + Math.floor(Math.random() * fc.chainLength);
        const p: Out<DmaFence | null> = { value: dmaFenceGet(fc.tail) };
        err = dmaFenceChainFindSeqno(p, seqno);
        if (err) {
          p.value?.put();
          break;
        }
        if (p.value) {
          // We can only find ourselves if we are on the fence we looked for.
          if (p.value.seqno === seqno) {
            err = dmaFenceChainFindSeqno(p, seqno);
            if (err) {
              p.value?.put();
              break;
            }
          }
          p.value?.put();
        }
        fc.fences[Math.floor(Math.random() * (fc.chainLength - 1))].signal();
        await yieldNow();
      }
      children--;
      return err;
    }
    const threads: Promise<number>[] = [];
    for (let i = 0; i < ncpus; i++) {
      children++;
      threads.push(findRace());
    }
    // wait_var_event_timeout(&children, !children, 5 * HZ)
    for (let waited = 0; children > 0 && waited < 5000; waited += 50) await sleep(50);
    stop.now = true;
    const errs = await Promise.all(threads);
    let count = 0;
    for (const f of fc.fences) if (f.isSignaled()) count++;
    fenceChainsFini(fc);
    for (const e of errs) assert.equal(e, 0, 'find_seqno failed during the race');
    assert.ok(count > 0, `Completed ${count} cycles`);
  });

  test('signal_forward', () => {
    const fc = fenceChainsInit(64, seqnoInc);
    try {
      for (let i = 0; i < fc.chainLength; i++) {
        fc.fences[i].signal();
        assert.ok(fc.chains[i].isSignaled(), `chain[${i}] not signaled!`);
        if (i + 1 < fc.chainLength) assert.ok(!fc.chains[i + 1].isSignaled(), `chain[${i}] is signaled!`);
      }
    } finally {
      fenceChainsFini(fc);
    }
  });

  test('signal_backward', () => {
    const fc = fenceChainsInit(64, seqnoInc);
    try {
      for (let i = fc.chainLength; i--;) {
        fc.fences[i].signal();
        if (i > 0) assert.ok(!fc.chains[i].isSignaled(), `chain[${i}] is signaled!`);
      }
      for (let i = 0; i < fc.chainLength; i++) assert.ok(fc.chains[i].isSignaled(), `chain[${i}] was not signaled!`);
    } finally {
      fenceChainsFini(fc);
    }
  });

  /** __wait_fence_chains: the kthread body. */
  async function waitFenceChains(fc: FenceChains): Promise<number> {
    return (await fc.tail!.wait(false)) ? -5 /* -EIO */ : 0;
  }

  async function waitTest(order: (fc: FenceChains) => number[]): Promise<void> {
    const fc = fenceChainsInit(CHAIN_SZ, seqnoInc);
    const indices = order(fc);
    const tsk = waitFenceChains(fc);
    await yieldNow(); // yield_to(tsk)
    const last = indices.pop()!;
    for (const i of indices) fc.fences[i].signal();
    assert.equal(fc.tail!.isSignaled(), false, 'the tail signaled before every fence had');
    fc.fences[last].signal();
    const err = await withTimeout(tsk, 10_000, 'kthread_stop');
    fenceChainsFini(fc);
    assert.equal(err, 0);
  }

  test('wait_forward', () => waitTest((fc) => fc.fences.map((_, i) => i)));

  test('wait_backward', () => waitTest((fc) => fc.fences.map((_, i) => fc.chainLength - 1 - i)));

  test('wait_random', () =>
    waitTest((fc) => {
      // Fisher-Yates shuffle courtesy of Knuth
      const idx = fc.fences.map((_, i) => i);
      for (let count = idx.length; --count;) {
        const swp = Math.floor(Math.random() * (count + 1));
        [idx[count], idx[swp]] = [idx[swp], idx[count]];
      }
      return idx;
    }));
});
