/**
 * dma-resv: the reservation object of a buffer, holding the fences that
 * guard it, each with a usage (drivers/dma-buf/dma-resv.c,
 * include/linux/dma-resv.h). It is locked with a wait-die ww_mutex so that
 * many buffers can be locked together.
 *
 * Writers hold the lock; the fence list is replaced (not edited) when it
 * grows, so unlocked readers notice a change by the list's identity and
 * restart, as Linux's RCU readers do.
 *
 * CONFIG_DEBUG_MUTEXES behaviour is on: reserved slots do not survive an
 * unlock, so adding a fence without reserving under the same lock is caught.
 */
import { BUG, WARN, WARN_ON } from '../lib/bug.js';
import { ENOMEM } from '../lib/errno.js';
import { shouldFailAlloc } from '../lib/failslab.js';
import type { Out } from '../lib/out.js';
import { DmaFence, dmaFenceContextAlloc, dmaFenceIsLaterOrSame } from '../fence/dma-fence.js';
import { dmaFenceArrayCreate, dmaFenceIsContainer } from '../fence/dma-fence-array.js';
import { DEFINE_WD_CLASS, WwAcquireCtx, WwMutex } from '../locking/ww-mutex.js';

/** enum dma_resv_usage: a query for usage U returns every fence with usage <= U. */
export const DMA_RESV_USAGE_KERNEL = 0;
export const DMA_RESV_USAGE_WRITE = 1;
export const DMA_RESV_USAGE_READ = 2;
export const DMA_RESV_USAGE_BOOKKEEP = 3;
export type DmaResvUsage = 0 | 1 | 2 | 3;

const USAGE_NAMES = ['kernel', 'write', 'read', 'bookkeep'] as const;

/**
 * A usage outside KERNEL..BOOKKEEP would, in C, corrupt the tagged fence
 * pointer; here it WARNs and the call does nothing.
 */
function validUsage(usage: number): boolean {
  if (usage >= DMA_RESV_USAGE_KERNEL && usage <= DMA_RESV_USAGE_BOOKKEEP && Number.isInteger(usage)) return true;
  WARN(true, `invalid dma_resv_usage ${usage}`);
  return false;
}

/** dma_resv_usage_rw(write): what a new access must wait for (a writer waits for readers too). */
export function dmaResvUsageRw(write: boolean): DmaResvUsage {
  return write ? DMA_RESV_USAGE_READ : DMA_RESV_USAGE_WRITE;
}

/** reservation_ww_class: the wait-die class every dma_resv lock belongs to. */
export const reservationWwClass = DEFINE_WD_CLASS('reservation_ww_class');

/** Size of the list header in Linux (rcu_head + two u32) and of one table slot. */
const LIST_HEADER = 24;
const LIST_SLOT = 8;

/** kmalloc_size_roundup(): the slab bucket an allocation of `size` bytes lands in. */
export function kmallocSizeRoundup(size: number): number {
  if (size <= 8) return 8;
  if (size <= 16) return 16;
  if (size <= 32) return 32;
  if (size <= 64) return 64;
  if (size <= 96) return 96;
  if (size <= 128) return 128;
  if (size <= 192) return 192;
  return 2 ** Math.ceil(Math.log2(size));
}

/** struct dma_resv_list */
export class DmaResvList {
  numFences = 0;
  maxFences: number;
  readonly table: (DmaFence | null)[];
  readonly usages: Uint8Array;
  constructor(maxFences: number) {
    this.maxFences = maxFences;
    this.table = new Array<DmaFence | null>(maxFences).fill(null);
    this.usages = new Uint8Array(maxFences);
  }
}

/** KMALLOC_MAX_SIZE: kmalloc fails above 4 MiB (2^MAX_PAGE_ORDER pages). */
export const KMALLOC_MAX_SIZE = 4 << 20;

