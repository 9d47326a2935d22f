/**
 * boot(): a machine with its kernel in a worker thread. Processes are
 * made with machine.spawn() (bound to the calling thread) or, for another
 * worker, with machine.channel() handed to that worker, which calls
 * attach() (from 'dmabuf').
 */
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { isAbsolute, resolve } from 'node:path';
import type { MemoryConfig } from '../kernel/mm/page-alloc.js';
import type { kconfig } from '../kernel/lib/kconfig.js';
import { EIO } from '../uapi/errno.js';
import { CHANNEL_BYTES, DOORBELL_BYTES, DOORBELL_LASTPID, DOORBELL_RING, type ProcessHandle, type TraceRecord } from './protocol.js';
import { Process } from './process.js';
import { SyscallError } from './errors.js';
import type { MachineLike, MachineStats } from './process-api.js';

/** How a machine is built. */
export interface BootOptions {
  /**
   * Which kernel runs the machine's processes: 'emulator' (this package's
   * kernel, in a worker thread; the default) or 'linux' (the host's real
   * kernel, through the native backend). Without it, the environment
   * variable DMABUF_BACKEND decides. Read by the package's boot().
   */
  backend?: 'emulator' | 'linux';
  /** the native backend's real-time signal for interrupting blocked calls (default SIGRTMIN + 7) */
  interruptSignal?: number;
  /** memory of the machine: zone sizes (the memory limit) and the CMA area */
  memory?: MemoryConfig;
  /** how long the kernel thread keeps spinning for the next request after one, in ns (default 50 µs) */
  spinNs?: number;
  /** the kernel thread's blocking slice while dozing, in ms (default 1): the longest a kernel timer waits */
  dozeSliceMs?: number;
  /** kernel build switches: PROVE_LOCKING (lockdep), DMABUF_DEBUG, DMABUF_MOVE_NOTIFY, DMABUF_COHERENCY_CHECK, ... */
  kconfig?: Partial<typeof kconfig>;
  /** kernel modules to load at boot (insmod, in order): URLs or paths of ES modules; boot fails if one fails */
  modules?: (string | URL)[];
}

export type { MachineStats } from './process-api.js';
export type { MemoryConfig };

/**
 * A booted machine: its kernel runs in a worker thread of its own. It
 * keeps Node's event loop alive only while one of its calls is pending, so
 * a program that has finished exits even if it forgot shutdown().
 *
 * @example
 * ```ts
 * import { boot } from 'dmabuf';
 * await using machine = await boot();
 * const proc = machine.spawn('demo');
 * console.log(proc.readdir('/dev/dma_heap')); // [ 'system', 'reserved' ]
 * ```
 */
export class Machine implements MachineLike {
  readonly backend = 'emulator' as const;
  private down = false;
  private finalStats: Promise<MachineStats> | null = null;
  private readonly bell: Int32Array;
  private nextId = 1;
  private readonly pending = new Map<number, (body: unknown) => void>();

  /** @internal the kernel thread */
  readonly worker: Worker;

  private constructor(worker: Worker, private readonly doorbell: SharedArrayBuffer) {
    this.worker = worker;
    this.bell = new Int32Array(doorbell);
    worker.on('message', (msg: { id?: number; body?: unknown }) => {
      const resolve = msg.id === undefined ? undefined : this.pending.get(msg.id);
      if (!resolve) return;
      this.pending.delete(msg.id!);
      if (this.pending.size === 0) worker.unref();
      resolve(msg.body);
    });
  }

  /** @internal */
  static async start(options: BootOptions): Promise<Machine> {
    const doorbell = new SharedArrayBuffer(DOORBELL_BYTES);
    const worker = new Worker(fileURLToPath(new URL('./kernel-thread.js', import.meta.url)), { workerData: { doorbell, options } });
    await new Promise<void>((resolve, reject) => {
      worker.once('error', reject);
      worker.once('message', (msg: { type: string }) => (msg.type === 'ready' ? resolve() : reject(new Error(`kernel: ${msg.type}`))));
    });
    worker.on('error', (e) => process.stderr.write(`dmabuf kernel thread failed: ${e.stack ?? e}\n`));
    const machine = new Machine(worker, doorbell);
    // The kernel thread alone does not keep the program running: a pending call does.
    // (After the message listener: adding one to a Worker refs it again.)
    worker.unref();
    return machine;
  }

  private fail(what: string): SyscallError {
    return new SyscallError(-EIO, what, '(the machine has shut down)');
  }

  /**
   * A channel for a new process: hand it to a worker (transfer `port`) and
   * call attach() there. It carries the new process's pid.
   *
   * @example
   * ```ts
   * import { Worker } from 'node:worker_threads';
   * const handle = machine.channel('consumer');
   * new Worker(new URL('./consumer.js', import.meta.url), { workerData: { handle }, transferList: [handle.port] });
   * ```
   */
  channel(comm = 'node'): ProcessHandle {
    if (this.down) throw this.fail('channel');
    const channel = new SharedArrayBuffer(CHANNEL_BYTES);
    const { port1, port2 } = new MessageChannel();
    const pid = Atomics.add(this.bell, DOORBELL_LASTPID, 1) + 1;
    this.post({ type: 'attach', channel, port: port1, comm, pid }, [port1]);
    return { channel, doorbell: this.doorbell, port: port2, pid };
  }

