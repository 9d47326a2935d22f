/**
 * Linux's errno values as userspace sees them (x86-64 uses the generic
 * table: include/uapi/asm-generic/errno-base.h and errno.h). The only
 * place in the project where an errno is written as a number; everything
 * else names it. Syscalls return them negated.
 */
/**
 * Every errno name of Linux's generic table with its number
 * (include/uapi/asm-generic/errno-base.h and errno.h; x86-64 uses it as is).
 * The aliases EWOULDBLOCK and EDEADLOCK are not keys: {@link errnoName}
 * gives one name per number.
 */
export const errnoNames = {
  // errno-base.h
  EPERM: 1, ENOENT: 2, ESRCH: 3, EINTR: 4, EIO: 5, ENXIO: 6, E2BIG: 7, ENOEXEC: 8,
  EBADF: 9, ECHILD: 10, EAGAIN: 11, ENOMEM: 12, EACCES: 13, EFAULT: 14, ENOTBLK: 15,
  EBUSY: 16, EEXIST: 17, EXDEV: 18, ENODEV: 19, ENOTDIR: 20, EISDIR: 21, EINVAL: 22,
  ENFILE: 23, EMFILE: 24, ENOTTY: 25, ETXTBSY: 26, EFBIG: 27, ENOSPC: 28, ESPIPE: 29,
  EROFS: 30, EMLINK: 31, EPIPE: 32, EDOM: 33, ERANGE: 34,
  // errno.h
  EDEADLK: 35, ENAMETOOLONG: 36, ENOLCK: 37, ENOSYS: 38, ENOTEMPTY: 39, ELOOP: 40,
  ENOMSG: 42, EIDRM: 43, ECHRNG: 44, EL2NSYNC: 45, EL3HLT: 46, EL3RST: 47, ELNRNG: 48,
  EUNATCH: 49, ENOCSI: 50, EL2HLT: 51, EBADE: 52, EBADR: 53, EXFULL: 54, ENOANO: 55,
  EBADRQC: 56, EBADSLT: 57, EBFONT: 59, ENOSTR: 60, ENODATA: 61, ETIME: 62, ENOSR: 63,
  ENONET: 64, ENOPKG: 65, EREMOTE: 66, ENOLINK: 67, EADV: 68, ESRMNT: 69, ECOMM: 70,
  EPROTO: 71, EMULTIHOP: 72, EDOTDOT: 73, EBADMSG: 74, EOVERFLOW: 75, ENOTUNIQ: 76,
  EBADFD: 77, EREMCHG: 78, ELIBACC: 79, ELIBBAD: 80, ELIBSCN: 81, ELIBMAX: 82,
  ELIBEXEC: 83, EILSEQ: 84, ERESTART: 85, ESTRPIPE: 86, EUSERS: 87, ENOTSOCK: 88,
  EDESTADDRREQ: 89, EMSGSIZE: 90, EPROTOTYPE: 91, ENOPROTOOPT: 92, EPROTONOSUPPORT: 93,
  ESOCKTNOSUPPORT: 94, EOPNOTSUPP: 95, EPFNOSUPPORT: 96, EAFNOSUPPORT: 97, EADDRINUSE: 98,
  EADDRNOTAVAIL: 99, ENETDOWN: 100, ENETUNREACH: 101, ENETRESET: 102, ECONNABORTED: 103,
  ECONNRESET: 104, ENOBUFS: 105, EISCONN: 106, ENOTCONN: 107, ESHUTDOWN: 108,
  ETOOMANYREFS: 109, ETIMEDOUT: 110, ECONNREFUSED: 111, EHOSTDOWN: 112, EHOSTUNREACH: 113,
  EALREADY: 114, EINPROGRESS: 115, ESTALE: 116, EUCLEAN: 117, ENOTNAM: 118, ENAVAIL: 119,
  EISNAM: 120, EREMOTEIO: 121, EDQUOT: 122, ENOMEDIUM: 123, EMEDIUMTYPE: 124,
  ECANCELED: 125, ENOKEY: 126, EKEYEXPIRED: 127, EKEYREVOKED: 128, EKEYREJECTED: 129,
  EOWNERDEAD: 130, ENOTRECOVERABLE: 131, ERFKILL: 132, EHWPOISON: 133,
} as const;

/** The name of an errno, e.g. 'EINVAL'. */
export type UapiErrnoName = keyof typeof errnoNames;

// The errnos the project uses, as constants. Positive, as userspace's errno
// holds them; a syscall returns the negation.