/** dma_resv_list_alloc(): capacity rounded up to what the slab bucket holds; null on ENOMEM. */
function listAlloc(maxFences: number): DmaResvList | null {
  const want = LIST_HEADER + LIST_SLOT * maxFences;
  if (want > KMALLOC_MAX_SIZE || shouldFailAlloc('slab')) return null;
  const size = kmallocSizeRoundup(want);
  return new DmaResvList(Math.floor((size - LIST_HEADER) / LIST_SLOT));
}

function listFree(list: DmaResvList | null): void {
  if (!list) return;
  for (let i = 0; i < list.numFences; i++) list.table[i]!.put();
  list.numFences = 0;
}

/** Reservation objects alive (initialised and not finished), for leak checks. */
export const dmaResvStats = { live: 0 };

/** struct dma_resv */
export class DmaResv {
  // Made at the first lock: an idle buffer's object never takes it, and the mutex is most of its size.
  private lockStore: WwMutex | null = null;
  /** the current fence list (null until the first reserve) */
  fences: DmaResvList | null = null;

  /** dma_resv_init() */
  constructor() {
    dmaResvStats.live++;
  }

  /** dma_resv.lock: the reservation ww_mutex. */
  get lock(): WwMutex {
    return (this.lockStore ??= new WwMutex(reservationWwClass, 'dma_resv'));
  }

  /** dma_resv_fini(): drop every fence. */
  fini(): void {
    listFree(this.fences);
    this.fences = null;
    this.lockStore?.destroy();
    dmaResvStats.live--;
  }

  /** dma_resv_lock(obj, ctx): 0, -EDEADLK (back off, then lockSlow), -EALREADY. A null ctx locks without deadlock avoidance. */
  lockResv(ctx: WwAcquireCtx | null): Promise<number> {
    return this.lock.lock(ctx);
  }

  /** dma_resv_lock_interruptible(): also -EINTR. */
  lockInterruptible(ctx: WwAcquireCtx | null, signal?: AbortSignal): Promise<number> {
    return this.lock.lockInterruptible(ctx, signal);
  }

  /** dma_resv_lock_slow() */
  lockSlow(ctx: WwAcquireCtx): Promise<void> {
    return this.lock.lockSlow(ctx);
  }

  /** dma_resv_lock_slow_interruptible(): 0 or -EINTR. */
  lockSlowInterruptible(ctx: WwAcquireCtx, signal?: AbortSignal): Promise<number> {
    return this.lock.lockSlowInterruptible(ctx, signal);
  }

  /** dma_resv_trylock(): true if taken (no context, no deadlock avoidance). */
  trylock(): boolean {
    return this.lock.trylock(null) === 1;
  }

  /** dma_resv_is_locked() */
  isLocked(): boolean {
    return this.lock.isLocked();
  }

  /** dma_resv_locking_ctx(): the context holding the lock, if any. */
  lockingCtx(): WwAcquireCtx | null {
    return this.lock.ctx;
  }

  /** dma_resv_held(): as lockdep_is_held() can tell without tasks: the lock is held. */
  held(): boolean {
    return this.lock.isLocked();
  }

  /** dma_resv_assert_held(): WARN unless locked. Returns whether it was. */
  assertHeld(): boolean {
    return !WARN(!this.lock.isLocked(), 'dma_resv_assert_held(): reservation object not locked');
  }

  /** dma_resv_unlock(): reserved but unused slots are forgotten (CONFIG_DEBUG_MUTEXES), then unlock. */
  unlock(): void {
    this.resetMaxFences();
    this.lock.unlock();
  }

  /** dma_resv_reset_max_fences() */
  resetMaxFences(): void {
    if (this.fences) this.fences.maxFences = this.fences.numFences;
  }

