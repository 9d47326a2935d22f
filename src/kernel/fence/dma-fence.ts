/**
 * dma-fence: a cross-driver completion event (drivers/dma-buf/dma-fence.c,
 * include/linux/dma-fence.h).
 *
 * A fence is created unsignaled, is signaled exactly once, and runs the
 * callbacks registered before that, in the order they were added. Fences
 * never sleep, so everything here is synchronous except the waits. The fence
 * spinlock of Linux has no counterpart: kernel code runs in one thread and
 * nothing between a test and a set can be preempted, so the `_locked`
 * variants are the plain functions.
 *
 * Seqnos are u64 in Linux; here they are JS numbers, exact up to 2^53-1.
 */
import { BUG, WARN, WARN_ON } from '../lib/bug.js';
import { EINVAL, ENOENT, ENOMEM, ERESTARTSYS, EDEADLK, MAX_ERRNO } from '../lib/errno.js';
import { shouldFailAlloc } from '../lib/failslab.js';
import { krefGet, krefGetUnlessZero, krefPut } from '../lib/kref.js';
import type { Out } from '../lib/out.js';
import { armTimeout, bootKtime, jiffies, ktimeGet, ktimeGetBatched, MAX_SCHEDULE_TIMEOUT } from '../lib/time.js';
import { tracepoint } from '../lib/trace.js';
import { statsRegister } from '../lib/stats.js';

/** Flag bits of dma_fence.flags (≈6.17 numbering; use the names). */
export const DMA_FENCE_FLAG_SEQNO64_BIT = 0;
export const DMA_FENCE_FLAG_SIGNALED_BIT = 1;
export const DMA_FENCE_FLAG_TIMESTAMP_BIT = 2;
export const DMA_FENCE_FLAG_ENABLE_SIGNAL_BIT = 3;
/** First bit free for the fence's implementer. */
export const DMA_FENCE_FLAG_USER_BITS = 4;

const SEQNO64 = 1 << DMA_FENCE_FLAG_SEQNO64_BIT;
const SIGNALED = 1 << DMA_FENCE_FLAG_SIGNALED_BIT;
const TIMESTAMP = 1 << DMA_FENCE_FLAG_TIMESTAMP_BIT;
const ENABLE_SIGNAL = 1 << DMA_FENCE_FLAG_ENABLE_SIGNAL_BIT;

/** dma_fence_func_t */
export type DmaFenceFunc = (fence: DmaFence, cb: DmaFenceCb) => void;

/**
 * struct dma_fence_ops: what a fence's implementer provides. The two name
 * callbacks are mandatory (dma_fence_init BUGs without them).
 */
export interface DmaFenceOps {
  /** .get_driver_name */
  getDriverName(fence: DmaFence): string;
  /** .get_timeline_name */
  getTimelineName(fence: DmaFence): string;
  /**
   * .enable_signaling: called at most once, when someone first needs the
   * fence to signal (a callback or a wait). Return false if the fence has
   * already passed: the core signals it at once. May set `error` only when
   * returning false.
   */
  enableSignaling?(fence: DmaFence): boolean;
  /** .signaled: optional peek used by dma_fence_is_signaled(); may set `error` when returning true. */
  signaled?(fence: DmaFence): boolean;
  /**
   * .wait (deprecated in Linux): a custom wait. Same contract as
   * dma_fence_wait_timeout(): remaining jiffies, 0 on timeout, -ERESTARTSYS.
   */
  wait?(fence: DmaFence, intr: boolean, timeout: number, interrupt?: AbortSignal): Promise<number>;
  /** .release: called when the last reference is dropped. */
  release?(fence: DmaFence): void;
  /** .set_deadline: a hint that the fence should signal by `deadline` (a ktime_t: signed 64-bit ns). */
  setDeadline?(fence: DmaFence, deadline: bigint): void;
  /** .fence_value_str: the fence's value as text, for debug output (sync_debug.c prints it with timeline_value_str) */
  fenceValueStr?(fence: DmaFence): string;
  /** .timeline_value_str: the fence's timeline's current value as text, for debug output */
  timelineValueStr?(fence: DmaFence): string;
}

/**
 * struct dma_fence_cb: a callback node. Callers own it (embed or subclass
 * it, as Linux embeds it in a larger struct) and pass the same object to
 * remove_callback. A node is "empty" when it is on no fence's list.
 */
