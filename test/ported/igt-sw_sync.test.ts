/**
 * Port of igt-gpu-tools tests/sw_sync.c, every subtest under its original
 * name, asserting what the original asserts, as processes of a machine
 * through the real ioctls. Where the original forks or starts pthreads,
 * the other side is a process in a worker thread: the fds it needs are
 * passed to it (what fork inheritance or a shared fd table gave the C
 * test), shared counters and semaphores are Atomics on a
 * SharedArrayBuffer. multi_consumer_threads is min(8, CPUs), as igt does.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import type { Machine, Process } from '../../src/index.js';
import * as u from '../../src/uapi/index.js';
import { backendSkip, spawnWorker, useProcess } from '../helpers/machine.js';
import {
  __swSyncTimelineCreateFence, close, ETIME, SW_SYNC_FENCE_STATUS_ACTIVE, SW_SYNC_FENCE_STATUS_SIGNALED, syncFenceCountStatus,
  syncFenceMerge, syncFenceStatus, syncFenceWait, swSyncTimelineCreate, swSyncTimelineCreateFence, swSyncTimelineInc,
} from '../helpers/igt.js';

const igtUrl = new URL('../helpers/igt.js', import.meta.url).href;
const multiConsumerThreads = Math.min(8, availableParallelism());
const MULTI_CONSUMER_ITERATIONS = 1 << 12;

let machine: Machine;
let proc: Process;
useProcess('sw_sync', (m, p) => {
  machine = m;
  proc = p;
});

/** the primes below n (igt_primes) */
function* primes(n: number): Generator<number> {
  outer: for (let p = 2; p < n; p++) {
    for (let d = 2; d * d <= p; d++) if (p % d === 0) continue outer;
    yield p;
  }
}

/** Run `fn` repeatedly for `seconds` (igt_until_timeout). */
function untilTimeout(seconds: number, fn: () => boolean | void): void {
  const end = performance.now() + seconds * 1000;
  while (performance.now() < end) if (fn() === false) break;
}