  /**
   * dma_resv_reserve_fences(obj, num_fences): make room for `num` more
   * fences (lock held). Signaled fences are dropped when the list is
   * reallocated. 0 or -ENOMEM.
   */
  reserveFences(num: number): number {
    this.assertHeld();
    const old = this.fences;
    let max: number;
    if (old && old.maxFences) {
      if (old.numFences + num <= old.maxFences) return 0;
      max = Math.max(old.numFences + num, old.maxFences * 2);
    } else {
      max = Math.max(4, num <= 1 ? 1 : 2 ** Math.ceil(Math.log2(num)));
    }
    const list = listAlloc(max);
    if (!list) return -ENOMEM;
    const dropped: DmaFence[] = [];
    let j = 0;
    for (let i = 0; i < (old ? old.numFences : 0); i++) {
      const fence = old!.table[i]!;
      if (fence.isSignaled()) {
        dropped.push(fence);
      } else {
        list.table[j] = fence;
        list.usages[j++] = old!.usages[i];
      }
    }
    list.numFences = j;
    this.fences = list;
    // The old list is left as readers may still hold it; it owns no references now.
    if (old) old.numFences = 0;
    for (const f of dropped) f.put();
    return 0;
  }

  /**
   * dma_resv_add_fence(obj, fence, usage): add a fence (lock held, a slot
   * reserved). It replaces an entry of the same context that it is later
   * than or equal to, unless that entry has a stronger usage, and any
   * signaled entry; otherwise it takes a reserved slot. Containers WARN.
   * No slot left is a BUG, as in Linux.
   */
  addFence(fence: DmaFence, usage: DmaResvUsage): void {
    this.assertHeld();
    if (!validUsage(usage)) return;
    WARN_ON(dmaFenceIsContainer(fence));
    const fobj = this.fences;
    if (!fobj) BUG('dma_resv_add_fence() without dma_resv_reserve_fences()');
    const count = fobj.numFences;
    for (let i = 0; i < count; i++) {
      const old = fobj.table[i]!;
      if ((old.context === fence.context && fobj.usages[i] >= usage && dmaFenceIsLaterOrSame(fence, old)) || old.isSignaled()) {
        fobj.table[i] = fence.get();
        fobj.usages[i] = usage;
        old.put();
        return;
      }
    }
    if (fobj.numFences >= fobj.maxFences) BUG('dma_resv_add_fence(): no fence slot reserved');
    fobj.table[count] = fence.get();
    fobj.usages[count] = usage;
    fobj.numFences = count + 1;
  }

  /** dma_resv_replace_fences(obj, context, replacement, usage): every fence of `context` becomes `replacement`. */
  replaceFences(context: number, replacement: DmaFence, usage: DmaResvUsage): void {
    this.assertHeld();
    if (!validUsage(usage)) return;
    const list = this.fences;
    for (let i = 0; list && i < list.numFences; i++) {
      const old = list.table[i]!;
      if (old.context !== context) continue;
      list.table[i] = replacement.get();
      list.usages[i] = usage;
      old.put();
    }
  }

  /**
   * dma_resv_get_fences(obj, usage, &num_fences, &fences): a snapshot of
   * the unsignaled fences up to `usage`, each with a reference. 0 or
   * -ENOMEM (with an empty result).
   */
  getFences(usage: DmaResvUsage, fences: Out<DmaFence[]>): number {
    fences.value = [];
    const cursor = new DmaResvIter(this, usage);
    for (let f = cursor.firstUnlocked(); f; f = cursor.nextUnlocked()) {
      if (cursor.isRestarted()) {
        for (const old of fences.value) old.put();
        fences.value = [];
        if (shouldFailAlloc('slab')) {
          cursor.end();
          return -ENOMEM;
        }
      }
      fences.value.push(f.get());
    }
    cursor.end();
    return 0;
  }

