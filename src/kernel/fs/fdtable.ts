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

/**
 * The free numbers below the table's end, smallest first: a binary min-heap.
 * Linux finds the lowest free fd in a bitmap (with a summary of full words);
 * a heap gives the same answer in O(log n) per open and close, so the cost
 * of an open does not grow with the descriptors a process holds. An entry
 * may be stale (dup took the number): the taker skips it.
 */
class FreeFds {
  private readonly heap: number[] = [];

  get size(): number {
    return this.heap.length;
  }

  push(fd: number): void {
    const h = this.heap;
    let i = h.length;
    h.push(fd);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (h[parent] <= fd) break;
      h[i] = h[parent];
      i = parent;
    }
    h[i] = fd;
  }

  pop(): number {
    const h = this.heap;
    const top = h[0];
    const last = h.pop()!;
    if (h.length === 0) return top;
    let i = 0;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= h.length) break;
      if (c + 1 < h.length && h[c + 1] < h[c]) c++;
      if (h[c] >= last) break;
      h[i] = h[c];
      i = c;
    }
    h[i] = last;
    return top;
  }

  peek(): number {
    return this.heap[0];
  }

  clear(): void {
    this.heap.length = 0;
  }
}

export class FdTable {
  private fds: (File | typeof RESERVED | null)[] = [];
  /** every null slot of `fds` is here (and perhaps some numbers that are taken again: stale) */
  private readonly free = new FreeFds();
  private cloexec = new Set<number>();
  /** the hard limit (setrlimit cannot raise the soft one above it) */
  nofileMax = RLIMIT_NOFILE_MAX_DEFAULT;
  constructor(public nofile = RLIMIT_NOFILE_DEFAULT) {}

  /** The lowest free number (the table's end when no number below it is free). */
  private lowestFree(): number {
    while (this.free.size > 0) {
      const fd = this.free.peek();
      if (fd < this.fds.length && this.fds[fd] === null) return fd;
      this.free.pop(); // stale: taken again since it was freed
    }
    return this.fds.length;
  }

  /** Free a number (its slot is null now). */
  private release(fd: number): void {
    this.fds[fd] = null;
    this.free.push(fd);
  }

  /** get_unused_fd_flags(flags): the lowest free number, or -EMFILE. */
  getUnusedFdFlags(flags: number): number {
    const fd = this.lowestFree();
    if (fd >= this.nofile) return -EMFILE;
    if (fd < this.fds.length) this.free.pop();
    this.fds[fd] = RESERVED;
    if (flags & O_CLOEXEC) this.cloexec.add(fd);
    else this.cloexec.delete(fd);
    return fd;
  }

  /** put_unused_fd(): give back a reserved number. */
  putUnusedFd(fd: number): void {
    if (this.fds[fd] === RESERVED) this.release(fd);
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
    this.release(fd);
    this.cloexec.delete(fd);
    fput(f);
    return 0;
  }

  /** dup / F_DUPFD: a new number (>= minFd) for the same file. */
  dup(fd: number, minFd = 0, flags = 0): number {
    const f = this.lookup(fd);
    if (!f) return -EBADF;
    if (minFd < 0 || minFd >= this.nofile) return -EINVAL;
    // The lowest free number at or above minFd: the heap's answer when that is not below minFd.
    let n = this.lowestFree();
    if (n < minFd) {
      n = minFd;
      while (n < this.fds.length && this.fds[n] !== null && this.fds[n] !== undefined) n++;
    }
    if (n >= this.nofile) return -EMFILE;
    // Numbers skipped past the end become holes: free ones.
    for (let k = this.fds.length; k < n; k++) this.release(k);
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
    this.free.clear();
  }
}
