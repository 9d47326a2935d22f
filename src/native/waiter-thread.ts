/**
 * The waiter: one thread per native machine that blocks in epoll_wait on
 * the master epoll instance. Each pending async wait registers there (a
 * per-call epoll instance holding the call's fds, added EPOLLONESHOT with
 * the call's slot and generation as its data); when one is ready the waiter
 * marks the call's slot FIRED and notifies it, and the caller, in its own
 * thread, makes the real call without blocking. No libuv pool thread is
 * held by a pending wait. The machine's eventfd (data WAKE_DATA) wakes the
 * waiter to shut down.
 */
import { EINTR } from '../uapi/errno.js';
import { workerData } from 'node:worker_threads';
import { loadLibc } from './libc.js';
import { C_GEN, C_STATE, CALL_ARMED, CALL_FIRED, H_DOWN, H_MASTER_EPFD, H_WAITER_TID, Shared, WAKE_DATA } from './shared.js';
import { SIZEOF_EPOLL_EVENT } from './epoll.js';

const BATCH = 64;

function run(): void {
  const shared = new Shared((workerData as { sab: SharedArrayBuffer }).sab);
  const libc = loadLibc();
  const epfd = shared.header[H_MASTER_EPFD];
  const events = new Uint8Array(BATCH * SIZEOF_EPOLL_EVENT);
  const view = new DataView(events.buffer);
  Atomics.store(shared.header, H_WAITER_TID, libc.gettid());
  Atomics.notify(shared.header, H_WAITER_TID);
  for (;;) {
    const n = libc.epollWait(epfd, events, BATCH, -1);
    if (n < 0) {
      if (libc.errno() === EINTR) continue;
      throw new Error(`native waiter: epoll_wait failed with errno ${libc.errno()}`);
    }
    for (let i = 0; i < n; i++) {
      const data = view.getBigUint64(i * SIZEOF_EPOLL_EVENT + 4, true);
      if (data === WAKE_DATA) {
        if (Atomics.load(shared.header, H_DOWN)) return;
        continue;
      }
      const slot = Number(data & 0xffffffffn);
      const gen = Number(data >> 32n);
      const state = shared.callWordIndex(slot, C_STATE);
      // A stale event (the call was cancelled and its slot reused) is dropped by its generation.
      if (Atomics.load(shared.calls, shared.callWordIndex(slot, C_GEN)) !== gen) continue;
      if (Atomics.compareExchange(shared.calls, state, CALL_ARMED, CALL_FIRED) === CALL_ARMED) Atomics.notify(shared.calls, state);
    }
  }
}

run();
