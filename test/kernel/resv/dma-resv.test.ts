/** dma-resv contract and error paths (drivers/dma-buf/dma-resv.c, include/linux/dma-resv.h). */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { expectWarn, inFreshKernel, sleep } from '../../helpers/harness.js';
import { DmaFence, type DmaFenceOps, dmaFenceContextAlloc } from '../../../src/kernel/fence/dma-fence.js';
import { dmaFenceArrayCreate, dmaFenceIsArray } from '../../../src/kernel/fence/dma-fence-array.js';
import {
  DmaResv, DmaResvIter, dmaResvForEachFence, dmaResvForEachFenceUnlocked, dmaResvUsageRw, kmallocSizeRoundup, reservationWwClass,
  DMA_RESV_USAGE_BOOKKEEP, DMA_RESV_USAGE_KERNEL, DMA_RESV_USAGE_READ, DMA_RESV_USAGE_WRITE, type DmaResvUsage,
} from '../../../src/kernel/resv/dma-resv.js';
import { WwAcquireCtx } from '../../../src/kernel/locking/ww-mutex.js';
import { EDEADLK, ENOMEM, ERESTARTSYS } from '../../../src/kernel/lib/errno.js';
import { failAllocDisarm, failNthAlloc } from '../../../src/kernel/lib/failslab.js';
import type { Out } from '../../../src/kernel/lib/out.js';

const ops: DmaFenceOps = { getDriverName: () => 'drv', getTimelineName: () => 'tl' };
const fence = (ctx: number, seqno = 1): DmaFence => new DmaFence(ops, ctx, seqno);

async function locked(): Promise<DmaResv> {
  const r = new DmaResv();
  assert.equal(await r.lockResv(null), 0);
  return r;
}

function entries(r: DmaResv, usage: DmaResvUsage = DMA_RESV_USAGE_BOOKKEEP): [DmaFence, DmaResvUsage][] {
  return [...dmaResvForEachFence(r, usage)];
}

function done(r: DmaResv, fences: DmaFence[]): void {
  if (r.isLocked()) r.unlock();
  r.fini();
  for (const f of fences) {
    f.signal();
    f.put();
  }
}

describe('dma_resv usages', () => {
  test('the order KERNEL < WRITE < READ < BOOKKEEP and dma_resv_usage_rw', () => {
    assert.deepEqual([DMA_RESV_USAGE_KERNEL, DMA_RESV_USAGE_WRITE, DMA_RESV_USAGE_READ, DMA_RESV_USAGE_BOOKKEEP], [0, 1, 2, 3]);
    assert.equal(dmaResvUsageRw(true), DMA_RESV_USAGE_READ, 'a writer waits for readers and writers');
    assert.equal(dmaResvUsageRw(false), DMA_RESV_USAGE_WRITE, 'a reader waits for writers');
  });

  test('a query for usage U sees every fence with usage <= U', async () => {
    const r = await locked();
    const fs = [0, 1, 2, 3].map(() => fence(dmaFenceContextAlloc(1)));
    assert.equal(r.reserveFences(4), 0);
    fs.forEach((f, u) => r.addFence(f, u as DmaResvUsage));
    for (let u = 0; u < 4; u++) {
      assert.deepEqual(entries(r, u as DmaResvUsage).map(([f]) => f), fs.slice(0, u + 1));
      assert.equal([...dmaResvForEachFenceUnlocked(r, u as DmaResvUsage)].length, u + 1);
    }
    fs[0].signal();
    fs[1].signal();
    assert.equal(r.testSignaled(DMA_RESV_USAGE_WRITE), true);
    assert.equal(r.testSignaled(DMA_RESV_USAGE_READ), false);
    done(r, fs);
  });
});

