/**
 * struct task_struct, the part the kernel uses: the calling thread's
 * process (its file table, address space, name and pid) and its signal
 * state. A process's threads share files, mm and the signal handlers
 * (CLONE_FILES | CLONE_VM | CLONE_SIGHAND | CLONE_THREAD); each thread has
 * its own interruption state, so one blocked call can be interrupted
 * without the others.
 */
import type { FdTable } from './fdtable.js';
import type { Vma } from '../mm/vma.js';
import { statsRegister } from '../lib/stats.js';

let nextPid = 1;

/** Every live process, by pid (what /proc lists): its first thread. */
export const tasks = new Map<number, Task>();

/** struct mm_struct: the mappings of a process, by id, and where the next one goes. */
export class MmStruct {
  readonly vmas = new Map<number, Vma>();
  nextVmaId = 1;
  /** the next mmap address handed out */
  nextAddr = 0x7f0000000000;
}

/** struct signal_struct + sighand_struct: what the threads of a process share about signals. */
export class SignalStruct {
  /** the process is exiting (SIGNAL_GROUP_EXIT) */
  dead = false;
  /** the signal that killed it, 0 for exit() */
  exitSignal = 0;
  /** signals with a handler installed */
  readonly handled = new Set<number>();
  readonly threads = new Set<Task>();
}

export class Task {
  /** the process id userspace sees (the thread group's) */
  readonly pid: number;
  /** task->comm (TASK_COMM_LEN 16, with NUL) */
  readonly comm: string;
  readonly files: FdTable;
  readonly mm: MmStruct;
  readonly sig: SignalStruct;
  private intr = new AbortController();

  /** A new process (its first thread), with a pid of its own unless one is given. */
  constructor(files: FdTable, comm = 'node', pid?: number, share?: Task) {
    this.files = files;
    if (share) {
      this.pid = share.pid;
      this.comm = share.comm;
      this.mm = share.mm;
      this.sig = share.sig;
    } else {
      this.pid = pid ?? nextPid++;
      if (this.pid >= nextPid) nextPid = this.pid + 1;
      this.comm = comm.slice(0, 15);
      this.mm = new MmStruct();
      this.sig = new SignalStruct();
      tasks.set(this.pid, this);
    }
    this.sig.threads.add(this);
  }

  /** clone(CLONE_THREAD | CLONE_VM | CLONE_FILES | CLONE_SIGHAND): another thread of this process. */
  cloneThread(): Task {
    return new Task(this.files, this.comm, this.pid, this);
  }

  /**
   * signal_pending(): fires when this thread must stop waiting — a signal
   * with a handler was delivered to the process, the call was cancelled, or
   * the process is dying.
   */
  get signal(): AbortSignal {
    return this.intr.signal;
  }

  /** A syscall starts on this thread: it is not interrupted by what interrupted an earlier one. */
  beginCall(): void {
    if (this.intr.signal.aborted && !this.sig.dead) this.intr = new AbortController();
  }

  /** signal_wake_up(): interrupt this thread's interruptible wait (it returns -EINTR / -ERESTARTSYS). */
  interrupt(): void {
    this.intr.abort();
  }

  /** A fatal signal (or exit): the process dies; every thread's wait is interrupted. */
  kill(exitSignal = 0): void {
    if (!this.sig.dead) this.sig.exitSignal = exitSignal;
    this.sig.dead = true;
    for (const t of this.sig.threads) t.interrupt();
  }

  get exited(): boolean {
    return this.sig.dead;
  }
}

/** fork_init(): the live task count joins the kernel's counters (Machine.stats().processes). */
export function forkInit(): number {
  return statsRegister('processes', () => tasks.size);
}

// Completes the forward declaration of file.ts (file operations are handed
// the calling task; the task holds the fd table, which holds files).
declare module './file.js' {
  interface TaskStruct extends Task {}
}
