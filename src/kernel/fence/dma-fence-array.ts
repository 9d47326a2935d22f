/**
 * dma_fence_array: one fence standing for N others, signaled when all of
 * them (or, with signal_on_any, the first) have signaled
 * (drivers/dma-buf/dma-fence-array.c).
 *
 * Linux signals the array from an irq_work after the last element's
 * callback; here the callback signals it directly. Nothing can run in
 * between in one thread, so the order of events is the same.
 */
import { WARN_ON } from '../lib/bug.js';
import { shouldFailAlloc } from '../lib/failslab.js';
import { DmaFence, DmaFenceCb, type DmaFenceOps, DMA_FENCE_FLAG_ENABLE_SIGNAL_BIT } from './dma-fence.js';
import { dmaFenceIsChain } from './dma-fence-chain.js';

/** The sentinel error an array carries until it knows its real status. */
const PENDING_ERROR = 1;

class ArrayCb extends DmaFenceCb {
  constructor(readonly array: DmaFenceArray) {
    super();
  }
}

function setPendingError(array: DmaFenceArray, error: number): void {
  // Keep the first error seen; PENDING_ERROR means none was recorded yet.
  if (error && array.error === PENDING_ERROR) array.error = error;
}

function clearPendingError(array: DmaFenceArray): void {
  if (array.error === PENDING_ERROR) array.error = 0;
}

function arrayCbFunc(f: DmaFence, cb: DmaFenceCb): void {
  const array = (cb as ArrayCb).array;
  setPendingError(array, f.error);
  if (--array.numPending === 0) {
    // irq_dma_fence_array_work()
    clearPendingError(array);
    array.signal();
  }
  array.put();
}

const dmaFenceArrayOps: DmaFenceOps = {
  getDriverName: () => 'dma_fence_array',
  getTimelineName: () => 'unbound',
  enableSignaling(fence: DmaFence): boolean {
    const array = fence as DmaFenceArray;
    for (let i = 0; i < array.numFences; i++) {
      const cb = new ArrayCb(array);
      array.callbacks[i] = cb;
      // The array may report signaled before every callback has run; each
      // pending callback keeps it alive.
      array.get();
      if (array.fences[i].addCallback(cb, arrayCbFunc) !== 0) {
        setPendingError(array, array.fences[i].error);
        array.put();
        if (--array.numPending === 0) {
          clearPendingError(array);
          return false;
        }
      }
    }
    return true;
  },
  signaled(fence: DmaFence): boolean {
    const array = fence as DmaFenceArray;
    let pending = array.numPending;
    if (fence.flags & (1 << DMA_FENCE_FLAG_ENABLE_SIGNAL_BIT)) {
      if (pending > 0) return false;
    } else {
      let hit = false;
      for (let i = 0; i < array.numFences; i++) {
        if (array.fences[i].isSignaled() && --pending === 0) {
          hit = true;
          break;
        }
      }
      if (!hit) return false;
    }
    clearPendingError(array);
    return true;
  },
  release(fence: DmaFence): void {
    const array = fence as DmaFenceArray;
    for (const f of array.fences) f.put();
    array.fences = [];
    array.callbacks = [];
  },
  setDeadline(fence: DmaFence, deadline: bigint): void {
    for (const f of (fence as DmaFenceArray).fences) f.setDeadline(deadline);
  },
};

/** struct dma_fence_array */
export class DmaFenceArray extends DmaFence {
  /** the fences it owns (one reference each) */
  fences: DmaFence[];
  readonly numFences: number;
  /** atomic num_pending: callbacks still awaited (1 with signal_on_any) */
  numPending: number;
  /** @internal one callback per element, installed by enable_signaling */
  callbacks: ArrayCb[];

  /**
   * dma_fence_array_init(array, num_fences, fences, context, seqno,
   * signal_on_any): takes over the caller's references in `fences`. WARNs
   * for an empty array and for each element that is itself a container.
   */
  constructor(fences: DmaFence[], context: number, seqno: number, signalOnAny: boolean) {
    // The array's seqno is 32-bit (`unsigned seqno` in Linux).
    super(dmaFenceArrayOps, context, seqno >>> 0);
    WARN_ON(!fences || fences.length === 0);
    this.fences = fences;
    this.numFences = fences.length;
    this.numPending = signalOnAny ? 1 : fences.length;
    this.callbacks = [];
    this.error = PENDING_ERROR;
    for (let i = fences.length; i--;) WARN_ON(dmaFenceIsContainer(fences[i]));
  }
}

/**
 * dma_fence_array_create(num_fences, fences, context, seqno, signal_on_any):
 * null on allocation failure (the caller keeps its references then).
 */
export function dmaFenceArrayCreate(fences: DmaFence[], context: number, seqno: number, signalOnAny: boolean): DmaFenceArray | null {
  if (shouldFailAlloc('slab')) return null;
  return new DmaFenceArray(fences, context, seqno, signalOnAny);
}

/** dma_fence_is_array() */
export function dmaFenceIsArray(f: DmaFence | null | undefined): f is DmaFenceArray {
  return !!f && f.ops === dmaFenceArrayOps;
}

/** to_dma_fence_array(): the array, or null if `f` is not one. */
export function toDmaFenceArray(f: DmaFence | null | undefined): DmaFenceArray | null {
  return dmaFenceIsArray(f) ? f : null;
}

/** dma_fence_is_container(): an array or a chain. */
export function dmaFenceIsContainer(f: DmaFence): boolean {
  return dmaFenceIsArray(f) || dmaFenceIsChain(f);
}

/** dma_fence_array_first(head): null head -> null; a plain fence -> itself; an empty array -> null. */
export function dmaFenceArrayFirst(head: DmaFence | null): DmaFence | null {
  if (!head) return null;
  const array = toDmaFenceArray(head);
  if (!array) return head;
  return array.numFences ? array.fences[0] : null;
}

/** dma_fence_array_next(head, index): the element at `index`, or null past the end / for a non-array. */
export function dmaFenceArrayNext(head: DmaFence | null, index: number): DmaFence | null {
  const array = toDmaFenceArray(head);
  if (!array || index >= array.numFences) return null;
  return array.fences[index];
}

/** dma_fence_array_for_each(fence, index, head) */
export function* dmaFenceArrayForEach(head: DmaFence | null): Generator<DmaFence> {
  for (let i = 0, f = dmaFenceArrayFirst(head); f; f = dmaFenceArrayNext(head, ++i)) yield f;
}

/** dma_fence_match_context(fence, context): every element (or the fence itself) is on `context`. */
export function dmaFenceMatchContext(fence: DmaFence, context: number): boolean {
  const array = toDmaFenceArray(fence);
  if (!array) return fence.context === context;
  return array.fences.every((f) => f.context === context);
}
