/**
 * The userspace library (src/user) over a real machine: heaps by name,
 * CPU-access guards that bracket with DMA_BUF_IOCTL_SYNC, implicit-sync
 * waits, sync files as promises (timeouts, aborts, merge, info), passing
 * buffers between workers, the bounded pool, and the garbage-collection
 * safety net. The ioctls' contracts are Linux's (drivers/dma-buf/dma-buf.c
 * dma_buf_ioctl, sync_file.c, sw_sync.c); these tests check that the
 * library issues them as documented.
 */
import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Machine, Process } from '../../src/index.js';
import * as u from '../../src/uapi/index.js';
import { BufferPool, DmaBuffer, DmaHeap, PoolExhaustedError, SyncFile, Timeline, WaitTimeoutError } from '../../src/user/index.js';
import { backendSkip, needsSwSync, spawnWorker, useMachine } from '../helpers/machine.js';
import { sleep } from '../helpers/harness.js';

const machineOf = useMachine();
let machine: Machine;
if (!backendSkip) {
  before(async () => {
    machine = await machineOf();
  });
}

/** Record the ioctls a process makes (request number and, for DMA_BUF_IOCTL_SYNC, the flags). */
function recordIoctls(proc: Process): { request: number; flags?: number }[] {
  const log: { request: number; flags?: number }[] = [];
  const real = proc.ioctl.bind(proc);
  proc.ioctl = (fd, request, arg) => {
    const flags = request === u.DMA_BUF_IOCTL_SYNC && arg instanceof Uint8Array ? Number(u.dma_buf_sync.get(arg, 'flags')) : undefined;
    log.push({ request, flags });
    return real(fd, request, arg);
  };
  return log;
}

describe('heaps and buffers', { skip: backendSkip }, () => {
  test('open a heap by name, allocate a named buffer: bufinfo and fdinfo show the name', () => {
    const proc = machine.spawn();
    assert.ok(DmaHeap.list(proc).includes('system'));
    using heap = DmaHeap.open(proc, 'system');
    using buf = heap.allocate(10_000, { name: 'camera-0' });
    assert.equal(buf.size, 12_288, 'the heap rounds up to pages; lseek(SEEK_END) reports it');
    assert.equal(buf.name, 'camera-0');
    assert.match(proc.readFile(`/proc/self/fdinfo/${buf.fd}`), /^name:\tcamera-0$/m);
    assert.match(proc.readFile('/sys/kernel/debug/dma_buf/bufinfo'), /camera-0/);
    assert.throws(() => DmaHeap.open(proc, 'nope'), { code: 'ENOENT', syscall: 'open' });
    // DMA_BUF_SET_NAME takes at most DMA_BUF_NAME_LEN - 1 bytes (dma_buf_set_name: strndup_user(.., DMA_BUF_NAME_LEN)).
    assert.throws(() => buf.setName('x'.repeat(32)), { code: 'EINVAL' });
    assert.equal(buf.name, 'camera-0', 'a refused name changes nothing');
    proc.exit();
  });

  test('number arguments: anything but a safe non-negative integer that fits is EINVAL, as a syscall error', { skip: needsSwSync }, () => {
    const proc = machine.spawn();
    using heap = DmaHeap.open(proc);
    using tl = Timeline.open(proc);
    const einval = (fn: () => unknown, what: string): void => {
      assert.throws(fn, (e: Error & { code?: string; errno?: number; syscall?: string }) =>
        e.name === 'SyscallError' && e.code === 'EINVAL' && e.errno === -22 && e.syscall === 'ioctl', what);
    };
    for (const size of [-1, 1.5, Number.NaN, Infinity, 2 ** 53, '4096', 4096n]) einval(() => heap.allocate(size as number), `allocate(${String(size)})`);
    for (const value of [-1, 2 ** 32, 0.5]) {
      einval(() => tl.createFence(value), `createFence(${value})`);
      einval(() => tl.inc(value), `inc(${value})`);
    }
    using f = tl.createFence(1);
    for (const ns of [-1, 2 ** 53, 1.5]) einval(() => f.setDeadline(ns), `setDeadline(${ns})`);
    f.setDeadline(2 ** 53 - 1);
    using buf = heap.allocate(2 ** 20);
    assert.equal(buf.size, 2 ** 20);
    proc.exit();
  });

  test('access() brackets with SYNC_START and SYNC_END, even when the block throws', () => {
    const proc = machine.spawn();
    const log = recordIoctls(proc);
    using heap = DmaHeap.open(proc);
    using buf = heap.allocate(4096);
    log.length = 0;
    {
      using w = buf.access('write');
      w.words()[0] = 0xdeadbeef;
    }
    assert.throws(() => {
      using r = buf.access('read');
      assert.equal(r.words()[0], 0xdeadbeef);
      throw new Error('boom');
    }, /boom/);
    const syncs = log.filter((l) => l.request === u.DMA_BUF_IOCTL_SYNC).map((l) => l.flags);
    assert.deepEqual(syncs, [
      u.DMA_BUF_SYNC_START | u.DMA_BUF_SYNC_WRITE,
      u.DMA_BUF_SYNC_END | u.DMA_BUF_SYNC_WRITE,
      u.DMA_BUF_SYNC_START | u.DMA_BUF_SYNC_READ,
      u.DMA_BUF_SYNC_END | u.DMA_BUF_SYNC_READ,
    ]);
    assert.throws(() => buf.access('sideways' as never), TypeError);
    proc.exit();
  });

  test('a read-only fd maps read-only; closing twice is harmless; a closed buffer refuses use', () => {
    const proc = machine.spawn();
    using heap = DmaHeap.open(proc);
    const buf = heap.allocate(4096, { readOnly: true });
    assert.equal(buf.bytes.length, 4096);
    buf.close();
    buf.close();
    assert.throws(() => buf.fd, { name: 'DmabufError', code: 'EBADF', errno: -9, message: /closed/ });
    proc.exit();
  });
});

