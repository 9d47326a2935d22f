/**
 * The native machine: processes whose calls go to the host's real Linux
 * kernel. It owns the shared tables (shared.ts), the waiter thread that
 * serves every async wait (waiter-thread.ts) and the interrupt signal
 * (signals.ts), and it reaps a process whose thread ends without exit():
 * the process's port closes, as with the emulated machine, and what the
 * process still owned is released here.
 *
 * bootNative() makes one; machine.spawn() makes a process bound to the
 * calling thread; machine.channel() makes one for a worker, which calls
 * attachNative() with it.
 */
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { MessageChannel, Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { O_CLOEXEC, O_NONBLOCK, O_RDONLY } from '../uapi/fcntl.js';
import { EAGAIN, EIO, EPIPE } from '../uapi/errno.js';
import type { MachineLike } from '../machine/process-api.js';
import { NativeSyscallError, NativeUnsupportedError } from './errors.js';
import { EFD_CLOEXEC, EFD_NONBLOCK, EPOLL_CLOEXEC, EPOLL_CTL_ADD, EPOLLIN, epollEvent } from './epoll.js';
import { checkDetach } from './detach.js';
import { checkPlatform } from './koffi.js';
import { killProcess, SIGKILL } from './kill.js';
import { loadLibc, type Libc } from './libc.js';
import { NativeProcess, type NativeAttachOptions, type NativeProcessHandle } from './process.js';
import { closeOwned, reap, strip } from './release.js';
import {
  FD_CLOSING, H_DOWN, H_FD_CAP, H_INTR_SIG, H_MASTER_EPFD, H_REGISTERED, H_TGID, H_WAITER_TID, H_WAKE_EVENTFD, MAP_FREE, MAX_MAPS, MAX_PROCS, P_PID, P_SIG,
  P_STATE, PROC_ALIVE, PROC_KILLED, Shared, T_FD, T_STATE, TOKEN_FREE, TOKEN_PENDING, TOKEN_TAKEN, WAKE_DATA,
} from './shared.js';
import { installInterruptSignal, interrupt } from './signals.js';

const RLIMIT_NOFILE = 7;
const FD_TABLE_MAX = 1 << 20;
/**
 * How long boot waits for the waiter thread (a worker that loads koffi) to
 * start, ms: a guard against a hang, not a performance bound. Under qemu's
 * software emulation on a busy host it took more than 10 s.
 */
const WAITER_START_MS = 120_000;

export interface NativeBootOptions {
  /** the real-time signal that interrupts blocked calls (default SIGRTMIN + 7); it gets a do-nothing handler in this OS process */
  interruptSignal?: number;
}

/** What the machine's processes hold now, and the nearest real counterparts of the emulator's kernel counters. */
export type NativeMachineStats = {
  /** live processes */
  processes: number;
  /** fds the processes own */
  fds: number;
  /** mappings the processes hold */
  mappings: number;
  /** fds sent with sendFd and not yet received */
  inFlight: number;
  /** async waits registered with the waiter */
  waits: number;
  /** dma-buf fds this OS process holds (any owner), from /proc/self/fd */
  dmabufs: number;
  /** /proc/sys/kernel/tainted */
  taint: number;
};

/** What shutdown() found still held. */
export type NativeLeaks = Pick<NativeMachineStats, 'processes' | 'fds' | 'mappings' | 'inFlight' | 'waits'>;

export class NativeMachine implements MachineLike {
  readonly backend = 'linux' as const;
  private down = false;
  private finalStats: Promise<NativeLeaks> | null = null;
  /** processes made by spawn() in this thread: shutdown exits them directly (their views are reachable here) */
  private readonly local = new Set<NativeProcess>();
  private readonly onExit = (): void => this.exitHook();

  private constructor(private readonly shared: Shared, private readonly libc: Libc, private readonly waiter: Worker) {}

  /** @internal */
  static async start(options: NativeBootOptions = {}): Promise<NativeMachine> {
    checkPlatform();
    const libc = loadLibc();
    checkDetach();
    const lim = new Uint8Array(16);
    if (libc.prlimit(0, RLIMIT_NOFILE, null, lim) < 0) throw new NativeSyscallError(-libc.errno(), 'prlimit64');
    const hard = new DataView(lim.buffer).getBigUint64(8, true);
    const shared = Shared.create(hard > BigInt(FD_TABLE_MAX) ? FD_TABLE_MAX : Number(hard));
    const h = shared.header;
    h[H_TGID] = libc.getpid();
    h[H_INTR_SIG] = installInterruptSignal(libc, options.interruptSignal);
    const master = libc.epollCreate1(EPOLL_CLOEXEC);
    if (master < 0) throw new NativeSyscallError(-libc.errno(), 'epoll_create1');
    const wake = libc.eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (wake < 0) {
      const errno = libc.errno();
      libc.close(master);
      throw new NativeSyscallError(-errno, 'eventfd');
    }
    if (libc.epollCtl(master, EPOLL_CTL_ADD, wake, epollEvent(EPOLLIN, WAKE_DATA)) < 0) throw new NativeSyscallError(-libc.errno(), 'epoll_ctl');
    h[H_MASTER_EPFD] = master;
    h[H_WAKE_EVENTFD] = wake;
    const waiter = new Worker(fileURLToPath(new URL('./waiter-thread.js', import.meta.url)), { workerData: { sab: shared.sab } });
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`native machine: the waiter thread did not start within ${WAITER_START_MS / 1000} s`)), WAITER_START_MS);
        const settle = (e?: Error): void => {
          clearTimeout(timer);
          if (e) reject(e);
          else resolve();
        };
        waiter.once('error', settle);
        waiter.once('exit', (code) => settle(new Error(`native machine: the waiter thread exited (${code})`)));
        const w = Atomics.waitAsync(h, H_WAITER_TID, 0);
        if (w.async) void w.value.then(() => settle());
        else settle();
      });
    } catch (e) {
      await waiter.terminate();
      libc.close(master);
      libc.close(wake);
      throw e;
    }
    waiter.removeAllListeners('exit');
    waiter.removeAllListeners('error');
    waiter.on('error', (e) => process.stderr.write(`dmabuf native waiter failed: ${e.stack ?? e}\n`));
    waiter.unref();
    const m = new NativeMachine(shared, libc, waiter);
    process.on('exit', m.onExit);
    return m;
  }

  /** A handle for a new process: hand it to a worker (transfer `port`) and call attachNative() there. */
  channel(comm = 'node'): NativeProcessHandle {
    this.checkUp('channel');
    const { index, pid } = this.shared.newProcess();
    const { port1, port2 } = new MessageChannel();
    // The process's thread closes its end at exit, or by ending: either way, reap what is left.
    port1.once('close', () => this.reapEntry(index, pid));
    port1.unref();
    return { backend: 'linux', sab: this.shared.sab, index, pid, comm, port: port2 };
  }

  /** A process bound to the calling thread. */
  spawn(comm = 'node', options?: NativeAttachOptions): NativeProcess {
    const p = new NativeProcess(this.channel(comm), options);
    this.local.add(p);
    return p;
  }

  /** kill(pid, sig), with the emulator's rules (see kill.ts): a fatal signal releases the process's fds and mappings at once. */
  async kill(pid: number, sig: number): Promise<void> {
    this.checkUp('kill');
    killProcess(this.shared, this.libc, pid, sig);
  }

  private checkUp(what: string): void {
    if (this.down) throw new NativeSyscallError(-EIO, what, '(the machine has shut down)');
  }

  private reapEntry(index: number, pid: number): void {
    const { shared } = this;
    if (shared.procWord(index, P_PID) !== pid) return;
    for (const p of this.local) if (p.pid === pid) this.local.delete(p);
    reap(shared, this.libc, pid);
    shared.freeProcess(index);
  }

  private counts(): NativeLeaks {
    const s = this.shared;
    let processes = 0;
    for (let i = 0; i < MAX_PROCS; i++) if (s.procWord(i, P_STATE) === PROC_ALIVE) processes++;
    let fds = 0;
    for (let fd = 0; fd < s.fdCap; fd++) if (s.fds[fd] > 0 && !(s.fds[fd] & FD_CLOSING)) fds++;
    let mappings = 0;
    for (let i = 0; i < MAX_MAPS; i++) if (s.mapState(i) !== MAP_FREE) mappings++;
    return { processes, fds, mappings, inFlight: s.pendingTokens().length, waits: Atomics.load(s.header, H_REGISTERED) };
  }

  /** What the processes hold, the dma-buf fds of this OS process, and the kernel's taint. */
  async stats(): Promise<NativeMachineStats> {
    this.checkUp('stats');
    let dmabufs = 0;
    for (const name of readdirSync('/proc/self/fd')) {
      try {
        const target = readlinkSync(`/proc/self/fd/${name}`);
        if (target.startsWith('/dmabuf:') || target === 'anon_inode:dmabuf') dmabufs++;
      } catch {
        // the fd closed while we looked
      }
    }
    const taint = Number(readFileSync('/proc/sys/kernel/tainted', 'utf8').trim());
    return { ...this.counts(), dmabufs, taint };
  }

  /** The emulator records its tracepoints itself; the real kernel's are in tracefs. */
  async traceStart(): Promise<void> {
    throw new NativeUnsupportedError('traceStart', 'the real kernel\'s dma_fence and dma_buf tracepoints are in tracefs (/sys/kernel/tracing/events/dma_fence), system-wide and root-only: record them with a tracing tool (trace-cmd, perf)');
  }

  async traceStop(): Promise<never> {
    throw new NativeUnsupportedError('traceStop', 'see traceStart');
  }

  /** A JavaScript module cannot be loaded into the host's kernel. */
  async insmod(_module: string | URL): Promise<never> {
    throw new NativeUnsupportedError('insmod', 'a kernel module written in JavaScript runs in the emulator only; on the real kernel load a real module with modprobe (e.g. `modprobe vgem`)');
  }

  async rmmod(_name: string): Promise<never> {
    throw new NativeUnsupportedError('rmmod', 'see insmod; unload real modules with `modprobe -r`');
  }

  /** The emulator's kernel is JavaScript in a worker; the real one has no JavaScript heap to measure. */
  async kernelHeap(): Promise<never> {
    throw new NativeUnsupportedError('kernelHeap', 'the real kernel has no JavaScript heap; /proc/meminfo and /proc/slabinfo are its nearest counterparts');
  }

  /**
   * The kernel log, read from /dev/kmsg as dmesg(1) does, one record per
   * read, formatted "[seconds.micros] message". Reading it needs
   * CAP_SYSLOG where dmesg_restrict is set: EPERM is thrown as is.
   */
  async dmesg(): Promise<string> {
    this.checkUp('dmesg');
    const libc = this.libc;
    const path = '/dev/kmsg';
    const fd = libc.open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC, 0);
    if (fd < 0) throw new NativeSyscallError(-libc.errno(), 'open', undefined, path);
    const lines: string[] = [];
    const buf = new Uint8Array(8192);
    const dec = new TextDecoder();
    try {
      for (;;) {
        const n = libc.read(fd, buf, buf.length);
        if (n < 0) {
          const errno = libc.errno();
          if (errno === EAGAIN) break;
          if (errno === EPIPE) continue; // records were overwritten while we read: go on with the next one
          throw new NativeSyscallError(-errno, 'read', undefined, path);
        }
        if (n === 0) break;
        const record = dec.decode(buf.subarray(0, n));
        const semi = record.indexOf(';');
        const fields = record.slice(0, semi).split(',');
        const usec = Number(fields[2] ?? 0);
        const text = record.slice(semi + 1).split('\n')[0];
        lines.push(`[${String(Math.floor(usec / 1e6)).padStart(5)}.${String(usec % 1e6).padStart(6, '0')}] ${text}`);
      }
    } finally {
      libc.close(fd);
    }
    return lines.length ? `${lines.join('\n')}\n` : '';
  }

  /**
   * Every process exits (those of other threads are stripped: their fds
   * close, their mappings become anonymous zero pages for their thread to
   * unmap, their next call fails with EIO), the waiter stops. Resolves to
   * what the processes still held when it was called: all zero when every
   * process exited.
   */
  shutdown(): Promise<NativeLeaks> {
    this.finalStats ??= this.stop();
    return this.finalStats;
  }

  /** `await using machine = await boot({ backend: 'linux' })`: shutdown at the end of the block. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.shutdown();
  }

  private async stop(): Promise<NativeLeaks> {
    // A thread that just ended has its process reaped when its port's close event is
    // handled: let those events in before counting what is still held.
    for (let i = 0; i < 3; i++) await new Promise(setImmediate);
    const leaks = this.counts();
    this.down = true;
    const { shared, libc } = this;
    Atomics.store(shared.header, H_DOWN, 1);
    for (const p of this.local) p.exit();
    this.local.clear();
    for (let i = 0; i < MAX_PROCS; i++) {
      if (!shared.casProcWord(i, P_STATE, PROC_ALIVE, PROC_KILLED)) continue;
      shared.setProcWord(i, P_SIG, 0);
      interrupt(shared, libc, i, shared.header[H_TGID], shared.header[H_INTR_SIG]);
      strip(shared, libc, shared.procWord(i, P_PID));
      shared.notifyProc(i, P_STATE);
    }
    for (const t of shared.pendingTokens()) {
      if (!shared.casToken(t, TOKEN_PENDING, TOKEN_TAKEN)) continue;
      closeOwned(shared, libc, shared.tokenWord(t, T_FD), -(t + 1));
      shared.setTokenWord(t, T_STATE, TOKEN_FREE);
    }
    await this.stopWaiter();
    process.off('exit', this.onExit);
    return leaks;
  }

  private async stopWaiter(): Promise<void> {
    const h = this.shared.header;
    const exited = new Promise<void>((resolve) => this.waiter.once('exit', () => resolve()));
    this.waiter.ref(); // keep this thread's loop alive until the waiter is gone
    this.wakeWaiter();
    await exited;
    this.libc.close(h[H_MASTER_EPFD]);
    this.libc.close(h[H_WAKE_EVENTFD]);
  }

  private wakeWaiter(): void {
    const one = new Uint8Array(8);
    one[0] = 1;
    this.libc.write(this.shared.header[H_WAKE_EVENTFD], one, 8);
  }

  /**
   * The OS process is exiting: Node joins every worker thread, and one
   * blocked in a native call never returns by itself. Wake the waiter and
   * interrupt every process's blocked call (as killed), synchronously.
   */
  private exitHook(): void {
    if (this.down) return;
    const { shared, libc } = this;
    Atomics.store(shared.header, H_DOWN, 1);
    this.wakeWaiter();
    for (let i = 0; i < MAX_PROCS; i++) {
      if (!shared.casProcWord(i, P_STATE, PROC_ALIVE, PROC_KILLED)) continue;
      shared.setProcWord(i, P_SIG, SIGKILL);
      interrupt(shared, libc, i, shared.header[H_TGID], shared.header[H_INTR_SIG]);
    }
  }

  /**
   * The waiter's state, for tests and diagnostics: the waits registered as
   * the machine counts them, and as the kernel lists them in the master
   * epoll instance's /proc/self/fdinfo (less the machine's own eventfd).
   */
  waiterState(): { registered: number; epollEntries: number } {
    const h = this.shared.header;
    const info = readFileSync(`/proc/self/fdinfo/${h[H_MASTER_EPFD]}`, 'utf8');
    const entries = info.split('\n').filter((l) => l.startsWith('tfd:')).length;
    return { registered: Atomics.load(h, H_REGISTERED), epollEntries: entries - 1 };
  }

  /** @internal the size of the machine's fd table */
  get fdCap(): number {
    return this.shared.header[H_FD_CAP];
  }
}

/** Boot a native machine (Linux x86-64 with koffi installed; otherwise a NativeUnavailableError saying why). */
export function bootNative(options: NativeBootOptions = {}): Promise<NativeMachine> {
  return NativeMachine.start(options);
}

/** In a worker thread: become the process a parent's machine.channel() made. */
export function attachNative(handle: NativeProcessHandle, options?: NativeAttachOptions): NativeProcess {
  return new NativeProcess(handle, options);
}
