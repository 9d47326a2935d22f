/**
 * struct task_struct, the part the kernel uses: the calling process's
 * file table and address space, its name, and whether a signal is pending
 * (as an AbortSignal that fires when the process is signalled or killed).
 */
import type { FdTable } from './fdtable.js';
import type { Vma } from '../mm/vma.js';
import { statsRegister } from '../lib/stats.js';

let nextPid = 1;

/** Every live task, by pid (what /proc lists). */
export const tasks = new Map<number, Task>();

export class Task {
  readonly pid: number;
  /** task->comm (TASK_COMM_LEN 16, with NUL) */
  comm: string;
  /** the address space: mappings by id */
  readonly mm = new Map<number, Vma>();
  nextVmaId = 1;
  /** the next mmap address handed out */
  nextAddr = 0x7f0000000000;
  private readonly abort = new AbortController();
  constructor(readonly files: FdTable, comm = 'node') {
    this.pid = nextPid++;
    this.comm = comm.slice(0, 15);
    tasks.set(this.pid, this);
  }

  /** signal_pending(): fires when a signal arrives */
  get signal(): AbortSignal {
    return this.abort.signal;
  }

  /** send a fatal signal (process exit / kill) */
  kill(): void {
    this.abort.abort();
  }

  get exited(): boolean {
    return this.abort.signal.aborted;
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
