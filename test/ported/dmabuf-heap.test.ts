/**
 * Port of tools/testing/selftests/dmabuf-heaps/dmabuf-heap.c: for every
 * heap under /dev/dma_heap, test_alloc_and_import, test_alloc_compat and
 * test_alloc_errors (and test_alloc_zeroed of newer versions), as a process
 * of a machine, through the real ioctl bytes.
 */
import { describe, test } from 'node:test';
import { readdirSync } from 'node:fs';
import assert from 'node:assert/strict';
import type { Process } from '../../src/index.js';
import * as u from '../../src/uapi/index.js';
import { backendSkip, openVgem, sys, useProcess } from '../helpers/machine.js';

const DEVPATH = '/dev/dma_heap';
const ONE_MEG = 1024 * 1024;
let proc: Process;

useProcess('dmabuf-heap', (_machine, p) => {
  proc = p;
});

/** ioctl() returning -errno instead of throwing, as the C code sees it */
const ioctl = (fd: number, req: number, arg: Uint8Array | number): number => sys(() => proc.ioctl(fd, req, arg));

function importVgemFd(vgemFd: number, dmaBufFd: number): number {
  const h = u.drm_prime_handle.encode({ fd: dmaBufFd, flags: 0, handle: 0 });
  const ret = ioctl(vgemFd, u.DRM_IOCTL_PRIME_FD_TO_HANDLE, h);
  return ret === 0 ? u.drm_prime_handle.get(h, 'handle') : ret;
}

function closeHandle(vgemFd: number, handle: number): void {
  ioctl(vgemFd, u.DRM_IOCTL_GEM_CLOSE, u.drm_gem_close.encode({ handle }));
}

function dmabufHeapOpen(name: string): number {
  return proc.open(`${DEVPATH}/${name}`, u.O_RDWR);
}

function dmabufHeapAllocFdflags(fd: number, len: number, fdFlags: number, heapFlags: number | bigint): { ret: number; fd: number } {
  const data = u.dma_heap_allocation_data.encode({ len, fd: 0, fd_flags: fdFlags, heap_flags: heapFlags });
  const ret = ioctl(fd, u.DMA_HEAP_IOCTL_ALLOC, data);
  return { ret, fd: u.dma_heap_allocation_data.get(data, 'fd') };
}

const dmabufHeapAlloc = (fd: number, len: number, flags: number | bigint): { ret: number; fd: number } => dmabufHeapAllocFdflags(fd, len, u.O_RDWR | u.O_CLOEXEC, flags);

function dmabufSync(fd: number, startStop: number): number {
  return ioctl(fd, u.DMA_BUF_IOCTL_SYNC, u.dma_buf_sync.encode({ flags: startStop | u.DMA_BUF_SYNC_RW }));
}

function testAllocAndImport(heapName: string): void {
  const heapFd = dmabufHeapOpen(heapName);
  const { ret, fd: dmabufFd } = dmabufHeapAlloc(heapFd, ONE_MEG, 0);
  assert.equal(ret, 0, 'FAIL (Allocation Failed!)');
  const p = proc.mmap(ONE_MEG, u.PROT_READ | u.PROT_WRITE, u.MAP_SHARED, dmabufFd, 0);
  dmabufSync(dmabufFd, u.DMA_BUF_SYNC_START);
  p.fill(1, 0, ONE_MEG / 2);
  p.fill(0, ONE_MEG / 2);
  dmabufSync(dmabufFd, u.DMA_BUF_SYNC_END);
  const importerFd = openVgem(proc); // open_vgem()
  assert.ok(importerFd >= 0, 'vgem is there');
  const handle = importVgemFd(importerFd, dmabufFd);
  assert.ok(handle > 0, 'FAIL (Failed to import buffer)');
  assert.equal(dmabufSync(dmabufFd, u.DMA_BUF_SYNC_START), 0, 'FAIL (DMA_BUF_SYNC_START failed!)');
  p.fill(0xff);
  assert.equal(dmabufSync(dmabufFd, u.DMA_BUF_SYNC_END), 0, 'FAIL (DMA_BUF_SYNC_END failed!)');
  closeHandle(importerFd, handle);
  proc.munmap(p);
  proc.close(importerFd);
  proc.close(dmabufFd);
  proc.close(heapFd);
}