export class DmaFenceCb {
  func: DmaFenceFunc | null = null;
  /** @internal the fence whose list holds this node, null when the node is empty */
  owner: DmaFence | null = null;
  /** @internal */
  next: DmaFenceCb | null = null;
  /** @internal */
  prev: DmaFenceCb | null = null;
}

const tpInit = tracepoint('dma_fence_init');
const tpEnableSignal = tracepoint('dma_fence_enable_signal');
const tpSignaled = tracepoint('dma_fence_signaled');
const tpDestroy = tracepoint('dma_fence_destroy');
const tpWaitStart = tracepoint('dma_fence_wait_start');
const tpWaitEnd = tracepoint('dma_fence_wait_end');

function traceFields(f: DmaFence): Record<string, string | number> {
  return {
    driver: f.ops.getDriverName(f),
    timeline: f.ops.getTimelineName(f),
    context: f.context,
    seqno: f.seqno,
  };
}

/**
 * The init event's fields. It fires in the base constructor, before a
 * subclass (a driver's fence type) has set its own fields, which its name
 * callbacks may read; a tracepoint must never fail the call it traces, so
 * a name that cannot be had yet is recorded empty (later events have it).
 */
function initTraceFields(f: DmaFence): Record<string, string | number> {
  const name = (get: (f: DmaFence) => string): string => {
    try {
      return get(f);
    } catch {
      return '';
    }
  };
  return { driver: name(f.ops.getDriverName), timeline: name(f.ops.getTimelineName), context: f.context, seqno: f.seqno };
}

/** Fence accounting, for leak checks: fences initialised and not yet released. */
export const dmaFenceStats = { live: 0, created: 0 };

/** Registers the live fence count with the kernel's counters (Machine.stats().fences). */
export function dmaFenceInit(): number {
  return statsRegister('fences', () => dmaFenceStats.live);
}

/**
 * struct dma_fence. Implementers subclass it (as Linux embeds it); the
 * constructor is dma_fence_init() (or dma_fence_init64() with seqno64).
 */
export class DmaFence {
  ops: DmaFenceOps;
  /** u64 context: fences of one context signal in seqno order */
  readonly context: number;
  readonly seqno: number;
  flags: number;
  refcount: number;
  /** 0, or the negative errno the fence completed with (set before signalling) */
  error: number;
  /** CLOCK_MONOTONIC ns of the signal; valid once DMA_FENCE_FLAG_TIMESTAMP_BIT is set */
  timestamp: number;
  /** @internal head and tail of cb_list */
  cbHead: DmaFenceCb | null;
  /** @internal */
  cbTail: DmaFenceCb | null;

  /**
   * dma_fence_init(fence, ops, lock, context, seqno): refcount 1,
   * unsignaled. `seqno64` is dma_fence_init64(): 64-bit seqno comparisons
   * instead of the 32-bit wrap-around ones.
   */
  constructor(ops: DmaFenceOps, context: number, seqno: number, seqno64 = false) {
    if (!ops || !ops.getDriverName || !ops.getTimelineName) BUG('dma_fence_init: ops without get_driver_name/get_timeline_name');
    this.ops = ops;
    this.context = context;
    this.seqno = seqno;
    this.flags = seqno64 ? SEQNO64 : 0;
    this.refcount = 1;
    this.error = 0;
    this.timestamp = 0;
    this.cbHead = null;
    this.cbTail = null;
    dmaFenceStats.live++;
    dmaFenceStats.created++;
    if (tpInit.enabled) tpInit.emit(initTraceFields(this));
  }

  /** dma_fence_get(): take a reference; returns the fence. */
  get(): this {
    krefGet(this);
    return this;
  }

  /** dma_fence_get_rcu(): a reference unless the fence is already being released. */
  getUnlessZero(): this | null {
    return krefGetUnlessZero(this) ? this : null;
  }

  /** dma_fence_put(): drop a reference; the last one releases the fence. */
  put(): void {
    krefPut(this, dmaFenceRelease);
  }

  /** test_bit(DMA_FENCE_FLAG_SIGNALED_BIT): dma_fence_test_signaled_flag() */
  testSignaledFlag(): boolean {
    return (this.flags & SIGNALED) !== 0;
  }

