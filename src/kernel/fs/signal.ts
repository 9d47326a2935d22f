/**
 * Signals (kernel/signal.c, the part this machine has): kill(2) and
 * rt_sigaction(2). A signal with a handler interrupts the process's
 * interruptible waits (they return -EINTR; nothing is restarted, as
 * without SA_RESTART) and is handed to userspace to run the handler; a
 * fatal one ends the process. Job-control signals are not modelled.
 */
import { EINVAL, EPERM, ESRCH } from '../lib/errno.js';
import { pr_warn } from '../lib/printk.js';
import { tasks, type Task } from './task.js';
import { NSIG_STANDARD, SIGKILL, SIGSTOP, signalDefault, signalName } from '../../uapi/signal.js';

/**
 * How a process's owner (the machine) hears of signals: `pending` for a
 * signal with a handler (userspace runs it), `fatal` when the process must
 * die of it (the owner tears the process down once its calls return).
 */
export interface SignalSink {
  pending(sig: number): void;
  fatal(sig: number): void;
}

const sinks = new WeakMap<Task, SignalSink>();

/** Attach the owner's sink to a process (its first thread). */
export function setSignalSink(task: Task, sink: SignalSink): void {
  sinks.set(task, sink);
}

/**
 * send_signal() to process `target`: 0, or -EINVAL for a number that is
 * not a signal, or for job-control signals (stop/continue), which this
 * machine does not model.
 */
export function sendSignal(target: Task, sig: number): number {
  if (!Number.isInteger(sig) || sig < 0 || sig >= NSIG_STANDARD) return -EINVAL;
  if (sig === 0 || target.exited) return 0;
  const action = signalDefault(sig);
  if (action === 'stop' || action === 'continue') {
    pr_warn(`signal: ${signalName(sig)} to pid ${target.pid}: job control is not supported`);
    return -EINVAL;
  }
  const sink = sinks.get(target);
  if (sig !== SIGKILL && target.sig.handled.has(sig)) {
    for (const t of target.sig.threads) t.interrupt();
    sink?.pending(sig);
    return 0;
  }
  if (action === 'ignore') return 0;
  target.kill(sig);
  sink?.fatal(sig);
  return 0;
}

/** kill(pid, sig): -ESRCH for no such process, -EINVAL for a bad signal, -EPERM for pid <= 0 (no process groups here). */
export function sysKill(_task: Task, pid: number, sig: number): number {
  if (!Number.isInteger(sig) || sig < 0 || sig >= NSIG_STANDARD) return -EINVAL;
  // pid 0 and negative pids name process groups, which this machine does not have.
  if (pid <= 0) return -EPERM;
  const target = tasks.get(pid);
  if (!target || target.exited) return -ESRCH;
  return sendSignal(target, sig);
}

/**
 * rt_sigaction(sig, handler or SIG_DFL): record whether the process has a
 * handler (the handler itself lives in userspace). -EINVAL for SIGKILL
 * and SIGSTOP, which cannot be caught, or a bad number. Returns whether
 * a handler was installed before.
 */
export function sysSigaction(task: Task, sig: number, install: number): number {
  if (!Number.isInteger(sig) || sig < 1 || sig >= NSIG_STANDARD || sig === SIGKILL || sig === SIGSTOP) return -EINVAL;
  const had = task.sig.handled.has(sig) ? 1 : 0;
  if (install) task.sig.handled.add(sig);
  else task.sig.handled.delete(sig);
  return had;
}
