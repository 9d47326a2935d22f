/**
 * Linux errno values (x86-64, include/uapi/asm-generic/errno-base.h and
 * errno.h) plus the kernel-internal codes (include/linux/errno.h) that
 * kernel-face functions may return but that never reach userspace.
 */
export const errnoNames = {
  EPERM: 1, ENOENT: 2, ESRCH: 3, EINTR: 4, EIO: 5, ENXIO: 6, E2BIG: 7, ENOEXEC: 8,
  EBADF: 9, ECHILD: 10, EAGAIN: 11, ENOMEM: 12, EACCES: 13, EFAULT: 14, ENOTBLK: 15,
  EBUSY: 16, EEXIST: 17, EXDEV: 18, ENODEV: 19, ENOTDIR: 20, EISDIR: 21, EINVAL: 22,
  ENFILE: 23, EMFILE: 24, ENOTTY: 25, ETXTBSY: 26, EFBIG: 27, ENOSPC: 28, ESPIPE: 29,
  EROFS: 30, EMLINK: 31, EPIPE: 32, EDOM: 33, ERANGE: 34, EDEADLK: 35, ENAMETOOLONG: 36,
  ENOLCK: 37, ENOSYS: 38, ENOTEMPTY: 39, ELOOP: 40, ENOMSG: 42, EIDRM: 43, ENOSTR: 60,
  ENODATA: 61, ETIME: 62, ENOSR: 63, EREMOTE: 66, ENOLINK: 67, EPROTO: 71, EBADMSG: 74,
  EOVERFLOW: 75, ENOTUNIQ: 76, EBADFD: 77, EREMCHG: 78, EILSEQ: 84, ENOTSOCK: 88,
  EMSGSIZE: 90, EPROTOTYPE: 91, ENOPROTOOPT: 92, EPROTONOSUPPORT: 93, EOPNOTSUPP: 95,
  EADDRINUSE: 98, ENETDOWN: 100, ENOBUFS: 105, ETIMEDOUT: 110, ECONNREFUSED: 111,
  EUCLEAN: 117, EREMOTEIO: 121, ENOMEDIUM: 123, EMEDIUMTYPE: 124, ENOKEY: 126,
  EALREADY: 114, EINPROGRESS: 115, ESTALE: 116, EDQUOT: 122, ECANCELED: 125,
  EOWNERDEAD: 130, ENOTRECOVERABLE: 131, ERFKILL: 132, EHWPOISON: 133,
  // kernel-internal (include/linux/errno.h)
  ERESTARTSYS: 512, ERESTARTNOINTR: 513, ERESTARTNOHAND: 514, ENOIOCTLCMD: 515,
  ERESTART_RESTARTBLOCK: 516, EPROBE_DEFER: 517, EOPENSTALE: 518, ENOPARAM: 519,
  EBADHANDLE: 521, ENOTSYNC: 522, EBADCOOKIE: 523, ENOTSUPP: 524, ETOOSMALL: 525,
  ESERVERFAULT: 526, EBADTYPE: 527, EJUKEBOX: 528, EIOCBQUEUED: 529, ERECALLCONFLICT: 530,
} as const;

export type ErrnoName = keyof typeof errnoNames;

/** EWOULDBLOCK and EDEADLOCK are aliases in Linux. */
export const EWOULDBLOCK = errnoNames.EAGAIN;
export const EDEADLOCK = errnoNames.EDEADLK;

/** include/linux/err.h: values in [-MAX_ERRNO, -1] are error codes. */
export const MAX_ERRNO = 4095;

export const {
  EPERM, ENOENT, ESRCH, EINTR, EIO, ENXIO, E2BIG, EBADF, EAGAIN, ENOMEM, EACCES, EFAULT,
  EBUSY, EEXIST, EXDEV, ENODEV, ENOTDIR, EISDIR, EINVAL, ENFILE, EMFILE, ENOTTY, EFBIG,
  ENOSPC, ESPIPE, EROFS, EPIPE, ERANGE, EDEADLK, ENAMETOOLONG, ENOSYS, ENODATA, ETIME,
  EPROTO, EOVERFLOW, EBADFD, EOPNOTSUPP, ETIMEDOUT, EALREADY, ECANCELED, ERESTARTSYS, EREMOTEIO,
  ENOIOCTLCMD, EPROBE_DEFER, ENOTSUPP, ERESTARTNOINTR, ERESTARTNOHAND, ERESTART_RESTARTBLOCK,
} = errnoNames;

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
