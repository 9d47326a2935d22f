/**
 * The errno values the kernel uses: Linux's userspace table
 * (src/uapi/errno.ts, include/uapi/asm-generic/errno*.h) plus the
 * kernel-internal codes (include/linux/errno.h) that kernel-face functions
 * may return but that never reach userspace; and KernelError, the thrown
 * form of an ERR_PTR.
 */
import { errnoNames as uapiErrnoNames } from '../../uapi/errno.js';

export {
  EPERM, ENOENT, ESRCH, EINTR, EIO, ENXIO, E2BIG, EBADF, EAGAIN, ENOMEM, EACCES, EFAULT,
  EBUSY, EEXIST, EXDEV, ENODEV, ENOTDIR, EISDIR, EINVAL, ENFILE, EMFILE, ENOTTY, EFBIG,
  ENOSPC, ESPIPE, EROFS, EPIPE, ERANGE, EDEADLK, ENAMETOOLONG, ENOSYS, ENODATA, ETIME,
  EPROTO, EOVERFLOW, EBADFD, EOPNOTSUPP, ETIMEDOUT, EALREADY, ECANCELED, EREMOTEIO,
  EWOULDBLOCK, EDEADLOCK,
} from '../../uapi/errno.js';

/** include/linux/errno.h: codes that stay inside the kernel (a syscall never returns them, bar a bug). */
export const kernelErrnoNames = {
  ERESTARTSYS: 512, ERESTARTNOINTR: 513, ERESTARTNOHAND: 514, ENOIOCTLCMD: 515,
  ERESTART_RESTARTBLOCK: 516, EPROBE_DEFER: 517, EOPENSTALE: 518, ENOPARAM: 519,
  EBADHANDLE: 521, ENOTSYNC: 522, EBADCOOKIE: 523, ENOTSUPP: 524, ETOOSMALL: 525,
  ESERVERFAULT: 526, EBADTYPE: 527, EJUKEBOX: 528, EIOCBQUEUED: 529, ERECALLCONFLICT: 530,
} as const;

/** Every errno the kernel knows: userspace's and the kernel-internal ones. */
export const errnoNames = { ...uapiErrnoNames, ...kernelErrnoNames } as const;

export type ErrnoName = keyof typeof errnoNames;

/** include/linux/err.h: values in [-MAX_ERRNO, -1] are error codes. */
export const MAX_ERRNO = 4095;

export const { ERESTARTSYS, ERESTARTNOINTR, ERESTARTNOHAND, ERESTART_RESTARTBLOCK, ENOIOCTLCMD, EPROBE_DEFER, ENOTSUPP } = kernelErrnoNames;

const byNumber = new Map<number, ErrnoName>();
for (const [name, value] of Object.entries(errnoNames) as [ErrnoName, number][]) {
  if (!byNumber.has(value)) byNumber.set(value, name);
}

/** The symbolic name of an errno (positive or negative), e.g. 22 -> 'EINVAL'. */
export function errname(errno: number): ErrnoName | undefined {
  return byNumber.get(Math.abs(errno));
}

/** IS_ERR_VALUE(): a negative number in the errno range. */
export function isErrValue(x: number): boolean {
  return x < 0 && x >= -MAX_ERRNO;
}

/**
 * The error a kernel-face function throws where Linux returns an ERR_PTR.
 * `errno` is positive (Linux's number), `code` its name.
 */
export class KernelError extends Error {
  readonly errno: number;
  readonly code: string;
  constructor(errno: number, message?: string) {
    const e = Math.abs(errno);
    const code = errname(e) ?? `E${e}`;
    super(message ? `${code}: ${message}` : code);
    this.name = 'KernelError';
    this.errno = e;
    this.code = code;
  }
}

/** ERR_PTR-style throw: `throw kerr(-EINVAL, 'why')` reads like `return ERR_PTR(-EINVAL)`. */
export function kerr(errno: number, message?: string): KernelError {
  return new KernelError(errno, message);
}

/** PTR_ERR() of a caught value: the negative errno of a KernelError, else rethrow. */
export function ptrErr(e: unknown): number {
  if (e instanceof KernelError) return -e.errno;
  throw e;
}
