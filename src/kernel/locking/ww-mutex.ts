/**
 * Wound/wait mutexes (include/linux/ww_mutex.h, kernel/locking/ww_mutex.h,
 * Documentation/locking/ww-mutex-design.rst): many locks taken in any order
 * by many transactions, without deadlock. Each acquire context has a stamp
 * (lower = older). On contention the younger transaction backs off with
 * -EDEADLK: under Wait-Die when it meets an older one, under Wound-Wait when
 * an older one wounds it. A context that holds nothing never backs off.
 *
 * The DEBUG_WW_MUTEXES misuse checks are always on (WARN), and
 * CONFIG_DEBUG_WW_MUTEX_SLOWPATH's spurious -EDEADLK injection can be
 * switched on with setWwMutexDeadlockInjection().
 */
import { lockdepAcquired } from './lockdep.js';
import { WARN } from '../lib/bug.js';
import { EALREADY, EDEADLK, EINTR } from '../lib/errno.js';
import { MutexCore, MutexWaiter } from './mutex.js';

/** struct ww_class: the algorithm and the stamp counter shared by its locks. */
export class WwClass {
  /** atomic_long_t stamp */
  stamp = 0;
  constructor(readonly name: string, readonly isWaitDie: boolean) {}
}

/** DEFINE_WW_CLASS(): a Wound-Wait class. */
export function DEFINE_WW_CLASS(name: string): WwClass {
  return new WwClass(name, false);
}

/** DEFINE_WD_CLASS(): a Wait-Die class. */
export function DEFINE_WD_CLASS(name: string): WwClass {
  return new WwClass(name, true);
}

let deadlockInjection = false;

const ZERO = Promise.resolve(0);
const ALREADY = Promise.resolve(-EALREADY);

/** CONFIG_DEBUG_WW_MUTEX_SLOWPATH: inject spurious -EDEADLK so back-off paths get exercised. */
export function setWwMutexDeadlockInjection(on: boolean): void {
  deadlockInjection = on;
}

/** struct ww_acquire_ctx */
export class WwAcquireCtx {
  readonly stamp: number;
  /** locks held through this context */
  acquired = 0;
  /** Wound-Wait: an older context wants a lock we hold */
  wounded = false;
  readonly isWaitDie: boolean;
  /** debug: ww_acquire_done() was called */
  doneAcquire = false;
  /** debug: the lock that returned -EDEADLK, to be taken with lock_slow */
  contendingLock: WwMutex | null = null;
  /** @internal where this context sleeps, so a wound can wake it */
  waiter: MutexWaiter | null = null;
  deadlockInjectInterval = 1;
  deadlockInjectCountdown: number;

  /** ww_acquire_init(ctx, class) */
  constructor(readonly wwClass: WwClass) {
    this.stamp = ++wwClass.stamp;
    this.isWaitDie = wwClass.isWaitDie;
    this.deadlockInjectCountdown = this.stamp & 0xf;
  }

  /** ww_acquire_done(): the acquire phase is over; no more locks may be taken. */
  done(): void {
    WARN(this.doneAcquire, 'ww_acquire_done() called twice');
    this.doneAcquire = true;
  }

  /** ww_acquire_fini(): after every lock is released. WARNs if some are still held or if called twice. */
  fini(): void {
    if (this.acquired) WARN(true, `ww_acquire_fini() with ${this.acquired === 0xffffffff ? 'a finished context' : `${this.acquired} lock(s) held`}`);
    this.doneAcquire = true;
    this.acquired = 0xffffffff; // ~0U: a second fini, or a lock, trips the checks
  }
}

/** __ww_ctx_less(a, b): a is younger (less important) than b. */
function ctxLess(a: WwAcquireCtx, b: WwAcquireCtx): boolean {
  return a.stamp - b.stamp > 0;
}

function waiterCtx(w: MutexWaiter): WwAcquireCtx | null {
  return w.data as WwAcquireCtx | null;
}

/** struct ww_mutex: a mutex (its base) with the holder's acquire context. */
export class WwMutex extends MutexCore {
  /** the context holding the lock, null when free or taken without one */
  ctx: WwAcquireCtx | null = null;

  /** ww_mutex_init(lock, class) */
  constructor(readonly wwClass: WwClass, name = wwClass.name) {
    super(name);
  }

  /** ww_mutex.base: the underlying mutex (this object). */
  get base(): MutexCore {
    return this;
  }

  /** ww_mutex_is_locked() */
  isLocked(): boolean {
    return this.locked;
  }

  /** ww_mutex_destroy(): WARNs if still locked. */
  destroy(): void {
    WARN(this.locked, 'ww_mutex_destroy() of a locked mutex');
  }

