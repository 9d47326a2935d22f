/**
 * User pointers inside an ioctl argument. The process interface passes a
 * struct as a byte array, and a pointer field inside it holds a byte offset
 * into that same array (0 is NULL), so that a struct and the buffers it
 * points to travel as one array. The real kernel needs addresses: the array
 * is copied to native memory, every non-NULL pointer field is patched to
 * base + offset, the call is made on the native copy, the copy comes back
 * into the array (the kernel's output fields with it) and the pointer fields
 * get their offsets back. The caller lists the pointer fields (8-byte, at
 * byte offsets in the array), nested ones included: a pointer to an array
 * of structs that hold pointers lists those fields too.
 */
import { ENOMEM } from '../uapi/errno.js';
import { NativeSyscallError } from './errors.js';
import type { Libc } from './libc.js';


/**
 * Where a pointer field whose offset falls outside the argument points: an
 * address in the kernel's half, which no copy from or to userspace accepts
 * (EFAULT) — and which is not NULL, so the kernel takes it for a buffer.
 */
export const FAULT_ADDRESS = 0xffff_ffff_ffff_f000n;

/**
 * Make `call` with the native address of a relocated copy of `arg`; returns
 * what `call` returns, and throws its errno as a NativeSyscallError when it
 * is negative (after the output is copied back, as a failed ioctl's partial
 * output would be). A pointer field whose offset falls outside `arg` goes to
 * the kernel as FAULT_ADDRESS: the kernel's own checks come first, and EFAULT
 * only if it uses the pointer, as on Linux (where the differential runner
 * showed SYNC_IOC_FILE_INFO's flags checked before its records pointer).
 */
export function callRelocated(libc: Libc, syscall: string, arg: Uint8Array, pointerFields: readonly number[], call: (address: bigint) => number): number {
  const view = new DataView(arg.buffer, arg.byteOffset, arg.byteLength);
  const offsets = pointerFields.map((at) => {
    if (!Number.isInteger(at) || at < 0 || at + 8 > arg.length) throw new RangeError(`pointer field at ${at} is outside the ${arg.length}-byte argument`);
    return view.getBigUint64(at, true);
  });
  const size = Math.max(arg.length, 1);
  const base = libc.malloc(size);
  if (base === 0n) throw new NativeSyscallError(-ENOMEM, syscall, '(no memory for the argument)');
  let ret: number;
  let errno = 0;
  try {
    const native = new Uint8Array(libc.view(base, size), 0, arg.length);
    native.set(arg);
    const nview = new DataView(native.buffer, 0, arg.length);
    pointerFields.forEach((at, i) => {
      if (offsets[i] !== 0n) nview.setBigUint64(at, offsets[i] < BigInt(arg.length) ? base + offsets[i] : FAULT_ADDRESS, true);
    });
    ret = call(base);
    if (ret < 0) errno = libc.errno();
    arg.set(native);
    pointerFields.forEach((at, i) => view.setBigUint64(at, offsets[i], true));
  } finally {
    libc.free(base);
  }
  if (ret < 0) throw new NativeSyscallError(-errno, syscall);
  return ret;
}
