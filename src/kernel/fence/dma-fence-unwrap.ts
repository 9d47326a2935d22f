/**
 * dma_fence_unwrap: iterate the plain fences inside chains and arrays, and
 * merge several fences into the smallest equivalent one
 * (drivers/dma-buf/dma-fence-unwrap.c).
 */
import { shouldFailAlloc } from '../lib/failslab.js';
import { DmaFence, dmaFenceAllocatePrivateStub, dmaFenceContextAlloc, dmaFenceIsLater } from './dma-fence.js';
import { dmaFenceArrayCreate, dmaFenceArrayFirst, dmaFenceArrayNext } from './dma-fence-array.js';
import { dmaFenceChainContained, dmaFenceChainWalk } from './dma-fence-chain.js';

/** struct dma_fence_unwrap: the cursor; holds a reference on the current chain node. */
export interface DmaFenceUnwrap {
  chain: DmaFence | null;
  array: DmaFence | null;
  index: number;
}

function unwrapArray(cursor: DmaFenceUnwrap): DmaFence | null {
  cursor.array = cursor.chain ? dmaFenceChainContained(cursor.chain) : null;
  cursor.index = 0;
  return dmaFenceArrayFirst(cursor.array);
}

/** dma_fence_unwrap_first(head, cursor) */
export function dmaFenceUnwrapFirst(head: DmaFence, cursor: DmaFenceUnwrap): DmaFence | null {
  cursor.chain = head.get();
  return unwrapArray(cursor);
}

/** dma_fence_unwrap_next(cursor) */
export function dmaFenceUnwrapNext(cursor: DmaFenceUnwrap): DmaFence | null {
  const tmp = dmaFenceArrayNext(cursor.array, ++cursor.index);
  if (tmp) return tmp;
  cursor.chain = cursor.chain ? dmaFenceChainWalk(cursor.chain) : null;
  return unwrapArray(cursor);
}

/**
 * dma_fence_unwrap_for_each(fence, cursor, head): the leaves of `head`.
 * Leaving the loop early releases the cursor's reference (Linux leaves that
 * to the caller).
 */
export function* dmaFenceUnwrapForEach(head: DmaFence): Generator<DmaFence> {
  const cursor: DmaFenceUnwrap = { chain: null, array: null, index: 0 };
  try {
    for (let f = dmaFenceUnwrapFirst(head, cursor); f; f = dmaFenceUnwrapNext(cursor)) yield f;
  } finally {
    cursor.chain?.put();
    cursor.chain = null;
  }
}

/** Sort by context, then later seqno first (fence_cmp in Linux). */
function fenceCmp(a: DmaFence, b: DmaFence): number {
  if (a.context < b.context) return -1;
  if (a.context > b.context) return 1;
  if (dmaFenceIsLater(b, a)) return 1;
  if (dmaFenceIsLater(a, b)) return -1;
  return 0;
}

/**
 * dma_fence_dedup_array(fences, num_fences): sort, keep the latest fence of
 * each context, put the others; returns the new count (the array is
 * compacted in place and truncated).
 */
export function dmaFenceDedupArray(fences: DmaFence[]): number {
  if (fences.length === 0) return 0;
  fences.sort(fenceCmp);
  let j = 0;
  for (let i = 1; i < fences.length; i++) {
    if (fences[i].context === fences[j].context) fences[i].put();
    else fences[++j] = fences[i];
  }
  fences.length = j + 1;
  return fences.length;
}

/**
 * dma_fence_unwrap_merge(...fences): one fence that signals when all the
 * unsignaled leaves of the inputs have: a private stub (with the latest
 * signal time) if none is pending, the leaf itself if one is, else a new
 * array of the latest pending fence per context. Inputs are not consumed;
 * null on allocation failure.
 */
export function dmaFenceUnwrapMerge(...fences: DmaFence[]): DmaFence | null {
  let count = 0;
  let timestamp = 0;
  let unsignaled: DmaFence | null = null;
  for (const head of fences) {
    for (const tmp of dmaFenceUnwrapForEach(head)) {
      if (!tmp.isSignaled()) {
        unsignaled?.put();
        unsignaled = tmp.get();
        count++;
      } else {
        const t = tmp.getTimestamp();
        if (t > timestamp) timestamp = t;
      }
    }
  }
  if (count === 0) return dmaFenceAllocatePrivateStub(timestamp);
  if (count === 1) return unsignaled;
  unsignaled!.put();

  if (shouldFailAlloc('slab')) return null;
  // Second pass: a leaf may have signaled since the count.
  const array: DmaFence[] = [];
  for (const head of fences) {
    for (const tmp of dmaFenceUnwrapForEach(head)) {
      if (!tmp.isSignaled()) {
        array.push(tmp.get());
      } else {
        const t = tmp.getTimestamp();
        if (t > timestamp) timestamp = t;
      }
    }
  }
  if (array.length > 1 && dmaFenceDedupArray(array) > 1) {
    const result = dmaFenceArrayCreate(array, dmaFenceContextAlloc(1), 1, false);
    if (!result) {
      for (const f of array) f.put();
      return null;
    }
    return result;
  }
  if (array.length === 0) return dmaFenceAllocatePrivateStub(timestamp);
  return array[0];
}
