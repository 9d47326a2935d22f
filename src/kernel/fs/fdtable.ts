/**
 * A process's file descriptor table (fs/file.c): lowest free number
 * first, close-on-exec per descriptor, RLIMIT_NOFILE.
 */
import { EBADF, EMFILE, EINVAL } from '../lib/errno.js';
import { O_CLOEXEC } from '../../uapi/fcntl.js';
import { fput, getFile, type File } from './file.js';

/** RLIMIT_NOFILE a process starts with: INR_OPEN_CUR soft, INR_OPEN_MAX hard (include/uapi/linux/fs.h) */
export const RLIMIT_NOFILE_DEFAULT = 1024;
export const RLIMIT_NOFILE_MAX_DEFAULT = 4096;

/** The slot of a reserved-but-not-installed descriptor (get_unused_fd_flags before fd_install). */
const RESERVED = Symbol('reserved');

export class FdTable {
  private fds: (File | typeof RESERVED | null)[] = [];
  private cloexec = new Set<number>();
  /** the hard limit (setrlimit cannot raise the soft one above it) */
  nofileMax = RLIMIT_NOFILE_MAX_DEFAULT;
  constructor(public nofile = RLIMIT_NOFILE_DEFAULT) {}

  /** get_unused_fd_flags(flags): the lowest free number, or -EMFILE. */
  getUnusedFdFlags(flags: number): number {
    let fd = this.fds.indexOf(null);
    if (fd < 0) fd = this.fds.length;
    if (fd >= this.nofile) return -EMFILE;
    this.fds[fd] = RESERVED;
    if (flags & O_CLOEXEC) this.cloexec.add(fd);
    else this.cloexec.delete(fd);
    return fd;
  }

  /** put_unused_fd(): give back a reserved number. */
  putUnusedFd(fd: number): void {
    if (this.fds[fd] === RESERVED) this.fds[fd] = null;
    this.cloexec.delete(fd);
  }

  /** fd_install(fd, file): the descriptor takes over the caller's reference. */
  fdInstall(fd: number, file: File): void {
    this.fds[fd] = file;
  }

  /** fget(fd): a new reference to the open file, or null. */
  fget(fd: number): File | null {
    const f = this.lookup(fd);
    return f ? getFile(f) : null;
  }

  /** The file behind fd without taking a reference (fdget with the table held). */
  lookup(fd: number): File | null {
    if (!Number.isInteger(fd) || fd < 0) return null;
    const f = this.fds[fd];
    return f && f !== RESERVED ? f : null;
  }

  /** close_fd(): 0 or -EBADF. */
  close(fd: number): number {
    const f = this.lookup(fd);
    if (!f) return -EBADF;
    this.fds[fd] = null;
    this.cloexec.delete(fd);
    fput(f);
    return 0;
  }

  /** dup / F_DUPFD: a new number (>= minFd) for the same file. */
  dup(fd: number, minFd = 0, flags = 0): number {
    const f = this.lookup(fd);
    if (!f) return -EBADF;
    if (minFd < 0 || minFd >= this.nofile) return -EINVAL;
    let n = minFd;
    while (n < this.fds.length && this.fds[n] !== null && this.fds[n] !== undefined) n++;
    if (n >= this.nofile) return -EMFILE;
    this.fds[n] = getFile(f);
    if (flags & O_CLOEXEC) this.cloexec.add(n);
    return n;
  }

  isCloexec(fd: number): boolean {
    return this.cloexec.has(fd);
  }

  setCloexec(fd: number, on: boolean): void {
    if (on) this.cloexec.add(fd);
    else this.cloexec.delete(fd);
  }

  /** Open descriptors. */
  openFds(): number[] {
    const out: number[] = [];
    this.fds.forEach((f, i) => {
      if (f && f !== RESERVED) out.push(i);
    });
    return out;
  }

  /** Close everything (process exit). */
  closeAll(): void {
    for (const fd of this.openFds()) this.close(fd);
    this.fds = [];
  }
}