  /**
   * dma_resv_get_singleton(obj, usage, &fence): null when there is no
   * fence, the fence itself when there is one, else a new fence array (a
   * container: never add it back to a reservation object). 0 or -ENOMEM.
   */
  getSingleton(usage: DmaResvUsage, fence: Out<DmaFence | null>): number {
    const fences: Out<DmaFence[]> = { value: [] };
    const r = this.getFences(usage, fences);
    if (r) return r;
    const list = fences.value;
    if (list.length === 0) {
      fence.value = null;
      return 0;
    }
    if (list.length === 1) {
      fence.value = list[0];
      return 0;
    }
    const array = dmaFenceArrayCreate(list, dmaFenceContextAlloc(1), 1, false);
    if (!array) {
      for (const f of list) f.put();
      return -ENOMEM;
    }
    fence.value = array;
    return 0;
  }

  /**
   * dma_resv_copy_fences(dst, src): replace this object's fences (lock
   * held) by the unsignaled fences of `src`, of every usage, keeping their
   * usages. 0 or -ENOMEM (nothing changed).
   */
  copyFences(src: DmaResv): number {
    this.assertHeld();
    let list: DmaResvList | null = null;
    const cursor = new DmaResvIter(src, DMA_RESV_USAGE_BOOKKEEP);
    for (let f = cursor.firstUnlocked(); f; f = cursor.nextUnlocked()) {
      if (cursor.isRestarted()) {
        listFree(list);
        list = listAlloc(cursor.numFences);
        if (!list) {
          cursor.end();
          return -ENOMEM;
        }
      }
      list!.table[list!.numFences] = f.get();
      list!.usages[list!.numFences++] = cursor.fenceUsage;
    }
    cursor.end();
    const old = this.fences;
    this.fences = list;
    listFree(old);
    return 0;
  }

  /**
   * dma_resv_wait_timeout(obj, usage, intr, timeout): wait for every
   * unsignaled fence up to `usage`, each with what is left of the time. A
   * timeout of 0 tests without sleeping. Remaining jiffies (> 0), 0 on
   * timeout, -ERESTARTSYS. No lock needed.
   */
  async waitTimeout(usage: DmaResvUsage, intr: boolean, timeout: number, signal?: AbortSignal): Promise<number> {
    let ret = timeout || 1;
    const cursor = new DmaResvIter(this, usage);
    try {
      for (let f = cursor.firstUnlocked(); f; f = cursor.nextUnlocked()) {
        ret = await f.waitTimeout(intr, ret, signal);
        if (ret <= 0) return ret;
      }
      return ret;
    } finally {
      cursor.end();
    }
  }

  /** dma_resv_set_deadline(obj, usage, deadline): deadline is a ktime_t (s64 ns) */
  setDeadline(usage: DmaResvUsage, deadline: bigint): void {
    const cursor = new DmaResvIter(this, usage);
    for (let f = cursor.firstUnlocked(); f; f = cursor.nextUnlocked()) f.setDeadline(deadline);
    cursor.end();
  }

  /** dma_resv_test_signaled(obj, usage): no unsignaled fence up to `usage`. */
  testSignaled(usage: DmaResvUsage): boolean {
    const cursor = new DmaResvIter(this, usage);
    const f = cursor.firstUnlocked();
    cursor.end();
    return f === null;
  }

  /** dma_resv_describe(): one line per fence up to READ (lock held): `\t<usage> fence:` + dma_fence_describe. */
  describe(): string {
    let s = '';
    for (const [fence, usage] of dmaResvForEachFence(this, DMA_RESV_USAGE_READ)) {
      s += `\t${USAGE_NAMES[usage]} fence:${fence.describe()}`;
    }
    return s;
  }
}

/**
 * struct dma_resv_iter: a cursor over a reservation object's fences.
 * The unlocked walk (firstUnlocked/nextUnlocked) yields only unsignaled
 * fences, holds a reference on the current one, and restarts when the list
 * changes; the locked walk (first/next) yields every entry, signaled or
 * not, without references.
 */