describe('sw_sync', { skip: backendSkip }, () => {
  test('alloc_timeline', () => {
    const timeline = swSyncTimelineCreate(proc);
    proc.close(timeline);
  });

  test('alloc_fence', () => {
    const timeline = swSyncTimelineCreate(proc);
    const inFence = swSyncTimelineCreateFence(proc, timeline, 0);
    proc.close(inFence);
    proc.close(timeline);
  });

  test('alloc_fence_invalid_timeline', () => {
    assert.ok(__swSyncTimelineCreateFence(proc, -1, 0) < 0, 'Did not fail to create fence on invalid timeline');
  });

  test('timeline_closed', () => {
    const timeline = swSyncTimelineCreate(proc);
    const fence = swSyncTimelineCreateFence(proc, timeline, 1);
    proc.close(timeline);
    assert.equal(syncFenceWait(proc, fence, 0), 0, 'Failure waiting on unsignaled fence on closed timeline');
    assert.equal(syncFenceStatus(proc, fence), -2, 'Failure in marking up an unsignaled fence on closed timeline (-ENOENT)');
    proc.close(fence);
  });

  test('timeline_closed_signaled', () => {
    const timeline = swSyncTimelineCreate(proc);
    const fence = swSyncTimelineCreateFence(proc, timeline, 1);
    swSyncTimelineInc(proc, timeline, 1);
    proc.close(timeline);
    assert.equal(syncFenceWait(proc, fence, 0), 0, 'Failure waiting on signaled fence for closed timeline');
    proc.close(fence);
  });

  test('alloc_merge_fence', () => {
    const timeline = [swSyncTimelineCreate(proc), swSyncTimelineCreate(proc)];
    const inFence = [swSyncTimelineCreateFence(proc, timeline[0], 1), swSyncTimelineCreateFence(proc, timeline[1], 1)];
    const merge = syncFenceMerge(proc, inFence[1], inFence[0]);
    assert.ok(merge >= 0);
    for (const fd of [...inFence, merge, ...timeline]) proc.close(fd);
  });

  test('sync_busy', () => {
    const timeline = swSyncTimelineCreate(proc);
    const fence = swSyncTimelineCreateFence(proc, timeline, 5);
    assert.equal(syncFenceWait(proc, fence, 0), -ETIME, 'Fence signaled early (timeline value 0, fence seqno 5)');
    swSyncTimelineInc(proc, timeline, 1);
    assert.equal(syncFenceWait(proc, fence, 0), -ETIME, 'Fence signaled early (timeline value 1, fence seqno 5)');
    swSyncTimelineInc(proc, timeline, 4);
    assert.equal(syncFenceWait(proc, fence, 0), 0, 'Fence not signaled (timeline value 5, fence seqno 5)');
    swSyncTimelineInc(proc, timeline, 5);
    assert.equal(syncFenceWait(proc, fence, 0), 0, 'Fence not signaled (timeline value 10, fence seqno 5)');
    let seqno = 10;
    for (const prime of primes(100)) {
      seqno += prime;
      const fencePrime = swSyncTimelineCreateFence(proc, timeline, seqno);
      swSyncTimelineInc(proc, timeline, prime);
      assert.equal(syncFenceWait(proc, fencePrime, 0), 0, 'Fence not signaled during test of prime timeline increments');
      proc.close(fencePrime);
    }
    proc.close(fence);
    proc.close(timeline);
  });

  test('sync_busy_fork', async () => {
    const timeline = swSyncTimelineCreate(proc);
    const fence = swSyncTimelineCreateFence(proc, timeline, 1);
    assert.equal(syncFenceWait(proc, fence, 0), -ETIME, 'Fence signaled (it should not have been signalled yet)');
    // igt_fork: the child inherits the timeline fd.
    const child = spawnWorker(machine, `
      const igt = await import(data.igt);
      send({ pid: proc.pid });
      const timeline = proc.receiveFd((await recv()).token);
      await new Promise((r) => setTimeout(r, 1000));
      igt.swSyncTimelineInc(proc, timeline, 1);
    `, { igt: igtUrl });
    const { pid } = (await child.next()) as { pid: number };
    child.post({ token: proc.sendFd(timeline, pid) });
    const { syncFenceWaitAsync } = await import('../helpers/igt.js');
    assert.equal(await syncFenceWaitAsync(proc, fence, 2 * 1000), 0, 'Fence not signaled (timeline value 1 fence seqno 1)');
    await child.result; // igt_waitchildren
    proc.close(fence);
    proc.close(timeline);
  });

  test('sync_busy_fork_unixsocket', async () => {
    const timeline = swSyncTimelineCreate(proc);
    const fence = swSyncTimelineCreateFence(proc, timeline, 1);
    const child = spawnWorker(machine, `
      const igt = await import(data.igt);
      send({ pid: proc.pid });
      // recvmsg(): the timeline arrives as SCM_RIGHTS
      const socketTimeline = proc.receiveFd((await recv()).token);
      igt.swSyncTimelineInc(proc, socketTimeline, 1);
    `, { igt: igtUrl });
    const { pid } = (await child.next()) as { pid: number };
    assert.equal(syncFenceWait(proc, fence, 0), -ETIME, 'Fence signaled (it should not have been signalled yet)');
    child.post({ token: proc.sendFd(timeline, pid) }); // sendmsg()
    const { syncFenceWaitAsync } = await import('../helpers/igt.js');
    assert.equal(await syncFenceWaitAsync(proc, fence, 2 * 1000), 0, 'Fence not signaled (timeline value 1 fence seqno 1)');
    await child.result;
    proc.close(fence);
    proc.close(timeline);
  });

  test('sync_merge_invalid', () => {
    const timeline = swSyncTimelineCreate(proc);
    const inFence = swSyncTimelineCreateFence(proc, timeline, 1);
    let merge = syncFenceMerge(proc, inFence, -1);
    assert.ok(merge < 0, 'Verify invalid fd (-1) handling');
    const drm = proc.open('/dev/dri/card0', u.O_RDWR); // drm_open_driver(DRIVER_ANY)
    merge = syncFenceMerge(proc, inFence, drm);
    assert.ok(merge < 0, 'Verify invalid fd (device fd) handling');
    proc.close(drm);
    const file = proc.memfdCreate('igt-XXXXXX'); // mkstemp()
    merge = syncFenceMerge(proc, inFence, file);
    proc.close(file);
    assert.ok(merge < 0, 'Verify invalid fd (file fd) handling');
    assert.equal(merge, -2, '-ENOENT: fd2 is not a sync_file');
    proc.close(inFence);
    proc.close(timeline);
  });

  test('sync_merge', () => {
    const timeline = swSyncTimelineCreate(proc);
    const inFence = [1, 2, 3].map((v) => swSyncTimelineCreateFence(proc, timeline, v));
    let merge = syncFenceMerge(proc, inFence[0], inFence[1]);
    const first = merge;
    merge = syncFenceMerge(proc, inFence[2], merge);
    proc.close(first);
    for (let i = 0; i < 3; i++) assert.equal(syncFenceCountStatus(proc, inFence[i], SW_SYNC_FENCE_STATUS_ACTIVE), 1, `in_fence[${i}] has too many active fences`);
    assert.equal(syncFenceCountStatus(proc, merge, SW_SYNC_FENCE_STATUS_ACTIVE), 1, 'fence_merge has too many active fences');
    swSyncTimelineInc(proc, timeline, 1);
    assert.equal(syncFenceCountStatus(proc, inFence[0], SW_SYNC_FENCE_STATUS_SIGNALED), 1, 'in_fence[0] did not signal');
    assert.equal(syncFenceCountStatus(proc, merge, SW_SYNC_FENCE_STATUS_ACTIVE), 1, 'fence_merge signaled too early');
    swSyncTimelineInc(proc, timeline, 1);
    assert.equal(syncFenceCountStatus(proc, inFence[1], SW_SYNC_FENCE_STATUS_SIGNALED), 1, 'in_fence[1] did not signal');
    assert.equal(syncFenceCountStatus(proc, merge, SW_SYNC_FENCE_STATUS_ACTIVE), 1, 'fence_merge signaled too early');
    swSyncTimelineInc(proc, timeline, 1);
    assert.equal(syncFenceCountStatus(proc, inFence[2], SW_SYNC_FENCE_STATUS_SIGNALED), 1, 'in_fence[2] did not signal');
    assert.equal(syncFenceCountStatus(proc, merge, SW_SYNC_FENCE_STATUS_ACTIVE), 0, 'fence_merge did not signal');
    assert.equal(syncFenceCountStatus(proc, merge, SW_SYNC_FENCE_STATUS_SIGNALED), 1, 'fence_merge did not signal');
    for (const fd of [...inFence, merge, timeline]) proc.close(fd);
  });

  test('sync_merge_same', () => {
    const timeline = swSyncTimelineCreate(proc);
    const f0 = swSyncTimelineCreateFence(proc, timeline, 1);
    const f1 = syncFenceMerge(proc, f0, f0);
    assert.equal(syncFenceCountStatus(proc, f0, SW_SYNC_FENCE_STATUS_SIGNALED), 0, 'Fence signaled too early');
    swSyncTimelineInc(proc, timeline, 1);
    assert.equal(syncFenceCountStatus(proc, f0, SW_SYNC_FENCE_STATUS_SIGNALED), 1, 'Fence did not signal');
    for (const fd of [f0, f1, timeline]) proc.close(fd);
  });

  test('sync_multi_timeline_wait', () => {
    const timeline = [0, 1, 2].map(() => swSyncTimelineCreate(proc));
    const inFence = timeline.map((t) => swSyncTimelineCreateFence(proc, t, 5));
    let merge = syncFenceMerge(proc, inFence[0], inFence[1]);
    const first = merge;
    merge = syncFenceMerge(proc, inFence[2], merge);
    proc.close(first);
    assert.equal(syncFenceCountStatus(proc, merge, SW_SYNC_FENCE_STATUS_ACTIVE), 3, 'Fence signaled too early');
    assert.equal(syncFenceWait(proc, merge, 0), -ETIME, 'Failure waiting on fence until timeout');
    for (let i = 0; i < 3; i++) {
      swSyncTimelineInc(proc, timeline[i], 5);
      assert.equal(syncFenceCountStatus(proc, merge, SW_SYNC_FENCE_STATUS_ACTIVE), 2 - i, 'Fence did not signal properly');
      assert.equal(syncFenceCountStatus(proc, merge, SW_SYNC_FENCE_STATUS_SIGNALED), i + 1, 'Fence did not signal properly');
    }
    assert.equal(syncFenceWait(proc, merge, 100), 0, 'Failure waiting on signaled fence');
    for (const fd of [...inFence, merge, ...timeline]) proc.close(fd);
  });

  test('sync_multi_consumer', async () => {
    const timeline = swSyncTimelineCreate(proc);
    const shared = new SharedArrayBuffer(8);
    const counter = new Int32Array(shared, 0, 1);
    const sem = new Int32Array(shared, 4, 1);
    const threads = Array.from({ length: multiConsumerThreads }, (_, id) => spawnWorker<number>(machine, `
      const igt = await import(data.igt);
      const counter = new Int32Array(data.shared, 0, 1);
      const sem = new Int32Array(data.shared, 4, 1);
      send({ pid: proc.pid });
      const timeline = proc.receiveFd((await recv()).token);
      for (let i = 0; i < data.iterations; i++) {
        const nextPoint = i * data.threads + data.id;
        const fence = igt.swSyncTimelineCreateFence(proc, timeline, nextPoint);
        if (igt.syncFenceWait(proc, fence, 1000) < 0) return 1;
        if (Atomics.load(counter, 0) !== nextPoint) return 1;
        Atomics.add(sem, 0, 1); // sem_post
        Atomics.notify(sem, 0);
        proc.close(fence);
      }
      return 0;
    `, { igt: igtUrl, shared, id, threads: multiConsumerThreads, iterations: MULTI_CONSUMER_ITERATIONS }, 120_000));
    for (const t of threads) {
      const { pid } = (await t.next()) as { pid: number };
      t.post({ token: proc.sendFd(timeline, pid) });
    }
    // Produce 'content'.
    for (let i = 0; i < multiConsumerThreads * MULTI_CONSUMER_ITERATIONS; i++) {
      // sem_wait() without blocking this thread's event loop
      for (;;) {
        const v = Atomics.load(sem, 0);
        if (v > 0 && Atomics.compareExchange(sem, 0, v, v - 1) === v) break;
        if (v === 0) {
          const w = Atomics.waitAsync(sem, 0, 0, 5000);
          if (w.async) await w.value;
        }
      }
      Atomics.add(counter, 0, 1);
      swSyncTimelineInc(proc, timeline, 1);
    }
    const rets = await Promise.all(threads.map((t) => t.result));
    proc.close(timeline);
    assert.equal(Atomics.load(counter, 0), multiConsumerThreads * MULTI_CONSUMER_ITERATIONS);
    assert.ok(rets.every((r) => r === 0), 'A sync thread reported failure.');
  });

  test('sync_multi_consumer_producer', async () => {
    const timeline = swSyncTimelineCreate(proc);
    const shared = new SharedArrayBuffer(4);
    const counter = new Int32Array(shared);
    const threads = Array.from({ length: multiConsumerThreads }, (_, id) => spawnWorker<number>(machine, `
      const igt = await import(data.igt);
      const counter = new Int32Array(data.shared);
      send({ pid: proc.pid });
      const timeline = proc.receiveFd((await recv()).token);
      for (let i = 0; i < data.iterations; i++) {
        const nextPoint = i * data.threads + data.id;
        const fence = igt.swSyncTimelineCreateFence(proc, timeline, nextPoint);
        if (igt.syncFenceWait(proc, fence, 1000) < 0) return 1;
        if (Atomics.add(counter, 0, 1) !== nextPoint) return 1;
        igt.swSyncTimelineInc(proc, timeline, 1); // kick off the next thread
        proc.close(fence);
      }
      return 0;
    `, { igt: igtUrl, shared, id, threads: multiConsumerThreads, iterations: MULTI_CONSUMER_ITERATIONS }, 120_000));
    for (const t of threads) {
      const { pid } = (await t.next()) as { pid: number };
      t.post({ token: proc.sendFd(timeline, pid) });
    }
    const rets = await Promise.all(threads.map((t) => t.result));
    proc.close(timeline);
    assert.equal(Atomics.load(counter, 0), multiConsumerThreads * MULTI_CONSUMER_ITERATIONS);
    assert.ok(rets.every((r) => r === 0), 'A sync thread reported failure.');
  });

  test('sync_multi_producer_single_consumer', async () => {
    const n = 5;
    const consTimeline = swSyncTimelineCreate(proc);
    const prodTimeline = Array.from({ length: n }, () => swSyncTimelineCreate(proc));
    const shared = new SharedArrayBuffer(4);
    const counter = new Int32Array(shared);
    // In C the threads share one fd table: closing the consumer timeline ends
    // them (their next create fails). Here each producer holds its own fd, so
    // the parent raises this flag and releases them with a last increment.
    const stop = new SharedArrayBuffer(4);
    const producers = prodTimeline.map((_, id) => spawnWorker<number>(machine, `
      const igt = await import(data.igt);
      const counter = new Int32Array(data.shared);
      send({ pid: proc.pid });
      const { cons, prod } = await recv();
      const consTimeline = proc.receiveFd(cons);
      const prodTimeline = proc.receiveFd(prod);
      let seqno = 0;
      for (;;) {
        const fence = igt.__swSyncTimelineCreateFence(proc, consTimeline, seqno++);
        if (fence < 0) break;
        // Wait for the consumer to finish; vary the means of waiting.
        if (data.id % 8 !== 0) {
          if (igt.syncFenceWait(proc, fence, -1) !== 0) throw new Error('Failure waiting on fence');
        } else {
          for (;;) {
            if (igt.syncFenceCountStatus(proc, fence, igt.SW_SYNC_FENCE_STATUS_ERROR) !== 0) throw new Error('Error occurred on fence');
            if (!igt.syncFenceCountStatus(proc, fence, igt.SW_SYNC_FENCE_STATUS_ACTIVE)) break;
          }
        }
        proc.close(fence);
        if (Atomics.load(new Int32Array(data.stop), 0)) break;
        Atomics.add(counter, 0, 1);
        igt.swSyncTimelineInc(proc, prodTimeline, 1);
      }
      return 0;
    `, { igt: igtUrl, shared, id, stop }, 60_000));
    for (let i = 0; i < n; i++) {
      const { pid } = (await producers[i].next()) as { pid: number };
      producers[i].post({ cons: proc.sendFd(consTimeline, pid), prod: proc.sendFd(prodTimeline[i], pid) });
    }
    // mpsc_consumer_thread(), here asynchronous so the producers' messages flow
    const { syncFenceWaitAsync } = await import('../helpers/igt.js');
    let seqno = 0;
    const end = performance.now() + 1000;
    while (performance.now() < end) {
      let fence = swSyncTimelineCreateFence(proc, prodTimeline[0], ++seqno);
      for (let i = 1; i < n; i++) {
        const tmp = swSyncTimelineCreateFence(proc, prodTimeline[i], seqno);
        const merged = syncFenceMerge(proc, tmp, fence);
        proc.close(tmp);
        proc.close(fence);
        fence = merged;
      }
      assert.equal(await syncFenceWaitAsync(proc, fence, -1), 0, 'Producers did not increment as expected');
      assert.equal(Atomics.load(counter, 0), n * seqno, 'Counter value mismatch');
      swSyncTimelineInc(proc, consTimeline, 1); // release the producers
      proc.close(fence);
    }
    Atomics.store(new Int32Array(stop), 0, 1);
    swSyncTimelineInc(proc, consTimeline, 1); // release the producers waiting for the next round
    proc.close(consTimeline);
    const rets = await Promise.all(producers.map((p) => p.result));
    assert.ok(rets.every((r) => r === 0));
    for (const t of prodTimeline) proc.close(t);
    assert.ok(seqno > 0);
  });

  test('sync_expired_merge', () => {
    const timeline = swSyncTimelineCreate(proc);
    swSyncTimelineInc(proc, timeline, 100);
    const expired = swSyncTimelineCreateFence(proc, timeline, 1);
    assert.equal(syncFenceWait(proc, expired, 0), 0, 'Failure waiting for expired fence');
    proc.close(syncFenceMerge(proc, expired, expired));
    untilTimeout(1, () => {
      const fence = syncFenceMerge(proc, expired, expired);
      assert.equal(syncFenceWait(proc, fence, -1), 0, 'Failure waiting on fence');
      proc.close(fence);
    });
    proc.close(expired);
    proc.close(timeline);
  });

  test('sync_random_merge', () => {
    const nbrTimeline = 32;
    const nbrMerge = 1024;
    const rand = (): number => Math.floor(Math.random() * 0x7fffffff);
    const timelineArr = Array.from({ length: nbrTimeline }, () => swSyncTimelineCreate(proc));
    const fenceMap = new Array<number>(nbrTimeline).fill(-1);
    let syncPt = rand();
    let fence = swSyncTimelineCreateFence(proc, timelineArr[0], syncPt);
    fenceMap[0] = syncPt;
    for (let i = 0; i < nbrMerge; i++) {
      const off = rand() % nbrTimeline;
      syncPt = rand();
      if (fenceMap[off] === -1 || fenceMap[off] < syncPt) fenceMap[off] = syncPt;
      const tmp = swSyncTimelineCreateFence(proc, timelineArr[off], syncPt);
      const merged = syncFenceMerge(proc, tmp, fence);
      proc.close(tmp);
      proc.close(fence);
      fence = merged;
    }
    for (let i = 0; i < nbrTimeline; i++) {
      if (fenceMap[i] !== -1) {
        assert.equal(syncFenceWait(proc, fence, 0), -ETIME, 'Failure waiting on fence until timeout');
        swSyncTimelineInc(proc, timelineArr[i], fenceMap[i]);
      }
    }
    assert.equal(syncFenceWait(proc, fence, 1), 0, 'Failure triggering fence');
    proc.close(fence);
    for (const t of timelineArr) proc.close(t);
    close(proc, -1);
  });
});
