/**
 * Port of kernel/locking/test-ww_mutex.c: test_mutex (all 8 flag
 * combinations), test_aa (lock and trylock), test_abba (4 variants),
 * test_cycle (2..ncpus+1 threads) and the three stress runs, for both the
 * Wound-Wait class and the Wait-Die class, asserting what the original
 * asserts.
 *
 * Concurrency: the kernel runs in one thread (DESIGN.md), so work items
 * and kthreads are async tasks; they interleave wherever a task sleeps (a
 * lock wait, a completion, the stress load's 1-2 ms sleep), which is where
 * a kthread would be preempted by the contention the test provokes. ncpus
 * is the machine's core count, as num_online_cpus().
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { sleep, yieldNow } from '../helpers/harness.js';
import { DEFINE_WD_CLASS, DEFINE_WW_CLASS, WwAcquireCtx, WwClass, WwMutex } from '../../src/kernel/locking/ww-mutex.js';
import { Completion } from '../../src/kernel/lib/completion.js';
import { EALREADY, EDEADLK, EINVAL } from '../../src/kernel/lib/errno.js';
import { HZ, jiffies } from '../../src/kernel/lib/time.js';

const ncpus = availableParallelism();

const TEST_MTX_SPIN = 1 << 0;
const TEST_MTX_TRY = 1 << 1;
const TEST_MTX_CTX = 1 << 2;
const TEST_MTX_LAST = 1 << 3;

/** ww_acquire_init_noinject(): injection is off unless a test turns it on. */
const acquireInit = (c: WwClass): WwAcquireCtx => new WwAcquireCtx(c);

async function __testMutex(cls: WwClass, flags: number): Promise<number> {
  const TIMEOUT = HZ / 16;
  const mutex = new WwMutex(cls);
  const ready = new Completion();
  const go = new Completion();
  const done = new Completion();
  const ctx = flags & TEST_MTX_CTX ? acquireInit(cls) : null;

  const work = (async () => {
    ready.complete();
    await go.wait();
    if (flags & TEST_MTX_TRY) {
      while (!mutex.trylock(null)) await yieldNow();
    } else {
      await mutex.lock(null);
    }
    done.complete();
    mutex.unlock();
  })();

  await ready.wait();
  await mutex.lock(ctx);
  go.complete();
  let ret: number;
  if (flags & TEST_MTX_SPIN) {
    const timeout = jiffies() + TIMEOUT;
    ret = 0;
    do {
      if (done.completionDone()) {
        ret = -EINVAL;
        break;
      }
      await yieldNow();
    } while (jiffies() < timeout);
  } else {
    ret = await done.waitTimeout(TIMEOUT);
  }
  mutex.unlock();
  ctx?.fini();
  await work; // flush_work
  return ret ? -EINVAL : 0;
}

async function testAa(cls: WwClass, trylock: boolean): Promise<void> {
  const from = trylock ? 'trylock' : 'lock';
  const mutex = new WwMutex(cls);
  const ctx = acquireInit(cls);
  try {
    if (!trylock) assert.equal(await mutex.lock(ctx), 0, 'initial lock failed!');
    else assert.equal(mutex.trylock(ctx), 1, 'initial trylock failed!');
    assert.equal(mutex.ctx, ctx);
    assert.equal(mutex.trylock(null), 0, `trylocked itself without context from ${from}!`);
    assert.equal(mutex.trylock(ctx), 0, `trylocked itself with context from ${from}!`);
    const ret = await mutex.lock(ctx);
    assert.equal(ret, -EALREADY, `missed deadlock for recursing, ret=${ret} from ${from}`);
    mutex.unlock();
  } finally {
    ctx.fini();
  }
}

