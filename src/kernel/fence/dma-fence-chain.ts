/**
 * dma_fence_chain: a timeline of fences, each node holding one fence and a
 * reference to the previous node (drivers/dma-buf/dma-fence-chain.c). A
 * node signals when its fence and everything before it has signaled.
 * Walking the chain drops links whose fences have signaled, so a long-lived
 * timeline does not grow without bound.
 *
 * Chain nodes use 64-bit seqnos (dma_fence_init64).
 */
import { WARN_ON } from '../lib/bug.js';
import { shouldFailAlloc } from '../lib/failslab.js';
import type { Out } from '../lib/out.js';
import { EINVAL } from '../lib/errno.js';
import { DmaFence, DmaFenceCb, type DmaFenceOps, dmaFenceContextAlloc, dmaFenceSeqnoIsLater } from './dma-fence.js';

class ChainCb extends DmaFenceCb {
  constructor(readonly chain: DmaFenceChain) {
    super();
  }
}

/** dma_fence_chain_get_prev(): a reference to the previous link, or null. */
function getPrev(chain: DmaFenceChain): DmaFence | null {
  return chain.prev ? chain.prev.get() : null;
}

/**
 * dma_fence_chain_walk(fence): consumes the reference on `fence` and returns
 * a reference to the next older node that has not signaled, or null. Links
 * whose fence has signaled are cut out of the chain on the way.
 */
export function dmaFenceChainWalk(fence: DmaFence): DmaFence | null {
  const chain = toDmaFenceChain(fence);
  if (!chain) {
    fence.put();
    return null;
  }
  let prev: DmaFence | null;
  while ((prev = getPrev(chain)) !== null) {
    const prevChain = toDmaFenceChain(prev);
    let replacement: DmaFence | null;
    if (prevChain) {
      if (!prevChain.fence.isSignaled()) break;
      replacement = getPrev(prevChain);
    } else {
      if (!prev.isSignaled()) break;
      replacement = null;
    }
    // cmpxchg(&chain->prev, prev, replacement): one thread, so it succeeds
    // unless a callback run by isSignaled() above already relinked it.
    if (chain.prev === prev) {
      chain.prev = replacement;
      prev.put();
    } else {
      replacement?.put();
    }
    prev.put();
  }
  fence.put();
  return prev;
}

/** dma_fence_chain_for_each(iter, head): holds a reference on each node it yields (released when the loop moves on or ends). */
export function* dmaFenceChainForEach(head: DmaFence): Generator<DmaFence> {
  let iter: DmaFence | null = head.get();
  try {
    while (iter) {
      yield iter;
      iter = dmaFenceChainWalk(iter);
    }
  } finally {
    iter?.put();
  }
}

function chainEnableSignaling(fence: DmaFence): boolean {
  const head = fence as DmaFenceChain;
  head.get();
  let iter: DmaFence | null = head.get();
  while (iter) {
    const f = dmaFenceChainContained(iter);
    f.get();
    if (f.addCallback(head.cb, chainCb) === 0) {
      iter.put();
      return true;
    }
    f.put();
    iter = dmaFenceChainWalk(iter);
  }
  head.put();
  return false;
}

function chainCb(f: DmaFence, cb: DmaFenceCb): void {
  const chain = (cb as ChainCb).chain;
  f.put();
  // dma_fence_chain_irq_work(): re-arm on the next pending fence, or signal.
  if (!chainEnableSignaling(chain)) chain.signal();
  chain.put();
}

