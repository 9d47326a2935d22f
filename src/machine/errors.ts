/**
 * Syscall failures, shaped like Node's SystemError: `code` ('EINVAL'),
 * `errno` (negative, -22), `syscall` ('ioctl').
 */
import { errnoName } from '../uapi/errno.js';

const MESSAGES: Record<string, string> = {
  EPERM: 'operation not permitted', ENOENT: 'no such file or directory', ESRCH: 'no such process', EINTR: 'interrupted system call',
  EIO: 'i/o error', EBADF: 'bad file descriptor', EAGAIN: 'resource temporarily unavailable', ENOMEM: 'not enough memory',
  EACCES: 'permission denied', EFAULT: 'bad address', EBUSY: 'resource busy or locked', EEXIST: 'file already exists',
  ENODEV: 'no such device', ENOTDIR: 'not a directory', EISDIR: 'illegal operation on a directory', EINVAL: 'invalid argument', EMFILE: 'too many open files', ENOTTY: 'inappropriate ioctl for device',
  EFBIG: 'file too large', ENOSPC: 'no space left on device', ESPIPE: 'invalid seek', EDEADLK: 'resource deadlock avoided',
  ENOSYS: 'function not implemented', ETIME: 'timer expired', EOVERFLOW: 'value too large for defined data type',
  EBADFD: 'file descriptor in bad state', ETIMEDOUT: 'connection timed out', ECANCELED: 'operation canceled',
};

/**
 * A failed syscall, as Node's SystemError: `code` ('EINVAL'), `errno`
 * (negative, -22), `syscall` ('ioctl'), and `path` for calls that take one.
 *
 * @example
 * ```ts
 * try {
 *   proc.open('/dev/dma_heap/nope', 0);
 * } catch (e) {
 *   if (e instanceof SyscallError && e.code === 'ENOENT') console.log(e.message);   // ENOENT: no such file or directory, open '/dev/dma_heap/nope'
 *   else throw e;
 * }
 * ```
 */
export class SyscallError extends Error {
  readonly code: string;
  readonly errno: number;
  readonly syscall: string;
  readonly path?: string;
  constructor(err: number, syscall: string, detail?: string, path?: string) {
    const code = errnoName(err) ?? `E${Math.abs(err)}`;
    super(`${code}: ${MESSAGES[code] ?? 'error'}, ${syscall}${path !== undefined ? ` '${path}'` : ''}${detail ? ` ${detail}` : ''}`);
    this.name = 'SyscallError';
    this.code = code;
    this.errno = -Math.abs(err);
    this.syscall = syscall;
    if (path !== undefined) this.path = path;
  }
}