describe('implicit sync and sync files', { skip: needsSwSync }, () => {
  test('a write fence holds readers back until it signals (accessAsync, wait, exportSyncFile)', async () => {
    const proc = machine.spawn();
    using heap = DmaHeap.open(proc);
    using buf = heap.allocate(4096, { name: 'fenced' });
    using tl = Timeline.open(proc);
    {
      using f = tl.createFence(1, 'gpu-write');
      buf.importSyncFile(f, 'write');
    }
    await assert.rejects(buf.accessAsync('read', { timeout: 30 }), (e: Error) => e instanceof WaitTimeoutError && (e as WaitTimeoutError).code === 'ETIME');
    using pending = buf.exportSyncFile('read');
    assert.equal(pending.status, 0, 'active');
    // sync_fill_fence_info: obj_name is the timeline's name, which sw_sync takes from the opener's comm (sw_sync_debugfs_open).
    assert.deepEqual([pending.info().fences[0].objName, pending.info().fences[0].driverName], ['node', 'sw_sync']);
    const reading = buf.accessAsync('read', { timeout: 10_000 });
    tl.inc(1);
    using r = await reading;
    assert.equal(r.bytes.length, 4096);
    assert.equal(pending.status, 1, 'signalled');
    await pending.wait(1000);
    // A timeline closed with points pending signals them with -ENOENT (sw_sync.c sync_timeline_release / sw_sync_debugfs_release).
    const tl3 = Timeline.open(proc);
    using orphan = tl3.createFence(5, 'orphan');
    tl3.close();
    await assert.rejects(orphan.wait({ timeout: 1000 }), { name: 'FenceError', code: 'ENOENT', errno: -2, status: -2 });
    proc.exit();
  });

  test('wait(timeout) rejects with ETIME, an abort rejects with its reason, merge and info', async () => {
    const proc = machine.spawn();
    using tl = Timeline.open(proc);
    using tl2 = Timeline.open(proc);
    using a = tl.createFence(1, 'a');
    using b = tl2.createFence(1, 'b');
    await assert.rejects(a.wait({ timeout: 20 }), (e: WaitTimeoutError) => e instanceof WaitTimeoutError && e.code === 'ETIME');
    await assert.rejects(a.wait(20), WaitTimeoutError, 'a bare number is the timeout');
    const ac = new AbortController();
    const waiting = b.wait({ signal: ac.signal });
    setTimeout(() => ac.abort(new Error('user gave up')), 10);
    await assert.rejects(waiting, /user gave up/);
    await assert.rejects(b.wait({ timeout: 1000, signal: AbortSignal.abort() }), { name: 'AbortError' });
    // sync_file_merge keeps one fence per context: two of one timeline merge into the later one.
    using later = tl.createFence(2, 'later');
    {
      using same = a.merge(later);
      assert.equal(same.info().fences.length, 1);
    }
    using m = a.merge(b, 'both');
    const info = m.info();
    assert.equal(info.name, 'both');
    assert.equal(info.status, 0);
    assert.equal(info.fences.length, 2);
    assert.deepEqual(info.fences.map((f) => f.driverName), ['sw_sync', 'sw_sync']);
    tl.inc(1);
    await a.wait(1000);
    assert.equal(m.status, 0, 'the merge waits for both');
    tl2.inc(1);
    await m.wait(1000);
    m.waitSync(0);
    assert.equal(m.info().fences.every((f) => f.status === 1 && f.timestampNs > 0), true);
    proc.exit();
  });

  test('two workers share a buffer with fences: the writer signals, the reader waits, no copy', async () => {
    const main = machine.spawn();
    using heap = DmaHeap.open(main);
    using buf = heap.allocate(1 << 20, { name: 'shared' });
    const reader = spawnWorker<{ first: number; last: number; name: string }>(machine, `
      send(proc.pid);
      const { buf: d, fence } = await recv();
      const buf = user.DmaBuffer.receive(proc, d);
      const done = user.SyncFile.receive(proc, fence);
      await done.wait(10000);
      const r = buf.access('read');
      const w = r.words();
      const got = { first: w[0], last: w[w.length - 1], name: buf.name };
      r.end();
      done.close();
      buf.close();
      return got;
    `);
    const writer = spawnWorker<void>(machine, `
      send(proc.pid);
      const { buf: d, readerPid } = await recv();
      const buf = user.DmaBuffer.receive(proc, d);
      const tl = user.Timeline.open(proc);
      // Begin the access before adding one's own write fence: SYNC_START for writing waits for every fence, this one too.
      const w = buf.access('write');
      const fence = tl.createFence(1, 'written');
      buf.importSyncFile(fence, 'write');
      send({ fence: fence.share(readerPid) });
      w.words().fill(0x01020304);
      w.end();
      tl.inc(1);
      for (const r of [fence, tl, buf]) r.close();
    `);
    const readerPid = (await reader.next()) as number;
    const writerPid = (await writer.next()) as number;
    writer.post({ buf: buf.share(writerPid), readerPid });
    const { fence } = (await writer.next()) as { fence: unknown };
    reader.post({ buf: buf.share(readerPid), fence });
    const got = await reader.result;
    await writer.result;
    assert.deepEqual(got, { first: 0x01020304, last: 0x01020304, name: 'shared' });
    assert.equal(new Uint32Array(buf.bytes.buffer, buf.bytes.byteOffset, 4)[3], 0x01020304, 'the parent sees the same memory');
    assert.throws(() => DmaBuffer.receive(main, { kind: 'sync_file' } as never), TypeError);
    assert.throws(() => SyncFile.receive(main, { kind: 'sync_file', token: 'forged' }), { code: 'EINVAL' }, 'a forged token is refused');
    main.exit();
  });
});