describe('dma_resv_reserve_fences / dma_resv_add_fence', () => {
  test('capacity: at least 4, rounded up to the kmalloc bucket; reservations do not survive unlock', async () => {
    const r = await locked();
    assert.equal(r.reserveFences(1), 0);
    assert.equal(r.fences!.maxFences, 5, '24 + 4*8 = 56 bytes -> the 64-byte bucket holds 5');
    assert.equal(kmallocSizeRoundup(56), 64);
    assert.equal(kmallocSizeRoundup(97), 128);
    assert.equal(kmallocSizeRoundup(300), 512);
    const f = fence(dmaFenceContextAlloc(1));
    r.addFence(f, DMA_RESV_USAGE_READ);
    r.unlock();
    assert.equal(r.fences!.maxFences, 1, 'CONFIG_DEBUG_MUTEXES: max_fences = num_fences at unlock');
    await r.lockResv(null);
    assert.equal(r.reserveFences(1), 0);
    assert.ok(r.fences!.maxFences >= 2);
    done(r, [f]);
  });

  test('growing keeps unsignaled fences and drops signaled ones', async () => {
    const r = await locked();
    r.reserveFences(1);
    const fs = Array.from({ length: 5 }, () => fence(dmaFenceContextAlloc(1)));
    for (const f of fs) r.addFence(f, DMA_RESV_USAGE_READ);
    fs[1].signal();
    fs[3].signal();
    const before = r.fences;
    assert.equal(r.reserveFences(10), 0);
    assert.notEqual(r.fences, before, 'a new list');
    assert.deepEqual(entries(r).map(([f]) => f), [fs[0], fs[2], fs[4]]);
    assert.equal(fs[1].refcount, 1, 'the dropped fence lost the reference the list held');
    done(r, fs);
  });

  test('huge reservations fail with -ENOMEM (kmalloc limit), as does a failed allocation', async () => {
    const r = await locked();
    assert.equal(r.reserveFences(1 << 20), -ENOMEM);
    failNthAlloc(1, ['slab']);
    try {
      assert.equal(r.reserveFences(1), -ENOMEM);
    } finally {
      failAllocDisarm();
    }
    assert.equal(r.fences, null, 'nothing changed');
    done(r, []);
  });

  test('a later fence of the same context replaces the earlier one in place', async () => {
    const r = await locked();
    r.reserveFences(2);
    const ctx = dmaFenceContextAlloc(1);
    const f1 = fence(ctx, 1);
    const f2 = fence(ctx, 2);
    r.addFence(f1, DMA_RESV_USAGE_WRITE);
    r.addFence(f2, DMA_RESV_USAGE_WRITE);
    assert.deepEqual(entries(r), [[f2, DMA_RESV_USAGE_WRITE]]);
    assert.equal(f1.refcount, 1);
    done(r, [f1, f2]);
  });

  test('an earlier fence of the same context does not replace a later one', async () => {
    const r = await locked();
    r.reserveFences(2);
    const ctx = dmaFenceContextAlloc(1);
    const f1 = fence(ctx, 1);
    const f2 = fence(ctx, 2);
    r.addFence(f2, DMA_RESV_USAGE_WRITE);
    r.addFence(f1, DMA_RESV_USAGE_WRITE);
    assert.deepEqual(entries(r), [[f2, DMA_RESV_USAGE_WRITE], [f1, DMA_RESV_USAGE_WRITE]]);
    done(r, [f1, f2]);
  });

  test('usages are promoted, never degraded', async () => {
    const r = await locked();
    r.reserveFences(3);
    const ctx = dmaFenceContextAlloc(1);
    const f = fence(ctx, 1);
    r.addFence(f, DMA_RESV_USAGE_BOOKKEEP);
    // the same fence with a stronger usage replaces the entry (dma_fence_is_later_or_same)
    r.addFence(f, DMA_RESV_USAGE_READ);
    assert.deepEqual(entries(r), [[f, DMA_RESV_USAGE_READ]]);
    // with a weaker usage it is appended: the READ entry stays
    r.addFence(f, DMA_RESV_USAGE_BOOKKEEP);
    assert.deepEqual(entries(r), [[f, DMA_RESV_USAGE_READ], [f, DMA_RESV_USAGE_BOOKKEEP]]);
    // a later WRITE replaces the READ entry of its context
    const g = fence(ctx, 2);
    r.addFence(g, DMA_RESV_USAGE_WRITE);
    assert.deepEqual(entries(r), [[g, DMA_RESV_USAGE_WRITE], [f, DMA_RESV_USAGE_BOOKKEEP]]);
    done(r, [f, g]);
  });

  test('a signaled entry is reused by any fence', async () => {
    const r = await locked();
    r.reserveFences(1);
    const a = fence(dmaFenceContextAlloc(1));
    const b = fence(dmaFenceContextAlloc(1));
    r.addFence(a, DMA_RESV_USAGE_READ);
    a.signal();
    r.addFence(b, DMA_RESV_USAGE_KERNEL);
    assert.deepEqual(entries(r), [[b, DMA_RESV_USAGE_KERNEL]]);
    done(r, [a, b]);
  });

  test('a container WARNs (it is added all the same, as Linux does)', async () => {
    const r = await locked();
    r.reserveFences(1);
    const f = fence(dmaFenceContextAlloc(1));
    const array = dmaFenceArrayCreate([f.get()], dmaFenceContextAlloc(1), 1, false)!;
    await expectWarn(() => r.addFence(array, DMA_RESV_USAGE_READ), 1);
    done(r, [f]);
    array.put();
  });

  test('a usage outside KERNEL..BOOKKEEP WARNs and adds nothing', async () => {
    const r = await locked();
    r.reserveFences(1);
    const f = fence(dmaFenceContextAlloc(1));
    await expectWarn(() => r.addFence(f, 4 as DmaResvUsage), 1);
    await expectWarn(() => r.replaceFences(f.context, f, -1 as DmaResvUsage), 1);
    assert.deepEqual(entries(r), []);
    assert.equal(f.refcount, 1);
    done(r, [f]);
  });

  test('without the lock: WARN (dma_resv_assert_held)', async () => {
    const r = new DmaResv();
    await expectWarn(() => r.reserveFences(1), 1);
    assert.equal(r.testSignaled(DMA_RESV_USAGE_READ), true, 'the unlocked queries need no lock');
    // the locked iterator asserts in dma_resv_iter_first() and in dma_resv_iter_next()
    await expectWarn(() => [...dmaResvForEachFence(r, DMA_RESV_USAGE_READ)], 2);
    r.fini();
  });

  test('adding without a reserved slot is a BUG (taints; in its own kernel)', async () => {
    const msg = await inFreshKernel<{ threw: string; added: number; refs: number; died: number }>(`
      const r = new k.DmaResv();
      await r.lockResv(null);
      const ops = { getDriverName: () => 'd', getTimelineName: () => 't' };
      r.reserveFences(1);
      const fs = [];
      let threw = '';
      try {
        for (let i = 0; i < 6; i++) { const f = new k.DmaFence(ops, 100 + i, 1); fs.push(f); r.addFence(f, 2); }
      } catch (e) { threw = e instanceof k.KernelBug ? 'KernelBug' : String(e); }
      return { threw, added: fs.length, refs: fs.at(-1).refcount, died: (k.getTaint() >> k.TAINT_DIE) & 1 };
    `);
    assert.equal(msg.threw, 'KernelBug');
    assert.equal(msg.added, 6, 'the 6th add overflows the 5 slots');
    assert.equal(msg.refs, 1, 'no reference taken for the refused fence');
    assert.equal(msg.died, 1);
  });
});

