/**
 * The machine: a kernel thread, processes in worker threads, the syscalls
 * with Linux's errors, zero-copy sharing, cross-process wake-ups, and
 * cleanup when a process exits or its thread is terminated.
 */
import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import { boot, type Machine } from '../../src/index.js';
import { boot as bootEmulator } from '../../src/machine/boot.js';
import * as u from '../../src/uapi/index.js';
import { heapAlloc, spawnWorker, useMachine } from '../helpers/machine.js';
import { sleep } from '../helpers/harness.js';
import { Worker } from 'node:worker_threads';

const machineOf = useMachine();
let machine: Machine;
before(async () => {
  machine = await machineOf();
});


describe('syscalls', () => {
  test('new processes have fds 0, 1 and 2; fd numbers are per process', async () => {
    const a = machine.spawn();
    const b = machine.spawn();
    assert.equal(a.memfdCreate('x'), 3, 'the lowest free number after stdio');
    assert.throws(() => b.close(3), { code: 'EBADF', errno: -9, syscall: 'close' });
    assert.equal(a.fcntl(3, u.F_GETFD), 0);
    a.exit();
    b.exit();
  });

  test('errors are SystemError-shaped with Linux\'s errno', () => {
    const p = machine.spawn();
    assert.throws(() => p.open('/dev/nonexistent'), { code: 'ENOENT', errno: -2, syscall: 'open' });
    assert.throws(() => p.ioctl(99, 0), { code: 'EBADF' });
    const fd = heapAlloc(p, 4096);
    assert.throws(() => p.ioctl(fd, 0xdead), { code: 'ENOTTY' });
    assert.throws(() => p.lseek(fd, 0, u.SEEK_CUR), { code: 'EINVAL', syscall: 'lseek' });
    assert.throws(() => p.read(fd, 10), { code: 'EINVAL', syscall: 'read' });
    assert.throws(() => p.mmap(4096, u.PROT_READ, 0, fd, 0), { code: 'EINVAL', syscall: 'mmap' }, 'neither shared nor private');
    assert.throws(() => p.mmap(4096, u.PROT_READ, u.MAP_SHARED, fd, 100), { code: 'EINVAL' }, 'unaligned offset');
    assert.throws(() => p.mmap(4096, u.PROT_READ, u.MAP_SHARED, fd, 4096), { code: 'EINVAL' }, 'past the end');
    assert.throws(() => p.mmap(4096, u.PROT_READ, u.MAP_SHARED, fd, 0xfffffffffffff000n), { code: 'EOVERFLOW' });
    p.exit();
  });

  test('an O_RDONLY dma-buf cannot be mapped writable and shared: -EACCES', () => {
    const p = machine.spawn();
    const heap = p.open('/dev/dma_heap/system', u.O_RDWR);
    const arg = u.dma_heap_allocation_data.encode({ len: 4096, fd_flags: u.O_RDONLY });
    p.ioctl(heap, u.DMA_HEAP_IOCTL_ALLOC, arg);
    const fd = u.dma_heap_allocation_data.get(arg, 'fd');
    assert.throws(() => p.mmap(4096, u.PROT_READ | u.PROT_WRITE, u.MAP_SHARED, fd, 0), { code: 'EACCES' });
    const ro = p.mmap(4096, u.PROT_READ, u.MAP_SHARED, fd, 0);
    assert.equal(ro.length, 4096);
    p.exit();
  });

  test('async twins', async () => {
    const p = machine.spawn();
    const fd = await p.memfdCreateAsync('async', u.MFD_ALLOW_SEALING);
    await p.ftruncateAsync(fd, 8192);
    assert.equal(await p.lseekAsync(fd, 0, u.SEEK_END), 8192);
    assert.equal(await p.fcntlAsync(fd, u.F_ADD_SEALS, u.F_SEAL_SHRINK), 0);
    await assert.rejects(p.ftruncateAsync(fd, 4096), { code: 'EPERM' });
    const v = await p.mmapAsync(8192, u.PROT_READ | u.PROT_WRITE, u.MAP_SHARED, fd, 0);
    v[100] = 7;
    assert.equal(p.read(fd, 0).length, 0);
    p.lseek(fd, 100, u.SEEK_SET);
    assert.equal(p.read(fd, 1)[0], 7, 'the mapping is the file');
    await p.munmapAsync(v);
    p.exit();
  });

  test('/proc/self/fdinfo, bufinfo and sysfs through readFile', () => {
    const p = machine.spawn();
    const fd = heapAlloc(p, 12288);
    const info = p.readFile(`/proc/self/fdinfo/${fd}`);
    assert.match(info, /^pos:\t0\nflags:\t02000002\nmnt_id:\t\d+\nino:\t(\d+)\nsize:\t12288\ncount:\t1\nexp_name:\tsystem\n$/);
    const ino = /ino:\t(\d+)/.exec(info)![1];
    assert.equal(p.readFile(`/sys/kernel/dmabuf/buffers/${ino}/size`), '12288\n');
    assert.equal(p.readFile(`/sys/kernel/dmabuf/buffers/${ino}/exporter_name`), 'system\n');
    assert.match(p.readFile('/sys/kernel/debug/dma_buf/bufinfo'), /00012288\t00000002\t00080007\t00000001\tsystem\t/);
    p.ioctl(fd, u.DMA_BUF_SET_NAME_B, new TextEncoder().encode('frame\0'));
    assert.match(p.readFile(`/proc/self/fdinfo/${fd}`), /name:\tframe\n$/);
    p.exit();
  });

  test('readdir of the pseudo filesystems lists what the drivers registered at init', () => {
    const p = machine.spawn();
    const fd = heapAlloc(p, 4096);
    const ino = /ino:\t(\d+)/.exec(p.readFile(`/proc/self/fdinfo/${fd}`))![1];
    assert.ok(p.readdir('/sys/kernel/dmabuf/buffers').includes(ino));
    assert.deepEqual(p.readdir(`/sys/kernel/dmabuf/buffers/${ino}`), ['exporter_name', 'size']);
    assert.deepEqual(p.readdir('/sys/kernel/dmabuf'), ['buffers']);
    assert.deepEqual(p.readdir('/sys/kernel/debug/sync'), ['info', 'sw_sync']);
    assert.deepEqual(p.readdir('/proc/self/fdinfo'), ['0', '1', '2', String(fd)]);
    // opendir() is open(path, O_DIRECTORY): the open fails with ENOTDIR.
    assert.throws(() => p.readdir('/dev/udmabuf'), { code: 'ENOTDIR', syscall: 'open' });
    assert.throws(() => p.open('/sys/kernel/debug/sw_sync', u.O_RDWR), { code: 'ENOENT' }, 'Linux 6.x has <debugfs>/sync/sw_sync only');
    p.exit();
  });
});