  /** A process bound to the calling thread (exit() it, or `using` it). */
  spawn(comm = 'node'): Process {
    return new Process(this.channel(comm));
  }

  private ask<T>(type: string, body: Record<string, unknown> = {}): Promise<T> {
    if (this.down) return Promise.reject(this.fail(type));
    const id = this.nextId++;
    return new Promise<T>((resolve) => {
      this.pending.set(id, resolve as (b: unknown) => void);
      // A pending answer keeps the program alive until it comes.
      this.worker.ref();
      this.post({ type, id, ...body });
    });
  }

  /** A message for the kernel thread, and the doorbell, so that a dozing kernel turns to its messages now. */
  private post(msg: unknown, transfer: MessagePort[] = []): void {
    this.worker.postMessage(msg, transfer);
    Atomics.add(this.bell, DOORBELL_RING, 1);
    Atomics.notify(this.bell, DOORBELL_RING);
  }

  /** What the kernel holds: live dma-bufs, allocated pages, fds in flight, processes, taint, live fences. */
  stats(): Promise<MachineStats> {
    return this.ask<MachineStats>('stats');
  }

  /** Start recording the dma_fence/dma_buf tracepoints and poll waits (see traceStop). */
  async traceStart(): Promise<void> {
    await this.ask('trace-start');
  }

  /** Stop recording; what was recorded, oldest first, in kernel time (ns, CLOCK_MONOTONIC as process.hrtime). */
  traceStop(): Promise<{ records: TraceRecord[]; lost: number }> {
    return this.ask('trace-stop');
  }

  /** Bytes of JavaScript heap the kernel thread uses after a full garbage collection. */
  async kernelHeap(): Promise<number> {
    return (await this.ask<{ bytes: number }>('heap')).bytes;
  }

  /** The kernel log. */
  async dmesg(): Promise<string> {
    return (await this.ask<{ text: string }>('dmesg')).text;
  }

  /**
   * kill(pid, sig) from outside every process: SIGKILL ends the process at
   * once; SIGTERM, SIGINT and the like end it unless it installed a
   * handler (Process.onSignal), which then runs and makes its blocked
   * call return EINTR. Rejects with ESRCH for no such process.
   */
  async kill(pid: number, sig: number): Promise<void> {
    const { ret } = await this.ask<{ ret: number }>('kill', { pid, sig });
    if (ret < 0) throw new SyscallError(ret, 'kill');
  }

  /**
   * insmod: load the ES module at `module` (a URL, or a file path) into the
   * kernel thread and run its init, which registers its device nodes and
   * files (see docs/exporter-guide.md). Resolves to the module's name;
   * rejects with a SyscallError (syscall 'init_module': EEXIST for a name in
   * use, EINVAL for a file that is not a module, or the error its init
   * returned or threw, named in the message), leaving nothing registered.
   *
   * @example
   * ```ts
   * await machine.insmod(new URL('./my-exporter.js', import.meta.url));
   * ```
   */
  async insmod(module: string | URL): Promise<string> {
    const r = await this.ask<{ ret: number; name?: string; error?: string }>('insmod', { url: moduleUrl(module) });
    if (r.ret < 0) throw new SyscallError(r.ret, 'init_module', r.error ? `(${r.error})` : undefined);
    return r.name!;
  }

  /**
   * rmmod: remove module `name` (its exit runs, its nodes and files go).
   * Rejects with EAGAIN while it is in use (a device file of its open, a
   * dma-buf it exported alive), ENOENT for no such module.
   */
  async rmmod(name: string): Promise<void> {
    const { ret } = await this.ask<{ ret: number }>('rmmod', { name });
    if (ret < 0) throw new SyscallError(ret, 'delete_module', `'${name}'`);
  }

  /**
   * Every process exits, then the kernel thread stops; resolves to what
   * the kernel still held (all zeroes unless something leaked). Calling it
   * again resolves to the same answer.
   */
  shutdown(): Promise<MachineStats> {
    if (this.finalStats) return this.finalStats;
    this.finalStats = this.ask<MachineStats>('shutdown').then(async (stats) => {
      await this.worker.terminate();
      return stats;
    });
    this.down = true;
    return this.finalStats;
  }

  /** `await using machine = await boot()`: shutdown at the end of the block. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.shutdown();
  }
}

/**
 * Boot a machine: the kernel in its own worker thread.
 *
 * @example
 * ```ts
 * const machine = await boot({ memory: { normalBytes: 256 << 20 } });
 * ```
 */
export async function boot(options: BootOptions = {}): Promise<Machine> {
  const { modules = [], ...rest } = options;
  const machine = await Machine.start(rest);
  try {
    for (const m of modules) await machine.insmod(m);
  } catch (e) {
    await machine.shutdown();
    throw e;
  }
  return machine;
}

/** A module named by URL or path, as a URL the kernel thread can import(). */
function moduleUrl(module: string | URL): string {
  if (module instanceof URL) return module.href;
  if (/^[a-z][a-z0-9+.-]*:/i.test(module)) return module;
  return pathToFileURL(isAbsolute(module) ? module : resolve(module)).href;
}