  /**
   * ww_mutex_lock(lock, ctx): 0 when taken; -EALREADY if `ctx` already
   * holds it; -EDEADLK when `ctx` must back off (release everything, then
   * lockSlow this lock). With a null ctx it is a plain mutex.
   */
  lock(ctx: WwAcquireCtx | null): Promise<number> {
    return this.lockFast(ctx, false);
  }

  /** ww_mutex_lock_interruptible(): as lock, plus -EINTR when `signal` fires. */
  lockInterruptible(ctx: WwAcquireCtx | null, signal?: AbortSignal): Promise<number> {
    return this.lockFast(ctx, true, signal);
  }

  /** The uncontended path answers with a settled promise; only waiting goes through the async slow path. */
  private lockFast(ctx: WwAcquireCtx | null, intr: boolean, signal?: AbortSignal): Promise<number> {
    if (ctx) {
      if (ctx === this.ctx) return ALREADY;
      // Reset the wounded flag after a back-off: nobody can wound a context that holds nothing.
      if (ctx.acquired === 0) ctx.wounded = false;
    }
    if (this.tryLockRaw()) {
      lockdepAcquired(this, false, ctx !== null);
      if (!ctx) return ZERO;
      this.setContextFastpath(ctx);
      return ctx.acquired > 1 && deadlockInjection ? Promise.resolve(this.deadlockInject(ctx)) : ZERO;
    }
    return this.lockSlowpath(ctx, intr, signal);
  }

  private async lockSlowpath(ctx: WwAcquireCtx | null, intr: boolean, signal?: AbortSignal): Promise<number> {
    const ret = await this.lockCommon(ctx, intr, signal);
    if (ret === 0 && ctx && ctx.acquired > 1) return this.deadlockInject(ctx);
    return ret;
  }

  /** ww_mutex_lock_slow(): after -EDEADLK and releasing everything, sleep until this lock is ours. */
  async lockSlow(ctx: WwAcquireCtx): Promise<void> {
    WARN(!ctx.contendingLock, 'ww_mutex_lock_slow() without a prior -EDEADLK');
    await this.lock(ctx);
  }

  /** ww_mutex_lock_slow_interruptible(): 0 or -EINTR. */
  lockSlowInterruptible(ctx: WwAcquireCtx, signal?: AbortSignal): Promise<number> {
    WARN(!ctx.contendingLock, 'ww_mutex_lock_slow_interruptible() without a prior -EDEADLK');
    return this.lockInterruptible(ctx, signal);
  }

  /**
   * ww_mutex_trylock(lock, ctx): 1 if taken, 0 otherwise (also when ctx
   * already holds it). Taken with a ctx, it counts as held by the ctx.
   */
  trylock(ctx: WwAcquireCtx | null = null): number {
    if (!ctx) {
      if (!this.tryLockRaw()) return 0;
      lockdepAcquired(this, true, false);
      return 1;
    }
    if (ctx.acquired === 0) ctx.wounded = false;
    if (this.tryLockRaw()) {
      lockdepAcquired(this, true, true);
      this.setContextFastpath(ctx);
      return 1;
    }
    return 0;
  }

  /** ww_mutex_unlock() */
  unlock(): void {
    const ctx = this.ctx;
    if (ctx) {
      WARN(!ctx.acquired, 'ww_mutex_unlock(): context holds no locks');
      if (ctx.acquired > 0) ctx.acquired--;
      this.ctx = null;
    }
    this.unlockRaw();
  }

  /** The contended part of __ww_mutex_lock(): queue, then sleep until the lock is ours or we must back off. */
  private async lockCommon(ctx: WwAcquireCtx | null, intr: boolean, signal?: AbortSignal): Promise<number> {
    const waiter = new MutexWaiter(ctx);
    if (!ctx) {
      this.mutableWaiters().push(waiter);
    } else {
      const ret = this.addWaiter(waiter, ctx);
      if (ret) return ret;
      ctx.waiter = waiter;
    }
    let ret = 0;
    for (;;) {
      if (this.tryLockRaw()) break;
      if (intr && signal?.aborted) {
        ret = -EINTR;
        break;
      }
      if (ctx) {
        ret = this.checkKill(waiter, ctx);
        if (ret) break;
      }
      await waiter.sleep(intr ? signal : undefined);
    }
    if (ctx) ctx.waiter = null;
    if (ret) {
      this.removeWaiter(waiter);
      return ret;
    }
    lockdepAcquired(this, false, ctx !== null);
    // Wound-Wait: we took the lock ahead of the first waiter, who may need to wound us.
    const first = this.waiters[0] === waiter;
    this.removeWaiter(waiter);
    if (ctx) {
      if (!ctx.isWaitDie && !first) this.checkWaiters(ctx);
      this.lockAcquired(ctx);
    }
    return 0;
  }

