/**
 * Lock-order validation (CONFIG_PROVE_LOCKING, kernel/locking/lockdep.c):
 * an order seen once (A then B) makes the reverse (B then A) a reported
 * possible deadlock, even when the two never run at the same time; ww
 * locks of one class nest freely under an acquire context; a trylock adds
 * no order; nothing is tracked with the switch off.
 */
import { describe, test, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { expectWarn } from '../../helpers/harness.js';
import { kconfig } from '../../../src/kernel/lib/kconfig.js';
import { Mutex } from '../../../src/kernel/locking/mutex.js';
import { WwAcquireCtx } from '../../../src/kernel/locking/ww-mutex.js';
import { lockdepReset, lockdepTask } from '../../../src/kernel/locking/lockdep.js';
import { DmaResv, reservationWwClass } from '../../../src/kernel/resv/dma-resv.js';
import { dmesg } from '../../../src/kernel/lib/printk.js';

beforeEach(() => {
  kconfig.PROVE_LOCKING = true;
  lockdepReset();
});
afterEach(() => {
  kconfig.PROVE_LOCKING = false;
});

const inOrder = (...locks: Mutex[]) => lockdepTask(async () => {
  for (const l of locks) await l.lock();
  for (const l of [...locks].reverse()) l.unlock();
});

describe('lockdep', () => {
  test('A then B, later B then A (never at once): a possible circular dependency, reported once', async () => {
    const a = new Mutex('dev->lock');
    const b = new Mutex('buf->lock');
    await inOrder(a, b);
    await expectWarn(() => inOrder(b, a), 1);
    assert.match(dmesg(), /possible circular locking dependency detected: acquiring dev->lock while holding buf->lock, but the order dev->lock -> buf->lock was seen before/);
    await inOrder(b, a); // the same order again: already reported
    await inOrder(a, b);
  });

  test('a longer cycle: A->B, B->C, then C->A', async () => {
    const [a, b, c] = ['A', 'B', 'C'].map((n) => new Mutex(n));
    await inOrder(a, b);
    await inOrder(b, c);
    await expectWarn(() => inOrder(c, a), 1);
    assert.match(dmesg(), /the order A -> B -> C was seen before/);
  });

  test('a reservation object and a driver mutex in both orders are reported; resv locks nest under one ww context', async () => {
    const m = new Mutex('driver->mutex');
    const r1 = new DmaResv();
    const r2 = new DmaResv();
    await lockdepTask(async () => {
      const ctx = new WwAcquireCtx(reservationWwClass);
      assert.equal(await r2.lockResv(ctx), 0);
      assert.equal(await r1.lockResv(ctx), 0); // same class, under a context: fine in any order
      await m.lock();
      m.unlock();
      r1.unlock();
      r2.unlock();
      ctx.fini();
    });
    await expectWarn(() => lockdepTask(async () => {
      await m.lock();
      await r1.lockResv(null);
      r1.unlock();
      m.unlock();
    }), 1);
    assert.match(dmesg(), /acquiring dma_resv while holding driver->mutex/);
    r1.fini();
    r2.fini();
  });

  test('two locks of one plain class nested: recursive locking; trylock adds no order; off means off', async () => {
    const x = new Mutex('same');
    const y = new Mutex('same');
    await expectWarn(() => inOrder(x, y), 1);
    const p = new Mutex('P');
    const q = new Mutex('Q');
    await lockdepTask(async () => {
      await p.lock();
      assert.equal(q.trylock(), 1);
      q.unlock();
      p.unlock();
    });
    await inOrder(q, p); // no P -> Q order was recorded by the trylock
    kconfig.PROVE_LOCKING = false;
    const s = new Mutex('S');
    const t = new Mutex('T');
    await inOrder(s, t);
    await inOrder(t, s);
  });
});
