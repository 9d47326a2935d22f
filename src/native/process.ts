/**
 * A process of the native backend: the same calls as the emulator's
 * Process (src/machine/process.ts), made on the host's real kernel through
 * libc. A process is bound to one thread of this OS process (a worker or the
 * main thread) and has a pid of its machine's own. Threads share the OS's fd
 * table and address space, so a process records what it owns (fds,
 * mappings) in its machine's shared tables: it may use only its own fds
 * (another's are EBADF, as in a per-process fd table), and what it still
 * holds when it exits or its thread dies is released.
 *
 * Calls are synchronous, like libc. The async twins of calls that can wait
 * (poll, read, write, receiveFdFrom, ioctls that wait for fences) wait
 * through the machine's waiter thread (waiter.ts) and then make the call
 * without blocking; the others run synchronously and resolve.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { isMainThread, type MessagePort } from 'node:worker_threads';
import { F_DUPFD, F_DUPFD_CLOEXEC, F_GETFD, F_SETFD, O_CLOEXEC, O_RDONLY } from '../uapi/fcntl.js';
import { MAP_ANONYMOUS, MAP_FIXED, PROT_NONE } from '../uapi/mman.js';
import { POLLIN, POLLNVAL, POLLOUT } from '../uapi/poll.js';
import { EBADF, EINTR, EINVAL, EIO, EMFILE, ENFILE, ENOMEM, EPERM, ESRCH } from '../uapi/errno.js';
import { RLIM_INFINITY, SIGKILL as SIGKILL_NR, SIGSTOP as SIGSTOP_NR, signalName } from '../uapi/signal.js';
import { stat, type Stat } from '../uapi/stat.js';
import type { PollFdEntry } from '../machine/syscalls.js';
import type { CallOptions, ProcessLike, Rlimit, SignalHandler } from '../machine/process-api.js';
import { NativeSyscallError } from './errors.js';
import { checkDetach, detach } from './detach.js';
import { ioctlShape, offsetsOf, pointerOffsets, type IoctlShape } from './ioctl-shapes.js';
import { killProcess } from './kill.js';
import { loadLibc, MAP_FAILED, type Libc } from './libc.js';
import { callRelocated } from './relocate.js';
import { cancelWaits, closeOwned, dropTokensTo } from './release.js';
import { receiveFdMessage, sendFdMessage } from './scm-rights.js';
import {
  H_DOWN, H_MACHINE_ID, MAP_BUSY, MAP_INERT, MAP_LIVE, P_BLOCKED, P_HANDLED, P_PID, P_SIG, P_SIGPENDING, P_SIGSEQ, P_STATE, P_TID, PROC_ALIVE, PROC_EXITED,
  PROC_KILLED, Shared, T_FD, T_FROM,
  FD_CLOSING, MAX_TOKENS, T_NONCE, T_STATE, T_TO, TOKEN_FREE, TOKEN_PENDING, TOKEN_TAKEN,
} from './shared.js';
import { WaitClient, type WaitEntry } from './waiter.js';

const PAGE_SIZE = 4096;
const MAP_FIXED_NOREPLACE = 0x100000;
const AF_UNIX = 1;
const SOCK_STREAM = 1;
const SOCK_CLOEXEC = 0o2000000;

export type { PollFdEntry } from '../machine/syscalls.js';

/** What a worker needs to become a process of a native machine (from NativeMachine.channel()). */
export interface NativeProcessHandle {
  readonly backend: 'linux';
  readonly sab: SharedArrayBuffer;
  readonly index: number;
  readonly pid: number;
  readonly comm: string;
  readonly port: MessagePort;
}

export interface NativeAttachOptions {
  /** end the thread (process.exit(128 + sig)) when the process is killed; default: true in a worker, false on the main thread */
  endThreadOnKill?: boolean;
}

/** The last argument of an async twin (CallOptions). */
export type WaitOptions = CallOptions;

interface Mapping {
  entry: number;
  addr: bigint;
  length: number;
  buffer: ArrayBuffer;
}

const roundUp = (n: number): number => Math.ceil(n / PAGE_SIZE) * PAGE_SIZE;

/** A number argument a C caller could have passed: a safe integer (or a bigint where 64 bits are allowed); else EINVAL, as the emulator's syscall table says. */
function intArg(v: unknown, name: string, what: string, allowBig = false): number | bigint {
  if (v === undefined) return 0;
  if (allowBig && typeof v === 'bigint') return v;
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw new NativeSyscallError(-EINVAL, name, `(${what} ${String(v)} is not a safe integer)`);
  return v;
}

/**
 * The live processes of this thread, held until they exit: a process
 * dropped without exit() must not be collected, for its port closing would
 * have the machine unmap pages that views still in use point at.
 */
const live = new Set<NativeProcess>();

export class NativeProcess implements ProcessLike {
  readonly pid: number;
  readonly comm: string;
  private readonly libc: Libc;
  private readonly shared: Shared;
  private readonly index: number;
  private readonly stateAt: number;
  private readonly blockedAt: number;
  private readonly port: MessagePort;
  private readonly waiter: WaitClient;
  private readonly endThreadOnKill: boolean;
  /** fds this process owns */
  private readonly fds = new Set<number>();
  /** the OS process's stdio: usable by every process, and closed by one only for itself */
  private readonly stdio = new Set([0, 1, 2]);
  private readonly maps = new Map<ArrayBufferLike, Mapping>();
  private mapHint = 0;
  private callSeq = 0;
  private exitedFlag = false;
  private readonly sigPendingAt: number;
  private readonly handlers = new Map<number, SignalHandler>();
  private watchingSignals = false;
  /** the signal that killed the process, kept once its entry is reaped */
  private killedSig = 0;
  /** ended by the machine's shutdown (not by exit or a kill) */
  private shutDown = false;

