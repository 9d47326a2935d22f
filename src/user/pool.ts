/**
 * A bounded pool of equal buffers. acquire() hands out a lease (dispose or
 * release() to give it back); when every buffer is out, the caller waits up
 * to its timeout or until its AbortSignal fires, and then gets a
 * PoolExhaustedError naming who holds each buffer — never a silent stall.
 * A lease dropped without release comes back when garbage-collected, with a
 * kernel-log warning naming the holder.
 */
import type { ProcessLike as Process } from '../machine/process-api.js';
import { busyError, closedError } from './errors.js';
import type { DmaBuffer } from './dma-buffer.js';
import type { DmaHeap } from './heap.js';
import { kmsgWarn } from './resource.js';

/** The shape of a pool ({@link BufferPool.create}). */
export interface PoolOptions {
  /** how many buffers (allocated up front) */
  count: number;
  /** bytes per buffer */
  size: number;
  /** buffers are named `${name}-${i}` (DMA_BUF_SET_NAME); default 'pool' */
  name?: string;
}

/** How long {@link BufferPool.acquire} waits, and for whom. */
export interface AcquireOptions {
  /** ms to wait for a free buffer; default 5000 (Infinity waits for ever, 0 not at all) */
  timeout?: number;
  /** aborts the wait: acquire() rejects with the signal's reason */
  signal?: AbortSignal;
  /** who will hold it, for PoolExhaustedError's report; default `pid <n>` */
  holder?: string;
}

/** One buffer on loan, as {@link BufferPool.holders} and {@link PoolExhaustedError} report it. */
export interface Holding {
  /** the buffer's name (`${pool}-${i}`) */
  buffer: string;
  /** who holds it (AcquireOptions.holder, PoolLease.handTo, or `pid <n>`) */
  holder: string;
  /** ms it has been held */
  heldMs: number;
}

/**
 * Every buffer of the pool is held; `holders` says by whom.
 *
 * @example
 * ```ts
 * try {
 *   using lease = await pool.acquire({ timeout: 50 });
 * } catch (e) {
 *   if (!(e instanceof PoolExhaustedError)) throw e;
 *   for (const h of e.holders) console.log(`${h.buffer} held by ${h.holder} for ${Math.round(h.heldMs)} ms`);
 * }
 * ```
 */
export class PoolExhaustedError extends Error {
  /** as a non-blocking call that would have to wait gets (EAGAIN) */
  readonly code = 'EAGAIN';
  constructor(pool: string, waitedMs: number, readonly holders: Holding[]) {
    super(
      `buffer pool '${pool}' exhausted: all ${holders.length} buffers held after waiting ${Math.round(waitedMs)} ms — ` +
        holders.map((h) => `${h.buffer} by ${h.holder} for ${Math.round(h.heldMs)} ms`).join(', '),
    );
    this.name = 'PoolExhaustedError';
  }
}

interface Slot {
  buffer: DmaBuffer;
  holder: string | null;
  since: number;
  lease: object | null;
}

/**
 * A buffer on loan from a {@link BufferPool}: `buffer` until release() or
 * the end of its `using` block.
 *
 * @example
 * ```ts
 * using lease = await pool.acquire({ holder: 'camera' });
 * lease.buffer.bytes.fill(0);
 * lease.handTo('encoder');    // the pool's reports now name the encoder
 * ```
 */
export class PoolLease implements Disposable {
  private released = false;
  /** @internal */
  constructor(private readonly pool: BufferPool, private readonly index: number, readonly buffer: DmaBuffer) {}

  /** Record that someone else holds it now (e.g. after passing it to another worker). */
  handTo(holder: string): void {
    this.pool._setHolder(this.index, holder, this);
  }

  /** Give the buffer back (idempotent). */
  release(): void {
    if (this.released) return;
    this.released = true;
    this.pool._release(this.index, this);
  }

  /** release(), for `using` declarations. */
  [Symbol.dispose](): void {
    this.release();
  }
}

/**
 * A bounded pool of equal buffers allocated up front: acquire() lends one,
 * waiting (up to a timeout, or until an AbortSignal) when all are out, then
 * fails with a {@link PoolExhaustedError} that names every holder — a stall
 * becomes a diagnosis. A lease that is dropped without release() returns
 * when garbage-collected, with a kernel-log line naming its holder.
 *
 * @example
 * ```ts
 * using pool = BufferPool.create(DmaHeap.open(proc), { count: 4, size: 1 << 20, name: 'ring' });
 * {
 *   using lease = await pool.acquire({ timeout: 100, holder: 'producer' });
 *   console.log(lease.buffer.name, pool.available);   // ring-0 3
 * }
 * try {
 *   const held = [pool.tryAcquire(), pool.tryAcquire(), pool.tryAcquire(), pool.tryAcquire()];
 *   await pool.acquire({ timeout: 10 });
 * } catch (e) {
 *   if (e instanceof PoolExhaustedError) console.log(e.holders.length);   // 4
 * }
 * ```
 */