export class DmaResvIter {
  fence: DmaFence | null = null;
  fenceUsage: DmaResvUsage = DMA_RESV_USAGE_KERNEL;
  index = 0;
  fences: DmaResvList | null = null;
  numFences = 0;
  private restarted = false;

  /** dma_resv_iter_begin(cursor, obj, usage) */
  constructor(readonly obj: DmaResv, readonly usage: DmaResvUsage) {}

  /** dma_resv_iter_usage() */
  iterUsage(): DmaResvUsage {
    return this.fenceUsage;
  }

  /** dma_resv_iter_is_restarted(): this is the first fence of a new pass. */
  isRestarted(): boolean {
    return this.restarted;
  }

  private restartUnlocked(): void {
    this.index = 0;
    this.numFences = 0;
    this.fences = this.obj.fences;
    if (this.fences) this.numFences = this.fences.numFences;
    this.restarted = true;
  }

  private walkUnlocked(): void {
    if (!this.fences) return;
    for (;;) {
      this.fence?.put();
      this.fence = null;
      if (this.index >= this.numFences) break;
      const i = this.index++;
      const f = this.fences.table[i];
      this.fenceUsage = this.fences.usages[i] as DmaResvUsage;
      this.fence = f ? f.getUnlessZero() : null;
      if (!this.fence) {
        this.restartUnlocked();
        continue;
      }
      if (!this.fence.isSignaled() && this.usage >= this.fenceUsage) break;
    }
  }

  /** dma_resv_iter_first_unlocked() */
  firstUnlocked(): DmaFence | null {
    do {
      this.restartUnlocked();
      this.walkUnlocked();
    } while (this.obj.fences !== this.fences);
    return this.fence;
  }

  /** dma_resv_iter_next_unlocked() */
  nextUnlocked(): DmaFence | null {
    this.restarted = false;
    let restart = this.obj.fences !== this.fences;
    do {
      if (restart) this.restartUnlocked();
      this.walkUnlocked();
      restart = true;
    } while (this.obj.fences !== this.fences);
    return this.fence;
  }

  /** dma_resv_iter_first() (lock held) */
  first(): DmaFence | null {
    this.obj.assertHeld();
    this.index = 0;
    this.fences = this.obj.fences;
    const f = this.next();
    this.restarted = true;
    return f;
  }

  /** dma_resv_iter_next() (lock held) */
  next(): DmaFence | null {
    this.obj.assertHeld();
    this.restarted = false;
    let fence: DmaFence | null;
    do {
      if (!this.fences || this.index >= this.fences.numFences) return null;
      const i = this.index++;
      fence = this.fences.table[i];
      this.fenceUsage = this.fences.usages[i] as DmaResvUsage;
    } while (this.fenceUsage > this.usage);
    return fence;
  }

  /** dma_resv_iter_end(): drop the reference of the unlocked walk. */
  end(): void {
    this.fence?.put();
    this.fence = null;
  }
}

/** dma_resv_for_each_fence_unlocked(): unsignaled fences up to `usage`, with their usage and whether the walk restarted. */
export function* dmaResvForEachFenceUnlocked(obj: DmaResv, usage: DmaResvUsage): Generator<{ fence: DmaFence; usage: DmaResvUsage; restarted: boolean }> {
  const cursor = new DmaResvIter(obj, usage);
  try {
    for (let f = cursor.firstUnlocked(); f; f = cursor.nextUnlocked()) {
      yield { fence: f, usage: cursor.fenceUsage, restarted: cursor.isRestarted() };
    }
  } finally {
    cursor.end();
  }
}

/** dma_resv_for_each_fence() (lock held): every entry up to `usage`, signaled or not. */
export function* dmaResvForEachFence(obj: DmaResv, usage: DmaResvUsage): Generator<[DmaFence, DmaResvUsage]> {
  const cursor = new DmaResvIter(obj, usage);
  for (let f = cursor.first(); f; f = cursor.next()) yield [f, cursor.fenceUsage];
}