  /** Become the process `handle` names, in this thread. */
  constructor(handle: NativeProcessHandle, options: NativeAttachOptions = {}) {
    this.libc = loadLibc();
    checkDetach();
    this.shared = new Shared(handle.sab);
    this.index = handle.index;
    this.pid = handle.pid;
    this.comm = handle.comm;
    this.port = handle.port;
    this.stateAt = this.shared.procWordIndex(this.index, P_STATE);
    this.blockedAt = this.shared.procWordIndex(this.index, P_BLOCKED);
    this.sigPendingAt = this.shared.procWordIndex(this.index, P_SIGPENDING);
    if (this.shared.procWord(this.index, P_PID) !== this.pid || this.shared.procWord(this.index, P_STATE) !== PROC_ALIVE) {
      throw new NativeSyscallError(-ESRCH, 'attach', `(pid ${this.pid} is not a live process of this machine)`);
    }
    this.shared.setProcWord(this.index, P_TID, this.libc.gettid());
    this.waiter = new WaitClient(this.shared, this.libc);
    this.endThreadOnKill = options.endThreadOnKill ?? !isMainThread;
    live.add(this);
    this.watchState();
  }

  /** True once exit() ran, the process was killed or the machine shut down. */
  get exited(): boolean {
    return this.exitedFlag || Atomics.load(this.shared.procs, this.stateAt) !== PROC_ALIVE || Atomics.load(this.shared.header, H_DOWN) === 1;
  }

  // ---- the process's own bookkeeping ----

  /** Every call starts here: a process that exited fails; one killed or shut down releases what it holds, then fails. */
  private enter(name: string): void {
    if (this.exitedFlag) throw this.afterEnd(name);
    if (Atomics.load(this.shared.procs, this.stateAt) !== PROC_ALIVE || Atomics.load(this.shared.header, H_DOWN)) this.ended(name);
    if (Atomics.load(this.shared.procs, this.sigPendingAt)) this.runHandlers();
  }

  /** The process was killed or its machine shut down: finish it and fail the call. */
  /** The error of a call made after the end: EIO once the machine shut down, as the emulator's; EBADF after exit or a kill. */
  private afterEnd(name: string): NativeSyscallError {
    return this.shutDown ? new NativeSyscallError(-EIO, name, '(the machine has shut down)') : new NativeSyscallError(-EBADF, name, '(the process has exited)');
  }

  private ended(name: string): never {
    if (this.exitedFlag) throw this.afterEnd(name);
    const down = Atomics.load(this.shared.header, H_DOWN) === 1;
    const sig = this.shared.procWord(this.index, P_SIG);
    this.finish();
    if (down && !sig) throw new NativeSyscallError(-EIO, name, '(the machine has shut down)');
    // A killed process does not come back from its call: in a worker, the thread ends here.
    if (sig && this.endThreadOnKill) process.exit(128 + sig);
    throw Object.assign(new NativeSyscallError(-ESRCH, name, `(process ${this.pid} was killed by ${signalName(sig)})`), { signal: signalName(sig) });
  }

  /**
   * Mark this thread as inside a call that may block, where a kill's
   * interrupt signal must reach it. The mark is a number of its own for each
   * call, so that the signaller can tell this call from the next one.
   */
  private block(name: string): void {
    this.callSeq = (this.callSeq % 0x7fffffff) + 1;
    Atomics.store(this.shared.procs, this.blockedAt, this.callSeq);
    // A kill sets the state (or a pending signal) before it looks at BLOCKED; looking at them after setting BLOCKED means one of us sees the other.
    if (Atomics.load(this.shared.procs, this.stateAt) !== PROC_ALIVE) {
      Atomics.store(this.shared.procs, this.blockedAt, 0);
      this.ended(name);
    }
    if (Atomics.load(this.shared.procs, this.sigPendingAt)) {
      // A signal with a handler arrived just before the call: it returns EINTR at once, as the call would have been interrupted.
      Atomics.store(this.shared.procs, this.blockedAt, 0);
      this.runHandlers();
      throw new NativeSyscallError(-EINTR, name);
    }
  }

  private unblock(): void {
    Atomics.store(this.shared.procs, this.blockedAt, 0);
  }

  /** The error for a call that returned -1: errno, unless a kill interrupted it. Read right after the call. */
  private failed(name: string, path?: string): NativeSyscallError {
    const errno = this.libc.errno();
    if (errno === EINTR && Atomics.load(this.shared.procs, this.stateAt) !== PROC_ALIVE) this.ended(name);
    // Interrupted for a signal with a handler: the handler runs before the call returns EINTR.
    if (errno === EINTR && Atomics.load(this.shared.procs, this.sigPendingAt)) this.runHandlers();
    return new NativeSyscallError(-errno, name, undefined, path);
  }

  private runHandlers(): void {
    const pending = Atomics.exchange(this.shared.procs, this.sigPendingAt, 0);
    for (let sig = 1; sig < 32; sig++) if (pending & (1 << sig)) this.handlers.get(sig)?.(sig);
  }

