/**
 * The interface of a process, whatever the backend: the syscalls a program
 * makes (each synchronous, like libc, with an async twin) and what a
 * process offers besides. The emulated machine's Process implements it,
 * and so does the native backend's, whose calls go to the host kernel.
 */
import type { PollFdEntry } from './syscalls.js';
import type { Stat } from '../uapi/stat.js';
import type { TraceRecord } from './protocol.js';

/** A resource limit (struct rlimit): Infinity stands for RLIM_INFINITY. */
export interface Rlimit {
  cur: number;
  max: number;
}

/** A signal handler: runs in the process's thread with the signal's number. */
export type SignalHandler = (sig: number) => void;

/** The last argument of every async twin. */
export interface CallOptions {
  /** aborts the call: it is cancelled inside the kernel, and the promise rejects with the signal's reason */
  signal?: AbortSignal;
}

/**
 * The syscalls, with Linux's arguments and answers. Each throws a
 * SyscallError (`code`, negative `errno`, `syscall`, and `path` for the
 * calls that take one) where Linux returns an error.
 */
export interface Syscalls {
  /** open(2): an fd for a device node or a text file of procfs, debugfs or sysfs. */
  open(path: string, flags?: number, mode?: number): number;
  /** close(2) */
  close(fd: number): void;
  /** dup(2) */
  dup(fd: number): number;
  /** ioctl(2): `arg` holds the C struct (its user-pointer fields are byte offsets into it), and its output fields are written back into it; or a plain integer argument. */
  ioctl(fd: number, request: number, arg?: Uint8Array | number): number;
  /** mmap(2) with a NULL address: a zero-copy view of the mapping (its length rounded up to whole pages). */
  mmap(length: number, prot: number, flags: number, fd: number, offset?: number | bigint): Uint8Array;
  /** munmap(2) of a whole mapping, named by the view mmap returned. */
  munmap(view: Uint8Array): void;
  /** lseek(2): the new position. */
  lseek(fd: number, offset: number, whence: number): number;
  /** poll(2): the number of entries with events; each entry's `revents` is filled in. */
  poll(fds: PollFdEntry[], timeoutMs: number): number;
  /** The whole text of a procfs, debugfs or sysfs file (open, read to the end, close). */
  readFile(path: string): string;
  /** The names in a directory (opendir/readdir): /dev/dma_heap, /sys/kernel/dmabuf/buffers, … */
  readdir(path: string): string[];
  /** memfd_create(2) */
  memfdCreate(name: string, flags?: number): number;
  /** ftruncate(2) */
  ftruncate(fd: number, length: number): void;
  /** fcntl(2) with an integer argument */
  fcntl(fd: number, cmd: number, arg?: number): number;
  /** read(2) of up to `length` bytes (fewer at the end of the file). */
  read(fd: number, length: number): Uint8Array;
  /** write(2): the bytes written. */
  write(fd: number, bytes: Uint8Array): number;
  /** Send a descriptor to process `toPid` (SCM_RIGHTS): a one-use token for it to receive. */
  sendFd(fd: number, toPid: number): string;
  /** Receive a descriptor sent to this process: a new fd of its own. */
  receiveFd(token: string, flags?: number): number;
  /** fstat(2) */
  fstat(fd: number): Stat;
  /** readlink(2), e.g. of /proc/self/fd/N. */
  readlink(path: string): string;
  /** getrlimit(2) (prlimit64 of this process) */
  getrlimit(resource: number): Rlimit;
  /** setrlimit(2) (prlimit64 of this process) */
  setrlimit(resource: number, limit: Rlimit): void;
  /** kill(2): send signal `sig` to process `pid` (0 checks that it exists). */
  kill(pid: number, sig: number): void;
  /** socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC): two connected sockets, to pass fds over with sendFdTo/receiveFdFrom. */
  socketpair(): [number, number];
  /** sendmsg(2) of one byte with SCM_RIGHTS [fd] on `socket`: the receiver gets an fd of its own for the same file. */
  sendFdTo(socket: number, fd: number): void;
  /** recvmsg(2) of an SCM_RIGHTS message on `socket`: the new fd (O_CLOEXEC in `flags` sets FD_CLOEXEC); EPIPE once the other end is closed. */
  receiveFdFrom(socket: number, flags?: number): number;
}

/** The async twin of every syscall: the same arguments, then {@link CallOptions}. */
export type AsyncSyscalls = {
  [K in keyof Syscalls as `${K}Async`]: (...args: [...Parameters<Syscalls[K]>, CallOptions?]) => Promise<ReturnType<Syscalls[K]>>;
};

