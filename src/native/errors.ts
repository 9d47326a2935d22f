/**
 * Errors of the native backend: a SyscallError that also names the path of
 * a path call (as Node's SystemError does), and the one error that says why
 * a native machine cannot be made here.
 */
import { SyscallError } from '../machine/errors.js';

/** A failed real syscall: `code`, negative `errno` (the real kernel's), `syscall`, and `path` for calls that take one. */
export class NativeSyscallError extends SyscallError {}

/** Why the native backend is unavailable: `code` is one of the reasons below. */
export type NativeUnavailableCode =
  /** the host is not Linux (or not x86-64, whose struct layouts the backend encodes) */
  | 'ERR_NATIVE_PLATFORM'
  /** the optional dependency koffi is not installed, or its binary does not load */
  | 'ERR_NATIVE_NO_KOFFI'
  /** this Node cannot detach an external ArrayBuffer, so munmap could not be made safe */
  | 'ERR_NATIVE_NO_DETACH';

export class NativeUnavailableError extends Error {
  readonly code: NativeUnavailableCode;
  constructor(code: NativeUnavailableCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'NativeUnavailableError';
    this.code = code;
  }
}

/**
 * A machine feature with no counterpart on the real kernel (the emulator's
 * kernel heap, its tracer): `code` 'ERR_NATIVE_UNSUPPORTED'.
 */
export class NativeUnsupportedError extends Error {
  readonly code = 'ERR_NATIVE_UNSUPPORTED';
  constructor(feature: string, why: string) {
    super(`${feature} is not available on the native backend: ${why}`);
    this.name = 'NativeUnsupportedError';
  }
}