  /**
   * Install `handler` for signal `sig`, or remove it with null: with a
   * handler, a signal whose default would end the process (SIGTERM, SIGINT,
   * ...) runs it instead, and a call blocked when it arrives fails with
   * EINTR after the handler ran (the real interrupt signal, without
   * SA_RESTART). SIGKILL and SIGSTOP cannot be caught (EINVAL).
   */
  onSignal(sig: number, handler: SignalHandler | null): void {
    this.enter('rt_sigaction');
    if (!Number.isInteger(sig) || sig < 1 || sig >= 32 || sig === SIGKILL_NR || sig === SIGSTOP_NR) throw new NativeSyscallError(-EINVAL, 'rt_sigaction', `(signal ${sig})`);
    const at = this.shared.procWordIndex(this.index, P_HANDLED);
    if (handler) {
      this.handlers.set(sig, handler);
      Atomics.or(this.shared.procs, at, 1 << sig);
    } else {
      this.handlers.delete(sig);
      Atomics.and(this.shared.procs, at, ~(1 << sig));
    }
    this.watchSignals();
  }

  /** While the process has handlers, an idle thread runs them from its event loop (Atomics.waitAsync keeps no loop alive, as a Node signal handler does not). */
  private watchSignals(): void {
    if (this.watchingSignals || this.handlers.size === 0) return;
    this.watchingSignals = true;
    const seqAt = this.shared.procWordIndex(this.index, P_SIGSEQ);
    const w = Atomics.waitAsync(this.shared.procs, seqAt, Atomics.load(this.shared.procs, seqAt));
    const next = (): void => {
      this.watchingSignals = false;
      if (this.exitedFlag) return;
      if (Atomics.load(this.shared.procs, this.sigPendingAt)) this.runHandlers();
      this.watchSignals();
    };
    if (w.async) void w.value.then(next);
    else queueMicrotask(next);
  }

  /** The signal that killed the process ('SIGKILL'), or null. */
  get killedBy(): string | null {
    if (Atomics.load(this.shared.procs, this.stateAt) !== PROC_KILLED && !(this.exitedFlag && this.killedSig)) return null;
    return signalName(this.killedSig || this.shared.procWord(this.index, P_SIG));
  }

  private owns(fd: number): boolean {
    return this.fds.has(fd) || this.stdio.has(fd);
  }

  private own(fd: number, name: string): void {
    if (!this.fds.has(fd) && !this.stdio.has(fd)) throw new NativeSyscallError(-EBADF, name);
  }

  /** Record a new fd the kernel gave this process. */
  private adopt(fd: number, name: string): number {
    if (!this.shared.claimFd(fd, this.pid)) {
      this.libc.close(fd);
      throw new NativeSyscallError(-EMFILE, name, `(fd ${fd} is beyond the machine's table of ${this.shared.fdCap})`);
    }
    this.fds.add(fd);
    return fd;
  }

  /**
   * An fd field the kernel reads that names an fd this process does not own
   * goes to the kernel as -1, which no fd table holds: Linux then answers as
   * it would for a number that is not open in the process's own table, after
   * its own checks (an IMPORT_SYNC_FILE is EINVAL, a MERGE ENOENT, a
   * udmabuf's flags are checked before its memfd), instead of an EBADF made
   * up before it is asked. The fields replaced, to give back after the call.
   */
  private hideForeignFds(shape: IoctlShape, arg: Uint8Array): [number, number][] {
    if (!shape.fdIn) return [];
    const view = new DataView(arg.buffer, arg.byteOffset, arg.byteLength);
    const hidden: [number, number][] = [];
    for (const at of offsetsOf(shape.fdIn, arg)) {
      if (at + 4 > arg.length) continue;
      const fd = view.getInt32(at, true);
      if (fd >= 0 && !this.owns(fd)) {
        hidden.push([at, fd]);
        view.setInt32(at, -1, true);
      }
    }
    return hidden;
  }

  private restoreFds(arg: Uint8Array, hidden: [number, number][]): void {
    const view = new DataView(arg.buffer, arg.byteOffset, arg.byteLength);
    for (const [at, fd] of hidden) view.setInt32(at, fd, true);
  }

  private adoptFdFields(shape: IoctlShape, arg: Uint8Array | number | undefined, ret: number): void {
    if (shape.fdOut === 'ret') {
      this.adopt(ret, 'ioctl');
      return;
    }
    if (!(arg instanceof Uint8Array)) return;
    const view = new DataView(arg.buffer, arg.byteOffset, arg.byteLength);
    for (const at of shape.fdOut!) {
      if (at + 4 > arg.length) continue;
      const fd = view.getInt32(at, true);
      if (fd >= 0) this.adopt(fd, 'ioctl');
    }
  }

  /** Follow the state word: a kill or a shutdown is acted on by this thread, without waiting for its next call. */
  private watchState(): void {
    const w = Atomics.waitAsync(this.shared.procs, this.stateAt, PROC_ALIVE);
    const changed = (): void => {
      if (this.exitedFlag) return;
      const state = Atomics.load(this.shared.procs, this.stateAt);
      if (state === PROC_ALIVE) return this.watchState();
      const sig = this.shared.procWord(this.index, P_SIG);
      this.finish();
      if (state === PROC_KILLED && sig && this.endThreadOnKill) process.exit(128 + sig);
    };
    if (w.async) void w.value.then(changed);
    else changed();
  }

