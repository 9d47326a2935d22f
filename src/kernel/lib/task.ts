/**
 * struct task_struct, the part the kernel uses: the calling process's
 * file table, its name, and whether a signal is pending (as an
 * AbortSignal that fires when the process is signalled or killed).
 */
import type { FdTable } from '../fs/fdtable.js';

let nextPid = 1;

export class Task {
  readonly pid: number;
  /** task->comm (TASK_COMM_LEN 16, with NUL) */
  comm: string;
  private readonly abort = new AbortController();
  constructor(readonly files: FdTable, comm = 'node') {
    this.pid = nextPid++;
    this.comm = comm.slice(0, 15);
  }

  /** signal_pending(): fires when a signal arrives */
  get signal(): AbortSignal {
    return this.abort.signal;
  }

  /** send a fatal signal (process exit / kill) */
  kill(): void {
    this.abort.abort();
  }
}