/**
 * A process, whichever backend runs it: every syscall and its async twin,
 * and what a process is besides (its pid, its end, its signal handlers).
 * A failed call throws a {@link SyscallError} whose `code` is Linux's errno.
 *
 * @example
 * ```ts
 * import { boot } from 'dmabuf';
 * import { O_RDWR, O_CLOEXEC, DMA_HEAP_IOCTL_ALLOC, dma_heap_allocation_data } from 'dmabuf/uapi';
 * await using machine = await boot();
 * using proc = machine.spawn('allocator');
 * const heap = proc.open('/dev/dma_heap/system', O_RDWR | O_CLOEXEC);
 * const arg = dma_heap_allocation_data.encode({ len: 4096n, fd_flags: O_RDWR | O_CLOEXEC });
 * proc.ioctl(heap, DMA_HEAP_IOCTL_ALLOC, arg);
 * const buf = dma_heap_allocation_data.get(arg, 'fd');   // a dma-buf fd
 * const ready = await proc.pollAsync([{ fd: buf, events: 0x4, revents: 0 }], 1000);   // POLLOUT: no fences
 * proc.close(buf);
 * proc.close(heap);
 * ```
 */
export interface ProcessLike extends Syscalls, AsyncSyscalls, Disposable {
  /** the process id within its machine */
  readonly pid: number;
  /** true once it exited, was killed, or its machine shut down */
  readonly exited: boolean;
  /** the signal that killed it ('SIGKILL'), or null */
  readonly killedBy: string | null;
  /** exit(): its fds close and its mappings go; idempotent */
  exit(): void;
  /** exit()'s async twin */
  exitAsync(): Promise<void>;
  /** Install (or with null remove) a handler for signal `sig`; see Process.onSignal. */
  onSignal(sig: number, handler: SignalHandler | null): void;
}

/** What a worker needs to become a process of a machine: hand it over with postMessage (transfer `port`). */
export interface ProcessHandleLike {
  /** the backend that made it: 'emulator' or 'linux' */
  readonly backend?: 'emulator' | 'linux';
  /** the new process's pid */
  readonly pid: number;
  /** the process's side channel: put it in postMessage's transferList */
  readonly port: import('node:worker_threads').MessagePort;
}

/** What a machine's kernel (or, on the native backend, its processes) still holds: counter name -> value; all 0 means nothing leaked. */
export type MachineStats = Readonly<Record<string, number>>;

/**
 * A machine, whichever backend runs it: {@link boot} makes one. Its
 * processes run in the threads that spawn() or attach() them.
 *
 * @example
 * ```ts
 * import { boot, attach } from 'dmabuf';
 * import { Worker } from 'node:worker_threads';
 * await using machine = await boot();
 * const handle = machine.channel('consumer');   // handle.pid is known now
 * const worker = new Worker(new URL('./consumer.js', import.meta.url), { workerData: { handle }, transferList: [handle.port] });
 * // in consumer.js: const proc = attach(workerData.handle);
 * await new Promise((resolve) => worker.once('exit', resolve));
 * console.log(await machine.stats());   // every counter 0: nothing leaked
 * ```
 */
export interface MachineLike extends AsyncDisposable {
  /** 'emulator' (the kernel in a worker thread) or 'linux' (the host's kernel) */
  readonly backend: 'emulator' | 'linux';
  /** A handle for a new process in a worker: transfer `handle.port`, then attach(handle) there. */
  channel(comm?: string): ProcessHandleLike;
  /** A process bound to the calling thread. */
  spawn(comm?: string): ProcessLike;
  /** Counters of what is held (leak checks). */
  stats(): Promise<MachineStats>;
  /** The kernel log. */
  dmesg(): Promise<string>;
  /** Start recording the dma_fence/dma_buf tracepoints. */
  traceStart(): Promise<void>;
  /** Stop recording; what was recorded. */
  traceStop(): Promise<{ records: TraceRecord[]; lost: number }>;
  /** Bytes of JavaScript heap the kernel uses. */
  kernelHeap(): Promise<number>;
  /** kill(pid, sig) from outside every process. */
  kill(pid: number, sig: number): Promise<void>;
  /** Load a kernel module written in JavaScript (the emulator; the native backend cannot: use modprobe there). */
  insmod(module: string | URL): Promise<string>;
  /** Remove a loaded module (EAGAIN while in use). */
  rmmod(name: string): Promise<void>;
  /** Every process exits; resolves to what was still held. */
  shutdown(): Promise<MachineStats>;
}
