/**
 * Crashes and hostile input at the userspace ABI, case by case (the fuzzer
 * covers them at random): workers killed mid-poll, holding mappings, with
 * fds in flight either way; another process's fd numbers; overflowing
 * offsets and lengths; names past Linux's limits; names that are
 * JavaScript's own property names. Errnos as Linux gives them:
 * mm/mmap.c do_mmap (-EOVERFLOW for offsets past the end of off_t),
 * drivers/dma-buf/dma-buf.c (dma_buf_mmap_internal, dma_buf_set_name),
 * drivers/dma-buf/sync_file.c, drivers/dma-buf/dma-heap.c.
 */
import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import type { Machine } from '../../src/index.js';
import * as u from '../../src/uapi/index.js';
import { heapAlloc, spawnWorker, useMachine } from '../helpers/machine.js';
import { sleep } from '../helpers/harness.js';

const machineOf = useMachine();
let machine: Machine;
before(async () => {
  machine = await machineOf();
});

describe('crashes', () => {
  test('killed mid-poll while holding a mapping, with an fd in flight to a live process: the data and the machine survive', async () => {
    const receiver = machine.spawn('receiver');
    const victim = spawnWorker(machine, `
      const heap = proc.open('/dev/dma_heap/system', u.O_RDONLY);
      const arg = u.dma_heap_allocation_data.encode({ len: 8192, fd_flags: u.O_RDWR });
      proc.ioctl(heap, u.DMA_HEAP_IOCTL_ALLOC, arg);
      const buf = u.dma_heap_allocation_data.get(arg, 'fd');
      const view = proc.mmap(8192, u.PROT_READ | u.PROT_WRITE, u.MAP_SHARED, buf, 0);
      view.set([7, 7, 7], 100);
      const tl = proc.open('/sys/kernel/debug/sync/sw_sync', u.O_RDWR);
      const f = u.sw_sync_create_fence_data.encode({ value: 1, name: u.cbytes('never', 32) });
      proc.ioctl(tl, u.SW_SYNC_IOC_CREATE_FENCE, f);
      send({ token: proc.sendFd(buf, data.to) });
      proc.poll([{ fd: u.sw_sync_create_fence_data.get(f, 'fence'), events: u.POLLIN }], -1); // blocks until killed
    `, { to: receiver.pid });
    victim.result.catch(() => {});
    const { token } = (await victim.next()) as { token: string };
    await sleep(20);
    await victim.worker.terminate();
    await sleep(20);
    // SCM_RIGHTS: an fd in flight outlives its sender.
    const fd = receiver.receiveFd(token);
    const view = receiver.mmap(8192, u.PROT_READ, u.MAP_SHARED, fd, 0);
    assert.deepEqual([...view.subarray(100, 103)], [7, 7, 7], 'what the dead process wrote is there');
    receiver.munmap(view);
    receiver.close(fd);
    const s = await machine.stats();
    assert.equal(s.dmabufs, 0, 'the last reference went with the receiver\'s close');
    assert.equal(s.fences, 0, 'the dead process\'s timeline closed: its pending fence signalled (-ENOENT) and went');
    receiver.exit();
  });

  test('an fd in flight to a process that is killed before receiving it is dropped with it', async () => {
    const sender = machine.spawn('sender');
    const doomed = spawnWorker(machine, `send(proc.pid); await new Promise(() => {});`);
    doomed.result.catch(() => {});
    const pid = (await doomed.next()) as number;
    const buf = heapAlloc(sender, 4096);
    sender.sendFd(buf, pid);
    sender.close(buf);
    assert.equal((await machine.stats()).inFlight, 1);
    await doomed.worker.terminate();
    await sleep(20);
    const s = await machine.stats();
    assert.deepEqual([s.inFlight, s.dmabufs], [0, 0]);
    sender.exit();
  });
});