  /** Release everything, mark the process exited, close its port (the machine reaps the entry). */
  private finish(): void {
    if (this.exitedFlag) return;
    this.exitedFlag = true;
    if (Atomics.load(this.shared.procs, this.stateAt) === PROC_KILLED) this.killedSig = this.shared.procWord(this.index, P_SIG);
    this.shutDown = Atomics.load(this.shared.header, H_DOWN) === 1 && this.shared.procWord(this.index, P_SIG) === 0;
    for (const m of [...this.maps.values()]) {
      try {
        this.unmap(m);
      } catch {
        // munmap of a range we mapped fails only on a bad address: nothing more to release
      }
    }
    for (const fd of this.fds) closeOwned(this.shared, this.libc, fd, this.pid);
    this.fds.clear();
    dropTokensTo(this.shared, this.libc, this.pid);
    cancelWaits(this.shared, this.pid);
    this.shared.casProcWord(this.index, P_STATE, PROC_ALIVE, PROC_EXITED);
    this.shared.notifyProc(this.index, P_STATE);
    this.waiter.dispose();
    this.port.close();
    live.delete(this);
  }

  /** Detach the mapping's views, then unmap it. */
  private unmap(m: Mapping): void {
    detach(m.buffer);
    this.maps.delete(m.buffer);
    const { shared } = this;
    // A kill may be replacing the pages (BUSY) this very moment: let it finish.
    while (!shared.casMap(m.entry, MAP_LIVE, MAP_BUSY) && !shared.casMap(m.entry, MAP_INERT, MAP_BUSY)) {
      if (shared.mapState(m.entry) !== MAP_BUSY) break;
      Atomics.wait(shared.mapWords, m.entry * 2, MAP_BUSY, 1);
    }
    const r = this.libc.munmap(m.addr, m.length);
    const errno = r < 0 ? this.libc.errno() : 0;
    shared.freeMap(m.entry);
    if (r < 0) throw new NativeSyscallError(-errno, 'munmap');
  }

  private pollRaw(fds: PollFdEntry[], timeoutMs: number, name: string): number {
    const raw = new Uint8Array(fds.length * 8);
    const view = new DataView(raw.buffer);
    let foreign = 0;
    for (let i = 0; i < fds.length; i++) {
      const f = fds[i];
      // Another process's fd is not in this process's table: POLLNVAL, as for a closed one, and it is never passed to the kernel.
      const mine = f.fd < 0 || this.owns(f.fd);
      if (!mine) foreign++;
      view.setInt32(i * 8, mine ? f.fd : -1, true);
      view.setInt16(i * 8 + 4, f.events, true);
    }
    const wait = foreign ? 0 : timeoutMs;
    if (wait !== 0) this.block(name);
    const n = this.libc.poll(raw, fds.length, wait);
    if (wait !== 0) this.unblock();
    if (n < 0) throw this.failed(name);
    for (let i = 0; i < fds.length; i++) {
      const f = fds[i];
      f.revents = f.fd >= 0 && !this.owns(f.fd) ? POLLNVAL : view.getUint16(i * 8 + 6, true);
    }
    return n + foreign;
  }

  /** Wait through the machine's waiter; a kill cancels the wait and ends the call. */
  private async waitFor(name: string, entries: WaitEntry[], timeoutMs: number, signal?: AbortSignal): Promise<'ready' | 'timeout'> {
    try {
      return await this.waiter.wait(this.pid, entries, timeoutMs, signal);
    } catch (e) {
      if ((e as NativeSyscallError).errno === -EINTR && Atomics.load(this.shared.procs, this.stateAt) !== PROC_ALIVE) this.ended(name);
      throw e;
    }
  }

  /**
   * Wait until `fd` is ready for `events` (no timeout), then run `action`
   * in the same synchronous turn as the poll that saw it ready: no other
   * code of this thread can take the data in between (another thread
   * sharing the file still can, as with real threads).
   */
  private async whenReady<T>(name: string, fd: number, events: number, signal: AbortSignal | undefined, action: () => T): Promise<T> {
    const probe = [{ fd, events }];
    for (;;) {
      if (this.pollRaw(probe, 0, name) > 0) return action();
      await this.waitFor(name, probe, -1, signal);
      this.enter(name);
    }
  }

  // ---- the syscalls (synchronous) ----

  /** open(path, flags, mode) -> fd */
  open(path: string, flags = O_RDONLY, mode = 0): number {
    this.enter('open');
    this.block('open'); // opening a FIFO waits for its other end
    const fd = this.libc.open(path, flags, mode);
    this.unblock();
    if (fd < 0) throw this.failed('open', path);
    return this.adopt(fd, 'open');
  }

  /** close(fd) */
  close(fd: number): void {
    this.enter('close');
    if (!this.fds.has(fd)) {
      // stdio belongs to the OS process: closing it closes it for this process only
      if (this.stdio.delete(fd)) return;
      throw new NativeSyscallError(-EBADF, 'close');
    }
    this.fds.delete(fd);
    if (!this.shared.beginClose(fd, this.pid)) throw new NativeSyscallError(-EBADF, 'close');
    const r = this.libc.close(fd);
    const errno = r < 0 ? this.libc.errno() : 0;
    this.shared.endClose(fd, this.pid);
    // Linux frees the number even when close reports an error
    if (r < 0) throw new NativeSyscallError(-errno, 'close');
  }