describe('/dev/kmsg', () => {
  // kernel/printk/printk.c: devkmsg_write takes an optional <N> level prefix
  // (default_message_loglevel otherwise); devkmsg_read gives one record per
  // read as "level,seq,usec,-;text\n"; SEEK_END starts after the newest.
  test('userspace writes records with a level and reads them back in the kmsg format', async () => {
    const proc = machine.spawn();
    const fd = proc.open('/dev/kmsg', u.O_RDWR);
    assert.equal(proc.lseek(fd, 0, u.SEEK_END), 0);
    proc.write(fd, new TextEncoder().encode('<3>probe: something broke'));
    proc.write(fd, new TextEncoder().encode('probe: no prefix'));
    const rec = (): string => new TextDecoder().decode(proc.read(fd, 1024));
    assert.match(rec(), /^3,\d+,\d+,-;probe: something broke\n$/);
    assert.match(rec(), /^4,\d+,\d+,-;probe: no prefix\n$/, 'KERN_WARNING by default');
    assert.throws(() => proc.read(fd, 1024), { code: 'EAGAIN', syscall: 'read' });
    assert.throws(() => proc.write(fd, new Uint8Array(4096).fill(65)), { code: 'EINVAL' });
    assert.match(await machine.dmesg(), /\] probe: something broke\n/);
    proc.close(fd);
    proc.exit();
  });
});

