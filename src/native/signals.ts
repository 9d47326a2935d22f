/**
 * Interrupting a blocked synchronous call with a real signal. A process's
 * thread blocked in poll(2), read(2) or an ioctl that waits sits in the
 * kernel, where no JavaScript can reach it. A signal can: with a handler
 * installed without SA_RESTART, the call returns EINTR. The handler must
 * exist (the default action of a real-time signal kills the OS process) and
 * do nothing; libc's getppid is such a function, taken by address. The
 * signal is a real-time one that Node, V8 and glibc leave alone
 * (SIGRTMIN + 7), aimed at the one thread with tgkill.
 */
import type { Libc } from './libc.js';
import { P_BLOCKED, P_TID, type Shared } from './shared.js';

/** sizeof(struct sigaction) in glibc on x86-64: handler, sigset_t (128 bytes), flags, restorer */
const SIZEOF_SIGACTION = 152;
const SA_FLAGS_AT = 136;
/** the offset from SIGRTMIN of the signal used */
export const INTERRUPT_RT_OFFSET = 7;
/** how long interrupt() keeps signalling a thread that stays blocked, in ms */
const INTERRUPT_PATIENCE_MS = 1000;

/**
 * Install the do-nothing handler (once per OS process) and return the signal
 * number. Throws if some other code already handles that signal.
 */
export function installInterruptSignal(libc: Libc, sig = libc.sigrtmin() + INTERRUPT_RT_OFFSET): number {
  const old = new Uint8Array(SIZEOF_SIGACTION);
  if (libc.sigaction(sig, null, old) < 0) throw new Error(`sigaction(${sig}) failed: errno ${libc.errno()}`);
  const handler = new DataView(old.buffer).getBigUint64(0, true);
  if (handler === libc.getppidAddress) return sig;
  if (handler !== 0n) throw new Error(`signal ${sig} already has a handler in this process: pick another interruptSignal`);
  const act = new Uint8Array(SIZEOF_SIGACTION);
  const view = new DataView(act.buffer);
  view.setBigUint64(0, libc.getppidAddress, true);
  view.setInt32(SA_FLAGS_AT, 0, true); // no SA_RESTART: a blocked call returns EINTR
  if (libc.sigaction(sig, act, null) < 0) throw new Error(`sigaction(${sig}) failed: errno ${libc.errno()}`);
  return sig;
}

/**
 * Signal process entry `index`'s thread until it leaves the blocking call it
 * is in (its BLOCKED word, that call's number, changes). A signal that lands
 * just before the thread enters the call is lost, so one is sent every
 * millisecond. Returns false if the thread stayed in the call (an
 * uninterruptible wait) for a second, or is gone.
 */
export function interrupt(shared: Shared, libc: Libc, index: number, tgid: number, sig: number): boolean {
  const blockedAt = shared.procWordIndex(index, P_BLOCKED);
  const tid = shared.procWord(index, P_TID);
  const call = Atomics.load(shared.procs, blockedAt);
  if (!tid || !call) return true;
  for (let waited = 0; Atomics.load(shared.procs, blockedAt) === call; waited++) {
    if (waited >= INTERRUPT_PATIENCE_MS) return false;
    if (libc.tgkill(tgid, tid, sig) < 0) return false; // the thread is gone (ESRCH)
    Atomics.wait(shared.procs, blockedAt, call, 1);
  }
  return true;
}