describe('timelines without sw_sync', { skip: backendSkip }, () => {
  // Distribution kernels lack CONFIG_SW_SYNC; vgem's fences (drivers/gpu/drm/vgem/vgem_fence.c) stand in.
  test('a vgem-backed Timeline: fences signal when inc() reaches them, are sync files, and leave nothing behind', async () => {
    const proc = machine.spawn();
    const before = await machine.stats();
    {
      using tl = Timeline.open(proc, { source: 'vgem' });
      assert.equal(tl.source, 'vgem');
      using two = tl.createFence(2);
      using one = tl.createFence(1);
      assert.deepEqual([one.status, two.status], [0, 0]);
      assert.deepEqual([one.info().fences[0].driverName, one.info().fences[0].objName], ['vgem', 'unbound']);
      tl.inc(1);
      await one.wait({ timeout: 1000 });
      assert.deepEqual([one.status, two.status], [1, 0]);
      using heap = DmaHeap.open(proc);
      using buf = heap.allocate(4096);
      buf.importSyncFile(two, 'write');
      const reading = buf.wait('read', { timeout: 5000 });
      tl.inc(1);
      await reading;
      using late = tl.createFence(1);
      assert.equal(late.status, 1, 'a value already reached: signalled at once');
    }
    proc.exit();
    const after = await machine.stats();
    assert.deepEqual([after.fences, after.dmabufs], [before.fences, before.dmabufs]);
  });
});

