/**
 * The C library calls the native backend makes, bound through koffi. Each
 * returns what libc returns (-1 and errno on failure); `fail` turns the
 * errno into a NativeSyscallError. Prototypes are declared without libc's
 * varargs (ioctl, fcntl, open): on x86-64 the integer registers carry the
 * same values either way, and a fixed prototype is the cheaper call.
 */
import { koffi, type KoffiFunction } from './koffi.js';
import { NativeSyscallError } from './errors.js';

export interface Libc {
  open(path: string, flags: number, mode: number): number;
  close(fd: number): number;
  dup(fd: number): number;
  fcntl(fd: number, cmd: number, arg: number): number;
  /** ioctl with a pointer argument: a byte array (passed by address, written in place) or a native address */
  ioctlPtr(fd: number, request: number, arg: Uint8Array | bigint | null): number;
  /** ioctl with an integer argument */
  ioctlInt(fd: number, request: number, arg: number): number;
  mmap(addr: bigint | null, length: number, prot: number, flags: number, fd: number, offset: bigint): bigint;
  munmap(addr: bigint, length: number): number;
  lseek(fd: number, offset: number, whence: number): number;
  poll(fds: Uint8Array, nfds: number, timeout: number): number;
  read(fd: number, buf: Uint8Array, count: number): number;
  write(fd: number, buf: Uint8Array, count: number): number;
  ftruncate(fd: number, length: number): number;
  memfdCreate(name: string, flags: number): number;
  fstat(fd: number, statbuf: Uint8Array): number;
  readlink(path: string, buf: Uint8Array, size: number): number;
  prlimit(pid: number, resource: number, newLimit: Uint8Array | null, oldLimit: Uint8Array | null): number;
  socketpair(domain: number, type: number, protocol: number, sv: Int32Array): number;
  sendmsg(fd: number, msg: bigint, flags: number): number;
  recvmsg(fd: number, msg: bigint, flags: number): number;
  eventfd(initval: number, flags: number): number;
  epollCreate1(flags: number): number;
  epollCtl(epfd: number, op: number, fd: number, event: Uint8Array | null): number;
  epollWait(epfd: number, events: Uint8Array, maxevents: number, timeout: number): number;
  gettid(): number;
  getpid(): number;
  tgkill(tgid: number, tid: number, sig: number): number;
  sigaction(sig: number, act: Uint8Array | null, oldact: Uint8Array | null): number;
  sigrtmin(): number;
  malloc(size: number): bigint;
  free(ptr: bigint): void;
  /** the address of libc's getppid: a handler that does nothing harmful, for a signal that must only interrupt */
  readonly getppidAddress: bigint;
  /** errno of the last call made on this thread */
  errno(): number;
  /** a zero-copy ArrayBuffer over native memory */
  view(ptr: bigint, length: number): ArrayBuffer;
}

let libc: Libc | undefined;

/** libc, bound once per thread (loads koffi; throws NativeUnavailableError without it). */
export function loadLibc(): Libc {
  if (libc) return libc;
  const k = koffi();
  const lib = k.load('libc.so.6');
  const f = (proto: string): KoffiFunction => lib.func(proto);
  const num = (fn: KoffiFunction) => (...a: unknown[]): number => Number(fn(...a));
  const open = f('int open(const char *path, int flags, uint32_t mode)');
  const ioctlPtr = f('int ioctl(int fd, unsigned long request, void *arg)');
  const ioctlInt = f('int ioctl(int fd, unsigned long request, unsigned long arg)');
  const mmap = f('void *mmap(void *addr, size_t length, int prot, int flags, int fd, int64_t offset)');
  const munmap = f('int munmap(void *addr, size_t length)');
  const lseek = num(f('int64_t lseek(int fd, int64_t offset, int whence)'));
  const read = num(f('int64_t read(int fd, void *buf, size_t count)'));
  const write = num(f('int64_t write(int fd, const void *buf, size_t count)'));
  const readlink = num(f('int64_t readlink(const char *path, void *buf, size_t size)'));
  const sendmsg = num(f('int64_t sendmsg(int fd, void *msg, int flags)'));
  const recvmsg = num(f('int64_t recvmsg(int fd, void *msg, int flags)'));
  const malloc = f('void *malloc(size_t size)');
  const free = f('void free(void *ptr)');
  const getppid = lib.symbol('getppid');
  libc = {
    open: open as Libc['open'],
    close: f('int close(int fd)') as Libc['close'],
    dup: f('int dup(int fd)') as Libc['dup'],
    fcntl: f('int fcntl(int fd, int cmd, long arg)') as Libc['fcntl'],
    ioctlPtr: (fd, request, arg) => ioctlPtr(fd, request >>> 0, arg) as number,
    ioctlInt: (fd, request, arg) => ioctlInt(fd, request >>> 0, arg) as number,
    mmap: (addr, length, prot, flags, fd, offset) => BigInt(mmap(addr, length, prot, flags, fd, offset) as bigint),
    munmap: (addr, length) => munmap(addr, length) as number,
    lseek,
    poll: f('int poll(void *fds, unsigned long nfds, int timeout)') as Libc['poll'],
    read,
    write,
    ftruncate: f('int ftruncate(int fd, int64_t length)') as Libc['ftruncate'],
    memfdCreate: f('int memfd_create(const char *name, unsigned int flags)') as Libc['memfdCreate'],
    fstat: f('int fstat(int fd, void *statbuf)') as Libc['fstat'],
    readlink,
    prlimit: f('int prlimit(int pid, int resource, const void *newLimit, void *oldLimit)') as Libc['prlimit'],
    socketpair: f('int socketpair(int domain, int type, int protocol, int *sv)') as Libc['socketpair'],
    sendmsg: (fd, msg, flags) => sendmsg(fd, msg, flags),
    recvmsg: (fd, msg, flags) => recvmsg(fd, msg, flags),
    eventfd: f('int eventfd(unsigned int initval, int flags)') as Libc['eventfd'],
    epollCreate1: f('int epoll_create1(int flags)') as Libc['epollCreate1'],
    epollCtl: f('int epoll_ctl(int epfd, int op, int fd, void *event)') as Libc['epollCtl'],
    epollWait: f('int epoll_wait(int epfd, void *events, int maxevents, int timeout)') as Libc['epollWait'],
    gettid: f('int gettid(void)') as Libc['gettid'],
    getpid: f('int getpid(void)') as Libc['getpid'],
    tgkill: f('int tgkill(int tgid, int tid, int sig)') as Libc['tgkill'],
    sigaction: f('int sigaction(int sig, const void *act, void *oldact)') as Libc['sigaction'],
    sigrtmin: f('int __libc_current_sigrtmin(void)') as Libc['sigrtmin'],
    malloc: (size) => BigInt(malloc(size) as bigint),
    free: (ptr) => void free(ptr),
    getppidAddress: k.address(getppid),
    errno: () => k.errno(),
    view: (ptr, length) => k.view(ptr, length),
  };
  return libc;
}

/** The NativeSyscallError for the errno the last failed call on this thread left. */
export function fail(syscall: string, detail?: string, path?: string): NativeSyscallError {
  return new NativeSyscallError(-loadLibc().errno(), syscall, detail, path);
}

/** `ret`, or the NativeSyscallError for errno when `ret` is negative. */
export function check(ret: number, syscall: string, path?: string): number {
  if (ret < 0) throw fail(syscall, undefined, path);
  return ret;
}

/** MAP_FAILED: (void *)-1 */
export const MAP_FAILED = 0xffffffffffffffffn;