const dmaFenceChainOps: DmaFenceOps = {
  getDriverName: () => 'dma_fence_chain',
  getTimelineName: () => 'unbound',
  enableSignaling: chainEnableSignaling,
  signaled(fence: DmaFence): boolean {
    let iter: DmaFence | null = fence.get();
    while (iter) {
      if (!dmaFenceChainContained(iter).isSignaled()) {
        iter.put();
        return false;
      }
      iter = dmaFenceChainWalk(iter);
    }
    return true;
  },
  release(fence: DmaFence): void {
    const chain = fence as DmaFenceChain;
    // Unlink predecessors only this node holds, iteratively: a recursive
    // release of a long chain would overflow the stack.
    let prev: DmaFence | null;
    while ((prev = chain.prev) !== null) {
      if (prev.refcount > 1) break;
      const prevChain = toDmaFenceChain(prev);
      if (!prevChain) break;
      chain.prev = prevChain.prev;
      prevChain.prev = null;
      prev.put();
    }
    chain.prev?.put();
    chain.prev = null;
    chain.fence.put();
  },
  setDeadline(fence: DmaFence, deadline: bigint): void {
    let iter: DmaFence | null = fence.get();
    while (iter) {
      dmaFenceChainContained(iter).setDeadline(deadline);
      iter = dmaFenceChainWalk(iter);
    }
  },
};

/** struct dma_fence_chain */
export class DmaFenceChain extends DmaFence {
  /** the previous link (chain node or plain fence), null at the start */
  prev: DmaFence | null;
  /** seqno of the original predecessor, kept when links are collected */
  readonly prevSeqno: number;
  /** the fence this node stands for */
  fence: DmaFence;
  /** @internal the single callback the node installs */
  readonly cb: ChainCb;

  /**
   * dma_fence_chain_init(chain, prev, fence, seqno): consumes the caller's
   * references on `prev` and `fence`. Reuses prev's context when `seqno` is
   * later than prev's, else allocates a new context (and never goes below
   * prev's seqno). WARNs if `fence` is itself a chain.
   */
  constructor(prev: DmaFence | null, fence: DmaFence, seqno: number) {
    const prevChain = toDmaFenceChain(prev);
    let context: number;
    let prevSeqno = 0;
    if (prevChain && dmaFenceSeqnoIsLater(prevChain, seqno, prevChain.seqno)) {
      context = prevChain.context;
      prevSeqno = prevChain.seqno;
    } else {
      context = dmaFenceContextAlloc(1);
      if (prevChain) seqno = Math.max(prevChain.seqno, seqno);
    }
    super(dmaFenceChainOps, context, seqno, true);
    this.prev = prev;
    this.fence = fence;
    this.prevSeqno = prevSeqno;
    this.cb = new ChainCb(this);
    WARN_ON(dmaFenceIsChain(fence));
  }
}

/** dma_fence_chain_alloc() + dma_fence_chain_init(): null on allocation failure (references are not consumed then). */
export function dmaFenceChainCreate(prev: DmaFence | null, fence: DmaFence, seqno: number): DmaFenceChain | null {
  if (shouldFailAlloc('slab')) return null;
  return new DmaFenceChain(prev, fence, seqno);
}

/** dma_fence_is_chain() */
export function dmaFenceIsChain(f: DmaFence | null | undefined): f is DmaFenceChain {
  return !!f && f.ops === dmaFenceChainOps;
}

/** to_dma_fence_chain(): the chain node, or null. */
export function toDmaFenceChain(f: DmaFence | null | undefined): DmaFenceChain | null {
  return dmaFenceIsChain(f) ? f : null;
}

/** dma_fence_chain_contained(): a chain node's fence, or the fence itself. */
export function dmaFenceChainContained(f: DmaFence): DmaFence {
  const chain = toDmaFenceChain(f);
  return chain ? chain.fence : f;
}

/**
 * dma_fence_chain_find_seqno(&fence, seqno): replace `pfence.value` (a
 * reference to a chain node, consumed) by a reference to the node that
 * will signal `seqno`, or by null when that point has already signaled.
 * 0 on success; -EINVAL if the fence is not a chain or `seqno` is in its
 * future. seqno 0 is a no-op.
 */
export function dmaFenceChainFindSeqno(pfence: Out<DmaFence | null>, seqno: number): number {
  if (!seqno) return 0;
  const chain = toDmaFenceChain(pfence.value);
  if (!chain || chain.seqno < seqno) return -EINVAL;
  let iter: DmaFence | null = chain.get();
  while (iter) {
    if (iter.context !== chain.context || (iter as DmaFenceChain).prevSeqno < seqno) break;
    iter = dmaFenceChainWalk(iter);
  }
  pfence.value = iter;
  chain.put();
  return 0;
}
