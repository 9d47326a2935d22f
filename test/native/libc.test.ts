/**
 * The libc bindings the native backend makes its calls with, and the ioctl
 * descriptions that tell it which struct fields are fds.
 */
import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import * as u from '../../src/uapi/index.js';
import { loadLibc, MAP_FAILED, type Libc } from '../../src/native/libc.js';
import { declareIoctl, ioctlShape } from '../../src/native/ioctl-shapes.js';
import { EFD_CLOEXEC, EPOLL_CLOEXEC, EPOLL_CTL_ADD, EPOLLIN, epollEvent, SIZEOF_EPOLL_EVENT } from '../../src/native/epoll.js';
import { installInterruptSignal } from '../../src/native/signals.js';
import type { NativeMachine } from '../../src/native/machine.js';
import { nativeSkip, until, useNativeMachine } from '../helpers/native.js';

const machineOf = useNativeMachine();
let machine: NativeMachine;
let libc: Libc;
before(async () => {
  if (nativeSkip) return;
  machine = await machineOf();
  libc = loadLibc();
});

describe('libc bindings', { skip: nativeSkip }, () => {
  test('eventfd and epoll: a written eventfd is reported by epoll_wait with its data', () => {
    const efd = libc.eventfd(0, EFD_CLOEXEC);
    const ep = libc.epollCreate1(EPOLL_CLOEXEC);
    assert.ok(efd >= 0 && ep >= 0);
    try {
      assert.equal(libc.epollCtl(ep, EPOLL_CTL_ADD, efd, epollEvent(EPOLLIN, 0x1234_5678_9abcn)), 0);
      const events = new Uint8Array(4 * SIZEOF_EPOLL_EVENT);
      assert.equal(libc.epollWait(ep, events, 4, 0), 0, 'nothing yet');
      const one = new Uint8Array(8);
      one[0] = 1;
      assert.equal(libc.write(efd, one, 8), 8);
      assert.equal(libc.epollWait(ep, events, 4, 0), 1);
      const v = new DataView(events.buffer);
      assert.equal(v.getUint32(0, true), EPOLLIN);
      assert.equal(v.getBigUint64(4, true), 0x1234_5678_9abcn, 'packed struct epoll_event: data at byte 4');
      assert.equal(libc.epollCtl(ep, EPOLL_CTL_ADD, 99999, epollEvent(EPOLLIN, 0n)), -1);
      assert.equal(libc.errno(), 9, 'errno is the real EBADF');
    } finally {
      libc.close(efd);
      libc.close(ep);
    }
  });

  test('gettid is this thread\'s id; getpid the OS process\'s', () => {
    assert.equal(libc.getpid(), process.pid);
    assert.equal(String(libc.gettid()), readFileSync('/proc/thread-self/stat', 'utf8').split(' ')[0]);
  });

  test('mmap failure is MAP_FAILED with errno', () => {
    assert.equal(libc.mmap(null, 4096, u.PROT_READ, u.MAP_SHARED, -1, 0n), MAP_FAILED);
    assert.equal(libc.errno(), 9);
  });

  test('the interrupt signal has the do-nothing handler, without SA_RESTART; installing again is a no-op', () => {
    const sig = libc.sigrtmin() + 7;
    const act = new Uint8Array(152);
    assert.equal(libc.sigaction(sig, null, act), 0);
    const v = new DataView(act.buffer);
    assert.equal(v.getBigUint64(0, true), libc.getppidAddress);
    assert.equal(v.getInt32(136, true) & 0x10000000, 0, 'no SA_RESTART');
    assert.equal(installInterruptSignal(libc), sig);
    const caught = BigInt('0x' + /^SigCgt:\s*([0-9a-f]+)/m.exec(readFileSync('/proc/self/status', 'utf8'))![1]);
    assert.ok(caught & (1n << BigInt(sig - 1)), 'the kernel lists the signal as caught');
  });
});

