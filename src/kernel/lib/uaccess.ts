/**
 * copy_from_user / copy_to_user / strndup_user over the userspace ABI's
 * argument model: an ioctl argument is a Uint8Array holding the C struct;
 * a user pointer inside it is a byte offset into the same array (0 is
 * NULL); a bare number argument is not a valid pointer to memory.
 */
import { EFAULT, EINVAL } from './errno.js';
import { shouldFailAlloc } from './failslab.js';

export type UserArg = Uint8Array | number | null | undefined;

/** copy_from_user(): a private copy of the first `size` bytes, or null (-EFAULT). */
export function copyFromUser(arg: UserArg, size: number): Uint8Array | null {
  if (!(arg instanceof Uint8Array) || arg.length < size) return null;
  // fail_usercopy (should_fail_usercopy): the injector makes the copy fault.
  if (shouldFailAlloc('usercopy')) return null;
  return arg.slice(0, size);
}

/** copy_to_user(): false (-EFAULT) if the bytes do not fit. */
export function copyToUser(arg: UserArg, bytes: Uint8Array, offset = 0): boolean {
  if (!(arg instanceof Uint8Array) || offset < 0 || arg.length < offset + bytes.length) return false;
  if (shouldFailAlloc('usercopy')) return false;
  arg.set(bytes, offset);
  return true;
}

/**
 * u64_to_user_ptr(): the `len` bytes at a user pointer inside `arg`, or
 * null (NULL / out of range). A bigint pointer (a __u64 field) is compared
 * exactly over its whole range.
 */
export function userPtr(arg: UserArg, ptr: number | bigint, len: number): Uint8Array | null {
  if (!(arg instanceof Uint8Array) || !ptr || ptr < 0) return null;
  if (typeof ptr === 'bigint' ? ptr + BigInt(len) > BigInt(arg.length) : ptr + len > arg.length) return null;
  const at = Number(ptr);
  return arg.subarray(at, at + len);
}

/**
 * strndup_user(s, n): the NUL-terminated string the argument points at.
 * -EFAULT for NULL or a string running off the end of the memory,
 * -EINVAL when no NUL comes within n bytes.
 */
export function strndupUser(arg: UserArg, n: number): string | number {
  if (!(arg instanceof Uint8Array)) return -EFAULT;
  const nul = arg.subarray(0, n).indexOf(0);
  if (nul >= 0) return new TextDecoder().decode(arg.subarray(0, nul));
  return arg.length > n ? -EINVAL : -EFAULT;
}
