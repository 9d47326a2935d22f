/**
 * Signals and cancelled calls: kill(2) with Linux's signal numbers, and
 * the kernel left as Linux leaves it (no waiter behind, nothing half-done).
 * Semantics from kernel/signal.c and signal(7): SIGKILL cannot be caught;
 * SIGTERM/SIGINT end a process that has no handler; with a handler
 * installed without SA_RESTART, an interruptible wait (poll, a fence wait,
 * DMA_BUF_IOCTL_SYNC) returns EINTR after the handler ran; poll is never
 * restarted (fs/select.c turns -ERESTARTNOHAND into -EINTR).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnWorker, useMachine } from '../helpers/machine.js';
import type { Machine, Process } from '../../src/index.js';
import * as u from '../../src/uapi/index.js';
import { SIGINT, SIGKILL, SIGSTOP, SIGTERM, SIGUSR1 } from '../../src/uapi/signal.js';

/** A pending sw_sync fence (struct sw_sync_create_fence_data: u32 value; char name[32]; s32 fence): its fd and the timeline's. */
function pendingFence(proc: Process): { timeline: number; fence: number } {
  const timeline = proc.open('/sys/kernel/debug/sync/sw_sync', u.O_RDWR);
  const arg = new Uint8Array(40);
  new DataView(arg.buffer).setUint32(0, 1, true);
  proc.ioctl(timeline, u.SW_SYNC_IOC_CREATE_FENCE, arg);
  return { timeline, fence: new DataView(arg.buffer).getInt32(36, true) };
}

function inc(proc: Process, timeline: number): void {
  proc.ioctl(timeline, u.SW_SYNC_IOC_INC, new Uint8Array(new Uint32Array([1]).buffer));
}