function testAllocZeroed(heapName: string): void {
  const heapFd = dmabufHeapOpen(heapName);
  const fds: number[] = [];
  for (let i = 0; i < 32; i++) {
    const { ret, fd } = dmabufHeapAlloc(heapFd, ONE_MEG, 0);
    assert.equal(ret, 0, 'FAIL (Allocation Failed!)');
    const p = proc.mmap(ONE_MEG, u.PROT_READ | u.PROT_WRITE, u.MAP_SHARED, fd, 0);
    dmabufSync(fd, u.DMA_BUF_SYNC_START);
    p.fill(0xff);
    dmabufSync(fd, u.DMA_BUF_SYNC_END);
    proc.munmap(p);
    fds.push(fd);
  }
  for (const fd of fds) proc.close(fd);
  for (let i = 0; i < 32; i++) {
    const { ret, fd } = dmabufHeapAlloc(heapFd, ONE_MEG, 0);
    assert.equal(ret, 0);
    const p = proc.mmap(ONE_MEG, u.PROT_READ | u.PROT_WRITE, u.MAP_SHARED, fd, 0);
    dmabufSync(fd, u.DMA_BUF_SYNC_START);
    assert.ok(p.every((c) => c === 0), 'FAIL (Allocated buffer not zeroed)');
    dmabufSync(fd, u.DMA_BUF_SYNC_END);
    proc.munmap(p);
    proc.close(fd);
  }
  proc.close(heapFd);
}

/* The selftest's own older and newer layouts of the ALLOC argument. */
const dma_heap_allocation_data_smaller = u.struct('dma_heap_allocation_data_smaller', 16, {
  len: u.field('__u64', 0),
  fd: u.field('__u32', 8),
  fd_flags: u.field('__u32', 12),
});

const dma_heap_allocation_data_bigger = u.struct('dma_heap_allocation_data_bigger', 48, {
  len: u.field('__u64', 0),
  fd: u.field('__u32', 8),
  fd_flags: u.field('__u32', 12),
  heap_flags: u.field('__u64', 16),
  garbage1: u.field('__u64', 24),
  garbage2: u.field('__u64', 32),
  garbage3: u.field('__u64', 40),
});

function testAllocCompat(heapName: string): void {
  const heapFd = dmabufHeapOpen(heapName);
  const older = dma_heap_allocation_data_smaller.encode({ len: ONE_MEG, fd_flags: u.O_RDWR | u.O_CLOEXEC });
  assert.equal(ioctl(heapFd, u._IOWR('H', 0x0, dma_heap_allocation_data_smaller.size), older), 0, 'FAIL (Older compat allocation failed!)');
  proc.close(dma_heap_allocation_data_smaller.get(older, 'fd'));
  const newer = dma_heap_allocation_data_bigger.encode({ len: ONE_MEG, fd_flags: u.O_RDWR | u.O_CLOEXEC, garbage1: 0xffffffff, garbage2: 0x88888888, garbage3: 0x11111111 });
  assert.equal(ioctl(heapFd, u._IOWR('H', 0x0, dma_heap_allocation_data_bigger.size), newer), 0, 'FAIL (Newer compat allocation failed!)');
  proc.close(dma_heap_allocation_data_bigger.get(newer, 'fd'));
  proc.close(heapFd);
}

function testAllocErrors(heapName: string): void {
  const heapFd = dmabufHeapOpen(heapName);
  assert.notEqual(dmabufHeapAlloc(0, ONE_MEG, 0x111111).ret, 0, 'FAIL (Did not see expected error (invalid fd)!)');
  assert.notEqual(dmabufHeapAlloc(heapFd, ONE_MEG, 0x111111).ret, 0, 'FAIL (Did not see expected error (invalid heap flags)!)');
  assert.notEqual(dmabufHeapAllocFdflags(heapFd, ONE_MEG, ~(u.O_RDWR | u.O_CLOEXEC) >>> 0, 0).ret, 0, 'FAIL (Did not see expected error (invalid fd flags)!)');
  // What those errors are, as Linux gives them:
  assert.equal(dmabufHeapAlloc(0, ONE_MEG, 0x111111).ret, -25, '-ENOTTY: fd 0 is not a heap');
  assert.equal(dmabufHeapAlloc(heapFd, ONE_MEG, 0x111111).ret, -22);
  assert.equal(dmabufHeapAlloc(heapFd, 0, 0).ret, -22, 'zero length');
  proc.close(heapFd);
}

/**
 * The selftest runs on every heap in /dev/dma_heap. The emulator has the
 * system heap and the CMA heap; on the real kernel (DMABUF_BACKEND=linux)
 * they are whatever it has (Debian's stock kernel: no CMA heap).
 */
const HEAPS = process.env.DMABUF_BACKEND !== 'linux' ? ['reserved', 'system'] : backendSkip ? [] : readdirSync(DEVPATH).sort();

describe('dmabuf-heaps selftest', { skip: backendSkip }, () => {
  test('the heaps under /dev/dma_heap', () => {
    assert.deepEqual(proc.readdir(DEVPATH).sort(), HEAPS);
    assert.ok(HEAPS.includes('system'));
  });
  for (const heap of HEAPS) {
    describe(`Testing heap: ${heap}`, () => {
      test('test_alloc_and_import', () => testAllocAndImport(heap));
      test('test_alloc_zeroed', () => testAllocZeroed(heap));
      test('test_alloc_compat', () => testAllocCompat(heap));
      test('test_alloc_errors', () => testAllocErrors(heap));
    });
  }
});
