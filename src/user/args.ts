/**
 * The library's number arguments (sizes, timeline values, deadlines) are
 * JavaScript numbers; before one goes into a struct field it must be a
 * safe non-negative integer that fits the field. Anything else fails the
 * way the kernel fails a bad argument — a SyscallError EINVAL — rather
 * than with a TypeError/RangeError from the struct codec.
 */
import { SyscallError } from '../machine/errors.js';
import { EINVAL } from '../uapi/errno.js';

/** `v` as an integer in [0, max], or SyscallError EINVAL for `syscall` naming `what`. */
export function uintArg(v: unknown, what: string, max = Number.MAX_SAFE_INTEGER, syscall = 'ioctl'): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0 || v > max) {
    throw new SyscallError(-EINVAL, syscall, `(${what} must be an integer from 0 to ${max}, not ${typeof v === 'bigint' ? `${v}n` : String(v)})`);
  }
  return v;
}

export const U32_MAX = 0xffffffff;