describe('dma_resv locking', () => {
  test('lock/trylock/is_locked/locking_ctx/unlock; the class is reservation_ww_class (wait-die)', async () => {
    const r = new DmaResv();
    assert.equal(r.lock.wwClass, reservationWwClass);
    assert.equal(reservationWwClass.isWaitDie, true);
    assert.equal(r.trylock(), true);
    assert.equal(r.trylock(), false);
    assert.equal(r.isLocked(), true);
    r.unlock();
    const ctx = new WwAcquireCtx(reservationWwClass);
    assert.equal(await r.lockResv(ctx), 0);
    assert.equal(r.lockingCtx(), ctx);
    r.unlock();
    ctx.fini();
    r.fini();
  });

  test('two objects locked in opposite orders: the younger backs off with -EDEADLK and lock_slow resolves it', async () => {
    const a = new DmaResv();
    const b = new DmaResv();
    const older = new WwAcquireCtx(reservationWwClass);
    const younger = new WwAcquireCtx(reservationWwClass);
    await a.lockResv(older);
    await b.lockResv(younger);
    const olderB = b.lockResv(older);
    assert.equal(await a.lockResv(younger), -EDEADLK);
    b.unlock();
    assert.equal(await olderB, 0);
    const slow = a.lockSlow(younger);
    a.unlock();
    b.unlock();
    older.fini();
    await slow;
    assert.equal(await b.lockResv(younger), 0);
    a.unlock();
    b.unlock();
    younger.fini();
    a.fini();
    b.fini();
  });
});

