/**
 * A process: a file table, an address space and the syscalls, bound to the
 * thread that made it. Calls are synchronous like libc (the thread blocks
 * in Atomics.wait until the kernel thread answers; main threads may, in
 * Node) and each has an async twin for event-loop code. Failures throw
 * SyscallError.
 */
import { receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { O_RDONLY } from '../uapi/fcntl.js';
import { SyscallError } from './errors.js';
import {
  DATA_SIZE, DOORBELL_AWAKE, DOORBELL_BEAT, DOORBELL_DOWN, DOORBELL_RING, H_PID, INLEN, OUTLEN, REQ, RESP, SIDE, SLOTS, Slot, Sys, SYS_NAMES, SYSNO, WAITING, type ProcessHandle, type SideMessage,
} from './protocol.js';

const enc = new TextEncoder();
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

export interface PollFdEntry {
  fd: number;
  events: number;
  revents?: number;
}

interface Request {
  args?: number[];
  input?: Uint8Array;
}

interface Answer {
  ret: number;
  out: Uint8Array | null;
  side: SideMessage | null;
}

export class Process {
  readonly pid: number;
  private readonly slots: Slot[];
  private readonly doorbell: Int32Array;
  private readonly port: MessagePort;
  private readonly freeAsync: number[] = [];
  private readonly waitingForSlot: (() => void)[] = [];
  private readonly stash = new Map<string, SideMessage>();
  private readonly maps = new WeakMap<Uint8Array, number>();
  /**
   * Atomics.waitAsync does not keep a thread's event loop alive: a worker
   * whose only pending work is an async syscall would exit mid-call. This
   * timer is ref'd while any async call is in flight.
   */
  private readonly keepAlive = setInterval(() => {}, 2 ** 30).unref();
  private inFlight = 0;
  private exitedFlag = false;

  /** Become a process of the machine that handed out `handle` (blocks until the kernel has made it). */
  constructor(handle: ProcessHandle) {
    this.slots = Array.from({ length: SLOTS }, (_, i) => new Slot(handle.channel, i));
    this.doorbell = new Int32Array(handle.doorbell);
    this.port = handle.port;
    const header = new Int32Array(handle.channel, 0, 4);
    while (Atomics.load(header, H_PID) === 0) Atomics.wait(header, H_PID, 0, 1000);
    this.pid = Atomics.load(header, H_PID);
    for (let i = 1; i < SLOTS; i++) this.freeAsync.push(i);
  }

  /** True once exit() ran or the machine shut down: the kernel closed every fd of the process. */
  get exited(): boolean {
    return this.exitedFlag || Atomics.load(this.doorbell, DOORBELL_DOWN) === 1;
  }

  // ---- transport ----

  private submit(slot: Slot, sysno: Sys, req: Request): number {
    if (this.exitedFlag) throw new SyscallError(-9, SYS_NAMES[sysno], '(the process has exited)');
    if (Atomics.load(this.doorbell, DOORBELL_DOWN)) throw new SyscallError(-5, SYS_NAMES[sysno], '(the machine has shut down)');
    const args = req.args ?? [];
    for (let i = 0; i < args.length; i++) slot.args[i] = args[i];
    let inLen = 0;
    if (req.input) {
      if (req.input.length > DATA_SIZE) throw new SyscallError(-14, SYS_NAMES[sysno], `(argument larger than ${DATA_SIZE} bytes)`);
      slot.data.set(req.input);
      inLen = req.input.length;
    }
    slot.ctl[SYSNO] = sysno;
    slot.ctl[INLEN] = inLen;
    const seq = (slot.ctl[REQ] + 1) | 0 || 1;
    Atomics.store(slot.ctl, REQ, seq);
    Atomics.add(this.doorbell, DOORBELL_RING, 1);
    Atomics.notify(this.doorbell, DOORBELL_RING);
    return seq;
  }

  private collect(slot: Slot, index: number, seq: number): Answer {
    const ret = slot.ret[0];
    const outLen = slot.ctl[OUTLEN];
    const out = outLen ? slot.data.slice(0, outLen) : null;
    let side: SideMessage | null = null;
    if (slot.ctl[SIDE]) {
      const key = `${index}:${seq}`;
      side = this.stash.get(key) ?? null;
      this.stash.delete(key);
      while (!side) {
        const m = receiveMessageOnPort(this.port);
        if (!m) break;
        const msg = m.message as SideMessage;
        if (msg.slot === index && msg.seq === seq) side = msg;
        else this.stash.set(`${msg.slot}:${msg.seq}`, msg);
      }
    }
    return { ret, out, side };
  }

  private callSync(sysno: Sys, req: Request): Answer {
    const slot = this.slots[0];
    const seq = this.submit(slot, sysno, req);
    if (Atomics.load(slot.ctl, RESP) !== seq && Atomics.load(this.doorbell, DOORBELL_AWAKE)) this.spin(slot, seq);
    if (Atomics.load(slot.ctl, RESP) !== seq) {
      // WAITING before the last look at RESP: the kernel stores RESP before
      // it reads WAITING, so either it notifies or the wait sees the answer.
      Atomics.store(slot.ctl, WAITING, 1);
      for (let cur = Atomics.load(slot.ctl, RESP); cur !== seq; cur = Atomics.load(slot.ctl, RESP)) Atomics.wait(slot.ctl, RESP, cur);
      Atomics.store(slot.ctl, WAITING, 0);
    }
    return this.collect(slot, 0, seq);
  }

  /** Spin for answer `seq` for up to SPIN_MS, giving up early once the kernel's heartbeat stands still for STALL_MS. */
  private spin(slot: Slot, seq: number): void {
    let t = performance.now();
    const until = t + SPIN_MS;
    let beat = Atomics.load(this.doorbell, DOORBELL_BEAT);
    let beatAt = t;
    for (let i = 1; Atomics.load(slot.ctl, RESP) !== seq; i++) {
      if ((i & 63) !== 0) continue;
      t = performance.now();
      const b = Atomics.load(this.doorbell, DOORBELL_BEAT);
      if (b !== beat) {
        beat = b;
        beatAt = t;
      }
      if (t > until || t - beatAt > STALL_MS) return;
    }
  }

  private async callAsync(sysno: Sys, req: Request): Promise<Answer> {
    while (this.freeAsync.length === 0) await new Promise<void>((r) => this.waitingForSlot.push(r));
    const index = this.freeAsync.pop()!;
    const slot = this.slots[index];
    if (this.inFlight++ === 0) this.keepAlive.ref();
    try {
      const seq = this.submit(slot, sysno, req);
      Atomics.store(slot.ctl, WAITING, 1);
      for (let cur = Atomics.load(slot.ctl, RESP); cur !== seq; cur = Atomics.load(slot.ctl, RESP)) {
        const w = Atomics.waitAsync(slot.ctl, RESP, cur);
        if (w.async) await w.value;
      }
      Atomics.store(slot.ctl, WAITING, 0);
      return this.collect(slot, index, seq);
    } finally {
      if (--this.inFlight === 0) this.keepAlive.unref();
      this.freeAsync.push(index);
      this.waitingForSlot.shift()?.();
    }
  }

  private check(sysno: Sys, a: Answer, detail?: string): number {
    if (a.ret < 0) throw new SyscallError(a.ret, SYS_NAMES[sysno], detail);
    return a.ret;
  }

  // ---- requests ----

  private static openReq(path: string, flags: number, mode: number): Request {
    return { args: [flags, mode], input: enc.encode(path) };
  }

  private static ioctlReq(fd: number, request: number, arg: Uint8Array | number | undefined): Request {
    const isBytes = arg instanceof Uint8Array;
    return { args: [fd, request >>> 0, isBytes ? 1 : 0, isBytes ? 0 : (arg ?? 0)], input: isBytes ? arg : undefined };
  }

  private static ioctlDone(arg: Uint8Array | number | undefined, a: Answer): void {
    if (arg instanceof Uint8Array && a.out) arg.set(a.out.subarray(0, arg.length));
  }

  private static mmapReq(length: number, prot: number, flags: number, fd: number, offset: number | bigint): Request {
    const off = BigInt.asUintN(64, BigInt(offset));
    return { args: [length, prot, flags, fd, Number(off >> 32n), Number(off & 0xffffffffn)] };
  }

  private mapped(a: Answer): Uint8Array {
    const s = a.side as Extract<SideMessage, { kind: 'map' }>;
    const view = new Uint8Array(s.sab, s.byteOffset, s.byteLength);
    this.maps.set(view, a.ret);
    return view;
  }

  private static pollReq(fds: PollFdEntry[], timeoutMs: number): Request {
    const raw = new Int32Array(fds.length * 2);
    fds.forEach((f, i) => {
      raw[i * 2] = f.fd;
      raw[i * 2 + 1] = f.events;
    });
    return { args: [fds.length, timeoutMs], input: new Uint8Array(raw.buffer) };
  }

  private static pollDone(fds: PollFdEntry[], a: Answer): void {
    if (!a.out) return;
    const res = new Int32Array(a.out.buffer, a.out.byteOffset, fds.length);
    fds.forEach((f, i) => (f.revents = res[i]));
  }

  // ---- the syscalls (synchronous) ----

  /** open(path, flags, mode) -> fd */
  open(path: string, flags = O_RDONLY, mode = 0): number {
    return this.check(Sys.open, this.callSync(Sys.open, Process.openReq(path, flags, mode)), `'${path}'`);
  }

  /** close(fd) */
  close(fd: number): void {
    this.check(Sys.close, this.callSync(Sys.close, { args: [fd] }));
  }

  /** dup(fd) -> fd */
  dup(fd: number): number {
    return this.check(Sys.dup, this.callSync(Sys.dup, { args: [fd] }));
  }

  /** ioctl(fd, request, arg): arg holds the C struct; output fields are written back into it. */
  ioctl(fd: number, request: number, arg?: Uint8Array | number): number {
    const a = this.callSync(Sys.ioctl, Process.ioctlReq(fd, request, arg));
    Process.ioctlDone(arg, a);
    return this.check(Sys.ioctl, a);
  }

  /** mmap(length, prot, flags, fd, offset) -> a zero-copy view of the mapping (page-rounded) */
  mmap(length: number, prot: number, flags: number, fd: number, offset: number | bigint = 0): Uint8Array {
    const a = this.callSync(Sys.mmap, Process.mmapReq(length, prot, flags, fd, offset));
    this.check(Sys.mmap, a);
    return this.mapped(a);
  }

  /** munmap(view) of a view mmap returned */
  munmap(view: Uint8Array): void {
    const id = this.maps.get(view);
    if (id === undefined) throw new SyscallError(-22, 'munmap', '(not a mapping of this process)');
    this.check(Sys.munmap, this.callSync(Sys.munmap, { args: [id] }));
    this.maps.delete(view);
  }

  /** lseek(fd, offset, whence) -> the new position */
  lseek(fd: number, offset: number, whence: number): number {
    return this.check(Sys.lseek, this.callSync(Sys.lseek, { args: [fd, offset, whence] }));
  }

  /** poll(fds, timeoutMs) -> the number of entries with events; each entry's revents is filled in */
  poll(fds: PollFdEntry[], timeoutMs: number): number {
    const a = this.callSync(Sys.poll, Process.pollReq(fds, timeoutMs));
    Process.pollDone(fds, a);
    return this.check(Sys.poll, a);
  }

  /** The contents of a procfs, debugfs or sysfs file. */
  readFile(path: string): string {
    const a = this.callSync(Sys.readFile, { input: enc.encode(path) });
    this.check(Sys.readFile, a, `'${path}'`);
    return (a.side as Extract<SideMessage, { kind: 'text' }>).text;
  }

  /** The entries of a directory of the pseudo filesystems (opendir/readdir): /dev/dma_heap, /sys/kernel/dmabuf/buffers. */
  readdir(path: string): string[] {
    const a = this.callSync(Sys.readdir, { input: enc.encode(path) });
    this.check(Sys.readdir, a, `'${path}'`);
    const text = (a.side as Extract<SideMessage, { kind: 'text' }>).text;
    return text ? text.split('\n') : [];
  }

  /** memfd_create(name, flags) -> fd */
  memfdCreate(name: string, flags = 0): number {
    return this.check(Sys.memfdCreate, this.callSync(Sys.memfdCreate, { args: [flags], input: enc.encode(name) }));
  }

  /** ftruncate(fd, length) */
  ftruncate(fd: number, length: number): void {
    this.check(Sys.ftruncate, this.callSync(Sys.ftruncate, { args: [fd, length] }));
  }

  /** fcntl(fd, cmd, arg) -> the result */
  fcntl(fd: number, cmd: number, arg = 0): number {
    return this.check(Sys.fcntl, this.callSync(Sys.fcntl, { args: [fd, cmd, arg] }));
  }

  /** write(fd, bytes) -> bytes written */
  write(fd: number, bytes: Uint8Array): number {
    let done = 0;
    while (done < bytes.length || bytes.length === 0) {
      const chunk = bytes.subarray(done, done + DATA_SIZE);
      const n = this.check(Sys.write, this.callSync(Sys.write, { args: [fd], input: chunk }));
      done += n;
      if (n < chunk.length || bytes.length === 0) break;
    }
    return done;
  }

  /** read(fd, length) -> the bytes read (fewer at the end of the file) */
  read(fd: number, length: number): Uint8Array {
    const parts: Uint8Array[] = [];
    let total = 0;
    // One read(2), carried in slot-sized pieces: a short piece ends it, as a short read would.
    while (total < length) {
      const want = Math.min(length - total, DATA_SIZE);
      const a = this.callSync(Sys.read, { args: [fd, want] });
      const n = this.check(Sys.read, a);
      if (n === 0) break;
      parts.push(a.out!);
      total += n;
      if (n < want) break;
    }
    const out = new Uint8Array(total);
    let o = 0;
    for (const p of parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }

  /** Send a descriptor to process `toPid` (SCM_RIGHTS): a one-use token for it to receive. */
  sendFd(fd: number, toPid: number): string {
    const a = this.callSync(Sys.sendFd, { args: [fd, toPid] });
    this.check(Sys.sendFd, a);
    return dec.decode(a.out!);
  }

  /** Receive a descriptor sent to this process -> the new fd. */
  receiveFd(token: string, flags = 0): number {
    return this.check(Sys.receiveFd, this.callSync(Sys.receiveFd, { args: [flags], input: enc.encode(token) }));
  }

  /** exit(): descriptors close, mappings go. */
  exit(): void {
    if (this.exitedFlag) return;
    // After a shutdown the kernel has already exited every process.
    if (!this.exited) this.callSync(Sys.exit, {});
    this.exitedFlag = true;
    clearInterval(this.keepAlive);
    this.port.close();
  }

  // ---- async twins ----

  async openAsync(path: string, flags = O_RDONLY, mode = 0): Promise<number> {
    return this.check(Sys.open, await this.callAsync(Sys.open, Process.openReq(path, flags, mode)), `'${path}'`);
  }

  async closeAsync(fd: number): Promise<void> {
    this.check(Sys.close, await this.callAsync(Sys.close, { args: [fd] }));
  }

  async dupAsync(fd: number): Promise<number> {
    return this.check(Sys.dup, await this.callAsync(Sys.dup, { args: [fd] }));
  }

  async ioctlAsync(fd: number, request: number, arg?: Uint8Array | number): Promise<number> {
    const a = await this.callAsync(Sys.ioctl, Process.ioctlReq(fd, request, arg));
    Process.ioctlDone(arg, a);
    return this.check(Sys.ioctl, a);
  }

  async mmapAsync(length: number, prot: number, flags: number, fd: number, offset: number | bigint = 0): Promise<Uint8Array> {
    const a = await this.callAsync(Sys.mmap, Process.mmapReq(length, prot, flags, fd, offset));
    this.check(Sys.mmap, a);
    return this.mapped(a);
  }

  async munmapAsync(view: Uint8Array): Promise<void> {
    const id = this.maps.get(view);
    if (id === undefined) throw new SyscallError(-22, 'munmap', '(not a mapping of this process)');
    this.check(Sys.munmap, await this.callAsync(Sys.munmap, { args: [id] }));
    this.maps.delete(view);
  }

  async lseekAsync(fd: number, offset: number, whence: number): Promise<number> {
    return this.check(Sys.lseek, await this.callAsync(Sys.lseek, { args: [fd, offset, whence] }));
  }

  async pollAsync(fds: PollFdEntry[], timeoutMs: number): Promise<number> {
    const a = await this.callAsync(Sys.poll, Process.pollReq(fds, timeoutMs));
    Process.pollDone(fds, a);
    return this.check(Sys.poll, a);
  }

  async readFileAsync(path: string): Promise<string> {
    const a = await this.callAsync(Sys.readFile, { input: enc.encode(path) });
    this.check(Sys.readFile, a, `'${path}'`);
    return (a.side as Extract<SideMessage, { kind: 'text' }>).text;
  }

  async memfdCreateAsync(name: string, flags = 0): Promise<number> {
    return this.check(Sys.memfdCreate, await this.callAsync(Sys.memfdCreate, { args: [flags], input: enc.encode(name) }));
  }

  async ftruncateAsync(fd: number, length: number): Promise<void> {
    this.check(Sys.ftruncate, await this.callAsync(Sys.ftruncate, { args: [fd, length] }));
  }

  async fcntlAsync(fd: number, cmd: number, arg = 0): Promise<number> {
    return this.check(Sys.fcntl, await this.callAsync(Sys.fcntl, { args: [fd, cmd, arg] }));
  }

  async writeAsync(fd: number, bytes: Uint8Array): Promise<number> {
    return this.check(Sys.write, await this.callAsync(Sys.write, { args: [fd], input: bytes.subarray(0, DATA_SIZE) }));
  }

  async readAsync(fd: number, length: number): Promise<Uint8Array> {
    const a = await this.callAsync(Sys.read, { args: [fd, Math.min(length, DATA_SIZE)] });
    this.check(Sys.read, a);
    return a.out ?? new Uint8Array(0);
  }

  async sendFdAsync(fd: number, toPid: number): Promise<string> {
    const a = await this.callAsync(Sys.sendFd, { args: [fd, toPid] });
    this.check(Sys.sendFd, a);
    return dec.decode(a.out!);
  }

  async receiveFdAsync(token: string, flags = 0): Promise<number> {
    return this.check(Sys.receiveFd, await this.callAsync(Sys.receiveFd, { args: [flags], input: enc.encode(token) }));
  }
}

/** In a worker thread: become the process a parent's machine.channel() made. */
export function attach(handle: ProcessHandle): Process {
  return new Process(handle);
}