  /**
   * dma_fence_signal_timestamp(fence, timestamp): signal with a given
   * CLOCK_MONOTONIC time. 0, or -EINVAL if the fence was already signaled
   * (nothing changes then).
   */
  signalTimestamp(timestamp: number): number {
    const flags = this.flags;
    if (flags & SIGNALED) return -EINVAL;
    let cur = this.cbHead;
    this.cbHead = this.cbTail = null;
    this.timestamp = timestamp;
    this.flags = flags | SIGNALED | TIMESTAMP;
    if (tpSignaled.enabled) tpSignaled.emit(traceFields(this));
    while (cur !== null) {
      const next = cur.next;
      cur.owner = cur.next = cur.prev = null;
      cur.func!(this, cur);
      cur = next;
    }
    return 0;
  }

  /**
   * dma_fence_signal(): signal now. 0, or -EINVAL if already signaled. The
   * timestamp is ktime_get() as a batch of signals shares it (ktimeGetBatched).
   */
  signal(): number {
    if ((this.flags & SIGNALED) !== 0) return -EINVAL;
    return this.signalTimestamp(ktimeGetBatched());
  }

  /** dma_fence_signal_locked() (no lock to hold here) */
  signalLocked(): number {
    return this.signal();
  }

  /**
   * dma_fence_check_and_signal(): signal if not yet signaled; true if it
   * already was (the race-free form of the int return, Linux 7.0).
   */
  checkAndSignal(): boolean {
    return this.signal() !== 0;
  }

  /**
   * dma_fence_is_signaled(): the flag, or the implementer's `signaled` peek
   * (which signals the fence when it says yes). Never enables signaling.
   */
  isSignaled(): boolean {
    if (this.flags & SIGNALED) return true;
    const peek = this.ops.signaled;
    if (peek !== undefined && peek.call(this.ops, this)) {
      this.signal();
      return true;
    }
    return false;
  }

  /** @internal __dma_fence_enable_signaling(): false when the fence is (now) signaled. */
  enableSignalingInternal(): boolean {
    const wasSet = (this.flags & ENABLE_SIGNAL) !== 0;
    this.flags |= ENABLE_SIGNAL;
    if (this.flags & SIGNALED) return false;
    if (!wasSet && this.ops.enableSignaling !== undefined) {
      if (tpEnableSignal.enabled) tpEnableSignal.emit(traceFields(this));
      if (!this.ops.enableSignaling(this)) {
        this.signal();
        return false;
      }
    }
    return true;
  }

  /** dma_fence_enable_sw_signaling(): make sure the fence will signal (calls enable_signaling once). */
  enableSwSignaling(): void {
    this.enableSignalingInternal();
  }

  /**
   * dma_fence_add_callback(fence, cb, func): run `func(fence, cb)` when the
   * fence signals. 0 when added; -ENOENT if the fence is already signaled
   * (the callback is not called, the node is left empty); -EINVAL (WARN)
   * without a func.
   */
  addCallback(cb: DmaFenceCb, func: DmaFenceFunc): number {
    if (!cb || !func) {
      WARN(true, 'dma_fence_add_callback() without a callback');
      return -EINVAL;
    }
    if (this.flags & SIGNALED) {
      cb.owner = cb.next = cb.prev = null;
      return -ENOENT;
    }
    if (!this.enableSignalingInternal()) {
      cb.owner = cb.next = cb.prev = null;
      return -ENOENT;
    }
    cb.func = func;
    cb.owner = this;
    cb.next = null;
    cb.prev = this.cbTail;
    if (this.cbTail !== null) this.cbTail.next = cb;
    else this.cbHead = cb;
    this.cbTail = cb;
    return 0;
  }

  /** @internal list_add(): link at the head without enabling signaling (the default wait). */
  addCallbackHeadInternal(cb: DmaFenceCb, func: DmaFenceFunc): void {
    cb.func = func;
    cb.owner = this;
    cb.prev = null;
    cb.next = this.cbHead;
    if (this.cbHead !== null) this.cbHead.prev = cb;
    else this.cbTail = cb;
    this.cbHead = cb;
  }

