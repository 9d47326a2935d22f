/**
 * The user library's own errors. Each has a `code` (and an `errno` where
 * Linux has one), as Node's errors and the syscalls' SyscallError do, so a
 * program can tell them apart without parsing messages.
 */
import { EBADF, EBUSY, errnoName } from '../uapi/errno.js';

/**
 * An error of the library with Linux's errno: `code` ('EBADF'), `errno` (-9).
 *
 * @example
 * ```ts
 * const heap = DmaHeap.open(proc);
 * heap.close();
 * try {
 *   heap.allocate(4096);
 * } catch (e) {
 *   if (e instanceof DmabufError && e.code === 'EBADF') console.log('closed');
 * }
 * ```
 */
export class DmabufError extends Error {
  /** the errno's name ('EBADF') */
  readonly code: string;
  /** the negative errno (-9) */
  readonly errno: number;
  constructor(errno: number, message: string) {
    super(message);
    this.name = 'DmabufError';
    this.errno = -Math.abs(errno);
    this.code = errnoName(errno) ?? `E${Math.abs(errno)}`;
  }
}

/** A library object used after close(): EBADF, as its descriptor would be. */
export function closedError(what: string): DmabufError {
  return new DmabufError(-EBADF, `${what} is closed`);
}

/** Something still in use (a pool closed with buffers on loan): EBUSY. */
export function busyError(message: string): DmabufError {
  return new DmabufError(-EBUSY, message);
}
