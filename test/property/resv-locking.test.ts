/**
 * Property (fast-check): tasks lock random sets of reservation objects in
 * random orders with acquire contexts and the -EDEADLK back-off protocol,
 * add a fence to each and unlock. Every run finishes (no deadlock), no
 * fence is lost (each object ends holding the last fence every task added
 * to it), and every lock is released. Half the runs also inject spurious
 * -EDEADLK (CONFIG_DEBUG_WW_MUTEX_SLOWPATH) to drive the back-off path.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import '../helpers/harness.js';
import { DmaFence, type DmaFenceOps, dmaFenceContextAlloc } from '../../src/kernel/fence/dma-fence.js';
import { DmaResv, dmaResvForEachFence, reservationWwClass, type DmaResvUsage } from '../../src/kernel/resv/dma-resv.js';
import { setWwMutexDeadlockInjection, WwAcquireCtx } from '../../src/kernel/locking/ww-mutex.js';
import { EDEADLK } from '../../src/kernel/lib/errno.js';

const ops: DmaFenceOps = { getDriverName: () => 'prop', getTimelineName: () => 'prop' };

const yieldRandom = (r: number): Promise<void> => (r < 0.3 ? new Promise((res) => setImmediate(res)) : r < 0.6 ? Promise.resolve() : Promise.resolve().then(() => undefined));

/** Lock every object of `set` with the back-off protocol; returns the number of back-offs. */
async function lockAll(set: DmaResv[], ctx: WwAcquireCtx, rand: () => number): Promise<number> {
  let backoffs = 0;
  let contended: DmaResv | null = null;
  for (;;) {
    const held: DmaResv[] = contended ? [contended] : [];
    let failed: DmaResv | null = null;
    for (const obj of set) {
      if (obj === contended) continue;
      await yieldRandom(rand());
      const r: number = await obj.lockResv(ctx);
      if (r === -EDEADLK) {
        failed = obj;
        break;
      }
      assert.equal(r, 0, `dma_resv_lock returned ${r}`);
      held.push(obj);
    }
    if (!failed) return backoffs;
    backoffs++;
    for (const obj of held) obj.unlock();
    await failed.lockSlow(ctx);
    contended = failed;
  }
}

test('many tasks lock random sets of reservation objects: no deadlock, no lost fence, no held lock', async () => {
  let totalBackoffs = 0;
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 2, max: 10 }),
      fc.array(fc.array(fc.array(fc.nat(9), { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 6 }), { minLength: 2, maxLength: 8 }),
      fc.boolean(),
      fc.infiniteStream(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true })),
      async (nObjects, tasks, inject, randoms) => {
        const it = randoms[Symbol.iterator]();
        const rand = (): number => it.next().value as number;
        const objs = Array.from({ length: nObjects }, () => new DmaResv());
        const lastFence = new Map<string, DmaFence>();
        const allFences: DmaFence[] = [];
        setWwMutexDeadlockInjection(inject);
        try {
          const run = Promise.all(tasks.map(async (rounds, t) => {
            const context = dmaFenceContextAlloc(1);
            for (let round = 0; round < rounds.length; round++) {
              const set = [...new Set(rounds[round].map((i) => objs[i % nObjects]))];
              const ctx = new WwAcquireCtx(reservationWwClass);
              totalBackoffs += await lockAll(set, ctx, rand);
              ctx.done();
              const fence = new DmaFence(ops, context, round + 1);
              allFences.push(fence);
              const usage = Math.floor(rand() * 4) as DmaResvUsage;
              for (const obj of set) {
                assert.equal(obj.lockingCtx(), ctx, 'held by this context');
                assert.equal(obj.reserveFences(1), 0);
                obj.addFence(fence, usage);
                lastFence.set(`${objs.indexOf(obj)}/${t}`, fence);
              }
              await yieldRandom(rand());
              for (const obj of set) obj.unlock();
              ctx.fini();
            }
          }));
          let timer: ReturnType<typeof setTimeout> | undefined;
          const deadline = new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new Error('deadlock: the tasks did not finish in 20 s')), 20_000);
          });
          try {
            await Promise.race([run, deadline]);
          } finally {
            clearTimeout(timer);
          }
          for (const obj of objs) {
            assert.equal(obj.isLocked(), false, 'every lock released');
            assert.equal(obj.lock.base.waiters.length, 0, 'no waiter left behind');
          }
          for (const [key, fence] of lastFence) {
            const obj = objs[Number(key.split('/')[0])];
            obj.trylock();
            const list = [...dmaResvForEachFence(obj, 3)];
            obj.unlock();
            const present = list.some(([f]) => f === fence);
            assert.ok(present, `object ${key}: the last fence (${fence.context}:${fence.seqno}) of the task is present; entries: ${list.map(([f, u]) => `${f.context}:${f.seqno}/${u}`).join(' ')}`);
          }
        } finally {
          setWwMutexDeadlockInjection(false);
          for (const obj of objs) obj.fini();
          for (const f of allFences) {
            f.signal();
            f.put();
          }
        }
      },
    ),
    { numRuns: 60, ...(process.env.FC_SEED ? { seed: Number(process.env.FC_SEED), path: process.env.FC_PATH, endOnFailure: true } : {}) },
  );
  assert.ok(totalBackoffs > 0, 'the back-off path was exercised');
});