describe('processes in worker threads', () => {
  test('a buffer sent to another worker is mapped there with no copy: each sees the other\'s writes', async () => {
    const parent = machine.spawn('parent');
    const fd = heapAlloc(parent, 1 << 20);
    const view = parent.mmap(1 << 20, u.PROT_READ | u.PROT_WRITE, u.MAP_SHARED, fd, 0);
    const child = spawnWorker<number>(machine, `
      send({ pid: proc.pid });
      const { token } = await recv();
      const fd = proc.receiveFd(token);
      const v = proc.mmap(1 << 20, u.PROT_READ | u.PROT_WRITE, u.MAP_SHARED, fd, 0);
      const seen = v[12345];
      v[54321] = 0x99;
      send({ done: true });
      await recv();
      return seen;
    `);
    const { pid } = (await child.next()) as { pid: number };
    view[12345] = 0x42;
    child.post({ token: parent.sendFd(fd, pid) });
    await child.next();
    assert.equal(view[54321], 0x99, 'the child wrote into our mapping');
    child.post({ go: true });
    assert.equal(await child.result, 0x42, 'the child read what we wrote');
    parent.exit();
  });

  test('a process blocked in poll wakes when another process increments the timeline', async () => {
    const p = machine.spawn('timeline-owner');
    const tl = p.open('/sys/kernel/debug/sync/sw_sync', u.O_RDWR);
    const data = u.sw_sync_create_fence_data.encode({ value: 1, name: u.cbytes('pt', 32) });
    p.ioctl(tl, u.SW_SYNC_IOC_CREATE_FENCE, data);
    const fence = u.sw_sync_create_fence_data.get(data, 'fence');
    const waiter = spawnWorker<{ n: number; revents: number; ms: number }>(machine, `
      send({ pid: proc.pid });
      const { token } = await recv();
      const fd = proc.receiveFd(token);
      const fds = [{ fd, events: u.POLLIN }];
      const t0 = performance.now();
      send({ polling: true });
      const n = proc.poll(fds, 10000);
      return { n, revents: fds[0].revents, ms: performance.now() - t0 };
    `);
    const { pid } = (await waiter.next()) as { pid: number };
    waiter.post({ token: p.sendFd(fence, pid) });
    await waiter.next();
    await sleep(20);
    p.ioctl(tl, u.SW_SYNC_IOC_INC, u.__u32.encode(1));
    const r = await waiter.result;
    assert.equal(r.n, 1);
    assert.equal(r.revents, u.POLLIN);
    assert.ok(r.ms >= 15, 'it was really blocked');
    p.exit();
  });

  test('a terminated worker releases everything it held; tokens are one-use and bound to their receiver', async () => {
    const before = await machine.stats();
    const owner = machine.spawn('owner');
    const child = spawnWorker(machine, `
      const heap = proc.open('/dev/dma_heap/system', u.O_RDWR);
      const arg = u.dma_heap_allocation_data.encode({ len: 65536, fd_flags: u.O_RDWR });
      proc.ioctl(heap, u.DMA_HEAP_IOCTL_ALLOC, arg);
      const fd = u.dma_heap_allocation_data.get(arg, 'fd');
      proc.mmap(65536, u.PROT_READ | u.PROT_WRITE, u.MAP_SHARED, fd, 0);
      send({ token: proc.sendFd(fd, data.owner), pid: proc.pid });
      await new Promise(() => {}); // hold everything until terminated
    `, { owner: owner.pid });
    const { token } = (await child.next()) as { token: string };
    assert.equal((await machine.stats()).dmabufs, before.dmabufs + 1);
    child.result.catch(() => {}); // it never finishes: it is killed
    await child.worker.terminate();
    await sleep(50);
    assert.equal((await machine.stats()).dmabufs, before.dmabufs + 1, 'the fd in flight to the owner keeps it');
    const other = machine.spawn('other');
    assert.throws(() => other.receiveFd(token), { code: 'EPERM' }, 'not sent to this process');
    assert.throws(() => other.receiveFd('forged-token'), { code: 'EINVAL' });
    const fd = owner.receiveFd(token);
    assert.throws(() => owner.receiveFd(token), { code: 'EINVAL' }, 'no replay');
    assert.equal(owner.lseek(fd, 0, u.SEEK_END), 65536);
    owner.exit();
    other.exit();
    await sleep(10);
    const after = await machine.stats();
    assert.equal(after.dmabufs, before.dmabufs);
    assert.equal(after.pages, before.pages);
    assert.equal(after.inFlight, 0);
  });
});

describe('the kernel thread between requests', () => {
  // With a doze slice of ten minutes, anything that waited for a slice to run
  // out would hang: the woken poll, the messages of stats() and shutdown().
  test('work a request leaves in flight (a woken poll) completes before the kernel dozes; messages wake it', async () => {
    const m = await bootEmulator({ spinNs: 0, dozeSliceMs: 600_000 });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const hang = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('the kernel slept through work in flight')), 20_000);
    });
    try {
      await Promise.race([hang, dozing(m)]);
    } finally {
      clearTimeout(timer);
      await m.worker.terminate(); // already stopped unless the machine hung
    }
  });
});