  /** dup(fd) -> fd */
  dup(fd: number): number {
    this.enter('dup');
    this.own(fd, 'dup');
    const r = this.libc.dup(fd);
    if (r < 0) throw this.failed('dup');
    return this.adopt(r, 'dup');
  }

  /**
   * ioctl(fd, request, arg): arg holds the C struct and gets the output
   * fields written back; a user pointer inside it is a byte offset into the
   * same array (0 = NULL), relocated for the kernel (ioctl-shapes.ts says
   * which fields are pointers, and which are fds).
   */
  ioctl(fd: number, request: number, arg?: Uint8Array | number): number {
    this.enter('ioctl');
    this.own(fd, 'ioctl');
    const shape = ioctlShape(request);
    let ret: number;
    if (arg instanceof Uint8Array) {
      const hidden = shape ? this.hideForeignFds(shape, arg) : [];
      try {
        const pointers = pointerOffsets(request, arg);
        this.block('ioctl');
        if (pointers.length) {
          try {
            ret = callRelocated(this.libc, 'ioctl', arg, pointers, (address) => this.libc.ioctlPtr(fd, request, address));
          } catch (e) {
            this.unblock();
            if ((e as NativeSyscallError).errno === -EINTR && Atomics.load(this.shared.procs, this.stateAt) !== PROC_ALIVE) this.ended('ioctl');
            throw e;
          }
          this.unblock();
        } else {
          ret = this.libc.ioctlPtr(fd, request, arg);
          this.unblock();
          if (ret < 0) throw this.failed('ioctl');
        }
      } finally {
        this.restoreFds(arg, hidden);
      }
    } else {
      this.block('ioctl');
      ret = this.libc.ioctlInt(fd, request, arg ?? 0);
      this.unblock();
      if (ret < 0) throw this.failed('ioctl');
    }
    if (shape?.fdOut) this.adoptFdFields(shape, arg, ret);
    return ret;
  }

  /**
   * mmap(length, prot, flags, fd, offset) -> a zero-copy view of the
   * mapping, page-rounded. The view is an ArrayBuffer over the mapped pages,
   * not a SharedArrayBuffer: another thread maps the fd itself. A PROT_NONE
   * mapping gives an empty view (any access to its pages would fault).
   */
  mmap(length: number, prot: number, flags: number, fd: number, offset: number | bigint = 0): Uint8Array {
    this.enter('mmap');
    intArg(length, 'mmap', 'length');
    intArg(offset, 'mmap', 'offset', true);
    // An fd this process does not own goes to the kernel as -1, which no table holds: Linux checks the offset
    // before it looks the fd up (EINVAL before EBADF, arch/x86/kernel/sys_x86_64.c), as for any closed number.
    const kfd = flags & MAP_ANONYMOUS || this.owns(fd) ? fd : -1;
    if (flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) throw new NativeSyscallError(-EINVAL, 'mmap', '(there is no address argument: MAP_FIXED is not offered)');
    const entry = this.shared.reserveMap(this.pid, this.mapHint);
    if (entry < 0) throw new NativeSyscallError(-ENOMEM, 'mmap', '(the machine\'s mapping table is full)');
    this.mapHint = entry + 1;
    const addr = this.libc.mmap(null, length, prot, flags, kfd, BigInt.asIntN(64, BigInt(offset)));
    if (addr === MAP_FAILED) {
      const errno = this.libc.errno();
      this.shared.freeMap(entry);
      throw new NativeSyscallError(-errno, 'mmap');
    }
    const size = roundUp(length);
    this.shared.publishMap(entry, addr, size);
    const buffer = prot === PROT_NONE ? new ArrayBuffer(0) : this.libc.view(addr, size);
    this.maps.set(buffer, { entry, addr, length: size, buffer });
    return new Uint8Array(buffer);
  }

  /** munmap(view) of a view mmap returned (or any view of its buffer): every view of the mapping is detached first. */
  munmap(view: Uint8Array): void {
    this.enter('munmap');
    const m = this.maps.get(view.buffer);
    if (!m) throw new NativeSyscallError(-EINVAL, 'munmap', '(not a mapping of this process)');
    this.unmap(m);
  }

  /** lseek(fd, offset, whence) -> the new position */
  lseek(fd: number, offset: number, whence: number): number {
    this.enter('lseek');
    intArg(offset, 'lseek', 'offset');
    this.own(fd, 'lseek');
    const r = this.libc.lseek(fd, offset, whence);
    if (r < 0) throw this.failed('lseek');
    return r;
  }

  /** poll(fds, timeoutMs) -> the number of entries with events; each entry's revents is filled in */
  poll(fds: PollFdEntry[], timeoutMs: number): number {
    this.enter('poll');
    return this.pollRaw(fds, timeoutMs, 'poll');
  }

  /** The contents of a file (procfs, sysfs, debugfs...), read with the real open/read. */
  readFile(path: string): string {
    this.enter('open');
    try {
      return readFileSync(path, 'utf8');
    } catch (e) {
      throw fromNode(e, path);
    }
  }

