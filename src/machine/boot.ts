/**
 * boot(): a machine with its kernel in a worker thread. Processes are
 * made with machine.spawn() (bound to the calling thread) or, for another
 * worker, with machine.channel() handed to that worker, which calls
 * attach() (from 'dmabuf').
 */
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import type { MemoryConfig } from '../kernel/mm/page-alloc.js';
import type { kconfig } from '../kernel/lib/kconfig.js';

type Kconfig = typeof kconfig;
import { CHANNEL_BYTES, DOORBELL_BYTES, DOORBELL_RING, type ProcessHandle, type TraceRecord } from './protocol.js';
import { Process } from './process.js';

export interface BootOptions {
  /** memory of the machine: zone sizes (the memory limit) and the CMA area */
  memory?: MemoryConfig;
  /** how long the kernel thread keeps spinning for the next request after one, in ns (default 50 µs) */
  spinNs?: number;
  /** the kernel thread's blocking slice while dozing, in ms (default 1): the longest a kernel timer waits */
  dozeSliceMs?: number;
  /** kernel build switches: PROVE_LOCKING (lockdep), DMABUF_DEBUG, DMABUF_MOVE_NOTIFY, DMABUF_COHERENCY_CHECK, ... */
  kconfig?: Partial<Kconfig>;
}

export interface MachineStats {
  dmabufs: number;
  pages: number;
  inFlight: number;
  processes: number;
  taint: number;
  /** live dma-fences */
  fences: number;
}

export class Machine {
  private down = false;
  private readonly bell: Int32Array;
  private constructor(readonly worker: Worker, private readonly doorbell: SharedArrayBuffer) {
    this.bell = new Int32Array(doorbell);
  }

  /** @internal */
  static async start(options: BootOptions): Promise<Machine> {
    const doorbell = new SharedArrayBuffer(DOORBELL_BYTES);
    const worker = new Worker(fileURLToPath(new URL('./kernel-thread.js', import.meta.url)), { workerData: { doorbell, options } });
    const m = new Machine(worker, doorbell);
    await new Promise<void>((resolve, reject) => {
      worker.once('error', reject);
      worker.once('message', (msg: { type: string }) => (msg.type === 'ready' ? resolve() : reject(new Error(`kernel: ${msg.type}`))));
    });
    worker.on('error', (e) => process.stderr.write(`dmabuf kernel thread failed: ${e.stack ?? e}\n`));
    return m;
  }

  /** A channel for a new process: hand it to a worker (transfer `port`) and call attach() there. */
  channel(comm = 'node'): ProcessHandle {
    if (this.down) throw new Error('machine is shut down');
    const channel = new SharedArrayBuffer(CHANNEL_BYTES);
    const { port1, port2 } = new MessageChannel();
    this.post({ type: 'attach', channel, port: port1, comm }, [port1]);
    return { channel, doorbell: this.doorbell, port: port2 };
  }

  /** A process bound to the calling thread. */
  spawn(comm = 'node'): Process {
    return new Process(this.channel(comm));
  }

  private ask<T>(type: string): Promise<T> {
    return new Promise<T>((resolve) => {
      const on = (msg: { type: string }): void => {
        if (msg.type !== type) return;
        this.worker.off('message', on);
        const { type: _, ...body } = msg; // the message's kind is not part of the answer
        resolve(body as T);
      };
      this.worker.on('message', on);
      this.post({ type });
    });
  }

  /** A message for the kernel thread, and the doorbell, so that a dozing kernel turns to its messages now. */
  private post(msg: unknown, transfer: MessagePort[] = []): void {
    this.worker.postMessage(msg, transfer);
    Atomics.add(this.bell, DOORBELL_RING, 1);
    Atomics.notify(this.bell, DOORBELL_RING);
  }

  /** What the kernel holds: live dma-bufs, allocated pages, fds in flight, processes, taint. */
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

  /** Every process exits, then the kernel thread stops; resolves to what the kernel still held. */
  async shutdown(): Promise<MachineStats> {
    if (this.down) return { dmabufs: 0, pages: 0, inFlight: 0, processes: 0, taint: 0, fences: 0 };
    this.down = true;
    const stats = await this.ask<MachineStats>('shutdown');
    await this.worker.terminate();
    return stats;
  }
}

/** Boot a machine: the kernel in its own worker thread. */
export function boot(options: BootOptions = {}): Promise<Machine> {
  return Machine.start(options);
}