async function dozing(m: Machine): Promise<void> {
  // Async twins only: a synchronous call into a hung kernel would block the
  // thread that has to notice the hang.
  const a = m.spawn('waiter');
  const b = m.spawn('signaller');
  const timeline = await b.openAsync('/sys/kernel/debug/sync/sw_sync', u.O_RDWR);
  const arg = u.sw_sync_create_fence_data.encode({ value: 1, name: u.cbytes('f', 32) });
  await b.ioctlAsync(timeline, u.SW_SYNC_IOC_CREATE_FENCE, arg);
  const fence = await a.receiveFdAsync(await b.sendFdAsync(u.sw_sync_create_fence_data.get(arg, 'fence'), a.pid));
  const fds = [{ fd: fence, events: u.POLLIN, revents: 0 }];
  const polled = a.pollAsync(fds, -1);
  await sleep(20); // the poll is in the kernel, and the kernel dozes
  await b.ioctlAsync(timeline, u.SW_SYNC_IOC_INC, u.__u32.encode(1));
  assert.equal(await polled, 1);
  assert.equal(fds[0].revents, u.POLLIN);
  assert.equal((await m.stats()).processes, 2);
  a.exit();
  b.exit();
  const left = await m.shutdown();
  assert.deepEqual([left.dmabufs, left.inFlight, left.processes], [0, 0, 0]);
}

describe('the edges of a process life', () => {
  test('a worker whose only pending work is an async syscall stays alive until it is answered', async () => {
    // Atomics.waitAsync alone does not keep a thread's event loop alive; the process must.
    const handle = machine.channel('lonely');
    const indexUrl = new URL('../../src/index.js', import.meta.url).href;
    const w = new Worker(`
      const { attach } = await import(${JSON.stringify(indexUrl)});
      const { workerData, parentPort } = await import('node:worker_threads');
      const proc = attach(workerData.handle);
      const tl = proc.open('/sys/kernel/debug/sync/sw_sync', 2);
      const arg = new Uint8Array(40);
      new DataView(arg.buffer).setUint32(0, 1, true);
      proc.ioctl(tl, 0xc0285700, arg); // SW_SYNC_IOC_CREATE_FENCE
      const fence = new DataView(arg.buffer).getInt32(36, true);
      const n = await proc.pollAsync([{ fd: fence, events: 1 }], 200); // times out: nothing signals it
      parentPort.postMessage(n);
      proc.exit();
    `, { eval: true, workerData: { handle }, transferList: [handle.port] } as never);
    try {
      const got = await new Promise((resolve, reject) => {
        w.once('message', resolve);
        w.once('error', reject);
        w.once('exit', (code) => reject(new Error(`the worker exited (${code}) in the middle of its poll`)));
      });
      assert.equal(got, 0, 'poll timed out with 0 ready');
    } finally {
      await w.terminate();
    }
  });

  test('shutdown answers a caller blocked in poll with EIO; later calls fail at once and exit() is harmless', async () => {
    const m = await boot();
    const blocked = spawnWorker<{ code: string; syscall: string; exited: boolean; again: string }>(m, `
      const tl = proc.open('/sys/kernel/debug/sync/sw_sync', u.O_RDWR);
      const arg = u.sw_sync_create_fence_data.encode({ value: 1, name: u.cbytes('never', 32) });
      proc.ioctl(tl, u.SW_SYNC_IOC_CREATE_FENCE, arg);
      send('polling');
      try {
        proc.poll([{ fd: u.sw_sync_create_fence_data.get(arg, 'fence'), events: u.POLLIN }], -1); // no timeout
        return null;
      } catch (e) {
        let again = '';
        try { proc.dup(0); } catch (e2) { again = e2.code; }
        proc.exit();
        return { code: e.code, syscall: e.syscall, exited: proc.exited, again };
      }
    `, null, 20_000);
    assert.equal(await blocked.next(), 'polling');
    await sleep(20);
    const left = await m.shutdown();
    assert.deepEqual([left.dmabufs, left.processes], [0, 0]);
    assert.deepEqual(await blocked.result, { code: 'EIO', syscall: 'poll', exited: true, again: 'EIO' });
  });
});