  /** The entries of a directory (getdents64 through Node's readdir). */
  readdir(path: string): string[] {
    this.enter('open');
    try {
      return readdirSync(path);
    } catch (e) {
      // opendir(3) is open(path, O_DIRECTORY): name the call as the emulator's table does (Node says 'scandir').
      throw fromNode(e, path, 'open');
    }
  }

  /** memfd_create(name, flags) -> fd */
  memfdCreate(name: string, flags = 0): number {
    this.enter('memfd_create');
    const fd = this.libc.memfdCreate(name, flags);
    if (fd < 0) throw this.failed('memfd_create');
    return this.adopt(fd, 'memfd_create');
  }

  /** ftruncate(fd, length) */
  ftruncate(fd: number, length: number): void {
    this.enter('ftruncate');
    intArg(length, 'ftruncate', 'length');
    this.own(fd, 'ftruncate');
    if (this.libc.ftruncate(fd, length) < 0) throw this.failed('ftruncate');
  }

  /** fcntl(fd, cmd, arg) -> the result (F_DUPFD and F_DUPFD_CLOEXEC give this process a new fd) */
  fcntl(fd: number, cmd: number, arg = 0): number {
    this.enter('fcntl');
    this.own(fd, 'fcntl');
    const r = this.libc.fcntl(fd, cmd, arg);
    if (r < 0) throw this.failed('fcntl');
    return cmd === F_DUPFD || cmd === F_DUPFD_CLOEXEC ? this.adopt(r, 'fcntl') : r;
  }

  /** write(fd, bytes) -> bytes written (one write(2): a short count is returned as Linux returns it) */
  write(fd: number, bytes: Uint8Array): number {
    this.enter('write');
    this.own(fd, 'write');
    this.block('write');
    const n = this.libc.write(fd, bytes, bytes.length);
    this.unblock();
    if (n < 0) throw this.failed('write');
    return n;
  }

  /** read(fd, length) -> the bytes read (fewer at the end of the file) */
  read(fd: number, length: number): Uint8Array {
    this.enter('read');
    intArg(length, 'read', 'length');
    if (length < 0) throw new NativeSyscallError(-EINVAL, 'read', `(length ${length})`);
    this.own(fd, 'read');
    const buf = new Uint8Array(length);
    this.block('read');
    const n = this.libc.read(fd, buf, length);
    this.unblock();
    if (n < 0) throw this.failed('read');
    return n === length ? buf : buf.slice(0, n);
  }

  /** fstat(fd) */
  fstat(fd: number): Stat {
    this.enter('fstat');
    this.own(fd, 'fstat');
    const st = new Uint8Array(stat.size);
    if (this.libc.fstat(fd, st) < 0) throw this.failed('fstat');
    return stat.decode(st);
  }

  /** readlink(path) -> the link's target (/proc/self/fd/N names what an fd is) */
  readlink(path: string): string {
    this.enter('readlink');
    const buf = new Uint8Array(4096);
    const n = this.libc.readlink(path, buf, buf.length);
    if (n < 0) throw this.failed('readlink', path);
    return new TextDecoder().decode(buf.subarray(0, n));
  }

  /** getrlimit(resource) (prlimit on this OS process: the limits are the OS process's, shared by every process of the machine) */
  getrlimit(resource: number): Rlimit {
    this.enter('prlimit64');
    const old = new Uint8Array(16);
    if (this.libc.prlimit(0, resource, null, old) < 0) throw this.failed('prlimit64');
    const v = new DataView(old.buffer);
    const num = (x: bigint): number => (x === RLIM_INFINITY ? Infinity : Number(x));
    return { cur: num(v.getBigUint64(0, true)), max: num(v.getBigUint64(8, true)) };
  }

  /** setrlimit(resource, limit): the OS process's limit, so every process of the machine (and Node itself) is bound by it. */
  setrlimit(resource: number, limit: Rlimit): void {
    this.enter('prlimit64');
    const b = new Uint8Array(16);
    const v = new DataView(b.buffer);
    const raw = (x: number): bigint => (x === Infinity ? RLIM_INFINITY : BigInt(x));
    v.setBigUint64(0, raw(limit.cur), true);
    v.setBigUint64(8, raw(limit.max), true);
    if (this.libc.prlimit(0, resource, b, null) < 0) throw this.failed('prlimit64');
  }

  /** Send a descriptor to process `toPid` of this machine: a one-use token for it to receive. The fd travels as a dup of its own. */
  sendFd(fd: number, toPid: number): string {
    this.enter('sendmsg');
    this.own(fd, 'sendmsg');
    const target = this.shared.procIndex(toPid);
    if (target < 0 || this.shared.procWord(target, P_STATE) !== PROC_ALIVE) throw new NativeSyscallError(-ESRCH, 'sendmsg', `(pid ${toPid})`);
    const { shared } = this;
    const t = shared.reserveToken();
    if (t < 0) throw new NativeSyscallError(-ENFILE, 'sendmsg', '(too many fds in flight)');
    const copy = this.libc.fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (copy < 0) {
      const err = this.failed('sendmsg');
      shared.setTokenWord(t, T_STATE, TOKEN_FREE);
      throw err;
    }
    if (!shared.claimFd(copy, -(t + 1))) {
      this.libc.close(copy);
      shared.setTokenWord(t, T_STATE, TOKEN_FREE);
      throw new NativeSyscallError(-EMFILE, 'sendmsg');
    }
    const nonce = (Math.random() * 0x7fffffff) | 0;
    shared.setTokenWord(t, T_FROM, this.pid);
    shared.setTokenWord(t, T_TO, toPid);
    shared.setTokenWord(t, T_FD, copy);
    shared.setTokenWord(t, T_NONCE, nonce);
    shared.setTokenWord(t, T_STATE, TOKEN_PENDING);
    return `${shared.header[H_MACHINE_ID]}:${t}:${nonce}`;
  }

