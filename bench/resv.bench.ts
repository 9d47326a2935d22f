/**
 * dma-resv and ww_mutex benchmarks (issue: reservation objects).
 * Baseline: a plain promise-queue async mutex (the usual userland lock,
 * no deadlock avoidance) measured in the same run.
 */
import { DmaFence, type DmaFenceOps, dmaFenceContextAlloc } from '../src/kernel/fence/dma-fence.js';
import { DmaResv, DMA_RESV_USAGE_WRITE, reservationWwClass } from '../src/kernel/resv/dma-resv.js';
import { WwAcquireCtx } from '../src/kernel/locking/ww-mutex.js';
import { EDEADLK } from '../src/kernel/lib/errno.js';
import { compare, compareAsync, opsPerSec, opsPerSecAsync, type Row } from './harness.js';

/** The baseline: a minimal async mutex (FIFO hand-off). */
class AsyncMutex {
  private locked = false;
  private queue: (() => void)[] = [];
  lock(): Promise<void> {
    if (!this.locked) {
      this.locked = true;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.queue.push(resolve));
  }
  unlock(): void {
    const next = this.queue.shift();
    if (next) next();
    else this.locked = false;
  }
}

const ops: DmaFenceOps = { getDriverName: () => 'bench', getTimelineName: () => 'bench' };

export const title = 'dma-resv / ww_mutex';

export async function run(): Promise<Row[]> {
  const rows: Row[] = [];

  // 1. add_fence (same context, next seqno: replaces in place) + test_signaled.
  // Each op adds a new fence, as a driver does per submission.
  const resv = new DmaResv();
  await resv.lockResv(null);
  const ctx0 = dmaFenceContextAlloc(1);
  let seq = 0;
  const plain = new Map<number, { seqno: number; signaled: boolean }>();
  let sink = 0;
  const [add, mapBase] = compare(
    () => opsPerSec((n) => {
      for (let i = 0; i < n; i++) {
        const f = new DmaFence(ops, ctx0, ++seq);
        resv.reserveFences(1);
        resv.addFence(f, DMA_RESV_USAGE_WRITE);
        f.put();
        if (resv.testSignaled(DMA_RESV_USAGE_WRITE)) sink++;
      }
    }),
    () => opsPerSec((n) => {
      for (let i = 0; i < n; i++) {
        plain.set(ctx0, { seqno: ++seq, signaled: false });
        for (const f of plain.values()) if (f.signaled) sink++;
      }
    }),
    3,
  );
  rows.push({ name: 'new fence + reserve + add_fence (replaces) + test_signaled', value: add, unit: 'ops/s', baseline: { name: 'new object + Map.set + scan', value: mapBase }, ratio: add / mapBase, note: `${resv.fences!.numFences} entry kept` });
  resv.unlock();

  // 2. uncontended lock/unlock
  const m = new AsyncMutex();
  const [lockNull, asyncBase] = await compareAsync(
    () => opsPerSecAsync(async (n) => {
      for (let i = 0; i < n; i++) {
        await resv.lockResv(null);
        resv.unlock();
      }
    }),
    () => opsPerSecAsync(async (n) => {
      for (let i = 0; i < n; i++) {
        await m.lock();
        m.unlock();
      }
    }),
    3,
  );
  rows.push({ name: 'uncontended dma_resv_lock(NULL) + unlock', value: lockNull, unit: 'ops/s', baseline: { name: 'async mutex lock + unlock', value: asyncBase }, ratio: lockNull / asyncBase });
  const [lockCtx] = await compareAsync(
    () => opsPerSecAsync(async (n) => {
      for (let i = 0; i < n; i++) {
        const ctx = new WwAcquireCtx(reservationWwClass);
        await resv.lockResv(ctx);
        resv.unlock();
        ctx.fini();
      }
    }),
    async () => 0,
    3,
  );
  rows.push({ name: 'uncontended ww_acquire_init + dma_resv_lock(ctx) + unlock + fini', value: lockCtx, unit: 'ops/s', baseline: { name: 'async mutex lock + unlock', value: asyncBase }, ratio: lockCtx / asyncBase });

  // 3. contended: 8 tasks, each transaction locks 3 random objects of 16
  const OBJS = 16;
  const TASKS = 8;
  const PER = 3;
  const picks = Array.from({ length: 4096 }, () => {
    const s = new Set<number>();
    while (s.size < PER) s.add(Math.floor(Math.random() * OBJS));
    return [...s];
  });
  async function wwRound(ms: number): Promise<number> {
    const objs = Array.from({ length: OBJS }, () => new DmaResv());
    let txns = 0;
    let backoffs = 0;
    const end = performance.now() + ms;
    await Promise.all(Array.from({ length: TASKS }, async (_, t) => {
      let p = t * 97;
      while (performance.now() < end) {
        const set = picks[p++ & 4095].map((i) => objs[i]);
        const ctx = new WwAcquireCtx(reservationWwClass);
        let contended: DmaResv | null = null;
        for (;;) {
          const held: DmaResv[] = contended ? [contended] : [];
          let failed: DmaResv | null = null;
          for (const o of set) {
            if (o === contended) continue;
            if ((await o.lockResv(ctx)) === -EDEADLK) {
              failed = o;
              break;
            }
            held.push(o);
          }
          if (!failed) break;
          backoffs++;
          for (const o of held) o.unlock();
          await failed.lockSlow(ctx);
          contended = failed;
        }
        await Promise.resolve(); // the critical section yields once, so transactions overlap
        for (const o of set) o.unlock();
        ctx.fini();
        txns++;
      }
    }));
    for (const o of objs) o.fini();
    if (backoffs < 0) console.log(backoffs);
    return (txns * 1000) / ms;
  }
  async function orderedRound(ms: number): Promise<number> {
    const locks = Array.from({ length: OBJS }, () => new AsyncMutex());
    let txns = 0;
    const end = performance.now() + ms;
    await Promise.all(Array.from({ length: TASKS }, async (_, t) => {
      let p = t * 97;
      while (performance.now() < end) {
        const set = picks[p++ & 4095].slice().sort((a, b) => a - b).map((i) => locks[i]);
        for (const l of set) await l.lock();
        await Promise.resolve();
        for (const l of set) l.unlock();
        txns++;
      }
    }));
    return (txns * 1000) / ms;
  }
  const [ww, ordered] = await compareAsync(() => wwRound(400), () => orderedRound(400), 3);
  rows.push({
    name: `contended: ${TASKS} tasks x ${PER} of ${OBJS} objects, any order (ww back-off)`, value: ww, unit: 'txn/s',
    baseline: { name: 'async mutexes taken in sorted order', value: ordered }, ratio: ww / ordered,
  });

  resv.fini();
  return rows;
}
