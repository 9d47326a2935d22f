/**
 * kill(pid, sig) on the native backend, with the emulator's rules (signal(7)):
 * a signal the process has a handler for (onSignal) interrupts a synchronous
 * call it is blocked in with the real interrupt signal (signals.ts) — the
 * call fails with EINTR after the handler ran — and is left pending for its
 * thread to handle; SIGKILL, and a signal whose default action ends the
 * process (SIGTERM, SIGINT, SIGHUP, SIGUSR1, ...) when it has no handler,
 * end the process: its state becomes KILLED, its blocked call is
 * interrupted, its pending async waits are cancelled, its fds are closed and
 * its mappings neutralised at once (release.ts strip), and its thread, told
 * through its state word, unmaps and detaches what is left and (in a
 * worker) ends. Signals ignored by default do nothing; job control (stop,
 * continue) is EINVAL, as on the emulator. Signal 0 checks that the process
 * exists.
 */
import { EINVAL, ESRCH } from '../uapi/errno.js';
import { NSIG_STANDARD, SIGKILL, signalDefault } from '../uapi/signal.js';
import { NativeSyscallError } from './errors.js';
import type { Libc } from './libc.js';
import { strip } from './release.js';
import { H_INTR_SIG, H_TGID, P_HANDLED, P_SIG, P_SIGPENDING, P_SIGSEQ, P_STATE, PROC_ALIVE, PROC_KILLED, type Shared } from './shared.js';
import { interrupt } from './signals.js';

export { SIGKILL } from '../uapi/signal.js';

export function killProcess(shared: Shared, libc: Libc, pid: number, sig: number): void {
  if (!Number.isInteger(sig) || sig < 0 || sig >= NSIG_STANDARD) throw new NativeSyscallError(-EINVAL, 'kill', `(signal ${sig})`);
  const index = shared.procIndex(pid);
  if (index < 0 || shared.procWord(index, P_STATE) !== PROC_ALIVE) throw new NativeSyscallError(-ESRCH, 'kill', `(pid ${pid})`);
  if (sig === 0) return;
  const action = signalDefault(sig);
  if (action === 'stop' || action === 'continue') throw new NativeSyscallError(-EINVAL, 'kill', `(job-control signal ${sig} is not supported)`);
  const tgid = shared.header[H_TGID];
  const intr = shared.header[H_INTR_SIG];
  const bit = 1 << sig;
  if (sig !== SIGKILL && shared.procWord(index, P_HANDLED) & bit) {
    Atomics.or(shared.procs, shared.procWordIndex(index, P_SIGPENDING), bit);
    Atomics.add(shared.procs, shared.procWordIndex(index, P_SIGSEQ), 1);
    shared.notifyProc(index, P_SIGSEQ);
    interrupt(shared, libc, index, tgid, intr);
    return;
  }
  if (action === 'ignore') return;
  if (!shared.casProcWord(index, P_STATE, PROC_ALIVE, PROC_KILLED)) return;
  shared.setProcWord(index, P_SIG, sig);
  interrupt(shared, libc, index, tgid, intr);
  strip(shared, libc, pid);
  shared.notifyProc(index, P_STATE);
}
