/**
 * The base of every library object that owns a file descriptor: close()
 * and `using` release it; if the object is garbage-collected still open,
 * a FinalizationRegistry closes the descriptor and writes a warning to the
 * kernel log (/dev/kmsg), so a leak is both fixed and visible in dmesg.
 */
import type { ProcessLike as Process } from '../machine/process-api.js';
import { O_WRONLY } from '../uapi/fcntl.js';
import { closedError } from './errors.js';

interface Held {
  proc: Process;
  fd: number;
  what: string;
}

/** Write one line to the kernel log at KERN_WARNING from userspace, as a daemon would through /dev/kmsg. */
export function kmsgWarn(proc: Process, text: string): void {
  const fd = proc.open('/dev/kmsg', O_WRONLY);
  try {
    proc.write(fd, new TextEncoder().encode(`<4>${text}\n`));
  } finally {
    proc.close(fd);
  }
}

/** The code of the process warning a leak raises (process.on('warning') sees it). */
export const LEAK_WARNING_CODE = 'DMABUF_LEAK';

const leaks = new FinalizationRegistry<Held>(({ proc, fd, what }) => {
  if (proc.exited) return;
  const text = `dmabuf-user: pid ${proc.pid} leaked ${what} (fd ${fd}); closed when garbage-collected: dispose it or declare it with \`using\``;
  // Seen by the program (a Node process warning) and in the machine's kernel log.
  process.emitWarning(text, { code: LEAK_WARNING_CODE, type: 'DmabufLeakWarning' });
  try {
    kmsgWarn(proc, text);
    proc.close(fd);
  } catch {
    // The process exited meanwhile: its fds are closed already.
  }
});

/**
 * What every descriptor-owning object of `dmabuf/user` is: {@link DmaHeap},
 * {@link DmaBuffer}, {@link SyncFile}, {@link Timeline}. `close()` or a
 * `using` declaration releases the fd; one dropped while open is closed when
 * garbage-collected, with a process warning ({@link LEAK_WARNING_CODE}) and
 * a line in the kernel log.
 *
 * @example
 * ```ts
 * {
 *   using heap = DmaHeap.open(proc);       // closed at the end of the block
 *   console.log(heap.fd, heap.closed);     // 3 false
 * }
 * const sync = Timeline.open(proc);
 * sync.close();
 * sync.close();                            // idempotent
 * sync.fd;                                 // throws DmabufError (EBADF): the number may name another file now
 * ```
 */
export abstract class FdResource implements Disposable {
  private fdNum: number;
  private readonly token = {};
  private readonly held: Held;

  protected constructor(readonly proc: Process, fd: number, what: string) {
    this.fdNum = fd;
    this.held = { proc, fd, what };
    leaks.register(this, this.held, this.token);
  }

  /** What a leak warning calls this object (e.g. after the buffer got its name). */
  protected describeAs(what: string): void {
    this.held.what = what;
  }

  /** The descriptor (throws once closed: a closed object's fd may name another file by now). */
  get fd(): number {
    if (this.fdNum < 0) throw closedError(this.constructor.name);
    return this.fdNum;
  }

  /** Whether close() has run (or the object was disposed). */
  get closed(): boolean {
    return this.fdNum < 0;
  }

  /** Hook for subclasses: what to undo before the fd closes (mappings). */
  protected beforeClose(): void {}

  /** Close the descriptor (idempotent). */
  close(): void {
    if (this.fdNum < 0) return;
    const fd = this.fdNum;
    leaks.unregister(this.token);
    try {
      this.beforeClose();
    } finally {
      this.fdNum = -1;
      // After exit() the kernel has closed every fd of the process already.
      if (!this.proc.exited) this.proc.close(fd);
    }
  }

  /** close(), for `using` declarations. */
  [Symbol.dispose](): void {
    this.close();
  }
}