  /** ww_mutex_lock_acquired(), with the DEBUG_WW_MUTEXES checks. */
  private lockAcquired(ctx: WwAcquireCtx): void {
    WARN(this.ctx, 'ww_mutex acquired while it records another context (released with a plain unlock?)');
    WARN(ctx.doneAcquire, 'ww_mutex_lock() after ww_acquire_done()');
    if (ctx.contendingLock) {
      WARN(ctx.contendingLock !== this, 'after -EDEADLK, a different ww_mutex was locked before the contended one');
      WARN(ctx.acquired > 0, 'after -EDEADLK, ww_mutex_lock() without releasing every lock first');
      ctx.contendingLock = null;
    }
    WARN(ctx.wwClass !== this.wwClass, 'ww_mutex locked with a context of another class');
    ctx.acquired++;
    this.ctx = ctx;
  }

  /** ww_mutex_set_context_fastpath(): taken without waiting; waiters may need to die or wound us. */
  private setContextFastpath(ctx: WwAcquireCtx): void {
    this.lockAcquired(ctx);
    if (this.waiters.length) this.checkWaiters(ctx);
  }

  /** __ww_mutex_kill() */
  private kill(ctx: WwAcquireCtx): number {
    if (ctx.acquired > 0) {
      WARN(ctx.contendingLock, 'a second -EDEADLK before ww_mutex_lock_slow()');
      ctx.contendingLock = this;
      return -EDEADLK;
    }
    return 0;
  }

  /** __ww_mutex_die(): Wait-Die: wake a younger waiter that holds locks so it dies. */
  private die(waiter: MutexWaiter, ctx: WwAcquireCtx): boolean {
    if (!ctx.isWaitDie) return false;
    const wctx = waiterCtx(waiter)!;
    if (wctx.acquired > 0 && ctxLess(wctx, ctx)) waiter.wake();
    return true;
  }

  /** __ww_mutex_wound(): Wound-Wait: an older waiter with locks wounds a younger holder. */
  private wound(ctx: WwAcquireCtx, holdCtx: WwAcquireCtx | null): boolean {
    if (!holdCtx || !this.locked) return false;
    if (ctx.acquired > 0 && ctxLess(holdCtx, ctx)) {
      holdCtx.wounded = true;
      holdCtx.waiter?.wake();
      return true;
    }
    return false;
  }

  /** __ww_mutex_check_waiters() */
  private checkWaiters(ctx: WwAcquireCtx): void {
    for (const cur of this.waiters) {
      const cctx = waiterCtx(cur);
      if (!cctx) continue;
      if (this.die(cur, ctx) || this.wound(cctx, ctx)) break;
    }
  }

  /** __ww_mutex_check_kill() */
  private checkKill(waiter: MutexWaiter, ctx: WwAcquireCtx): number {
    const holdCtx = this.ctx;
    if (ctx.acquired === 0) return 0;
    if (!ctx.isWaitDie) return ctx.wounded ? this.kill(ctx) : 0;
    if (holdCtx && ctxLess(ctx, holdCtx)) return this.kill(ctx);
    // A waiter with a context ahead of us is older: die.
    const waiters = this.waiters;
    for (let i = waiters.indexOf(waiter) - 1; i >= 0; i--) {
      if (waiterCtx(waiters[i])) return this.kill(ctx);
    }
    return 0;
  }

  /** __ww_mutex_add_waiter(): queue in stamp order (context-less waiters stay FIFO). */
  private addWaiter(waiter: MutexWaiter, ctx: WwAcquireCtx): number {
    const waiters = this.mutableWaiters();
    let pos = -1;
    for (let i = waiters.length - 1; i >= 0; i--) {
      const cctx = waiterCtx(waiters[i]);
      if (!cctx) continue;
      if (ctxLess(ctx, cctx)) {
        // Wait-Die: an older context waits already; we would die when it gets the lock.
        if (ctx.isWaitDie) {
          const ret = this.kill(ctx);
          if (ret) return ret;
        }
        break;
      }
      pos = i;
      this.die(waiters[i], ctx);
    }
    if (pos < 0) waiters.push(waiter);
    else waiters.splice(pos, 0, waiter);
    // Wound-Wait: blocking on a younger holder wounds it.
    if (!ctx.isWaitDie) this.wound(ctx, this.ctx);
    return 0;
  }

  /** ww_mutex_deadlock_injection() */
  private deadlockInject(ctx: WwAcquireCtx): number {
    if (!deadlockInjection) return 0;
    if (ctx.deadlockInjectCountdown-- === 0) {
      let tmp = ctx.deadlockInjectInterval;
      tmp = tmp > 0x3fffffff ? 0xffffffff : tmp * 2 + tmp + Math.floor(tmp / 2);
      ctx.deadlockInjectInterval = tmp;
      ctx.deadlockInjectCountdown = tmp;
      ctx.contendingLock = this;
      this.unlock();
      return -EDEADLK;
    }
    return 0;
  }
}