  /**
   * dma_fence_remove_callback(): true if `cb` was still pending on this
   * fence and is now removed; false if it already ran or was never added.
   */
  removeCallback(cb: DmaFenceCb): boolean {
    if (cb.owner !== this) return false;
    const { prev, next } = cb;
    if (prev !== null) prev.next = next;
    else this.cbHead = next;
    if (next !== null) next.prev = prev;
    else this.cbTail = prev;
    cb.owner = cb.next = cb.prev = null;
    return true;
  }

  /** Whether any callback is pending (list_empty(&fence->cb_list) negated). */
  hasCallbacks(): boolean {
    return this.cbHead !== null;
  }

  /** dma_fence_get_status(): 0 pending, 1 signaled, negative errno if signaled with an error. */
  getStatus(): number {
    if (this.isSignaled()) return this.error || 1;
    return 0;
  }

  /**
   * dma_fence_set_error(): record the error the fence will complete with.
   * WARNs when the fence is already signaled or `error` is not a negative
   * errno; unlike Linux (which stores it anyway) the bad value is refused so
   * that a signaled fence's status can never change.
   */
  setError(error: number): void {
    const late = WARN(this.flags & SIGNALED, 'dma_fence_set_error() on a signaled fence');
    const bad = !(Number.isInteger(error) && error < 0 && error >= -MAX_ERRNO);
    if (bad) WARN(true, `dma_fence_set_error(${error}): not a negative errno`);
    if (late || bad) return;
    this.error = error;
  }

  /**
   * dma_fence_timestamp(): the signal time. On an unsignaled fence WARNs and
   * returns ktime_get(), as Linux does.
   */
  getTimestamp(): number {
    if (WARN(!(this.flags & SIGNALED), 'dma_fence_timestamp() on an unsignaled fence')) return ktimeGet();
    return this.timestamp;
  }

  /**
   * dma_fence_wait_timeout(fence, intr, timeout): wait up to `timeout`
   * jiffies (ms). Resolves to the remaining jiffies (> 0) when signaled, 0
   * on timeout, -ERESTARTSYS when `intr` and `interrupt` fires (a signal
   * pending on the waiting task), -EINVAL (WARN) for a negative timeout.
   * A timeout of 0 tests without waiting (1 if signaled).
   */
  async waitTimeout(intr: boolean, timeout: number, interrupt?: AbortSignal): Promise<number> {
    if (WARN_ON(!(timeout >= 0))) return -EINVAL;
    this.enableSwSignaling();
    const trace = tpWaitStart.enabled;
    if (trace) tpWaitStart.emit(traceFields(this));
    const ret = this.ops.wait !== undefined
      ? await this.ops.wait(this, intr, timeout, interrupt)
      : await dmaFenceDefaultWait(this, intr, timeout, interrupt);
    if (trace || tpWaitEnd.enabled) tpWaitEnd.emit({ ...traceFields(this), ret });
    return ret;
  }

  /** dma_fence_wait(fence, intr): wait without a time limit; 0 or -ERESTARTSYS. */
  async wait(intr: boolean, interrupt?: AbortSignal): Promise<number> {
    const ret = await this.waitTimeout(intr, MAX_SCHEDULE_TIMEOUT, interrupt);
    return ret < 0 ? ret : 0;
  }

  /** dma_fence_set_deadline(): pass the hint (a ktime_t, s64 ns) on unless the fence is signaled. */
  setDeadline(deadline: bigint): void {
    if (this.ops.setDeadline !== undefined && !this.isSignaled()) this.ops.setDeadline(this, deadline);
  }

  /** dma_fence_driver_name() */
  driverName(): string {
    return this.ops.getDriverName(this);
  }

  /** dma_fence_timeline_name() */
  timelineName(): string {
    return this.ops.getTimelineName(this);
  }

  /**
   * dma_fence_describe(): one line, `driver timeline seq N [un]signalled`,
   * as Linux 6.1-6.12 print it (a late-2025 rework, after them, prints
   * `context:seqno timeline driver` and blanks the names once signalled).
   */
  describe(): string {
    return `${this.driverName()} ${this.timelineName()} seq ${this.seqno} ${this.isSignaled() ? '' : 'un'}signalled\n`;
  }
}

