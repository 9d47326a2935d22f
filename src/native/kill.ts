/**
 * kill(pid, sig) on the native backend. SIGKILL and SIGTERM end the process:
 * its state becomes KILLED, a synchronous call it is blocked in is
 * interrupted with the real interrupt signal (signals.ts), its pending async
 * waits are cancelled, its fds are closed and its mappings neutralised at
 * once (release.ts strip), and its thread, told through its state word,
 * unmaps and detaches what is left and (in a worker) ends. Any other signal
 * only interrupts a blocked synchronous call, which fails with EINTR, as a
 * signal the process catches would. Signal 0 checks that the process exists.
 */
import { NativeSyscallError } from './errors.js';
import type { Libc } from './libc.js';
import { strip } from './release.js';
import { H_INTR_SIG, H_TGID, P_SIG, P_SIGSEQ, P_STATE, PROC_ALIVE, PROC_KILLED, type Shared } from './shared.js';
import { interrupt } from './signals.js';

export const SIGINT = 2;
export const SIGKILL = 9;
export const SIGTERM = 15;
const ESRCH = -3;
const EINVAL = -22;

export function killProcess(shared: Shared, libc: Libc, pid: number, sig: number): void {
  if (!Number.isInteger(sig) || sig < 0 || sig > 64) throw new NativeSyscallError(EINVAL, 'kill', `(signal ${sig})`);
  const index = shared.procIndex(pid);
  if (index < 0 || shared.procWord(index, P_STATE) !== PROC_ALIVE) throw new NativeSyscallError(ESRCH, 'kill', `(pid ${pid})`);
  if (sig === 0) return;
  const tgid = shared.header[H_TGID];
  const intr = shared.header[H_INTR_SIG];
  if (sig === SIGKILL || sig === SIGTERM) {
    if (!shared.casProcWord(index, P_STATE, PROC_ALIVE, PROC_KILLED)) return;
    shared.setProcWord(index, P_SIG, sig);
    interrupt(shared, libc, index, tgid, intr);
    strip(shared, libc, pid);
    shared.notifyProc(index, P_STATE);
    return;
  }
  shared.setProcWord(index, P_SIG, sig);
  Atomics.add(shared.procs, shared.procWordIndex(index, P_SIGSEQ), 1);
  interrupt(shared, libc, index, tgid, intr);
}
