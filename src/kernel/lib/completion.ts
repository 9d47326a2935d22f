/**
 * struct completion (kernel/sched/completion.c): a one-way "this happened"
 * that tasks can wait for.
 */
import { armTimeout, MAX_SCHEDULE_TIMEOUT, jiffies } from './time.js';

export class Completion {
  /** completions not yet consumed by a waiter (UINT_MAX after complete_all) */
  done = 0;
  private waiters: (() => void)[] = [];

  /** complete(): wake one waiter (or let the next wait return at once). */
  complete(): void {
    const w = this.waiters.shift();
    if (w) w();
    else if (this.done !== 0xffffffff) this.done++;
  }

  /** complete_all(): wake every waiter, now and later. */
  completeAll(): void {
    this.done = 0xffffffff;
    const ws = this.waiters;
    this.waiters = [];
    for (const w of ws) w();
  }

  /** completion_done(): true if a wait would not sleep. */
  completionDone(): boolean {
    return this.done > 0;
  }

  /** try_wait_for_completion(): consume one completion without sleeping. */
  tryWait(): boolean {
    if (this.done === 0) return false;
    if (this.done !== 0xffffffff) this.done--;
    return true;
  }

  /** wait_for_completion() */
  async wait(): Promise<void> {
    await this.waitTimeout(MAX_SCHEDULE_TIMEOUT);
  }

  /** wait_for_completion_timeout(): remaining jiffies (at least 1), or 0 on timeout. */
  waitTimeout(timeout: number): Promise<number> {
    if (this.tryWait()) return Promise.resolve(timeout || 1);
    const start = jiffies();
    return new Promise<number>((resolve) => {
      let cancel: () => void = () => {};
      const wake = (): void => {
        cancel();
        resolve(timeout >= MAX_SCHEDULE_TIMEOUT ? timeout : Math.max(1, timeout - (jiffies() - start)));
      };
      this.waiters.push(wake);
      cancel = armTimeout(timeout, () => {
        const i = this.waiters.indexOf(wake);
        if (i >= 0) this.waiters.splice(i, 1);
        resolve(0);
      });
    });
  }
}