  /** Receive a descriptor sent to this process -> the new fd (O_CLOEXEC in flags sets FD_CLOEXEC on it). */
  receiveFd(token: string, flags = 0): number {
    this.enter('recvmsg');
    const { shared } = this;
    const m = /^(-?\d+):(\d+):(-?\d+)$/.exec(token);
    const t = m ? Number(m[2]) : -1;
    if (!m || Number(m[1]) !== shared.header[H_MACHINE_ID] || t >= MAX_TOKENS || shared.tokenWord(t, T_STATE) !== TOKEN_PENDING || shared.tokenWord(t, T_NONCE) !== Number(m[3])) {
      throw new NativeSyscallError(-EINVAL, 'recvmsg', '(no such token)');
    }
    if (shared.tokenWord(t, T_TO) !== this.pid) throw new NativeSyscallError(-EPERM, 'recvmsg', '(the fd was sent to another process)');
    if (!shared.casToken(t, TOKEN_PENDING, TOKEN_TAKEN)) throw new NativeSyscallError(-EINVAL, 'recvmsg', '(no such token)');
    const fd = shared.tokenWord(t, T_FD);
    shared.moveFd(fd, -(t + 1), this.pid);
    this.fds.add(fd);
    shared.setTokenWord(t, T_STATE, TOKEN_FREE);
    if (!(flags & O_CLOEXEC)) this.libc.fcntl(fd, F_SETFD, 0);
    return fd;
  }

  /** exit(): descriptors close, mappings go (their views detached first), fds in flight to this process are dropped. */
  exit(): void {
    this.finish();
  }

  async exitAsync(): Promise<void> {
    this.finish();
  }

  /** `using proc = machine.spawn()`: exit at the end of the block. */
  [Symbol.dispose](): void {
    this.finish();
  }

  // ---- beyond the emulator's interface ----

  /** kill(pid, sig): see kill.ts. SIGKILL/SIGTERM end a process of this machine; other signals interrupt its blocked call (EINTR). */
  kill(pid: number, sig: number): void {
    this.enter('kill');
    killProcess(this.shared, this.libc, pid, sig);
  }

  /**
   * Take ownership of an fd this OS process already has but no process of
   * the machine owns: one inherited from a parent process (an extra stdio
   * fd), or opened by Node. EBADF if it is not open; EPERM if it is
   * another process's (or in flight).
   */
  adoptFd(fd: number): number {
    this.enter('adoptFd');
    if (this.libc.fcntl(fd, F_GETFD, 0) < 0) throw this.failed('fcntl');
    const owner = this.shared.fdOwner(fd);
    if (owner === this.pid) return fd;
    if (owner !== 0) throw new NativeSyscallError(-EPERM, 'adoptFd', `(fd ${fd} belongs to ${owner > 0 ? `pid ${owner & ~FD_CLOSING}` : 'a message in flight'})`);
    return this.adopt(fd, 'adoptFd');
  }

  /** socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC) -> two connected sockets, for passing fds to another OS process */
  socketpair(): [number, number] {
    this.enter('socketpair');
    const sv = new Int32Array(2);
    if (this.libc.socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) throw this.failed('socketpair');
    return [this.adopt(sv[0], 'socketpair'), this.adopt(sv[1], 'socketpair')];
  }

  /** Send `fd` over the AF_UNIX socket `socket` (sendmsg, SCM_RIGHTS): the receiving OS process gets its own fd for the same file. */
  sendFdTo(socket: number, fd: number): void {
    this.enter('sendmsg');
    this.own(socket, 'sendmsg');
    this.own(fd, 'sendmsg');
    this.block('sendmsg');
    try {
      sendFdMessage(this.libc, socket, fd);
    } catch (e) {
      this.unblock();
      if ((e as NativeSyscallError).errno === -EINTR && Atomics.load(this.shared.procs, this.stateAt) !== PROC_ALIVE) this.ended('sendmsg');
      throw e;
    }
    this.unblock();
  }

  /** Receive an fd sent with SCM_RIGHTS on `socket` -> the new fd, this process's (O_CLOEXEC in flags sets FD_CLOEXEC). */
  receiveFdFrom(socket: number, flags = 0): number {
    this.enter('recvmsg');
    this.own(socket, 'recvmsg');
    this.block('recvmsg');
    let fd: number;
    try {
      fd = receiveFdMessage(this.libc, socket, (flags & O_CLOEXEC) !== 0);
    } catch (e) {
      this.unblock();
      if ((e as NativeSyscallError).errno === -EINTR && Atomics.load(this.shared.procs, this.stateAt) !== PROC_ALIVE) this.ended('recvmsg');
      throw e;
    }
    this.unblock();
    return this.adopt(fd, 'recvmsg');
  }

  // ---- async twins ----

  async openAsync(path: string, flags = O_RDONLY, mode = 0): Promise<number> {
    return this.open(path, flags, mode);
  }

  async closeAsync(fd: number): Promise<void> {
    this.close(fd);
  }