describe('isolation and bad input', () => {
  test('fd numbers are per process; tokens are single-use, bound to their receiver, and unforgeable', () => {
    const a = machine.spawn('a');
    const b = machine.spawn('b');
    const buf = heapAlloc(a, 4096);
    assert.throws(() => b.lseek(buf, 0, u.SEEK_END), { code: 'EBADF' });
    assert.throws(() => b.ioctl(buf, u.DMA_BUF_IOCTL_SYNC, u.dma_buf_sync.encode({ flags: u.DMA_BUF_SYNC_RW })), { code: 'EBADF' });
    const token = a.sendFd(buf, b.pid);
    assert.throws(() => a.receiveFd(token), { code: 'EPERM' });
    assert.throws(() => b.receiveFd(token.replace(/.$/, (c) => (c === '0' ? '1' : '0'))), { code: 'EINVAL' }, 'a forged token');
    const fd = b.receiveFd(token);
    assert.throws(() => b.receiveFd(token), { code: 'EINVAL' }, 'a replayed token');
    assert.throws(() => a.sendFd(buf, 999_999), { code: 'ESRCH' });
    b.close(fd);
    a.close(buf);
    a.exit();
    b.exit();
  });

  test('mmap: read-only fds, overflowing offsets and lengths', () => {
    const p = machine.spawn();
    const ro = heapAlloc(p, 8192, u.O_RDONLY);
    assert.throws(() => p.mmap(4096, u.PROT_READ | u.PROT_WRITE, u.MAP_SHARED, ro, 0), { code: 'EACCES' });
    const view = p.mmap(4096, u.PROT_READ | u.PROT_WRITE, u.MAP_PRIVATE, ro, 0); // a private mapping may be written (copy-on-write in Linux)
    p.munmap(view);
    const rw = heapAlloc(p, 8192);
    // The offset in pages overflows off_t: -EOVERFLOW (do_mmap); past the buffer: -EINVAL (dma_buf_mmap_internal).
    assert.throws(() => p.mmap(4096, u.PROT_READ, u.MAP_SHARED, rw, 2n ** 64n - 4096n), { code: 'EOVERFLOW' });
    assert.throws(() => p.mmap(8192, u.PROT_READ, u.MAP_SHARED, rw, 4096), { code: 'EINVAL' });
    assert.throws(() => p.mmap(0, u.PROT_READ, u.MAP_SHARED, rw, 0), { code: 'EINVAL' });
    assert.throws(() => p.mmap(4096, u.PROT_READ, u.MAP_SHARED, rw, 1), { code: 'EINVAL' }, 'an unaligned offset');
    assert.throws(() => p.lseek(rw, 1, u.SEEK_END), { code: 'EINVAL' }, 'dma_buf_llseek: only 0 from SEEK_SET or SEEK_END');
    const heap = p.open('/dev/dma_heap/system', u.O_RDONLY);
    assert.throws(() => p.ioctl(heap, u.DMA_HEAP_IOCTL_ALLOC, u.dma_heap_allocation_data.encode({ len: 2 ** 62, fd_flags: u.O_RDWR })), { code: 'ENOMEM' });
    assert.throws(() => p.ioctl(heap, u.DMA_HEAP_IOCTL_ALLOC, u.dma_heap_allocation_data.encode({ len: 2n ** 64n - 1n, fd_flags: u.O_RDWR })), { code: 'EINVAL' }, 'PAGE_ALIGN wraps to 0');
    p.exit();
  });

  test('names: at most 31 bytes; JavaScript\'s own property names are plain data everywhere', () => {
    const p = machine.spawn();
    const buf = heapAlloc(p, 4096);
    const setName = (s: string): number => p.ioctl(buf, u.DMA_BUF_SET_NAME_B, new TextEncoder().encode(`${s}\0`));
    assert.throws(() => setName('n'.repeat(32)), { code: 'EINVAL' });
    for (const name of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
      assert.equal(setName(name), 0);
      assert.match(p.readFile(`/proc/self/fdinfo/${buf}`), new RegExp(`^name:\\t${name}$`, 'm'));
    }
    assert.throws(() => p.open('/dev/dma_heap/__proto__', u.O_RDONLY), { code: 'ENOENT' });
    assert.throws(() => p.open('/dev/dma_heap/constructor', u.O_RDONLY), { code: 'ENOENT' });
    assert.throws(() => p.readFile('/sys/kernel/dmabuf/buffers/__proto__/size'), { code: 'ENOENT' });
    const tl = p.open('/sys/kernel/debug/sync/sw_sync', u.O_RDWR);
    const f = u.sw_sync_create_fence_data.encode({ value: 1, name: u.cbytes('__proto__', 32) });
    p.ioctl(tl, u.SW_SYNC_IOC_CREATE_FENCE, f);
    const fence = u.sw_sync_create_fence_data.get(f, 'fence');
    const info = u.sync_file_info.encode();
    p.ioctl(fence, u.SYNC_IOC_FILE_INFO, info);
    // sw_sync_ioctl_create_fence ignores data.name: the sync file is named after its fence.
    assert.match(u.cstr(u.sync_file_info.get(info, 'name')), /^sw_sync-node\d+-1$/);
    const merged = u.sync_merge_data.encode({ name: u.cbytes('constructor', 32), fd2: fence });
    p.ioctl(fence, u.SYNC_IOC_MERGE, merged);
    const info2 = u.sync_file_info.encode(); // num_fences 0: only the header (the first call wrote num_fences back)
    p.ioctl(u.sync_merge_data.get(merged, 'fence'), u.SYNC_IOC_FILE_INFO, info2);
    assert.equal(u.cstr(u.sync_file_info.get(info2, 'name')), 'constructor');
    p.exit();
  });
});
