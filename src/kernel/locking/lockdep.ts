/**
 * Lock validation in the manner of lockdep (kernel/locking/lockdep.c,
 * CONFIG_PROVE_LOCKING): locks are grouped in classes (by name), each task
 * records the locks it holds, and every acquisition while holding others
 * adds "held -> acquired" edges to one graph of classes. An acquisition
 * that would close a cycle is a possible deadlock, reported (WARN) the
 * first time the order is seen — whether or not the interleaving that
 * deadlocks ever happens.
 *
 * A task here is an async call chain: lockdepTask() runs a function with a
 * held-lock list of its own (AsyncLocalStorage carries it across awaits);
 * the kernel thread runs each syscall as one. Locks taken outside any task
 * are not tracked. ww_mutexes of one class taken under an acquire context
 * may nest in any order (that is what the wound/wait protocol is for);
 * other same-class nesting is reported as recursive locking.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { WARN } from '../lib/bug.js';
import { kconfig } from '../lib/kconfig.js';

interface LockLike {
  readonly name: string;
}

interface Held {
  lock: LockLike;
  /** taken under a ww acquire context */
  nest: boolean;
}

const current = new AsyncLocalStorage<Held[]>();
/** class -> classes acquired while it was held */
const after = new Map<string, Set<string>>();
/** orders already reported (once each, as lockdep does) */
const reported = new Set<string>();

/** Run `fn` as one task: the locks it takes are its own held locks. */
export function lockdepTask<T>(fn: () => T): T {
  return current.run([], fn);
}

/** Whether `to` can be reached from `from` along recorded orders (the dependency chain, or null). */
function path(from: string, to: string): string[] | null {
  const seen = new Set<string>([from]);
  const queue: string[][] = [[from]];
  while (queue.length) {
    const p = queue.shift()!;
    const last = p[p.length - 1];
    if (last === to) return p;
    for (const next of after.get(last) ?? []) {
      if (seen.has(next)) continue;
      seen.add(next);
      queue.push([...p, next]);
    }
  }
  return null;
}

/** lock_acquire(): `lock` was just taken by the current task. A trylock adds no order (it cannot wait). */
export function lockdepAcquired(lock: LockLike, trylock: boolean, nest: boolean): void {
  if (!kconfig.PROVE_LOCKING) return;
  const held = current.getStore();
  if (!held) return;
  if (!trylock) {
    for (const h of held) {
      const a = h.lock.name;
      const b = lock.name;
      if (a === b) {
        if (!(nest && h.nest) && !reported.has(`${a}=${b}`)) {
          reported.add(`${a}=${b}`);
          WARN(true, `possible recursive locking detected: acquiring ${b} while already holding a lock of class ${a}`);
        }
        continue;
      }
      let s = after.get(a);
      if (s?.has(b)) continue; // an order already recorded was checked when it was added
      const cycle = path(b, a);
      if (cycle) {
        if (!reported.has(`${a}>${b}`)) {
          reported.add(`${a}>${b}`);
          WARN(true, `possible circular locking dependency detected: acquiring ${b} while holding ${a}, but the order ${cycle.join(' -> ')} was seen before`);
        }
        continue;
      }
      if (!s) after.set(a, (s = new Set()));
      s.add(b);
    }
  }
  held.push({ lock, nest });
}

/** lock_release() */
export function lockdepReleased(lock: LockLike): void {
  if (!kconfig.PROVE_LOCKING) return;
  const held = current.getStore();
  if (!held) return;
  for (let i = held.length - 1; i >= 0; i--) {
    if (held[i].lock === lock) {
      held.splice(i, 1);
      return;
    }
  }
}

/** lockdep_reset(): forget every recorded order (tests). */
export function lockdepReset(): void {
  after.clear();
  reported.clear();
}