export class BufferPool implements Disposable {
  private readonly slots: Slot[];
  private readonly waiters: (() => void)[] = [];
  private readonly leaks: FinalizationRegistry<number>;
  private closed = false;

  private constructor(private readonly proc: Process, readonly name: string, buffers: DmaBuffer[]) {
    this.slots = buffers.map((buffer) => ({ buffer, holder: null, since: 0, lease: null }));
    this.leaks = new FinalizationRegistry((i) => {
      const s = this.slots[i];
      try {
        kmsgWarn(proc, `dmabuf-user: pid ${proc.pid}: lease of ${s.buffer.name} from pool '${name}' held by ${s.holder} was never released; returned when garbage-collected`);
      } catch {
        // the process is gone; nothing to report to
      }
      this.free(i);
    });
  }

  /** Allocate `count` buffers of `size` bytes from `heap`. */
  static create(heap: DmaHeap, opts: PoolOptions): BufferPool {
    const { count, size, name = 'pool' } = opts;
    if (!(Number.isInteger(count) && count > 0)) throw new RangeError(`count must be a positive integer, not ${count}`);
    const buffers: DmaBuffer[] = [];
    try {
      for (let i = 0; i < count; i++) buffers.push(heap.allocate(size, { name: `${name}-${i}` }));
    } catch (e) {
      for (const b of buffers) b.close();
      throw e;
    }
    return new BufferPool(heap.proc, name, buffers);
  }

  /** Buffers not on loan. */
  get available(): number {
    return this.slots.filter((s) => s.holder === null).length;
  }

  /** How many buffers the pool has. */
  get size(): number {
    return this.slots.length;
  }

  /** Who holds what, now. */
  holders(): Holding[] {
    const now = performance.now();
    return this.slots.filter((s) => s.holder !== null).map((s) => ({ buffer: s.buffer.name, holder: s.holder!, heldMs: now - s.since }));
  }

  /** A free buffer now, or PoolExhaustedError. */
  tryAcquire(holder?: string): PoolLease {
    const lease = this.take(holder);
    if (!lease) throw new PoolExhaustedError(this.name, 0, this.holders());
    return lease;
  }

  /** A free buffer, waiting for one up to `timeout` ms. */
  async acquire(opts: AcquireOptions = {}): Promise<PoolLease> {
    const { timeout = 5000, signal, holder } = opts;
    signal?.throwIfAborted();
    const t0 = performance.now();
    for (;;) {
      const lease = this.take(holder);
      if (lease) return lease;
      const left = t0 + timeout - performance.now();
      if (left <= 0) throw new PoolExhaustedError(this.name, performance.now() - t0, this.holders());
      await new Promise<void>((resolve, reject) => {
        const wake = (): void => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          resolve();
        };
        const onAbort = (): void => {
          clearTimeout(timer);
          this.dropWaiter(wake);
          reject(signal!.reason);
        };
        const timer = left === Infinity ? undefined : setTimeout(() => {
          this.dropWaiter(wake);
          wake();
        }, left);
        signal?.addEventListener('abort', onAbort, { once: true });
        this.waiters.push(wake);
      });
    }
  }

  private dropWaiter(w: () => void): void {
    const k = this.waiters.indexOf(w);
    if (k >= 0) this.waiters.splice(k, 1);
  }

  private take(holder?: string): PoolLease | null {
    if (this.closed) throw closedError(`buffer pool '${this.name}'`);
    const i = this.slots.findIndex((s) => s.holder === null);
    if (i < 0) return null;
    const s = this.slots[i];
    const lease = new PoolLease(this, i, s.buffer);
    s.holder = holder ?? `pid ${this.proc.pid}`;
    s.since = performance.now();
    s.lease = lease;
    this.leaks.register(lease, i, lease);
    return lease;
  }

  private free(i: number): void {
    const s = this.slots[i];
    s.holder = null;
    s.lease = null;
    this.waiters.shift()?.();
  }

  /** @internal */
  _setHolder(i: number, holder: string, lease: PoolLease): void {
    if (this.slots[i].lease === lease) this.slots[i].holder = holder;
  }

  /** @internal */
  _release(i: number, lease: PoolLease): void {
    if (this.slots[i].lease !== lease) return;
    this.leaks.unregister(lease);
    this.free(i);
  }

  /** Free every buffer. Leases still out are an error (EBUSY), as freeing in-use memory would be. */
  close(): void {
    if (this.closed) return;
    const held = this.holders();
    if (held.length) {
      throw busyError(`buffer pool '${this.name}' closed with ${held.length} buffers on loan: ${held.map((h) => `${h.buffer} by ${h.holder}`).join(', ')}`);
    }
    this.closed = true;
    for (const s of this.slots) s.buffer.close();
  }

  /** close(), for `using` declarations. */
  [Symbol.dispose](): void {
    this.close();
  }
}