describe('passing over a unix socket', { skip: needsSwSync }, () => {
  test('sendTo/receiveFrom carry a buffer and a sync file over a socketpair (SCM_RIGHTS): each side holds its own fd', async () => {
    const a = machine.spawn('a');
    const b = machine.spawn('b');
    const [s0, s1] = a.socketpair();
    const peer = b.receiveFd(a.sendFd(s1, b.pid));
    a.close(s1);
    using heap = DmaHeap.open(a);
    using buf = heap.allocate(8192, { name: 'over-socket' });
    using tl = Timeline.open(a);
    using fence = tl.createFence(1, 'f');
    buf.sendTo(s0);
    fence.sendTo(s0);
    {
      using got = DmaBuffer.receiveFrom(b, peer);
      using gotFence = await SyncFile.receiveFromAsync(b, peer);
      assert.equal(got.size, 8192);
      assert.match(b.readlink(`/proc/self/fd/${got.fd}`), /^\/dmabuf:over-socket$/);
      assert.equal(gotFence.status, 0);
      tl.inc(1);
      await gotFence.wait({ timeout: 1000 });
    }
    a.close(s0);
    assert.throws(() => DmaBuffer.receiveFrom(b, peer), { code: 'EPIPE', syscall: 'recvmsg' });
    a.exit();
    b.exit();
  });
});

describe('buffer pool', { skip: backendSkip }, () => {
  test('exhaustion names the holders; a release wakes a waiter; aborts and timeouts', async () => {
    const proc = machine.spawn();
    using heap = DmaHeap.open(proc);
    const pool = BufferPool.create(heap, { count: 2, size: 4096, name: 'frames' });
    const a = pool.tryAcquire('producer');
    const b = await pool.acquire({ holder: 'encoder' });
    b.handTo('consumer (pid 9)');
    assert.equal(pool.available, 0);
    assert.throws(() => pool.tryAcquire(), (e: Error) => {
      assert.ok(e instanceof PoolExhaustedError);
      assert.equal(e.code, 'EAGAIN');
      assert.deepEqual(e.holders.map((h) => [h.buffer, h.holder]), [['frames-0', 'producer'], ['frames-1', 'consumer (pid 9)']]);
      assert.match(e.message, /frames-0 by producer .*frames-1 by consumer \(pid 9\)/);
      return true;
    });
    await assert.rejects(pool.acquire({ timeout: 20 }), PoolExhaustedError);
    const ac = new AbortController();
    const aborted = pool.acquire({ timeout: Infinity, signal: ac.signal });
    ac.abort(new Error('shutting down'));
    await assert.rejects(aborted, /shutting down/);
    const waiting = pool.acquire({ timeout: 10_000, holder: 'late' });
    setTimeout(() => a.release(), 5);
    const c = await waiting;
    assert.equal(c.buffer.name, 'frames-0');
    a.release(); // a second release of an old lease does nothing
    assert.deepEqual(pool.holders().map((h) => h.holder), ['late', 'consumer (pid 9)']);
    assert.throws(() => pool.close(), { code: 'EBUSY' });
    c.release();
    b.release();
    pool.close();
    proc.exit();
  });
});

describe('garbage-collection safety net', { skip: backendSkip }, () => {
  test('a buffer dropped without close is closed when collected, with a kernel-log warning and a process warning', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const warnings: Error[] = [];
    const onWarning = (w: Error): void => void warnings.push(w);
    process.on('warning', onWarning);
    const proc = machine.spawn();
    const before = (await machine.stats()).dmabufs;
    (() => {
      const heap = DmaHeap.open(proc);
      heap.allocate(8192, { name: 'forgotten' });
      heap.close();
    })();
    let log = '';
    for (let i = 0; i < 100 && !/leaked dma-buf 'forgotten'/.test(log); i++) {
      gc();
      await sleep(20);
      log = await machine.dmesg();
    }
    assert.match(log, new RegExp(`dmabuf-user: pid ${proc.pid} leaked dma-buf 'forgotten' of 8192 bytes \\(fd \\d+\\); closed when garbage-collected`));
    assert.equal((await machine.stats()).dmabufs, before, 'the buffer was released');
    await sleep(10);
    process.off('warning', onWarning);
    const w = warnings.find((x) => /leaked dma-buf 'forgotten'/.test(x.message)) as (Error & { code?: string }) | undefined;
    assert.ok(w, 'a process warning');
    assert.equal(w.name, 'DmabufLeakWarning');
    assert.equal(w.code, 'DMABUF_LEAK');
    proc.exit();
  });
});