async function testAbba(cls: WwClass, trylock: boolean, resolve: boolean): Promise<void> {
  const aMutex = new WwMutex(cls);
  const bMutex = new WwMutex(cls);
  const aReady = new Completion();
  const bReady = new Completion();
  let result = 0;

  const work = (async () => {
    const ctx = acquireInit(cls);
    if (!trylock) await bMutex.lock(ctx);
    else assert.equal(bMutex.trylock(ctx), 1);
    assert.equal(bMutex.ctx, ctx);
    bReady.complete();
    await aReady.wait();
    let err = await aMutex.lock(ctx);
    if (resolve && err === -EDEADLK) {
      bMutex.unlock();
      await aMutex.lockSlow(ctx);
      err = await bMutex.lock(ctx);
    }
    if (!err) aMutex.unlock();
    bMutex.unlock();
    ctx.fini();
    result = err;
  })();

  const ctx = acquireInit(cls);
  if (!trylock) await aMutex.lock(ctx);
  else assert.equal(aMutex.trylock(ctx), 1);
  assert.equal(aMutex.ctx, ctx);
  aReady.complete();
  await bReady.wait();
  let err = await bMutex.lock(ctx);
  if (resolve && err === -EDEADLK) {
    aMutex.unlock();
    await bMutex.lockSlow(ctx);
    err = await aMutex.lock(ctx);
  }
  if (!err) bMutex.unlock();
  aMutex.unlock();
  ctx.fini();
  await work;

  if (resolve) {
    assert.ok(!err && !result, `failed to resolve ABBA deadlock, A err=${err}, B err=${result}`);
  } else {
    assert.ok(err === -EDEADLK || result === -EDEADLK, `missed ABBA deadlock, A err=${err}, B err=${result}`);
  }
}

async function __testCycle(cls: WwClass, nthreads: number): Promise<void> {
  interface Cycle { aMutex: WwMutex; bMutex?: WwMutex; aSignal?: Completion; bSignal: Completion; result: number }
  const last = nthreads - 1;
  const cycles: Cycle[] = Array.from({ length: nthreads }, () => ({ aMutex: new WwMutex(cls), bSignal: new Completion(), result: 0 }));
  for (let n = 0; n < nthreads; n++) {
    cycles[n].bMutex = n === last ? cycles[0].aMutex : cycles[n + 1].aMutex;
    cycles[n].aSignal = n === 0 ? cycles[last].bSignal : cycles[n - 1].bSignal;
  }
  async function cycleWork(cycle: Cycle): Promise<void> {
    const ctx = acquireInit(cls);
    let erra = 0;
    await cycle.aMutex.lock(ctx);
    cycle.aSignal!.complete();
    await cycle.bSignal.wait();
    let err = await cycle.bMutex!.lock(ctx);
    if (err === -EDEADLK) {
      err = 0;
      cycle.aMutex.unlock();
      await cycle.bMutex!.lockSlow(ctx);
      erra = await cycle.aMutex.lock(ctx);
    }
    if (!err) cycle.bMutex!.unlock();
    if (!erra) cycle.aMutex.unlock();
    ctx.fini();
    cycle.result = err || erra;
  }
  await Promise.all(cycles.map(cycleWork)); // flush_workqueue
  cycles.forEach((c, n) => assert.equal(c.result, 0, `cyclic deadlock not resolved, ret[${n}/${nthreads}] = ${c.result}`));
  for (const c of cycles) c.aMutex.destroy();
}

function getRandomOrder(count: number): number[] {
  const order = Array.from({ length: count }, (_, n) => n);
  for (let n = count - 1; n > 1; n--) {
    const r = Math.floor(Math.random() * (n + 1));
    if (r !== n) [order[n], order[r]] = [order[r], order[n]];
  }
  return order;
}

/** dummy_load(): usleep_range(1000, 2000) */
const dummyLoad = (): Promise<void> => sleep(1 + Math.random());

interface Stress { locks: WwMutex[]; cls: WwClass; timeout: number; nlocks: number; errors: string[]; rounds: number }

async function stressInorderWork(s: Stress): Promise<void> {
  const { nlocks, locks } = s;
  const order = getRandomOrder(nlocks);
  do {
    let contended = -1;
    let n = 0;
    let err = 0;
    const ctx = new WwAcquireCtx(s.cls);
    for (;;) {
      err = 0;
      for (n = 0; n < nlocks; n++) {
        if (n === contended) continue;
        err = await locks[order[n]].lock(ctx);
        if (err < 0) break;
      }
      if (!err) await dummyLoad();
      if (contended > n) locks[order[contended]].unlock();
      contended = n;
      while (n--) locks[order[n]].unlock();
      if (err === -EDEADLK && jiffies() <= s.timeout) {
        await locks[order[contended]].lockSlow(ctx);
        continue; // goto retry
      }
      break;
    }
    ctx.fini();
    if (err) {
      // -EDEADLK when the time ran out mid back-off is how the loop stops
      // (the original only pr_err_once()s it and stress() returns 0).
      if (!(err === -EDEADLK && jiffies() > s.timeout)) s.errors.push(`stress (stress_inorder_work) failed with ${err}`);
      break;
    }
    s.rounds++;
  } while (jiffies() <= s.timeout);
}