/** Wait until the kernel holds `n` waiters (a poll has reached its wait queue), without sleeping on a guess. */
async function waiters(m: Machine, n: number): Promise<void> {
  for (let i = 0; i < 2000; i++) {
    if ((await m.stats()).waiters === n) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  assert.fail(`the kernel never held ${n} waiters`);
}

/** An eval'd worker body's preamble: allocate a 64 KiB system-heap buffer, map it; `buf` is its fd. */
const ALLOC = `
  const heap = proc.open('/dev/dma_heap/system', u.O_RDWR);
  const a = new Uint8Array(24); new DataView(a.buffer).setBigUint64(0, 65536n, true); new DataView(a.buffer).setUint32(12, u.O_RDWR, true);
  proc.ioctl(heap, u.DMA_HEAP_IOCTL_ALLOC, a);
  const buf = new DataView(a.buffer).getUint32(8, true);
  proc.mmap(65536, u.PROT_READ | u.PROT_WRITE, u.MAP_SHARED, buf);
`;

describe('signals', () => {
  const machine = useMachine();

  for (const [sig, name] of [[SIGKILL, 'SIGKILL'], [SIGTERM, 'SIGTERM without a handler'], [SIGINT, 'SIGINT without a handler']] as const) {
    test(`${name} ends a worker blocked in poll at once: its thread exits, its fds and mappings are released`, async () => {
      const m = await machine();
      using owner = m.spawn('owner');
      const { timeline, fence } = pendingFence(owner);
      const before = await m.stats();
      const w = spawnWorker(m, `${ALLOC}
        const fd = proc.receiveFd((await recv()).token);
        send('polling');
        proc.poll([{ fd, events: u.POLLIN }], -1);
        return 'poll returned';
      `);
      void w.result.catch(() => {});
      w.post({ token: owner.sendFd(fence, w.pid) });
      await w.next();
      await waiters(m, before.waiters + 1);
      assert.equal((await m.stats()).dmabufs, before.dmabufs + 1);
      await m.kill(w.pid, sig);
      assert.equal(await w.exited, 128 + sig);
      const after = await m.stats();
      assert.equal(after.dmabufs, before.dmabufs, 'the buffer it held and mapped is gone');
      assert.equal(after.waiters, before.waiters, 'its poll left no waiter');
      assert.equal(after.processes, before.processes);
      owner.close(fence);
      owner.close(timeline);
    });
  }

  test('with a handler, SIGTERM interrupts a blocked poll with EINTR after the handler ran; the process lives on', async () => {
    const m = await machine();
    using owner = m.spawn('owner');
    const { timeline, fence } = pendingFence(owner);
    const before = await m.stats();
    const w = spawnWorker(m, `
      const order = [];
      proc.onSignal(u.SIGTERM ?? 15, (sig) => order.push('handler ' + sig));
      const fd = proc.receiveFd((await recv()).token);
      send('polling');
      try {
        proc.poll([{ fd, events: u.POLLIN }], -1);
        order.push('returned');
      } catch (e) {
        order.push(e.code + ' ' + e.syscall);
      }
      // The process is alive: its fds work, and a second poll sees the fence once signalled.
      send('again');
      const n = proc.poll([{ fd, events: u.POLLIN }], 10000);
      order.push('poll ' + n);
      return order;
    `);
    w.post({ token: owner.sendFd(fence, w.pid) });
    await w.next();
    await waiters(m, before.waiters + 1);
    await m.kill(w.pid, SIGTERM);
    await w.next();
    inc(owner, timeline);
    assert.deepEqual(await w.result, ['handler 15', 'EINTR poll', 'poll 1']);
    assert.equal((await m.stats()).waiters, before.waiters);
    owner.close(fence);
    owner.close(timeline);
  });

  test('with a handler, a DMA_BUF_IOCTL_SYNC waiting for a fence returns EINTR; kill(2) from another process', async () => {
    const m = await machine();
    using owner = m.spawn('owner');
    const { timeline, fence } = pendingFence(owner);
    const w = spawnWorker(m, `${ALLOC}
      proc.onSignal(10, () => send('handled'));
      const sf = proc.receiveFd((await recv()).token);
      // struct dma_buf_import_sync_file { u32 flags; s32 fd }: the pending fence as a writer
      const imp = new Uint8Array(8); new DataView(imp.buffer).setUint32(0, u.DMA_BUF_SYNC_WRITE, true); new DataView(imp.buffer).setInt32(4, sf, true);
      proc.ioctl(buf, u.DMA_BUF_IOCTL_IMPORT_SYNC_FILE, imp);
      send('syncing');
      const flags = new Uint8Array(8); new DataView(flags.buffer).setBigUint64(0, BigInt(u.DMA_BUF_SYNC_START | u.DMA_BUF_SYNC_READ), true);
      try {
        proc.ioctl(buf, u.DMA_BUF_IOCTL_SYNC, flags);
        return 'synced';
      } catch (e) {
        return e.code + ' ' + e.syscall;
      }
    `);
    w.post({ token: owner.sendFd(fence, w.pid) });
    assert.equal(await w.next(), 'syncing');
    // DMA_BUF_IOCTL_SYNC's wait is not a wait-queue entry: give the call a moment to block, then signal from a process.
    await new Promise((r) => setTimeout(r, 50));
    owner.kill(w.pid, SIGUSR1);
    assert.equal(await w.next(), 'handled');
    assert.equal(await w.result, 'EINTR ioctl');
    inc(owner, timeline);
    owner.close(fence);
    owner.close(timeline);
  });

  test('a signal with a handler reaches an idle process from its event loop', async () => {
    const m = await machine();
    const w = spawnWorker(m, `
      const got = new Promise((resolve) => proc.onSignal(10, resolve));
      send('ready');
      return await got;
    `);
    await w.next();
    await m.kill(w.pid, SIGUSR1);
    assert.equal(await w.result, SIGUSR1);
  });

  test('a process killed in the main thread: its calls fail with ESRCH naming the signal; its resources are gone', async () => {
    const m = await machine();
    const before = await m.stats();
    const victim = m.spawn('victim');
    const { fence } = pendingFence(victim);
    assert.ok(fence > 0);
    await m.kill(victim.pid, SIGKILL);
    assert.equal(victim.killedBy, 'SIGKILL');
    assert.throws(() => victim.dup(fence), { code: 'ESRCH', syscall: 'dup', signal: 'SIGKILL' });
    await assert.rejects(m.kill(victim.pid, SIGKILL), { code: 'ESRCH' });
    const after = await m.stats();
    assert.deepEqual([after.fences, after.waiters, after.dmabufs], [before.fences, before.waiters, before.dmabufs], 'its timeline and fence are gone');
    victim.exit();
  });

  test('bad signals: EINVAL for a number out of range, for catching SIGKILL and for job control; ESRCH for no such process', async () => {
    const m = await machine();
    using proc = m.spawn('bad');
    assert.throws(() => proc.kill(proc.pid, 64), { code: 'EINVAL' });
    assert.throws(() => proc.kill(proc.pid, -1), { code: 'EINVAL' });
    assert.throws(() => proc.onSignal(SIGKILL, () => {}), { code: 'EINVAL', syscall: 'rt_sigaction' });
    assert.throws(() => proc.onSignal(SIGSTOP, () => {}), { code: 'EINVAL', syscall: 'rt_sigaction' });
    assert.throws(() => proc.kill(proc.pid, SIGSTOP), { code: 'EINVAL' });
    assert.throws(() => proc.kill(123_456, SIGTERM), { code: 'ESRCH' });
    proc.kill(proc.pid, 0);
    await assert.rejects(m.kill(123_456, SIGTERM), { code: 'ESRCH', syscall: 'kill' });
  });
});

describe('cancelled calls', () => {
  const machine = useMachine();

  test('aborting pollAsync cancels the poll inside the kernel: no waiter is left, and the slot is free at once', async () => {
    const m = await machine();
    using proc = m.spawn('poller');
    const { timeline, fence } = pendingFence(proc);
    const before = await m.stats();
    const ac = new AbortController();
    const fds = [{ fd: fence, events: u.POLLIN }];
    // Every async slot busy with a poll; one of them is aborted.
    const polls = [proc.pollAsync(fds, -1, { signal: ac.signal }), proc.pollAsync(fds, -1), proc.pollAsync(fds, -1)];
    await waiters(m, before.waiters + 3);
    const reason = new Error('no longer needed');
    ac.abort(reason);
    await assert.rejects(polls[0], (e) => e === reason);
    assert.equal((await m.stats()).waiters, before.waiters + 2, 'the aborted poll left its wait queue before its promise settled');
    // The slot it held serves the next call at once.
    assert.equal(await proc.lseekAsync(fence, 0, u.SEEK_SET).catch((e: { code: string }) => e.code), 'ESPIPE');
    inc(proc, timeline);
    assert.deepEqual(await Promise.all(polls.slice(1)), [1, 1]);
    assert.equal((await m.stats()).waiters, before.waiters);
    proc.close(fence);
    proc.close(timeline);
  });

  test('an abort after the call completed keeps its result; an aborted signal rejects before the call is made', async () => {
    const m = await machine();
    using proc = m.spawn('late');
    const ac = new AbortController();
    const fd = await proc.dupAsync(0, { signal: ac.signal });
    ac.abort();
    assert.ok(fd > 2);
    await assert.rejects(proc.dupAsync(0, { signal: ac.signal }), { name: 'AbortError' });
    proc.close(fd);
  });
});
