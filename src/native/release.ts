/**
 * Releasing what a process holds from outside its thread: when the thread
 * died without exit() (reap), and when the process is killed or the machine
 * shuts down while the thread lives on (strip). A live thread may still
 * hold views of its mappings, and munmap under a view would let a read
 * crash the OS process, so strip replaces each mapping with anonymous zero
 * pages instead (MAP_FIXED: the file's reference goes, the addresses stay
 * readable) and leaves the placeholder for the owner to detach and unmap.
 */
import type { Libc } from './libc.js';
import { MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE, PROT_READ, PROT_WRITE } from '../uapi/mman.js';
import { EPOLL_CTL_DEL } from './epoll.js';
import {
  C_EPFD, C_STATE, CALL_ARMED, CALL_CANCELLED, FD_CLOSING, H_MASTER_EPFD, H_REGISTERED, MAP_BUSY, MAP_INERT, MAP_LIVE, T_FD, T_STATE, T_TO, TOKEN_FREE,
  TOKEN_PENDING, TOKEN_TAKEN, type Shared,
} from './shared.js';

/** Close `fd`, owned by `owner`, unless someone else is already closing it. */
export function closeOwned(shared: Shared, libc: Libc, fd: number, owner: number): boolean {
  if (!shared.beginClose(fd, owner)) return false;
  libc.close(fd);
  shared.endClose(fd, owner);
  return true;
}

/** Drop the fds in flight to `pid` (a receiver that is gone never receives them). */
export function dropTokensTo(shared: Shared, libc: Libc, pid: number): void {
  for (const i of shared.pendingTokens()) {
    if (shared.tokenWord(i, T_TO) !== pid || !shared.casToken(i, TOKEN_PENDING, TOKEN_TAKEN)) continue;
    closeOwned(shared, libc, shared.tokenWord(i, T_FD), -(i + 1));
    shared.setTokenWord(i, T_STATE, TOKEN_FREE);
  }
}

/** Wake `pid`'s pending async waits as cancelled; their own threads unregister them. */
export function cancelWaits(shared: Shared, pid: number): void {
  for (const i of shared.callsOf(pid)) {
    const at = shared.callWordIndex(i, C_STATE);
    if (Atomics.compareExchange(shared.calls, at, CALL_ARMED, CALL_CANCELLED) === CALL_ARMED) Atomics.notify(shared.calls, at);
  }
}

/** Release a live thread's process: close its fds, neutralise its mappings, drop fds in flight to it, cancel its waits. */
export function strip(shared: Shared, libc: Libc, pid: number): void {
  cancelWaits(shared, pid);
  for (const fd of shared.fdsOf(pid)) closeOwned(shared, libc, fd, pid);
  for (const i of shared.mapsOf(pid)) {
    if (!shared.casMap(i, MAP_LIVE, MAP_BUSY)) continue;
    const r = libc.mmap(shared.mapAddr(i), shared.mapLength(i), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0n);
    shared.setMapState(i, r === shared.mapAddr(i) ? MAP_INERT : MAP_LIVE);
    Atomics.notify(shared.mapWords, i * 2);
  }
  dropTokensTo(shared, libc, pid);
}

/**
 * Release everything of a process whose thread is gone. An entry caught
 * mid-release (an fd marked closing, a mapping marked busy) is dropped from
 * the tables without the call: the thread may have made it, and the number
 * may be someone else's now. Returns how many fds and mappings it released.
 */
export function reap(shared: Shared, libc: Libc, pid: number): { fds: number; maps: number } {
  let fds = 0;
  let maps = 0;
  for (const fd of shared.fdsOf(pid)) if (closeOwned(shared, libc, fd, pid)) fds++;
  for (const fd of shared.fdsOf(pid | FD_CLOSING)) shared.endClose(fd, pid);
  for (const i of shared.mapsOf(pid)) {
    const state = shared.mapState(i);
    if (state === MAP_LIVE || state === MAP_INERT) {
      libc.munmap(shared.mapAddr(i), shared.mapLength(i));
      maps++;
    }
    shared.freeMap(i);
  }
  const master = shared.header[H_MASTER_EPFD];
  for (const i of shared.callsOf(pid)) {
    const ep = Atomics.load(shared.calls, shared.callWordIndex(i, C_EPFD));
    if (ep >= 0) {
      if (libc.epollCtl(master, EPOLL_CTL_DEL, ep, null) === 0) Atomics.sub(shared.header, H_REGISTERED, 1);
      libc.close(ep);
    }
    shared.freeCall(i);
  }
  dropTokensTo(shared, libc, pid);
  return { fds, maps };
}
