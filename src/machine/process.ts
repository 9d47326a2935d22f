/**
 * A process of the emulated machine: a file table, an address space and
 * the syscalls, bound to the thread that made it. Calls are synchronous
 * like libc (the thread blocks in Atomics.wait until the kernel thread
 * answers; main threads may, in Node) and each has an async twin for
 * event-loop code. Both twins of every call are made from the syscall
 * table (syscalls.ts). Failures throw SyscallError.
 */
import { isMainThread, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { EBADF, EFAULT, EINTR, EINVAL, EIO, ESRCH } from '../uapi/errno.js';
import { stat, type Stat } from '../uapi/stat.js';
import { RLIM_INFINITY, signalName } from '../uapi/signal.js';
import { SyscallError } from './errors.js';
import {
  CANCEL, DATA_SIZE, DOORBELL_AWAKE, DOORBELL_BEAT, DOORBELL_DOWN, DOORBELL_RING, H_EVENTS, H_KILLED, H_KILLSIG, H_PID, H_SIGPENDING, H_STATE,
  INLEN, OUTLEN, REQ, RESP, SIDE, SLEEPING, SLOTS, Slot, SYSNO, WAITING, type ProcessHandle, type SideBody,
} from './protocol.js';
import { ArgumentError, packArgs, slotPacker, SYSCALLS, writeRequest, type PollFdEntry, type Request, type SlotPacker, type SyscallName, type SyscallSpec } from './syscalls.js';
import type { AsyncSyscalls, CallOptions, ProcessLike, Rlimit, SignalHandler, Syscalls } from './process-api.js';

export type { PollFdEntry } from './syscalls.js';

const dec = new TextDecoder();

/**
 * How long a synchronous call spins for its answer before blocking, in ms,
 * when the kernel thread is awake: a busy kernel answers in a microsecond,
 * and a fence another process is about to signal often lands within this
 * window, where waking from Atomics.wait costs tens of microseconds. When
 * the kernel sleeps the caller blocks at once and leaves it the core.
 */
const SPIN_MS = 0.05;
/**
 * A spinning caller gives up once the kernel thread's heartbeat
 * (DOORBELL_BEAT) has stood still this long, in ms: the kernel is off its
 * CPU (on a busy machine, perhaps for this very caller) or deep in a long
 * call, and either way blocking serves better. Linux's optimistic spinning
 * likewise stops when the lock owner is not running.
 */
const STALL_MS = 0.01;
/** A gap this long between two looks at the clock while spinning, ms: this thread was off its CPU (the CPUs are oversubscribed), so it blocks instead. */
const PREEMPTED_MS = 0.02;
/**
 * How much longer a caller spins once the kernel says its call sleeps, ms:
 * what another process is about to signal often lands within it, and
 * beyond it spinning only takes the CPU from whoever is to wake the call.
 */
const SLEEP_GRACE_MS = 0.01;

/** A slot's answer as the process reads it. */
interface Answer {
  ret: number;
  out: Uint8Array | null;
  side: SideBody | null;
}

/**
 * How a public method is made from a table entry: the entry it calls, the
 * table's arguments from the method's (when they differ) and the result
 * from the answer (when it is not the generic one).
 */
interface Method {
  call: SyscallName;
  /** the method's own argument count, where it differs from the table's */
  arity?: number;
  pre?(args: unknown[]): unknown[];
  post?(p: Process, result: unknown, args: unknown[]): unknown;
}

const rlim = (v: number): bigint => (v === Infinity ? RLIM_INFINITY : BigInt(v));
const unrlim = (v: bigint): number => (v === RLIM_INFINITY ? Infinity : Number(v));
/** prlimit64's flag word: whether a new limit is given */
const PRLIMIT_GET = 0;
const PRLIMIT_SET = 1;

function checkLimit(l: Rlimit): void {
  for (const v of [l?.cur, l?.max]) {
    if (!(v === Infinity || (Number.isSafeInteger(v) && v >= 0))) throw new SyscallError(-EINVAL, 'prlimit64', `(limit ${String(v)} is not a non-negative safe integer or Infinity)`);
  }
}

/** Every public syscall method, and how it maps onto the table. */
const METHODS: { [K in keyof Syscalls]: Method } = {
  open: { call: 'open' },
  close: { call: 'close' },
  dup: { call: 'dup' },
  ioctl: { call: 'ioctl' },
  mmap: { call: 'mmap' },
  munmap: { call: 'munmap', post: (p, r, [view]) => void p.forgetMapping(view as Uint8Array) },
  lseek: { call: 'lseek' },
  poll: { call: 'poll' },
  readFile: { call: 'readFile' },
  readdir: { call: 'readdir' },
  memfdCreate: { call: 'memfdCreate' },
  ftruncate: { call: 'ftruncate' },
  fcntl: { call: 'fcntl' },
  read: { call: 'read' },
  write: { call: 'write' },
  sendFd: { call: 'sendFd' },
  receiveFd: { call: 'receiveFd' },
  fstat: { call: 'fstat', post: (_p, r) => stat.decode(r as Uint8Array) },
  readlink: { call: 'readlink' },
  getrlimit: {
    call: 'prlimit',
    arity: 1,
    pre: ([resource]) => [0, resource, 0n, 0n, PRLIMIT_GET],
    post: (_p, r) => ({ cur: unrlim((r as bigint[])[0]), max: unrlim((r as bigint[])[1]) }),
  },
  setrlimit: {
    call: 'prlimit',
    arity: 2,
    pre: ([resource, limit]) => {
      checkLimit(limit as Rlimit);
      return [0, resource, rlim((limit as Rlimit).cur), rlim((limit as Rlimit).max), PRLIMIT_SET];
    },
    post: () => undefined,
  },
  kill: { call: 'kill' },
  socketpair: { call: 'socketpair', post: (_p, r) => (r as bigint[]).map(Number) },
  sendFdTo: { call: 'sendFdTo' },
  receiveFdFrom: { call: 'receiveFdFrom' },
};

/** A request from the table's packing, with an argument no C caller could pass turned into EINVAL. */
function request(p: Process, s: SyscallSpec, values: unknown[]): Request {
  try {
    return packArgs(s, values, (v) => p.mappingId(v, s.name));
  } catch (e) {
    if (e instanceof ArgumentError) throw new SyscallError(-EINVAL, s.name, `(${e.message})`);
    throw e;
  }
}

/**
 * The steps of a call carried in slot-sized pieces (read, write): the
 * requests it makes and its result. Every other call is one request, made
 * without a generator (see the method makers below).
 */
function* steps(p: Process, s: SyscallSpec, args: unknown[]): Generator<Request, unknown, Answer> {
  const pack = (values: unknown[]): Request => request(p, s, values);
  if (s.chunked === 'write') {
    const bytes = args[1] as Uint8Array;
    let done = 0;
    do {
      const chunk = bytes.subarray(done, done + DATA_SIZE);
      const n = p.check(s, yield pack([args[0], chunk]));
      done += n;
      if (n < chunk.length) break;
    } while (done < bytes.length);
    return done;
  }
  if (s.chunked === 'read') {
    const length = args[1] as number;
    if (!Number.isSafeInteger(length) || length < 0) throw new SyscallError(-EINVAL, s.name, `(length ${String(length)})`);
    const parts: Uint8Array[] = [];
    let total = 0;
    // One read(2), carried in slot-sized pieces: a short piece ends it, as a short read would.
    do {
      const want = Math.min(length - total, DATA_SIZE);
      const a = yield pack([args[0], want]);
      const n = p.check(s, a);
      if (n === 0) break;
      parts.push(a.out!);
      total += n;
      if (n < want) break;
    } while (total < length);
    return concat(parts, total);
  }
  return finish(p, s, args, yield pack(args));
}

/** The result of a call made in one request: the kernel's output copied into the caller's ioctl struct and poll entries, the value by the return kind. */
function finish(p: Process, s: SyscallSpec, args: unknown[], a: Answer): unknown {
  const path = s.args[0] === 'path' ? (args[0] as string) : undefined;
  // An ioctl's argument comes back whatever the answer: the kernel wrote the caller's memory
  // (drm_ioctl() and dma_heap_ioctl() copy the struct out even when the handler failed).
  const io = s.args.indexOf('ioarg');
  if (io >= 0 && args[io] instanceof Uint8Array && a.out) (args[io] as Uint8Array).set(a.out.subarray(0, (args[io] as Uint8Array).length));
  const ret = p.check(s, a, path);
  if (a.out === null && (s.ret === 'int' || s.ret === 'void')) return s.ret === 'int' ? ret : undefined;
  const pf = s.args.indexOf('pollfds');
  if (pf >= 0 && a.out) {
    const res = new Int32Array(a.out.buffer, a.out.byteOffset, (args[pf] as PollFdEntry[]).length);
    (args[pf] as PollFdEntry[]).forEach((f, i) => (f.revents = res[i]));
  }
  switch (s.ret) {
    case 'void':
      return undefined;
    case 'bytes':
      return a.out ?? new Uint8Array(0);
    case 'string':
      return dec.decode(a.out ?? new Uint8Array(0));
    case 'words':
      return a.out ? Array.from(new BigUint64Array(a.out.buffer, a.out.byteOffset, a.out.length >> 3)) : [];
    case 'map':
      return p.mapped(a);
    case 'text':
      return (a.side as Extract<SideBody, { kind: 'text' }>).text;
    case 'lines': {
      const text = (a.side as Extract<SideBody, { kind: 'text' }>).text;
      return text ? text.split('\n') : [];
    }
    default:
      return ret;
  }
}

function concat(parts: Uint8Array[], total: number): Uint8Array {
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** The options of an async twin (its last argument). */
function callOptions(args: unknown[], arity: number): { args: unknown[]; opts: CallOptions } {
  if (args.length > arity) return { args: args.slice(0, arity), opts: (args[arity] as CallOptions) ?? {} };
  return { args, opts: {} };
}

export interface Process extends Syscalls, AsyncSyscalls {}

/**
 * A process of an emulated machine, bound to the thread that made it
 * (`machine.spawn()`, or `attach()` in a worker). Every syscall of
 * {@link Syscalls} is a method, and each has an async twin (`openAsync`, …)
 * that takes `{ signal }` as its last argument: aborting it cancels the
 * call inside the kernel.
 *
 * @example
 * ```ts
 * import { boot } from 'dmabuf';
 * import { O_RDWR } from 'dmabuf/uapi';
 * const machine = await boot();
 * const proc = machine.spawn('example');
 * const fd = proc.open('/dev/dma_heap/system', O_RDWR);
 * proc.close(fd);
 * proc.exit();
 * await machine.shutdown();
 * ```
 */
export class Process implements ProcessLike {
  /** the process id (what another process sends descriptors and signals to) */
  readonly pid: number;
  private readonly slots: Slot[];
  private readonly header: Int32Array;
  private readonly doorbell: Int32Array;
  private readonly port: MessagePort;
  private readonly freeAsync: number[] = [];
  private readonly waitingForSlot: (() => void)[] = [];
  private readonly stash = new Map<string, SideBody>();
  private readonly maps = new WeakMap<Uint8Array, number>();
  private readonly handlers = new Map<number, SignalHandler>();
  /**
   * Atomics.waitAsync does not keep a thread's event loop alive: a worker
   * whose only pending work is an async syscall would exit mid-call. This
   * timer is ref'd while any async call is in flight.
   */
  private readonly keepAlive = setInterval(() => {}, 2 ** 30).unref();
  private inFlight = 0;
  private exitedFlag = false;
  private watching = false;
  /** End the thread when the process is killed (a process attached in a worker thread is that thread). */
  private readonly exitThreadOnKill: boolean;

  /** Become a process of the machine that handed out `handle` (blocks until the kernel has made it). */
  constructor(handle: ProcessHandle, options: { exitThreadOnKill?: boolean } = {}) {
    this.slots = Array.from({ length: SLOTS }, (_, i) => new Slot(handle.channel, i));
    this.doorbell = new Int32Array(handle.doorbell);
    this.port = handle.port;
    this.header = new Int32Array(handle.channel, 0, 16);
    while (Atomics.load(this.header, H_PID) === 0 && !Atomics.load(this.doorbell, DOORBELL_DOWN)) Atomics.wait(this.header, H_PID, 0, 1000);
    this.pid = handle.pid;
    this.exitThreadOnKill = options.exitThreadOnKill ?? false;
    for (let i = 1; i < SLOTS; i++) this.freeAsync.push(i);
    this.watch();
  }

  /** True once exit() ran, the process was killed, or the machine shut down: the kernel closed every fd of the process. */
  get exited(): boolean {
    return this.exitedFlag || Atomics.load(this.header, H_STATE) !== 0 || Atomics.load(this.doorbell, DOORBELL_DOWN) === 1;
  }

  /** The signal that killed the process (e.g. 'SIGKILL'), or null. */
  get killedBy(): string | null {
    return Atomics.load(this.header, H_STATE) === H_KILLED ? signalName(Atomics.load(this.header, H_KILLSIG)) : null;
  }

  // ---- transport ----

  private submit(slot: Slot, s: SyscallSpec, req: Request): number {
    this.checkAlive(s.name);
    let inLen: number;
    try {
      inLen = writeRequest(slot, req);
    } catch (e) {
      throw new SyscallError(-EFAULT, s.name, `(${(e as Error).message})`);
    }
    return this.post(slot, s, inLen);
  }

  /** The request is in the slot: number it and ring. */
  private post(slot: Slot, s: SyscallSpec, inLen: number): number {
    slot.ctl[SYSNO] = s.nr;
    slot.ctl[INLEN] = inLen;
    const seq = (slot.ctl[REQ] + 1) | 0 || 1;
    Atomics.store(slot.ctl, REQ, seq);
    // The kernel sets the state before it answers what its last look found: a request stored
    // after that look would never be answered, so a process that ended meanwhile does not wait.
    if (Atomics.load(this.header, H_STATE) !== 0 || Atomics.load(this.doorbell, DOORBELL_DOWN)) this.checkAlive(s.name);
    this.ring();
    return seq;
  }

  /**
   * Ring the doorbell. The futex wake is needed only while the kernel
   * thread may be asleep: it clears AWAKE before its last look at RING and
   * the slots, so a ring it could miss always finds AWAKE at 0 (all four
   * accesses are sequentially consistent).
   */
  private ring(): void {
    Atomics.add(this.doorbell, DOORBELL_RING, 1);
    if (Atomics.load(this.doorbell, DOORBELL_AWAKE) === 0) Atomics.notify(this.doorbell, DOORBELL_RING);
  }

  private checkAlive(name: string): void {
    if (Atomics.load(this.header, H_STATE) === H_KILLED) throw this.killedError(name);
    // A shutdown also ends every process: it is named first, whichever the caller noticed.
    if (Atomics.load(this.doorbell, DOORBELL_DOWN)) throw new SyscallError(-EIO, name, '(the machine has shut down)');
    if (this.exitedFlag || Atomics.load(this.header, H_STATE) !== 0) throw new SyscallError(-EBADF, name, '(the process has exited)');
  }

  private killedError(name: string): SyscallError {
    const sig = this.killedBy ?? 'a signal';
    return Object.assign(new SyscallError(-ESRCH, name, `(process ${this.pid} was killed by ${sig})`), { signal: sig });
  }

  private collect(slot: Slot, index: number, seq: number): Answer {
    const ret = slot.ret[0];
    const outLen = slot.ctl[OUTLEN];
    const out = outLen ? slot.data.slice(0, outLen) : null;
    let side: SideBody | null = null;
    if (slot.ctl[SIDE]) {
      const key = `${index}:${seq}`;
      side = this.stash.get(key) ?? null;
      this.stash.delete(key);
      while (!side) {
        const m = receiveMessageOnPort(this.port);
        if (!m) break;
        const msg = m.message as SideBody & { slot: number; seq: number };
        if (msg.slot === index && msg.seq === seq) side = msg;
        else this.stash.set(`${msg.slot}:${msg.seq}`, msg);
      }
    }
    return { ret, out, side };
  }

  private callSync(s: SyscallSpec, req: Request): Answer {
    const slot = this.slots[0];
    return this.awaitSync(s, slot, this.submit(slot, s, req));
  }

  /**
   * A synchronous call of one request, packed by the syscall's own packer
   * straight into the slot (the hot path: no request object, no generator).
   * Errors come in the generic path's order: EINVAL for an argument, then
   * the process's state, then EFAULT for data larger than the slot.
   */
  private callSyncPacked(s: SyscallSpec, packer: SlotPacker, values: unknown[]): Answer {
    const slot = this.slots[0];
    let inLen = 0;
    let tooBig: Error | null = null;
    try {
      inLen = packer(slot, values, (v) => this.mappingId(v, s.name));
    } catch (e) {
      if (e instanceof ArgumentError) throw new SyscallError(-EINVAL, s.name, `(${e.message})`);
      if (!(e instanceof RangeError)) throw e;
      tooBig = e;
    }
    this.checkAlive(s.name);
    if (tooBig) throw new SyscallError(-EFAULT, s.name, `(${tooBig.message})`);
    return this.awaitSync(s, slot, this.post(slot, s, inLen));
  }

  private awaitSync(s: SyscallSpec, slot: Slot, seq: number): Answer {
    if (Atomics.load(slot.ctl, RESP) !== seq && Atomics.load(this.doorbell, DOORBELL_AWAKE)) this.spin(slot, seq);
    if (Atomics.load(slot.ctl, RESP) !== seq) {
      // WAITING before the last look at RESP: the kernel stores RESP before
      // it reads WAITING, so either it notifies or the wait sees the answer.
      Atomics.store(slot.ctl, WAITING, 1);
      for (let cur = Atomics.load(slot.ctl, RESP); cur !== seq; cur = Atomics.load(slot.ctl, RESP)) Atomics.wait(slot.ctl, RESP, cur);
      Atomics.store(slot.ctl, WAITING, 0);
    }
    const a = this.collect(slot, 0, seq);
    this.afterCall(s.name);
    return a;
  }

  /**
   * Spin for answer `seq` for up to SPIN_MS, giving up early once the
   * kernel's heartbeat stands still for STALL_MS, this thread was off its
   * CPU, or SLEEP_GRACE_MS after the kernel said the call sleeps (SLEEPING).
   */
  private spin(slot: Slot, seq: number): void {
    let t = performance.now();
    let until = t + SPIN_MS;
    let beat = Atomics.load(this.doorbell, DOORBELL_BEAT);
    let beatAt = t;
    let asleep = false;
    for (let i = 1; Atomics.load(slot.ctl, RESP) !== seq; i++) {
      if ((i & 63) !== 0) continue;
      const prev = t;
      t = performance.now();
      if (t - prev > PREEMPTED_MS) return;
      if (!asleep && Atomics.load(slot.ctl, SLEEPING) === seq) {
        asleep = true;
        until = Math.min(until, t + SLEEP_GRACE_MS);
      }
      const b = Atomics.load(this.doorbell, DOORBELL_BEAT);
      if (b !== beat) {
        beat = b;
        beatAt = t;
      }
      if (t > until || t - beatAt > STALL_MS) return;
    }
  }

  private async callAsync(s: SyscallSpec, req: Request, signal?: AbortSignal): Promise<Answer> {
    signal?.throwIfAborted();
    while (this.freeAsync.length === 0) await new Promise<void>((r) => this.waitingForSlot.push(r));
    const index = this.freeAsync.pop()!;
    const slot = this.slots[index];
    if (this.inFlight++ === 0) this.keepAlive.ref();
    let onAbort: (() => void) | null = null;
    try {
      const seq = this.submit(slot, s, req);
      if (signal) {
        // Cancel inside the kernel: it interrupts the call (its waiters go) and answers.
        onAbort = () => {
          Atomics.store(slot.ctl, CANCEL, seq);
          this.ring();
        };
        signal.addEventListener('abort', onAbort, { once: true });
      }
      Atomics.store(slot.ctl, WAITING, 1);
      for (let cur = Atomics.load(slot.ctl, RESP); cur !== seq; cur = Atomics.load(slot.ctl, RESP)) {
        const w = Atomics.waitAsync(slot.ctl, RESP, cur);
        if (w.async) await w.value;
      }
      Atomics.store(slot.ctl, WAITING, 0);
      const a = this.collect(slot, index, seq);
      this.afterCall(s.name);
      // An aborted call that the kernel interrupted rejects with the abort's reason; one that
      // completed before the cancel landed keeps its result (it may have made an fd).
      if (signal?.aborted && a.ret === -EINTR) throw signal.reason;
      return a;
    } finally {
      if (onAbort) signal!.removeEventListener('abort', onAbort);
      if (--this.inFlight === 0) this.keepAlive.unref();
      this.freeAsync.push(index);
      this.waitingForSlot.shift()?.();
    }
  }

  /** On the way back from the kernel: the process's signal handlers run, and a killed process goes no further. */
  private afterCall(name: string): void {
    if (Atomics.load(this.header, H_SIGPENDING)) this.runHandlers();
    if (Atomics.load(this.header, H_STATE) === H_KILLED) this.onKilled(name);
  }

  private onKilled(name: string): never {
    if (this.exitThreadOnKill && !isMainThread) {
      this.exitedFlag = true;
      process.exit(128 + Atomics.load(this.header, H_KILLSIG));
    }
    throw this.killedError(name);
  }

  /** @internal the answer's value, or a SyscallError for an errno */
  check(s: SyscallSpec, a: Answer, path?: string): number {
    if (a.ret < 0) {
      if (Atomics.load(this.header, H_STATE) === H_KILLED) throw this.killedError(s.name);
      throw new SyscallError(a.ret, s.name, undefined, path);
    }
    return a.ret;
  }

  /** @internal */
  mapped(a: Answer): Uint8Array {
    const s = a.side as Extract<SideBody, { kind: 'map' }>;
    const view = new Uint8Array(s.sab, s.byteOffset, s.byteLength);
    this.maps.set(view, a.ret);
    return view;
  }

  /** @internal the kernel's id of a mapping this process made */
  mappingId(view: Uint8Array, name: string): number {
    const id = view instanceof Uint8Array ? this.maps.get(view) : undefined;
    if (id === undefined) throw new SyscallError(-EINVAL, name, '(not a mapping of this process)');
    return id;
  }

  /** @internal */
  forgetMapping(view: Uint8Array): void {
    this.maps.delete(view);
  }

  // ---- signals ----

  /**
   * Install `handler` for signal `sig` (sigaction without SA_RESTART), or
   * remove it with null. With a handler, SIGTERM, SIGINT and the like no
   * longer end the process: a call blocked in poll, a fence wait or
   * DMA_BUF_IOCTL_SYNC returns EINTR, and the handler runs before that
   * call returns (or from the event loop, when the process is idle).
   * SIGKILL cannot be caught (EINVAL).
   *
   * @example
   * ```ts
   * proc.onSignal(SIGTERM, () => console.log('asked to stop'));
   * ```
   */
  onSignal(sig: number, handler: SignalHandler | null): void {
    const installed = handler !== null;
    this.sigaction(sig, installed);
    if (installed) this.handlers.set(sig, handler);
    else this.handlers.delete(sig);
  }

  private sigaction(sig: number, installed: boolean): void {
    const s = SYSCALLS.sigaction;
    this.check(s, this.callSync(s, packArgs(s, [sig, installed ? 1 : 0], () => 0)));
  }

  private runHandlers(): void {
    const pending = Atomics.exchange(this.header, H_SIGPENDING, 0);
    for (let sig = 1; sig < 32; sig++) {
      if (!(pending & (1 << sig))) continue;
      const h = this.handlers.get(sig);
      if (h) h(sig);
    }
  }

  /**
   * Watch the process's events word while the thread is idle, so that
   * handlers run and a killed worker ends without waiting for its next
   * call. Atomics.waitAsync keeps no event loop alive, as a signal
   * handler in Node does not.
   */
  private watch(): void {
    if (this.watching) return;
    this.watching = true;
    const cur = Atomics.load(this.header, H_EVENTS);
    const w = Atomics.waitAsync(this.header, H_EVENTS, cur);
    const next = (): void => {
      this.watching = false;
      if (this.exitedFlag) return;
      if (Atomics.load(this.header, H_SIGPENDING)) this.runHandlers();
      const state = Atomics.load(this.header, H_STATE);
      if (state === H_KILLED && this.exitThreadOnKill && !isMainThread) this.onKilled('kill');
      if (state === 0 && !Atomics.load(this.doorbell, DOORBELL_DOWN)) this.watch();
    };
    if (w.async) void w.value.then(next);
    else queueMicrotask(next);
  }

  // ---- exit ----

  /** exit(): descriptors close, mappings go. Idempotent; harmless after the machine shut down. */
  exit(): void {
    if (this.exitedFlag) return;
    // After a shutdown (or a kill) the kernel has already torn the process down.
    if (!this.exited) {
      const s = SYSCALLS.exit;
      this.callSync(s, packArgs(s, [], () => 0));
    }
    this.exitedFlag = true;
    clearInterval(this.keepAlive);
    this.port.close();
  }

  /** exit()'s async twin. */
  async exitAsync(): Promise<void> {
    if (this.exitedFlag) return;
    if (!this.exited) {
      const s = SYSCALLS.exit;
      await this.callAsync(s, packArgs(s, [], () => 0));
    }
    this.exitedFlag = true;
    clearInterval(this.keepAlive);
    this.port.close();
  }

  /** `using proc = machine.spawn()`: exit at the end of the block. */
  [Symbol.dispose](): void {
    this.exit();
  }
}

/** The name of every syscall method (each also has its `Async` twin). */
export const SYSCALL_METHODS = Object.freeze([...Object.keys(METHODS), 'exit'] as (keyof Syscalls | 'exit')[]);

// Both twins of every method, from the table.
for (const [name, m] of Object.entries(METHODS) as [keyof Syscalls, Method][]) {
  const s: SyscallSpec = SYSCALLS[m.call];
  const arity = m.arity ?? s.args.length;
  type Internals = {
    callSync(s: SyscallSpec, q: Request): Answer;
    callSyncPacked(s: SyscallSpec, packer: SlotPacker, values: unknown[]): Answer;
    callAsync(s: SyscallSpec, q: Request, sig?: AbortSignal): Promise<Answer>;
  };
  const packer = slotPacker(s);
  const sync = s.chunked
    ? function (this: Process, ...args: unknown[]): unknown {
      const callArgs = m.pre ? m.pre(args) : args;
      const it = steps(this, s, callArgs);
      let r = it.next();
      while (!r.done) r = it.next((this as unknown as Internals).callSync(s, r.value));
      return m.post ? m.post(this, r.value, args) : r.value;
    }
    : function (this: Process, ...args: unknown[]): unknown {
      const callArgs = m.pre ? m.pre(args) : args;
      const r = finish(this, s, callArgs, (this as unknown as Internals).callSyncPacked(s, packer, callArgs));
      return m.post ? m.post(this, r, args) : r;
    };
  const async = async function (this: Process, ...all: unknown[]): Promise<unknown> {
    const { args, opts } = callOptions(all, arity);
    const callArgs = m.pre ? m.pre(args) : args;
    if (!s.chunked) {
      const r = finish(this, s, callArgs, await (this as unknown as Internals).callAsync(s, request(this, s, callArgs), opts.signal));
      return m.post ? m.post(this, r, args) : r;
    }
    const it = steps(this, s, callArgs);
    let r = it.next();
    while (!r.done) r = it.next(await (this as unknown as Internals).callAsync(s, r.value, opts.signal));
    return m.post ? m.post(this, r.value, args) : r.value;
  };
  Object.defineProperty(sync, 'name', { value: name });
  Object.defineProperty(async, 'name', { value: `${name}Async` });
  (Process.prototype as unknown as Record<string, unknown>)[name] = sync;
  (Process.prototype as unknown as Record<string, unknown>)[`${name}Async`] = async;
}

/** In a worker thread: become the process a parent's machine.channel() made. When the process is killed, the worker thread ends. */
export function attach(handle: ProcessHandle): Process {
  return new Process(handle, { exitThreadOnKill: true });
}

export type { Stat };
