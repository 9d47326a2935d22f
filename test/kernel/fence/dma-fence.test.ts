/**
 * dma-fence contract and error paths (drivers/dma-buf/dma-fence.c,
 * include/linux/dma-fence.h).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { expectWarn, inFreshKernel } from '../../helpers/harness.js';
import { mockFence, mockOps } from '../../helpers/mock-fence.js';
import {
  DmaFence, DmaFenceCb, type DmaFenceOps, DMA_FENCE_FLAG_ENABLE_SIGNAL_BIT, DMA_FENCE_FLAG_SIGNALED_BIT,
  DMA_FENCE_FLAG_TIMESTAMP_BIT, dmaFenceAllocatePrivateStub, dmaFenceContextAlloc, dmaFenceGet, dmaFenceGetStub,
  dmaFenceIsLater, dmaFenceIsLaterOrSame, dmaFenceLater, dmaFencePut, dmaFenceStats, dmaFenceWaitAnyTimeout,
} from '../../../src/kernel/fence/dma-fence.js';
import { EDEADLK, EINVAL, EIO, ENOENT, ENOMEM, ERESTARTSYS, ETIME } from '../../../src/kernel/lib/errno.js';
import { bootKtime, ktimeGet, MAX_SCHEDULE_TIMEOUT } from '../../../src/kernel/lib/time.js';
import { tracepoint } from '../../../src/kernel/lib/trace.js';
import { failAllocDisarm, failNthAlloc } from '../../../src/kernel/lib/failslab.js';
import type { Out } from '../../../src/kernel/lib/out.js';

class OrderCb extends DmaFenceCb {
  constructor(readonly id: number, readonly log: number[]) {
    super();
  }
}
const logCb = (_f: DmaFence, cb: DmaFenceCb): void => {
  const c = cb as OrderCb;
  c.log.push(c.id);
};

function fenceWith(ops: Partial<DmaFenceOps>, context = 0, seqno = 0, seqno64 = false): DmaFence {
  return new DmaFence({ ...mockOps, ...ops }, context, seqno, seqno64);
}

describe('dma_fence_context_alloc', () => {
  test('contexts are unique, consecutive, never 0', () => {
    const a = dmaFenceContextAlloc(1);
    const b = dmaFenceContextAlloc(3);
    const c = dmaFenceContextAlloc(1);
    assert.ok(a > 0);
    assert.equal(b, a + 1);
    assert.equal(c, b + 3);
  });
  test('num == 0 WARNs', async () => {
    await expectWarn(() => dmaFenceContextAlloc(0), 1);
  });
});

describe('dma_fence_init', () => {
  test('a new fence: refcount 1, unsignaled, no error, no flags but its own', () => {
    const f = mockFence(5, 7);
    assert.equal(f.refcount, 1);
    assert.equal(f.context, 5);
    assert.equal(f.seqno, 7);
    assert.equal(f.error, 0);
    assert.equal(f.testSignaledFlag(), false);
    assert.equal(f.getStatus(), 0);
    f.put();
  });

  test('ops without get_driver_name or get_timeline_name is a BUG (taints; run in its own kernel)', async () => {
    const msg = await inFreshKernel<{ threw: string; died: number }>(`
      let threw = '';
      try { new k.DmaFence({ getDriverName: () => 'x' }, 0, 0); } catch (e) { threw = e instanceof k.KernelBug ? 'KernelBug' : String(e); }
      return { threw, died: (k.getTaint() >> k.TAINT_DIE) & 1 };
    `);
    assert.equal(msg.threw, 'KernelBug');
    assert.equal(msg.died, 1);
  });
});

describe('dma_fence_get / dma_fence_put', () => {
  test('NULL-safe', () => {
    assert.equal(dmaFenceGet(null), null);
    dmaFencePut(null);
  });

  test('the last put releases (ops.release once)', () => {
    let released = 0;
    const f = fenceWith({ release: () => void released++ });
    f.get();
    f.put();
    assert.equal(released, 0);
    f.put();
    assert.equal(released, 1);
  });

  test('put after release and get after release WARN and change nothing', async () => {
    let released = 0;
    const f = fenceWith({ release: () => void released++ });
    f.put();
    const live = dmaFenceStats.live;
    await expectWarn(() => f.put(), 1);
    await expectWarn(() => f.get(), 1);
    assert.equal(released, 1);
    assert.equal(dmaFenceStats.live, live);
    assert.equal(f.getUnlessZero(), null);
  });
});

describe('dma_fence_signal', () => {
  test('exactly once: the second signal returns -EINVAL and changes nothing', () => {
    const f = mockFence();
    assert.equal(f.signalTimestamp(1234), 0);
    assert.equal(f.timestamp, 1234);
    assert.equal(f.signal(), -EINVAL);
    assert.equal(f.signalTimestamp(99), -EINVAL);
    assert.equal(f.timestamp, 1234);
    assert.ok(f.flags & (1 << DMA_FENCE_FLAG_TIMESTAMP_BIT));
    f.put();
  });

  test('the timestamp is CLOCK_MONOTONIC at the signal', () => {
    const f = mockFence();
    const before = ktimeGet();
    f.signal();
    const after = ktimeGet();
    assert.ok(f.getTimestamp() >= before && f.getTimestamp() <= after);
    f.put();
  });

  test('fences signalled in one run share a clock reading; a later run reads the clock afresh', async () => {
    const a = mockFence();
    const b = mockFence();
    a.signal();
    b.signal();
    assert.ok(b.getTimestamp() >= a.getTimestamp());
    await new Promise((r) => setTimeout(r, 2));
    const hr = process.hrtime();
    const later = hr[0] * 1e9 + hr[1];
    const c = mockFence();
    c.signal();
    assert.ok(c.getTimestamp() >= later, 'not the earlier run\'s reading');
    for (const f of [a, b, c]) f.put();
  });

  test('callbacks run once, in the order they were added, after the flag is set', () => {
    const f = mockFence();
    const log: number[] = [];
    const cbs = [0, 1, 2, 3].map((i) => new OrderCb(i, log));
    for (const cb of cbs) assert.equal(f.addCallback(cb, logCb), 0);
    assert.equal(f.removeCallback(cbs[2]), true);
    let flagSeen = false;
    const probe = new DmaFenceCb();
    f.addCallback(probe, (fence) => {
      flagSeen = fence.testSignaledFlag();
    });
    f.signal();
    f.signal();
    assert.deepEqual(log, [0, 1, 3]);
    assert.ok(flagSeen);
    assert.equal(f.hasCallbacks(), false);
    f.put();
  });

  test('a callback may add callbacks to other fences and signal them', () => {
    const a = mockFence();
    const b = mockFence();
    const log: number[] = [];
    a.addCallback(new DmaFenceCb(), () => {
      b.addCallback(new OrderCb(2, log), logCb);
      b.signal();
    });
    a.signal();
    assert.deepEqual(log, [2]);
    assert.ok(b.isSignaled());
    a.put();
    b.put();
  });

  test('checkAndSignal: false the first time, true after', () => {
    const f = mockFence();
    assert.equal(f.checkAndSignal(), false);
    assert.equal(f.checkAndSignal(), true);
    f.put();
  });
});

describe('dma_fence_is_signaled', () => {
  test('consults ops.signaled and signals the fence when it says yes', () => {
    let done = false;
    const log: number[] = [];
    const f = fenceWith({ signaled: () => done });
    f.addCallback(new OrderCb(1, log), logCb);
    assert.equal(f.isSignaled(), false);
    done = true;
    assert.equal(f.isSignaled(), true);
    assert.ok(f.testSignaledFlag());
    assert.deepEqual(log, [1]);
    f.put();
  });

  test('never enables signaling', () => {
    let enabled = 0;
    const f = fenceWith({ enableSignaling: () => (enabled++, true) });
    f.isSignaled();
    f.getStatus();
    assert.equal(enabled, 0);
    assert.equal(f.flags & (1 << DMA_FENCE_FLAG_ENABLE_SIGNAL_BIT), 0);
    f.signal();
    f.put();
  });
});

describe('dma_fence_enable_sw_signaling', () => {
  test('calls enable_signaling at most once', () => {
    let enabled = 0;
    const f = fenceWith({ enableSignaling: () => (enabled++, true) });
    f.enableSwSignaling();
    f.enableSwSignaling();
    f.addCallback(new DmaFenceCb(), () => {});
    assert.equal(enabled, 1);
    f.signal();
    f.put();
  });

  test('never after the fence signaled', () => {
    let enabled = 0;
    const f = fenceWith({ enableSignaling: () => (enabled++, true) });
    f.signal();
    f.enableSwSignaling();
    assert.equal(enabled, 0);
    f.put();
  });

  test('enable_signaling returning false signals now; add_callback then returns -ENOENT', () => {
    const f = fenceWith({ enableSignaling: (fence) => { fence.error = -ETIME; return false; } });
    const cb = new OrderCb(1, []);
    assert.equal(f.addCallback(cb, logCb), -ENOENT);
    assert.equal(cb.log.length, 0, 'the callback is not called');
    assert.ok(f.isSignaled());
    assert.equal(f.getStatus(), -ETIME);
    assert.equal(f.removeCallback(cb), false, 'the node is left empty');
    f.put();
  });
});

describe('dma_fence_add_callback / remove_callback', () => {
  test('no func: WARN and -EINVAL', async () => {
    const f = mockFence();
    const ret = await expectWarn(() => f.addCallback(new DmaFenceCb(), null as never), 1);
    assert.equal(ret, -EINVAL);
    assert.equal(f.hasCallbacks(), false);
    f.put();
  });

  test('remove of a callback never added, or added to another fence, is false', () => {
    const a = mockFence();
    const b = mockFence();
    const cb = new DmaFenceCb();
    assert.equal(a.removeCallback(cb), false);
    a.addCallback(cb, () => {});
    assert.equal(b.removeCallback(cb), false);
    assert.equal(a.removeCallback(cb), true);
    assert.equal(a.removeCallback(cb), false);
    a.put();
    b.put();
  });
});

describe('dma_fence_set_error / get_status', () => {
  test('status is the error once signaled', () => {
    const f = mockFence();
    f.setError(-EIO);
    assert.equal(f.getStatus(), 0);
    f.signal();
    assert.equal(f.getStatus(), -EIO);
    f.put();
  });

  test('after the signal: WARN, and the status does not change', async () => {
    const f = mockFence();
    f.signal();
    await expectWarn(() => f.setError(-EIO), 1);
    assert.equal(f.getStatus(), 1);
    f.put();
  });

  test('not a negative errno: WARN and refused', async () => {
    const f = mockFence();
    for (const bad of [0, 1, -4096, -1.5]) await expectWarn(() => f.setError(bad), 1);
    f.setError(-4095);
    f.signal();
    assert.equal(f.getStatus(), -4095);
    f.put();
  });
});

describe('dma_fence_timestamp', () => {
  test('on an unsignaled fence WARNs and returns ktime_get()', async () => {
    const f = mockFence();
    const t0 = ktimeGet();
    const t = await expectWarn(() => f.getTimestamp(), 1);
    assert.ok(t >= t0);
    f.signal();
    f.put();
  });
});

describe('dma_fence_release', () => {
  test('released with pending callbacks: WARN, error -EDEADLK, callbacks run', async () => {
    const f = mockFence();
    let status = 0;
    f.addCallback(new DmaFenceCb(), (fence) => {
      status = fence.error;
    });
    await expectWarn(() => f.put(), 1);
    assert.equal(status, -EDEADLK);
    assert.equal(f.testSignaledFlag(), true);
  });
});

describe('dma_fence_wait_timeout', () => {
  test('negative timeout: WARN and -EINVAL', async () => {
    const f = mockFence();
    assert.equal(await expectWarn(() => f.waitTimeout(false, -1), 1), -EINVAL);
    f.put();
  });

  test('0 tests without waiting: 0 pending, 1 signaled', async () => {
    const f = mockFence();
    assert.equal(await f.waitTimeout(true, 0), 0);
    f.signal();
    assert.equal(await f.waitTimeout(true, 0), 1);
    f.put();
  });

  test('a signaled fence returns the whole timeout', async () => {
    const f = mockFence();
    f.signal();
    assert.equal(await f.waitTimeout(false, 500), 500);
    f.put();
  });

  test('times out with 0 and removes its callback', async () => {
    const f = mockFence();
    assert.equal(await f.waitTimeout(false, 5), 0);
    assert.equal(f.hasCallbacks(), false);
    f.signal();
    f.put();
  });

  test('wakes when signaled with the remaining time', async () => {
    const f = mockFence();
    setTimeout(() => f.signal(), 5);
    const ret = await f.waitTimeout(false, 10_000);
    assert.ok(ret > 0 && ret <= 10_000, `remaining ${ret}`);
    f.put();
  });

  test('enables signaling', async () => {
    let enabled = 0;
    const f = fenceWith({ enableSignaling: () => (enabled++, true) });
    await f.waitTimeout(false, 0);
    assert.equal(enabled, 1);
    f.signal();
    f.put();
  });

  test('interruptible: a pending signal gives -ERESTARTSYS, at once or while waiting', async () => {
    const f = mockFence();
    const ac = new AbortController();
    ac.abort();
    assert.equal(await f.waitTimeout(true, 1000, ac.signal), -ERESTARTSYS);
    const ac2 = new AbortController();
    setTimeout(() => ac2.abort(), 5);
    assert.equal(await f.waitTimeout(true, MAX_SCHEDULE_TIMEOUT, ac2.signal), -ERESTARTSYS);
    assert.equal(f.hasCallbacks(), false);
    f.signal();
    f.put();
  });

  test('uninterruptible: a pending signal is ignored', async () => {
    const f = mockFence();
    const ac = new AbortController();
    ac.abort();
    assert.equal(await f.waitTimeout(false, 5, ac.signal), 0);
    f.signal();
    f.put();
  });

  test('dma_fence_wait returns 0 once signaled, or the error of an interrupted wait', async () => {
    const f = mockFence();
    setTimeout(() => f.signal(), 2);
    assert.equal(await f.wait(false), 0);
    f.put();
  });

  test('uses ops.wait when the fence has one', async () => {
    const f = fenceWith({ wait: async (_f, _intr, timeout) => (timeout === 7 ? -ETIME : 0) });
    assert.equal(await f.waitTimeout(false, 7), -ETIME);
    f.signal();
    f.put();
  });
});

describe('dma_fence_wait_any_timeout', () => {
  test('no fences or a negative timeout: WARN and -EINVAL', async () => {
    const f = mockFence();
    assert.equal(await expectWarn(() => dmaFenceWaitAnyTimeout([], 0, false, 10, null), 1), -EINVAL);
    assert.equal(await expectWarn(() => dmaFenceWaitAnyTimeout([f], 1, false, -1, null), 1), -EINVAL);
    f.put();
  });

  test('timeout 0: 1 and the index of a signaled fence, else 0', async () => {
    const fs = [mockFence(), mockFence(), mockFence()];
    const idx: Out<number> = { value: -1 };
    assert.equal(await dmaFenceWaitAnyTimeout(fs, 3, false, 0, idx), 0);
    fs[2].signal();
    assert.equal(await dmaFenceWaitAnyTimeout(fs, 3, false, 0, idx), 1);
    assert.equal(idx.value, 2);
    for (const f of fs) {
      f.signal();
      f.put();
    }
  });

  test('waits for the first to signal, reports it, and leaves no callback behind', async () => {
    const fs = [mockFence(), mockFence(), mockFence()];
    const idx: Out<number> = { value: -1 };
    setTimeout(() => fs[1].signal(), 3);
    const ret = await dmaFenceWaitAnyTimeout(fs, 3, false, 5000, idx);
    assert.ok(ret > 0);
    assert.equal(idx.value, 1);
    for (const f of fs) assert.equal(f.hasCallbacks(), false);
    for (const f of fs) {
      f.signal();
      f.put();
    }
  });

  test('an already signaled fence returns the full timeout at once', async () => {
    const fs = [mockFence(), mockFence()];
    fs[1].signal();
    const idx: Out<number> = { value: -1 };
    assert.equal(await dmaFenceWaitAnyTimeout(fs, 2, false, 100, idx), 100);
    assert.equal(idx.value, 1);
    assert.equal(fs[0].hasCallbacks(), false);
    fs[0].signal();
    for (const f of fs) f.put();
  });

  test('times out with 0; interrupted with -ERESTARTSYS; -ENOMEM when allocation fails', async () => {
    const fs = [mockFence(), mockFence()];
    assert.equal(await dmaFenceWaitAnyTimeout(fs, 2, false, 5, null), 0);
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 3);
    assert.equal(await dmaFenceWaitAnyTimeout(fs, 2, true, 10_000, null, ac.signal), -ERESTARTSYS);
    failNthAlloc(1, ['slab']);
    try {
      assert.equal(await dmaFenceWaitAnyTimeout(fs, 2, false, 5, null), -ENOMEM);
    } finally {
      failAllocDisarm();
    }
    for (const f of fs) {
      assert.equal(f.hasCallbacks(), false);
      f.signal();
      f.put();
    }
  });
});

describe('dma_fence_is_later', () => {
  test('32-bit seqnos wrap around', () => {
    const a = mockFence(9, 1);
    const b = mockFence(9, 0xffffffff);
    assert.equal(dmaFenceIsLater(a, b), true, '1 is later than 0xffffffff');
    assert.equal(dmaFenceIsLater(b, a), false);
    const c = mockFence(9, 0x80000000);
    const d = mockFence(9, 0);
    assert.equal(dmaFenceIsLater(c, d), false, 'exactly 2^31 apart: not later either way');
    assert.equal(dmaFenceIsLater(d, c), false);
    for (const f of [a, b, c, d]) f.put();
  });

  test('64-bit seqnos (dma_fence_init64) compare plainly', () => {
    const a = fenceWith({}, 9, 1, true);
    const b = fenceWith({}, 9, 0xffffffff, true);
    const c = fenceWith({}, 9, 2 ** 40, true);
    assert.equal(dmaFenceIsLater(a, b), false);
    assert.equal(dmaFenceIsLater(b, a), true);
    assert.equal(dmaFenceIsLater(c, b), true);
    for (const f of [a, b, c]) f.put();
  });

  test('is_later_or_same; different contexts WARN and say false', async () => {
    const a = mockFence(1, 5);
    const b = mockFence(2, 4);
    assert.equal(dmaFenceIsLaterOrSame(a, a), true);
    assert.equal(await expectWarn(() => dmaFenceIsLater(a, b), 1), false);
    assert.equal(await expectWarn(() => dmaFenceLater(a, b), 1), null);
    a.put();
    b.put();
  });

  test('dma_fence_later: the later one, or null if it has signaled', () => {
    const a = mockFence(3, 1);
    const b = mockFence(3, 2);
    assert.equal(dmaFenceLater(a, b), b);
    assert.equal(dmaFenceLater(b, a), b);
    b.signal();
    assert.equal(dmaFenceLater(a, b), null);
    a.put();
    b.put();
  });
});

describe('stub fences', () => {
  test('dma_fence_get_stub: context 0, seqno 0, "stub", signaled at boot', () => {
    const s = dmaFenceGetStub();
    assert.equal(s.context, 0);
    assert.equal(s.seqno, 0);
    assert.equal(s.driverName(), 'stub');
    assert.equal(s.timelineName(), 'stub');
    assert.ok(s.isSignaled());
    assert.equal(s.getTimestamp(), bootKtime);
    assert.equal(dmaFenceGetStub(), s, 'one global stub');
    s.put();
    s.put();
  });

  test('dma_fence_allocate_private_stub: a new signaled fence with the given timestamp; null on ENOMEM', () => {
    const p = dmaFenceAllocatePrivateStub(4242)!;
    assert.ok(p.isSignaled());
    assert.equal(p.getTimestamp(), 4242);
    const q = dmaFenceAllocatePrivateStub(1)!;
    assert.notEqual(q, p, 'each call makes a new fence');
    const g = dmaFenceGetStub();
    assert.notEqual(q, g, 'not the global stub');
    g.put();
    q.put();
    p.put();
    failNthAlloc(1, ['slab']);
    try {
      assert.equal(dmaFenceAllocatePrivateStub(1), null);
    } finally {
      failAllocDisarm();
    }
  });
});

describe('dma_fence_set_deadline', () => {
  test('passed to ops.set_deadline unless signaled', () => {
    const seen: bigint[] = [];
    const f = fenceWith({ setDeadline: (_f, d) => void seen.push(d) });
    f.setDeadline(100n);
    f.signal();
    f.setDeadline(200n);
    assert.deepEqual(seen, [100n]);
    f.put();
    const g = mockFence();
    g.setDeadline(5n); // no op: nothing happens
    g.put();
  });
});

describe('dma_fence_describe', () => {
  // Linux 6.1-6.12 drivers/dma-buf/dma-fence.c: "%s %s seq %llu %ssignalled\n" (driver, timeline, seqno)
  test('driver timeline seq N [un]signalled', () => {
    const f = fenceWith({ getDriverName: () => 'drv', getTimelineName: () => 'tl' }, 12, 34);
    assert.equal(f.describe(), 'drv tl seq 34 unsignalled\n');
    f.signal();
    assert.equal(f.describe(), 'drv tl seq 34 signalled\n');
    f.put();
  });
});

describe('tracepoints', () => {
  test('dma_fence_init, enable_signal, signaled, destroy fire with the fence fields', () => {
    const events: string[] = [];
    const probe = (name: string, _ts: number, fields: Record<string, unknown>): void => {
      events.push(`${name} ${fields.context}:${fields.seqno}`);
    };
    const tps = ['dma_fence_init', 'dma_fence_enable_signal', 'dma_fence_signaled', 'dma_fence_destroy'].map(tracepoint);
    for (const tp of tps) tp.register(probe);
    try {
      const f = fenceWith({ enableSignaling: () => true }, 77, 1);
      f.enableSwSignaling();
      f.signal();
      f.put();
    } finally {
      for (const tp of tps) tp.unregister(probe);
    }
    assert.deepEqual(events, ['dma_fence_init 77:1', 'dma_fence_enable_signal 77:1', 'dma_fence_signaled 77:1', 'dma_fence_destroy 77:1']);
  });
});

describe('flags', () => {
  test('SIGNALED and TIMESTAMP are set together by the signal', () => {
    const f = mockFence();
    assert.equal(f.flags & ((1 << DMA_FENCE_FLAG_SIGNALED_BIT) | (1 << DMA_FENCE_FLAG_TIMESTAMP_BIT)), 0);
    f.signal();
    assert.ok(f.flags & (1 << DMA_FENCE_FLAG_SIGNALED_BIT));
    assert.ok(f.flags & (1 << DMA_FENCE_FLAG_TIMESTAMP_BIT));
    f.put();
  });
});
