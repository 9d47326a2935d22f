/**
 * The user library's own errors. Each has a `code` (and an `errno` where
 * Linux has one), as Node's errors and the syscalls' SyscallError do, so a
 * program can tell them apart without parsing messages.
 */
import { EBADF, EBUSY, errnoName } from '../uapi/errno.js';

/** An error of the library with Linux's errno: `code` ('EBADF'), `errno` (-9). */
export class DmabufError extends Error {
  readonly code: string;
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