  async dupAsync(fd: number): Promise<number> {
    return this.dup(fd);
  }

  /** ioctl, after waiting (without a thread) for what the call would wait for: a DMA_BUF_IOCTL_SYNC start waits for the buffer's fences. */
  async ioctlAsync(fd: number, request: number, arg?: Uint8Array | number, options: WaitOptions = {}): Promise<number> {
    this.enter('ioctl');
    this.own(fd, 'ioctl');
    const events = arg instanceof Uint8Array ? ioctlShape(request)?.waitEvents?.(arg) ?? 0 : 0;
    if (!events) return this.ioctl(fd, request, arg);
    return this.whenReady('ioctl', fd, events, options.signal, () => this.ioctl(fd, request, arg));
  }

  async mmapAsync(length: number, prot: number, flags: number, fd: number, offset: number | bigint = 0): Promise<Uint8Array> {
    return this.mmap(length, prot, flags, fd, offset);
  }

  async munmapAsync(view: Uint8Array): Promise<void> {
    this.munmap(view);
  }

  async lseekAsync(fd: number, offset: number, whence: number): Promise<number> {
    return this.lseek(fd, offset, whence);
  }

  /** poll without blocking a thread: the fds wait in the machine's waiter; revents are filled in as poll() does. */
  async pollAsync(fds: PollFdEntry[], timeoutMs: number, options: WaitOptions = {}): Promise<number> {
    this.enter('poll');
    options.signal?.throwIfAborted();
    const deadline = timeoutMs < 0 ? Infinity : performance.now() + timeoutMs;
    const entries = fds.filter((f) => f.fd >= 0).map((f) => ({ fd: f.fd, events: f.events }));
    for (;;) {
      const n = this.pollRaw(fds, 0, 'poll');
      if (n > 0 || timeoutMs === 0) return n;
      const left = deadline === Infinity ? -1 : Math.max(0, deadline - performance.now());
      if (left === 0 || (await this.waitFor('poll', entries, left, options.signal)) === 'timeout') {
        this.enter('poll');
        return this.pollRaw(fds, 0, 'poll');
      }
      this.enter('poll');
    }
  }

  async readFileAsync(path: string): Promise<string> {
    return this.readFile(path);
  }

  async readdirAsync(path: string): Promise<string[]> {
    return this.readdir(path);
  }

  async memfdCreateAsync(name: string, flags = 0): Promise<number> {
    return this.memfdCreate(name, flags);
  }

  async ftruncateAsync(fd: number, length: number): Promise<void> {
    this.ftruncate(fd, length);
  }

  async fcntlAsync(fd: number, cmd: number, arg = 0): Promise<number> {
    return this.fcntl(fd, cmd, arg);
  }

  /** write once the fd is writable */
  async writeAsync(fd: number, bytes: Uint8Array, options: WaitOptions = {}): Promise<number> {
    this.enter('write');
    this.own(fd, 'write');
    return this.whenReady('write', fd, POLLOUT, options.signal, () => this.write(fd, bytes));
  }

  /** read once the fd is readable */
  async readAsync(fd: number, length: number, options: WaitOptions = {}): Promise<Uint8Array> {
    this.enter('read');
    this.own(fd, 'read');
    return this.whenReady('read', fd, POLLIN, options.signal, () => this.read(fd, length));
  }

  async fstatAsync(fd: number): Promise<Stat> {
    return this.fstat(fd);
  }

  async readlinkAsync(path: string): Promise<string> {
    return this.readlink(path);
  }

  async sendFdAsync(fd: number, toPid: number): Promise<string> {
    return this.sendFd(fd, toPid);
  }

  async receiveFdAsync(token: string, flags = 0): Promise<number> {
    return this.receiveFd(token, flags);
  }

  async getrlimitAsync(resource: number): Promise<Rlimit> {
    return this.getrlimit(resource);
  }

  async setrlimitAsync(resource: number, limit: Rlimit): Promise<void> {
    this.setrlimit(resource, limit);
  }

  async killAsync(pid: number, sig: number): Promise<void> {
    this.kill(pid, sig);
  }

  async socketpairAsync(): Promise<[number, number]> {
    return this.socketpair();
  }

  async sendFdToAsync(socket: number, fd: number, options: WaitOptions = {}): Promise<void> {
    this.enter('sendmsg');
    this.own(socket, 'sendmsg');
    return this.whenReady('sendmsg', socket, POLLOUT, options.signal, () => this.sendFdTo(socket, fd));
  }

  /** receiveFdFrom once a message is there */
  async receiveFdFromAsync(socket: number, flags = 0, options: WaitOptions = {}): Promise<number> {
    this.enter('recvmsg');
    this.own(socket, 'recvmsg');
    return this.whenReady('recvmsg', socket, POLLIN, options.signal, () => this.receiveFdFrom(socket, flags));
  }
}

/** A Node fs error (errno negative, syscall named) as a NativeSyscallError. */
function fromNode(e: unknown, path: string, syscall?: string): unknown {
  const err = e as NodeJS.ErrnoException;
  if (typeof err.errno !== 'number') return e;
  return new NativeSyscallError(err.errno, syscall ?? err.syscall ?? 'open', undefined, path);
}

// The package's attach() finds the class here: it loads this module only in threads that may need it.
(globalThis as Record<symbol, unknown>)[Symbol.for('dmabuf.NativeProcess')] = NativeProcess;