describe('ioctl descriptions: fd fields', { skip: nativeSkip }, () => {
  const REQUEST = 0x7fff_0001; // no driver has it: the kernel answers ENOTTY
  test('an fd field the process does not own reaches the kernel as -1 (no table holds it), and comes back as it was', () => {
    declareIoctl(REQUEST, { fdIn: [0] });
    const a = machine.spawn();
    const b = machine.spawn();
    const mine = a.memfdCreate('mine');
    const theirs = b.memfdCreate('theirs');
    const arg = new Uint8Array(8);
    new DataView(arg.buffer).setInt32(0, theirs, true);
    assert.throws(() => a.ioctl(mine, REQUEST, arg), { code: 'ENOTTY' }, 'the kernel answers, not the backend');
    assert.equal(new DataView(arg.buffer).getInt32(0, true), theirs, 'the caller\'s bytes are given back');
    new DataView(arg.buffer).setInt32(0, mine, true);
    assert.throws(() => a.ioctl(mine, REQUEST, arg), { code: 'ENOTTY' }, 'its own fd passes to the kernel');
    a.exit();
    b.exit();
  });

  // drivers/dma-buf/dma-buf.c (Linux 6.12), dma_buf_import_sync_file(): the flags are checked first, then
  // sync_file_get_fence(arg.fd) failing is EINVAL, not EBADF: another process's sync_file is a closed number here.
  test('IMPORT_SYNC_FILE of another process\'s sync_file: EINVAL, as Linux answers for a number not open in the process', { skip: nativeSkip || (existsSync('/dev/dma_heap/system') ? false : 'no /dev/dma_heap/system') }, () => {
    const a = machine.spawn();
    const b = machine.spawn();
    const alloc = (p: typeof a): number => {
      const heap = p.open('/dev/dma_heap/system', u.O_RDWR | u.O_CLOEXEC);
      const data = u.dma_heap_allocation_data.encode({ len: 4096n, fd_flags: u.O_RDWR | u.O_CLOEXEC });
      p.ioctl(heap, u.DMA_HEAP_IOCTL_ALLOC, data);
      p.close(heap);
      return u.dma_heap_allocation_data.get(data, 'fd');
    };
    const exportSync = (p: typeof a, buf: number): number => {
      const arg = u.dma_buf_export_sync_file.encode({ flags: u.DMA_BUF_SYNC_RW, fd: -1 });
      p.ioctl(buf, u.DMA_BUF_IOCTL_EXPORT_SYNC_FILE, arg);
      return u.dma_buf_export_sync_file.get(arg, 'fd');
    };
    const bufA = alloc(a);
    const theirs = exportSync(b, alloc(b));
    const mine = exportSync(a, bufA);
    const imp = (fd: number, flags = u.DMA_BUF_SYNC_WRITE): Uint8Array => u.dma_buf_import_sync_file.encode({ flags, fd });
    assert.throws(() => a.ioctl(bufA, u.DMA_BUF_IOCTL_IMPORT_SYNC_FILE, imp(theirs)), { code: 'EINVAL' });
    assert.throws(() => a.ioctl(bufA, u.DMA_BUF_IOCTL_IMPORT_SYNC_FILE, imp(theirs, 0)), { code: 'EINVAL' }, 'flags first');
    assert.equal(a.ioctl(bufA, u.DMA_BUF_IOCTL_IMPORT_SYNC_FILE, imp(mine)), 0);
    a.exit();
    b.exit();
  });
});

describe('ioctl descriptions: waits of the async twin', { skip: nativeSkip }, () => {
  test('DMA_BUF_IOCTL_SYNC start waits as poll does: writers for a read (POLLIN), all fences for a write (POLLOUT); end does not wait', () => {
    const shape = ioctlShape(u.DMA_BUF_IOCTL_SYNC)!;
    const flags = (f: number): Uint8Array => {
      const b = new Uint8Array(8);
      new DataView(b.buffer).setBigUint64(0, BigInt(f), true);
      return b;
    };
    assert.equal(shape.waitEvents!(flags(u.DMA_BUF_SYNC_START | u.DMA_BUF_SYNC_READ)), u.POLLIN);
    assert.equal(shape.waitEvents!(flags(u.DMA_BUF_SYNC_START | u.DMA_BUF_SYNC_RW)), u.POLLOUT);
    assert.equal(shape.waitEvents!(flags(u.DMA_BUF_SYNC_END | u.DMA_BUF_SYNC_RW)), 0);
  });

  test('ioctlAsync waits in the waiter for the declared events, then makes the call', async () => {
    const FIONREAD = 0x541b;
    declareIoctl(FIONREAD, { waitEvents: () => u.POLLIN });
    const p = machine.spawn();
    const [a, b] = p.socketpair();
    const arg = new Uint8Array(4);
    const pending = p.ioctlAsync(a, FIONREAD, arg);
    await until('the registration', () => machine.waiterState().registered === 1);
    p.write(b, new Uint8Array(5));
    assert.equal(await pending, 0);
    assert.equal(new DataView(arg.buffer).getInt32(0, true), 5, 'the call ran after the data came');
    p.exit();
  });
});
