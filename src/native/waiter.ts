/**
 * Waiting for fds without a thread per wait: the caller's side of the
 * waiter (waiter-thread.ts). A wait registers the fds with the master epoll
 * instance through a per-call epoll instance, then awaits its slot's state
 * word with Atomics.waitAsync; the waiter thread flips it when an fd is
 * ready. Threads of one OS process share the fd table, so any thread can
 * register with the master directly.
 */
import { EEXIST, EINTR, EIO, ENOMEM } from '../uapi/errno.js';
import { EPOLL_CLOEXEC, EPOLL_CTL_ADD, EPOLL_CTL_DEL, EPOLLIN, EPOLLONESHOT, epollEvent } from './epoll.js';
import { fail, type Libc } from './libc.js';
import {
  C_EPFD, C_GEN, C_STATE, CALL_ARMED, CALL_CANCELLED, CALL_FIRED, H_DOWN, H_MASTER_EPFD, H_REGISTERED, MAX_CALLS, Shared,
} from './shared.js';
import { NativeSyscallError } from './errors.js';


export interface WaitEntry {
  fd: number;
  events: number;
}

/** Why a wait ended. */
export type WaitEnd = 'ready' | 'timeout';

export class WaitClient {
  private hint = 0;
  /** Waits in progress on this thread: the event loop is kept alive while any is (Atomics.waitAsync does not). */
  private inFlight = 0;
  private readonly keepAlive = setInterval(() => {}, 2 ** 30).unref();

  constructor(private readonly shared: Shared, private readonly libc: Libc) {}

  /**
   * Resolve once one of `entries` is ready for one of its events ('ready'),
   * or `timeoutMs` passed ('timeout'; negative waits for ever). An abort
   * rejects with the signal's reason and removes the registration first.
   */
  async wait(pid: number, entries: WaitEntry[], timeoutMs: number, signal?: AbortSignal): Promise<WaitEnd> {
    signal?.throwIfAborted();
    if (Atomics.load(this.shared.header, H_DOWN)) throw new NativeSyscallError(-EIO, 'poll', '(the machine has shut down)');
    const { shared, libc } = this;
    const slot = shared.reserveCall(pid, this.hint);
    if (slot < 0) throw new NativeSyscallError(-ENOMEM, 'poll', `(more than ${MAX_CALLS} waits pending)`);
    this.hint = (slot + 1) % MAX_CALLS;
    const stateAt = shared.callWordIndex(slot, C_STATE);
    const master = shared.header[H_MASTER_EPFD];
    let ep = -1;
    let registered = false;
    const onAbort = (): void => {
      if (Atomics.compareExchange(shared.calls, stateAt, CALL_ARMED, CALL_CANCELLED) === CALL_ARMED) Atomics.notify(shared.calls, stateAt);
    };
    if (this.inFlight++ === 0) this.keepAlive.ref();
    try {
      ep = libc.epollCreate1(EPOLL_CLOEXEC);
      if (ep < 0) throw fail('epoll_create1');
      Atomics.store(shared.calls, shared.callWordIndex(slot, C_EPFD), ep);
      const merged = new Map<number, number>();
      for (const e of entries) merged.set(e.fd, (merged.get(e.fd) ?? 0) | e.events);
      for (const [fd, events] of merged) {
        if (libc.epollCtl(ep, EPOLL_CTL_ADD, fd, epollEvent(events, BigInt(fd))) < 0 && libc.errno() !== EEXIST) throw fail('epoll_ctl', `(fd ${fd})`);
      }
      const gen = (Atomics.add(shared.calls, shared.callWordIndex(slot, C_GEN), 1) + 1) | 0;
      const data = (BigInt(gen >>> 0) << 32n) | BigInt(slot);
      const ev = epollEvent(EPOLLIN | EPOLLONESHOT, data);
      Atomics.store(shared.calls, stateAt, CALL_ARMED);
      if (libc.epollCtl(master, EPOLL_CTL_ADD, ep, ev) < 0) throw fail('epoll_ctl', '(the waiter)');
      registered = true;
      Atomics.add(shared.header, H_REGISTERED, 1);
      signal?.addEventListener('abort', onAbort, { once: true });
      const deadline = timeoutMs >= 0 ? performance.now() + timeoutMs : Infinity;
      for (;;) {
        const left = deadline - performance.now();
        if (left <= 0) return 'timeout';
        const w = Atomics.waitAsync(shared.calls, stateAt, CALL_ARMED, left === Infinity ? undefined : left);
        if (w.async) await w.value;
        const state = Atomics.load(shared.calls, stateAt);
        if (state === CALL_FIRED) return 'ready';
        if (state === CALL_CANCELLED) {
          signal?.throwIfAborted();
          throw new NativeSyscallError(-EINTR, 'poll', '(interrupted)');
        }
        if (Atomics.load(shared.header, H_DOWN)) throw new NativeSyscallError(-EIO, 'poll', '(the machine has shut down)');
      }
    } finally {
      signal?.removeEventListener('abort', onAbort);
      Atomics.store(shared.calls, stateAt, CALL_CANCELLED);
      if (registered) {
        libc.epollCtl(master, EPOLL_CTL_DEL, ep, null);
        Atomics.sub(shared.header, H_REGISTERED, 1);
      }
      if (ep >= 0) {
        // Forget the number before closing it: a thread that dies in between leaks it rather than have the machine close a reused number.
        Atomics.store(shared.calls, shared.callWordIndex(slot, C_EPFD), -1);
        libc.close(ep);
      }
      shared.freeCall(slot);
      if (--this.inFlight === 0) this.keepAlive.unref();
    }
  }

  /** Stop keeping the thread alive (the process exited). */
  dispose(): void {
    clearInterval(this.keepAlive);
  }
}
