/**
 * kref / refcount_t (include/linux/kref.h, lib/refcount.c). The count lives
 * in the object itself (a `refcount` field) so refcounted objects cost no
 * extra allocation. Like refcount_t, an increment from 0 (use after free)
 * and a decrement below 0 WARN and leave the count saturated instead of
 * wrapping.
 */
import { WARN } from './bug.js';

export interface Kref {
  refcount: number;
}

/** A saturated counter never reaches 0 again, so it is never released twice. */
export const REFCOUNT_SATURATED = -0x40000000;

/** kref_init() */
export function krefInit(k: Kref): void {
  k.refcount = 1;
}

/** kref_read() */
export function krefRead(k: Kref): number {
  return k.refcount;
}

/** kref_get(): WARNs on 0 (addition on 0; use-after-free). */
export function krefGet(k: Kref): void {
  const old = k.refcount;
  if (old <= 0) {
    WARN(true, old === 0 ? 'refcount_t: addition on 0; use-after-free.' : 'refcount_t: saturated; leaking memory.');
    k.refcount = REFCOUNT_SATURATED;
    return;
  }
  k.refcount = old + 1;
}

/** kref_get_unless_zero(): true and incremented unless the count is 0. */
export function krefGetUnlessZero(k: Kref): boolean {
  if (k.refcount <= 0) return false;
  k.refcount++;
  return true;
}

/**
 * kref_put(): decrement; at 0 call `release` and return true. A put on a
 * released (0) or saturated object WARNs (underflow; use-after-free) and
 * does nothing else.
 */
export function krefPut<T extends Kref>(k: T, release: (k: T) => void): boolean {
  const old = k.refcount;
  if (old <= 0) {
    WARN(true, old === 0 ? 'refcount_t: underflow; use-after-free.' : 'refcount_t: saturated; leaking memory.');
    k.refcount = REFCOUNT_SATURATED;
    return false;
  }
  k.refcount = old - 1;
  if (old === 1) {
    release(k);
    return true;
  }
  return false;
}