async function stressReorderWork(s: Stress): Promise<void> {
  const order = getRandomOrder(s.nlocks);
  // list_add() of each lock: the list ends up in reverse order
  let list = order.map((i) => s.locks[i]).reverse();
  do {
    const ctx = new WwAcquireCtx(s.cls);
    let failed = false;
    for (let i = 0; i < list.length; i++) {
      const err = await list[i].lock(ctx);
      if (!err) continue;
      for (let j = i - 1; j >= 0; j--) list[j].unlock();
      if (err !== -EDEADLK) {
        s.errors.push(`stress (stress_reorder_work) failed with ${err}`);
        failed = true;
        break;
      }
      await list[i].lockSlow(ctx);
      list = [list[i], ...list.slice(0, i), ...list.slice(i + 1)]; // list_move(): restarts iteration
      i = 0; // the moved lock (now first) is held
    }
    if (failed) {
      ctx.fini();
      break;
    }
    await dummyLoad();
    for (const l of list) l.unlock();
    ctx.fini();
    s.rounds++;
  } while (jiffies() <= s.timeout);
}

async function stressOneWork(s: Stress): Promise<void> {
  const lock = s.locks[Math.floor(Math.random() * s.nlocks)];
  do {
    const err = await lock.lock(null);
    if (!err) {
      await dummyLoad();
      lock.unlock();
      s.rounds++;
    } else {
      s.errors.push(`stress (stress_one_work) failed with ${err}`);
      break;
    }
  } while (jiffies() <= s.timeout);
}

const STRESS_INORDER = 1 << 0;
const STRESS_REORDER = 1 << 1;
const STRESS_ONE = 1 << 2;
const STRESS_ALL = STRESS_INORDER | STRESS_REORDER | STRESS_ONE;

async function stress(cls: WwClass, nlocks: number, nthreads: number, flags: number): Promise<Stress> {
  const s: Stress = { locks: Array.from({ length: nlocks }, () => new WwMutex(cls)), cls, timeout: jiffies() + 2 * HZ, nlocks, errors: [], rounds: 0 };
  const works: Promise<void>[] = [];
  for (let n = 0; nthreads; n++) {
    let fn: ((s: Stress) => Promise<void>) | null = null;
    switch (n & 3) {
      case 0:
        if (flags & STRESS_INORDER) fn = stressInorderWork;
        break;
      case 1:
        if (flags & STRESS_REORDER) fn = stressReorderWork;
        break;
      case 2:
        if (flags & STRESS_ONE) fn = stressOneWork;
        break;
    }
    if (!fn) continue;
    works.push(fn(s));
    nthreads--;
  }
  await Promise.all(works); // flush_workqueue
  for (const l of s.locks) {
    assert.equal(l.isLocked(), false, 'every lock released');
    l.destroy();
  }
  return s;
}

for (const [label, makeClass] of [['ww (wound)', () => DEFINE_WW_CLASS('ww_class')], ['ww (die)', () => DEFINE_WD_CLASS('wd_class')]] as const) {
  describe(`test-ww_mutex: ${label}`, () => {
    const cls = makeClass();

    test('test_mutex', async () => {
      for (let i = 0; i < TEST_MTX_LAST; i++) {
        assert.equal(await __testMutex(cls, i), 0, `__test_mutex(flags=${i.toString(16)}): mutual exclusion failure`);
      }
    });

    test('test_aa (lock)', () => testAa(cls, false));
    test('test_aa (trylock)', () => testAa(cls, true));

    for (let i = 0; i < 4; i++) {
      test(`test_abba (trylock=${!!(i & 1)}, resolve=${!!(i & 2)})`, () => testAbba(cls, !!(i & 1), !!(i & 2)));
    }

    test('test_cycle', async () => {
      for (let n = 2; n <= ncpus + 1; n++) await __testCycle(cls, n);
    });

    for (const [name, nlocks, nthreads, flags] of [
      ['stress (16 locks, inorder)', 16, 2 * ncpus, STRESS_INORDER],
      ['stress (16 locks, reorder)', 16, 2 * ncpus, STRESS_REORDER],
      ['stress (2046 locks, all)', 2046, 3 * ncpus, STRESS_ALL],
    ] as const) {
      test(name, async () => {
        const s = await stress(cls, nlocks, nthreads, flags);
        assert.deepEqual(s.errors, []);
        assert.ok(s.rounds > 0, 'every worker made progress');
      });
    }
  });
}