export const {
  /** Operation not permitted */
  EPERM,
  /** No such file or directory */
  ENOENT,
  /** No such process */
  ESRCH,
  /** Interrupted system call */
  EINTR,
  /** Input/output error */
  EIO,
  /** No such device or address */
  ENXIO,
  /** Argument list too long */
  E2BIG,
  /** Exec format error */
  ENOEXEC,
  /** Bad file descriptor */
  EBADF,
  /** No child processes */
  ECHILD,
  /** Resource temporarily unavailable (also EWOULDBLOCK) */
  EAGAIN,
  /** Cannot allocate memory */
  ENOMEM,
  /** Permission denied */
  EACCES,
  /** Bad address */
  EFAULT,
  /** Block device required */
  ENOTBLK,
  /** Device or resource busy */
  EBUSY,
  /** File exists */
  EEXIST,
  /** Invalid cross-device link */
  EXDEV,
  /** No such device */
  ENODEV,
  /** Not a directory */
  ENOTDIR,
  /** Is a directory */
  EISDIR,
  /** Invalid argument */
  EINVAL,
  /** Too many open files in system */
  ENFILE,
  /** Too many open files */
  EMFILE,
  /** Inappropriate ioctl for device (what an unknown ioctl request gets) */
  ENOTTY,
  /** Text file busy */
  ETXTBSY,
  /** File too large */
  EFBIG,
  /** No space left on device */
  ENOSPC,
  /** Illegal seek */
  ESPIPE,
  /** Read-only file system */
  EROFS,
  /** Too many links */
  EMLINK,
  /** Broken pipe */
  EPIPE,
  /** Numerical argument out of domain */
  EDOM,
  /** Numerical result out of range */
  ERANGE,
  /** Resource deadlock avoided (also EDEADLOCK) */
  EDEADLK,
  /** File name too long */
  ENAMETOOLONG,
  /** No locks available */
  ENOLCK,
  /** Function not implemented */
  ENOSYS,
  /** Directory not empty */
  ENOTEMPTY,
  /** Too many levels of symbolic links */
  ELOOP,
  /** No message of desired type */
  ENOMSG,
  /** Identifier removed */
  EIDRM,
  /** Device not a stream */
  ENOSTR,
  /** No data available */
  ENODATA,
  /** Timer expired */
  ETIME,
  /** Out of streams resources */
  ENOSR,
  /** Object is remote */
  EREMOTE,
  /** Link has been severed */
  ENOLINK,
  /** Protocol error */
  EPROTO,
  /** Bad message */
  EBADMSG,
  /** Value too large for defined data type */
  EOVERFLOW,
  /** Name not unique on network */
  ENOTUNIQ,
  /** File descriptor in bad state */
  EBADFD,
  /** Remote address changed */
  EREMCHG,
  /** Invalid or incomplete multibyte or wide character */
  EILSEQ,
  /** Socket operation on non-socket */
  ENOTSOCK,
  /** Message too long */
  EMSGSIZE,
  /** Protocol wrong type for socket */
  EPROTOTYPE,
  /** Protocol not available */
  ENOPROTOOPT,
  /** Protocol not supported */
  EPROTONOSUPPORT,
  /** Operation not supported */
  EOPNOTSUPP,
  /** Address already in use */
  EADDRINUSE,
  /** Network is down */
  ENETDOWN,
  /** No buffer space available */
  ENOBUFS,
  /** Connection timed out */
  ETIMEDOUT,
  /** Connection refused */
  ECONNREFUSED,
  /** Operation already in progress */
  EALREADY,
  /** Operation now in progress */
  EINPROGRESS,
  /** Stale file handle */
  ESTALE,
  /** Structure needs cleaning */
  EUCLEAN,
  /** Remote I/O error */
  EREMOTEIO,
  /** Disk quota exceeded */
  EDQUOT,
  /** No medium found */
  ENOMEDIUM,
  /** Wrong medium type */
  EMEDIUMTYPE,
  /** Operation canceled */
  ECANCELED,
  /** Required key not available */
  ENOKEY,
  /** Owner died */
  EOWNERDEAD,
  /** State not recoverable */
  ENOTRECOVERABLE,
  /** Operation not possible due to RF-kill */
  ERFKILL,
  /** Memory page has hardware error */
  EHWPOISON,
} = errnoNames;

/** Resource temporarily unavailable: Linux's other name for EAGAIN (a non-blocking call that would block). */
export const EWOULDBLOCK = EAGAIN;
/** Resource deadlock avoided: Linux's other name for EDEADLK. */
export const EDEADLOCK = EDEADLK;

const byNumber = new Map<number, UapiErrnoName>();
for (const [name, value] of Object.entries(errnoNames) as [UapiErrnoName, number][]) {
  if (!byNumber.has(value)) byNumber.set(value, name);
}

/**
 * The name userspace knows an errno by (positive or negative), e.g. -22 ->
 * 'EINVAL'; undefined for a number that is not one. An aliased number gets
 * its main name (11 is 'EAGAIN', never 'EWOULDBLOCK').
 *
 * @example
 * ```ts
 * import { errnoName } from 'dmabuf/uapi';
 * const ret = -25; // what the kernel face returned for an unknown ioctl
 * errnoName(ret); // → 'ENOTTY'
 * errnoName(9999); // → undefined
 * ```
 */
export function errnoName(errno: number): UapiErrnoName | undefined {
  return byNumber.get(Math.abs(errno));
}