/** The release path (dma_fence_release): the last reference is gone. */
function dmaFenceRelease(fence: DmaFence): void {
  if (tpDestroy.enabled) tpDestroy.emit(traceFields(fence));
  if (fence.cbHead !== null && !(fence.flags & SIGNALED)) {
    WARN(true, `Fence ${fence.driverName()}:${fence.timelineName()}:${fence.context.toString(16)}:${fence.seqno.toString(16)} released with pending signals!`);
    // Do not leave whoever waits dangling: complete it, with an error.
    fence.error = -EDEADLK;
    fence.signal();
  }
  dmaFenceStats.live--;
  if (fence.ops.release !== undefined) fence.ops.release(fence);
}

/** dma_fence_get(): NULL-safe. */
export function dmaFenceGet<T extends DmaFence>(fence: T | null | undefined): T | null {
  if (!fence) return null;
  return fence.get();
}

/** dma_fence_put(): NULL-safe. */
export function dmaFencePut(fence: DmaFence | null | undefined): void {
  if (fence) fence.put();
}

/** __dma_fence_is_later(fence, f1, f2): is seqno f1 later than f2 on `fence`'s timeline? */
export function dmaFenceSeqnoIsLater(fence: DmaFence, f1: number, f2: number): boolean {
  if (fence.flags & SEQNO64) return f1 > f2;
  // 32-bit seqnos wrap: compare the low 32 bits as a signed difference.
  return ((f1 - f2) | 0) > 0;
}

/** dma_fence_is_later(f1, f2): WARN and false if the contexts differ. */
export function dmaFenceIsLater(f1: DmaFence, f2: DmaFence): boolean {
  if (WARN_ON(f1.context !== f2.context)) return false;
  return dmaFenceSeqnoIsLater(f1, f1.seqno, f2.seqno);
}

/** dma_fence_is_later_or_same() */
export function dmaFenceIsLaterOrSame(f1: DmaFence, f2: DmaFence): boolean {
  return f1 === f2 || dmaFenceIsLater(f1, f2);
}

/** dma_fence_later(): the later of two fences, or null if it is already signaled (WARN on mismatched contexts). */
export function dmaFenceLater(f1: DmaFence, f2: DmaFence): DmaFence | null {
  if (WARN_ON(f1.context !== f2.context)) return null;
  if (dmaFenceIsLater(f1, f2)) return f1.isSignaled() ? null : f1;
  return f2.isSignaled() ? null : f2;
}

let nextContext = 1;

/**
 * dma_fence_context_alloc(num): the first of `num` new, unique contexts.
 * Context 0 belongs to the stub fences. WARNs for num == 0.
 */
export function dmaFenceContextAlloc(num: number): number {
  WARN_ON(!num);
  const first = nextContext;
  nextContext += num;
  return first;
}

/** The wait callback: resolves a pending wait. */
class WaitCb extends DmaFenceCb {
  constructor(readonly wake: () => void) {
    super();
  }
}

function wakeWaiter(_f: DmaFence, cb: DmaFenceCb): void {
  (cb as WaitCb).wake();
}

/**
 * dma_fence_default_wait(): the wait used when the fence has no `wait`
 * op. Returns `timeout || 1` at once if signaled, -ERESTARTSYS if
 * interruptible and a signal is pending, 0 at once for a zero timeout.
 */
export function dmaFenceDefaultWait(fence: DmaFence, intr: boolean, timeout: number, interrupt?: AbortSignal): Promise<number> {
  const ret = timeout || 1;
  if (fence.flags & SIGNALED) return Promise.resolve(ret);
  if (intr && interrupt?.aborted) return Promise.resolve(-ERESTARTSYS);
  if (!timeout) return Promise.resolve(0);
  const start = jiffies();
  return new Promise<number>((resolve) => {
    let cancelTimer: () => void = noop;
    let onAbort: (() => void) | null = null;
    const finish = (value: number): void => {
      cancelTimer();
      if (onAbort) interrupt!.removeEventListener('abort', onAbort);
      resolve(value);
    };
    const cb = new WaitCb(() => {
      if (timeout >= MAX_SCHEDULE_TIMEOUT) return finish(timeout);
      finish(Math.max(1, timeout - (jiffies() - start)));
    });
    fence.addCallbackHeadInternal(cb, wakeWaiter);
    cancelTimer = armTimeout(timeout, () => {
      fence.removeCallback(cb);
      finish(0);
    });
    if (intr && interrupt) {
      onAbort = () => {
        fence.removeCallback(cb);
        finish(-ERESTARTSYS);
      };
      interrupt.addEventListener('abort', onAbort, { once: true });
    }
  });
}

