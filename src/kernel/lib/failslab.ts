/**
 * Fault injection, as Linux's failslab / fail_page_alloc / fail_usercopy:
 * make the Nth allocation or user copy (counting from 1 after arming)
 * fail, so that every error path that handles -ENOMEM or -EFAULT can be
 * walked. Allocation sites call `shouldFailAlloc(kind)` where Linux would
 * call kmalloc/alloc_pages and treat `true` as a NULL return;
 * copy_from_user/copy_to_user call it with 'usercopy'.
 */
export type AllocKind = 'slab' | 'page' | 'usercopy';

interface FailState {
  /** allocations seen since arming, by all kinds the filter accepts */
  count: number;
  /** fail the allocation with this count (1-based); 0 = disarmed */
  failAt: number;
  /** fail every allocation after failAt too */
  sticky: boolean;
  kinds: ReadonlySet<AllocKind>;
  injected: number;
}

const state: FailState = { count: 0, failAt: 0, sticky: false, kinds: new Set(), injected: 0 };

/** Arm: the `nth` allocation (1-based) of the given kinds fails. */
export function failNthAlloc(nth: number, kinds: AllocKind[] = ['slab', 'page'], sticky = false): void {
  state.count = 0;
  state.failAt = nth;
  state.sticky = sticky;
  state.kinds = new Set(kinds);
}

/** Disarm; returns how many allocations were counted while armed. */
export function failAllocDisarm(): number {
  const n = state.count;
  state.failAt = 0;
  state.count = 0;
  return n;
}

/** Faults injected since boot. */
export function faultsInjected(): number {
  return state.injected;
}

/** Called at each allocation site: true means "this allocation fails". */
export function shouldFailAlloc(kind: AllocKind): boolean {
  if (state.failAt === 0 || !state.kinds.has(kind)) return false;
  const n = ++state.count;
  if (n === state.failAt || (state.sticky && n > state.failAt)) {
    state.injected++;
    return true;
  }
  return false;
}