describe('dma_resv queries', () => {
  test('replace_fences: every entry of a context', async () => {
    const r = await locked();
    r.reserveFences(3);
    const ctx = dmaFenceContextAlloc(1);
    const a = fence(ctx, 1);
    const other = fence(dmaFenceContextAlloc(1));
    const rep = fence(dmaFenceContextAlloc(1));
    r.addFence(a, DMA_RESV_USAGE_READ);
    r.addFence(other, DMA_RESV_USAGE_READ);
    r.replaceFences(ctx, rep, DMA_RESV_USAGE_BOOKKEEP);
    assert.deepEqual(entries(r), [[rep, DMA_RESV_USAGE_BOOKKEEP], [other, DMA_RESV_USAGE_READ]]);
    assert.equal(a.refcount, 1);
    done(r, [a, other, rep]);
  });

  test('get_fences: unsignaled only, each with a reference; -ENOMEM leaves nothing', async () => {
    const r = await locked();
    r.reserveFences(3);
    const fs = [0, 1, 2].map(() => fence(dmaFenceContextAlloc(1)));
    fs.forEach((f) => r.addFence(f, DMA_RESV_USAGE_READ));
    fs[1].signal();
    const out: Out<DmaFence[]> = { value: [] };
    assert.equal(r.getFences(DMA_RESV_USAGE_READ, out), 0);
    assert.deepEqual(out.value, [fs[0], fs[2]]);
    assert.equal(fs[0].refcount, 3);
    for (const f of out.value) f.put();
    failNthAlloc(1, ['slab']);
    try {
      assert.equal(r.getFences(DMA_RESV_USAGE_READ, out), -ENOMEM);
    } finally {
      failAllocDisarm();
    }
    assert.deepEqual(out.value, []);
    assert.equal(fs[0].refcount, 2);
    done(r, fs);
  });

  test('get_singleton: null, the fence itself, or a new array', async () => {
    const r = await locked();
    const out: Out<DmaFence | null> = { value: null };
    assert.equal(r.getSingleton(DMA_RESV_USAGE_READ, out), 0);
    assert.equal(out.value, null);
    r.reserveFences(2);
    const a = fence(dmaFenceContextAlloc(1));
    r.addFence(a, DMA_RESV_USAGE_WRITE);
    r.getSingleton(DMA_RESV_USAGE_READ, out);
    assert.equal(out.value, a);
    a.put();
    const b = fence(dmaFenceContextAlloc(1));
    r.addFence(b, DMA_RESV_USAGE_READ);
    r.getSingleton(DMA_RESV_USAGE_READ, out);
    const arr = out.value as DmaFence;
    assert.ok(dmaFenceIsArray(arr));
    failNthAlloc(2, ['slab']); // get_fences succeeds, the array allocation fails
    try {
      assert.equal(r.getSingleton(DMA_RESV_USAGE_READ, out), -ENOMEM);
    } finally {
      failAllocDisarm();
    }
    assert.equal(a.refcount, 3, 'the list and the array hold a; the failed call left nothing');
    arr.put();
    done(r, [a, b]);
  });

  test('copy_fences: every unsignaled fence of every usage, usages kept; -ENOMEM changes nothing', async () => {
    const src = await locked();
    const dst = await locked();
    src.reserveFences(3);
    const fs = [0, 1, 2].map(() => fence(dmaFenceContextAlloc(1)));
    src.addFence(fs[0], DMA_RESV_USAGE_KERNEL);
    src.addFence(fs[1], DMA_RESV_USAGE_BOOKKEEP);
    src.addFence(fs[2], DMA_RESV_USAGE_READ);
    fs[2].signal();
    dst.reserveFences(1);
    const old = fence(dmaFenceContextAlloc(1));
    dst.addFence(old, DMA_RESV_USAGE_WRITE);
    failNthAlloc(1, ['slab']);
    try {
      assert.equal(dst.copyFences(src), -ENOMEM);
    } finally {
      failAllocDisarm();
    }
    assert.deepEqual(entries(dst), [[old, DMA_RESV_USAGE_WRITE]]);
    assert.equal(dst.copyFences(src), 0);
    assert.deepEqual(entries(dst), [[fs[0], DMA_RESV_USAGE_KERNEL], [fs[1], DMA_RESV_USAGE_BOOKKEEP]]);
    assert.equal(old.refcount, 1, 'the old list was released');
    done(dst, [old]);
    done(src, fs);
  });

  test('wait_timeout: 0 tests; waits for every fence; times out with 0; -ERESTARTSYS', async () => {
    const r = await locked();
    r.reserveFences(2);
    const a = fence(dmaFenceContextAlloc(1));
    const b = fence(dmaFenceContextAlloc(1));
    r.addFence(a, DMA_RESV_USAGE_WRITE);
    r.addFence(b, DMA_RESV_USAGE_BOOKKEEP);
    r.unlock();
    assert.equal(await r.waitTimeout(DMA_RESV_USAGE_READ, false, 0), 0);
    assert.equal(await r.waitTimeout(DMA_RESV_USAGE_READ, false, 5), 0);
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 2);
    assert.equal(await r.waitTimeout(DMA_RESV_USAGE_READ, true, 10_000, ac.signal), -ERESTARTSYS);
    setTimeout(() => a.signal(), 2);
    const ret = await r.waitTimeout(DMA_RESV_USAGE_READ, false, 10_000);
    assert.ok(ret > 0 && ret <= 10_000);
    assert.equal(await r.waitTimeout(DMA_RESV_USAGE_READ, false, 0), 1, 'nothing pending: 1');
    assert.equal(await r.waitTimeout(DMA_RESV_USAGE_BOOKKEEP, false, 0), 0, 'bookkeep still pending');
    done(r, [a, b]);
  });

  test('the unlocked walk restarts when the list is replaced under it', async () => {
    const r = await locked();
    r.reserveFences(1);
    const a = fence(dmaFenceContextAlloc(1));
    r.addFence(a, DMA_RESV_USAGE_READ);
    r.unlock();
    const cursor = new DmaResvIter(r, DMA_RESV_USAGE_READ);
    assert.equal(cursor.firstUnlocked(), a);
    assert.ok(cursor.isRestarted());
    // a writer grows the list meanwhile
    await r.lockResv(null);
    r.reserveFences(8);
    const b = fence(dmaFenceContextAlloc(1));
    r.addFence(b, DMA_RESV_USAGE_READ);
    r.unlock();
    assert.equal(cursor.nextUnlocked(), a, 'restarted from the first fence');
    assert.ok(cursor.isRestarted());
    assert.equal(cursor.nextUnlocked(), b);
    assert.equal(cursor.isRestarted(), false);
    assert.equal(cursor.nextUnlocked(), null);
    cursor.end();
    done(r, [a, b]);
  });

  test('set_deadline reaches every unsignaled fence up to the usage', async () => {
    const seen: bigint[] = [];
    const dops: DmaFenceOps = { ...ops, setDeadline: (f, d) => void seen.push(BigInt(f.context * 1000) + d) };
    const r = await locked();
    r.reserveFences(2);
    const a = new DmaFence(dops, 1, 1);
    const b = new DmaFence(dops, 2, 1);
    r.addFence(a, DMA_RESV_USAGE_WRITE);
    r.addFence(b, DMA_RESV_USAGE_BOOKKEEP);
    r.setDeadline(DMA_RESV_USAGE_READ, 7n);
    assert.deepEqual(seen, [1007n]);
    done(r, [a, b]);
  });

  test('describe: one line per fence up to READ, signaled ones too', async () => {
    const r = await locked();
    r.reserveFences(3);
    const a = fence(11, 1);
    const b = fence(12, 2);
    const c = fence(13, 3);
    r.addFence(a, DMA_RESV_USAGE_WRITE);
    r.addFence(b, DMA_RESV_USAGE_READ);
    r.addFence(c, DMA_RESV_USAGE_BOOKKEEP);
    b.signal();
    // dma_resv_describe(): "\t%s fence:" then dma_fence_describe() (Linux 6.12 dma-resv.c and dma-fence.c)
    assert.equal(r.describe(), '\twrite fence:drv tl seq 1 unsignalled\n\tread fence:drv tl seq 2 signalled\n');
    done(r, [a, b, c]);
  });

  test('fini drops every fence reference', async () => {
    const r = await locked();
    r.reserveFences(1);
    const a = fence(dmaFenceContextAlloc(1));
    r.addFence(a, DMA_RESV_USAGE_READ);
    r.unlock();
    r.fini();
    assert.equal(a.refcount, 1);
    a.signal();
    a.put();
    await sleep(0);
  });
});