function noop(): void {}

/**
 * dma_fence_wait_any_timeout(fences, count, intr, timeout, idx): wait until
 * any of the fences signals. Remaining jiffies (> 0) with `idx.value` set to
 * the index of a signaled fence, 0 on timeout, -ERESTARTSYS, -EINVAL (WARN)
 * for no fences or a negative timeout, -ENOMEM.
 */
export async function dmaFenceWaitAnyTimeout(
  fences: readonly DmaFence[],
  count: number,
  intr: boolean,
  timeout: number,
  idx: Out<number> | null,
  interrupt?: AbortSignal,
): Promise<number> {
  if (WARN_ON(!fences || !count || !(timeout >= 0))) return -EINVAL;
  if (timeout === 0) {
    for (let i = 0; i < count; i++) {
      if (fences[i].isSignaled()) {
        if (idx) idx.value = i;
        return 1;
      }
    }
    return 0;
  }
  if (shouldFailAlloc('slab')) return -ENOMEM;
  const cbs: WaitCb[] = [];
  const start = jiffies();
  let wake: () => void = noop;
  let added = 0;
  let ret = timeout;
  let done = false;
  for (; added < count; added++) {
    const cb = new WaitCb(() => wake());
    cbs.push(cb);
    if (fences[added].addCallback(cb, wakeWaiter) !== 0) {
      if (idx) idx.value = added;
      done = true;
      break;
    }
  }
  if (!done) {
    ret = await new Promise<number>((resolve) => {
      let onAbort: (() => void) | null = null;
      let cancelTimer: () => void = noop;
      const finish = (v: number): void => {
        cancelTimer();
        if (onAbort) interrupt!.removeEventListener('abort', onAbort);
        wake = noop;
        resolve(v);
      };
      const check = (): boolean => {
        for (let i = 0; i < count; i++) {
          if (fences[i].isSignaled()) {
            if (idx) idx.value = i;
            finish(timeout >= MAX_SCHEDULE_TIMEOUT ? timeout : Math.max(1, timeout - (jiffies() - start)));
            return true;
          }
        }
        return false;
      };
      wake = () => void check();
      if (check()) return;
      cancelTimer = armTimeout(timeout, () => finish(0));
      if (intr && interrupt) {
        if (interrupt.aborted) return finish(-ERESTARTSYS);
        onAbort = () => finish(-ERESTARTSYS);
        interrupt.addEventListener('abort', onAbort, { once: true });
      }
    });
  }
  for (let i = 0; i < cbs.length; i++) fences[i].removeCallback(cbs[i]);
  return ret;
}

const stubOps: DmaFenceOps = {
  getDriverName: () => 'stub',
  getTimelineName: () => 'stub',
};

let stubFence: DmaFence | null = null;

/**
 * dma_fence_get_stub(): a reference to the global signaled stub fence
 * (context 0, seqno 0, names "stub", signaled at boot).
 */
export function dmaFenceGetStub(): DmaFence {
  if (stubFence === null) {
    stubFence = new DmaFence(stubOps, 0, 0);
    stubFence.flags |= ENABLE_SIGNAL;
    stubFence.signalTimestamp(bootKtime);
    dmaFenceStats.live--; // the stub lives forever; it is not a leak
  }
  return stubFence.get();
}

/**
 * dma_fence_allocate_private_stub(timestamp): a new fence, already
 * signaled at `timestamp`; null on allocation failure.
 */
export function dmaFenceAllocatePrivateStub(timestamp: number): DmaFence | null {
  if (shouldFailAlloc('slab')) return null;
  const fence = new DmaFence(stubOps, 0, 0);
  fence.flags |= ENABLE_SIGNAL;
  fence.signalTimestamp(timestamp);
  return fence;
}

/** dma_fence_begin_signalling(): a lockdep annotation; nothing to track here. */
export function dmaFenceBeginSignalling(): boolean {
  return true;
}

/** dma_fence_end_signalling() */
export function dmaFenceEndSignalling(_cookie: boolean): void {}
