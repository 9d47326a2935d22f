/**
 * struct mutex (kernel/locking/mutex.c): a sleeping lock. Kernel code that
 * would sleep on it in Linux awaits here; mutex_trylock stays synchronous.
 *
 * Like Linux, unlock does not hand the lock to a waiter: it wakes the first
 * one, which then tries again (so a running task may take the lock first).
 */
import { WARN } from '../lib/bug.js';
import { EINTR } from '../lib/errno.js';
import { lockdepAcquired, lockdepReleased } from './lockdep.js';

/** One sleeping task (struct mutex_waiter). */
export class MutexWaiter {
  /** set by a wake-up, cleared when the waiter looks at it */
  woken = false;
  private resume: (() => void) | null = null;
  constructor(readonly data: unknown = null) {}

  /** wake_up_process() */
  wake(): void {
    this.woken = true;
    const r = this.resume;
    if (r) {
      this.resume = null;
      r();
    }
  }

  /** schedule(): sleep until woken (at once if a wake-up is already pending) or until `signal` fires. */
  sleep(signal?: AbortSignal): Promise<void> {
    if (this.woken || signal?.aborted) {
      this.woken = false;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      let onAbort: (() => void) | null = null;
      this.resume = () => {
        this.woken = false;
        if (onAbort) signal!.removeEventListener('abort', onAbort);
        resolve();
      };
      if (signal) {
        onAbort = () => this.wake();
        signal.addEventListener('abort', onAbort, { once: true });
      }
    });
  }
}

/** The waiter list of every uncontended mutex (never modified). */
const NO_WAITERS: MutexWaiter[] = [];

/**
 * The state every sleeping lock shares (struct mutex's fields): held or
 * not, and the tasks sleeping on it. Mutex and WwMutex build their APIs on it.
 */
export class MutexCore {
  /** true while held (the owner task is not tracked: there are no tasks) */
  locked = false;
  /** sleeping tasks, first to be woken first (shared empty list until someone waits) */
  waiters: MutexWaiter[] = NO_WAITERS;

  constructor(readonly name = 'mutex') {}

  /** The waiter list, made private to this lock so it can be changed. */
  mutableWaiters(): MutexWaiter[] {
    if (this.waiters === NO_WAITERS) this.waiters = [];
    return this.waiters;
  }

  /** __mutex_trylock(): take the lock if free. */
  tryLockRaw(): boolean {
    if (this.locked) return false;
    this.locked = true;
    return true;
  }

  /** __mutex_unlock_slowpath(): release and let the first waiter retry; WARNs when not held. */
  unlockRaw(): void {
    if (!this.locked) {
      WARN(true, `mutex_unlock() of unlocked ${this.name}`);
      return;
    }
    this.locked = false;
    lockdepReleased(this);
    this.wakeFirst();
  }

  /** @internal wake the first waiter, if any, so it retries. */
  wakeFirst(): void {
    const w = this.waiters[0];
    if (w) w.wake();
  }

  /** @internal remove a waiter; if the lock is free, let the next one retry. */
  removeWaiter(w: MutexWaiter): void {
    const i = this.waiters.indexOf(w);
    if (i >= 0) this.mutableWaiters().splice(i, 1);
    if (!this.locked) this.wakeFirst();
  }
}

/** struct mutex */
export class Mutex extends MutexCore {
  /** mutex_trylock(): 1 if taken, 0 if it is held. */
  trylock(): number {
    if (!this.tryLockRaw()) return 0;
    lockdepAcquired(this, true, false);
    return 1;
  }

  /** mutex_lock(): sleep until the lock is ours. */
  async lock(): Promise<void> {
    await this.lockCommon(false);
  }

  /** mutex_lock_interruptible(): 0, or -EINTR if `signal` fires first. */
  lockInterruptible(signal?: AbortSignal): Promise<number> {
    return this.lockCommon(true, signal);
  }

  private async lockCommon(intr: boolean, signal?: AbortSignal): Promise<number> {
    if (this.tryLockRaw()) {
      lockdepAcquired(this, false, false);
      return 0;
    }
    const waiter = new MutexWaiter();
    this.mutableWaiters().push(waiter);
    try {
      for (;;) {
        if (this.tryLockRaw()) {
          lockdepAcquired(this, false, false);
          return 0;
        }
        if (intr && signal?.aborted) return -EINTR;
        await waiter.sleep(intr ? signal : undefined);
      }
    } finally {
      this.removeWaiter(waiter);
    }
  }

  /** mutex_unlock(): WARNs when the lock is not held. */
  unlock(): void {
    this.unlockRaw();
  }

  /** mutex_is_locked() */
  isLocked(): boolean {
    return this.locked;
  }
}
