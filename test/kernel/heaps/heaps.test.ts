/** dma-heap core, system heap and CMA heap (drivers/dma-buf/dma-heap.c, heaps/system_heap.c, heaps/cma_heap.c). */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import '../../helpers/harness.js';
import { dmaHeapAdd, dmaHeapBufferAlloc, dmaHeapFind, dmaHeapOpen, dmaHeaps, DMA_HEAP_VALID_FD_FLAGS } from '../../../src/kernel/heaps/dma-heap.js';
import { DMA_HEAP_IOCTL_ALLOC, dma_heap_allocation_data } from '../../../src/uapi/dma-heap.js';
import { fput, type File } from '../../../src/kernel/fs/file.js';
import { systemHeapCreate, SystemHeapBuffer } from '../../../src/kernel/heaps/system-heap.js';
import { cmaHeapCreate, CMA_HEAP_NAME, CmaHeapBuffer } from '../../../src/kernel/heaps/cma-heap.js';
import { dmaBufPut, dmaBufStats } from '../../../src/kernel/buf/dma-buf.js';
import { failAllocDisarm, failNthAlloc } from '../../../src/kernel/lib/failslab.js';
import { dmaBufAttach, dmaBufDetach, dmaBufMapAttachmentUnlocked, dmaBufUnmapAttachmentUnlocked } from '../../../src/kernel/buf/attachment.js';
import { dmaBufBeginCpuAccess, dmaBufEndCpuAccess, dmaBufVmapUnlocked, dmaBufVunmapUnlocked } from '../../../src/kernel/buf/cpu-access.js';
import { Device } from '../../../src/kernel/mm/device.js';
import { DMA_BIDIRECTIONAL, DMA_FROM_DEVICE, dmaSyncHooks } from '../../../src/kernel/mm/dma-mapping.js';
import { IosysMap } from '../../../src/kernel/mm/iosys-map.js';
import { memInfo, memInit } from '../../../src/kernel/mm/page-alloc.js';
import { PAGE_SIZE } from '../../../src/kernel/mm/page.js';
import { Vma, VM_READ, VM_SHARED, VM_WRITE } from '../../../src/kernel/mm/vma.js';
import { Task } from '../../../src/kernel/fs/task.js';
import { FdTable } from '../../../src/kernel/fs/fdtable.js';
import { EFAULT, EINVAL, ENOMEM } from '../../../src/kernel/lib/errno.js';
import { O_CLOEXEC, O_RDWR, O_NONBLOCK } from '../../../src/uapi/fcntl.js';

const system = systemHeapCreate();
const cma = cmaHeapCreate()!;

describe('dma-heap core', () => {
  test('the heaps have Linux\'s names; a second add of a name, an empty name or no allocate is -EINVAL', () => {
    assert.equal(system.name, 'system');
    assert.equal(cma.name, CMA_HEAP_NAME);
    assert.equal(dmaHeapFind('system'), system);
    assert.ok(dmaHeaps().includes(cma));
    assert.throws(() => dmaHeapAdd({ name: 'system', ops: { allocate: () => { throw new Error(); } } }), { code: 'EINVAL' });
    assert.throws(() => dmaHeapAdd({ name: '', ops: { allocate: () => { throw new Error(); } } }), { code: 'EINVAL' });
    assert.throws(() => dmaHeapAdd({ name: 'x', ops: {} as never }), { code: 'EINVAL' });
    assert.equal(DMA_HEAP_VALID_FD_FLAGS, O_CLOEXEC | 3);
  });

  test('ALLOC checks: fd flags, heap flags, zero length; lengths are page aligned', async () => {
    await assert.rejects(dmaHeapBufferAlloc(system, PAGE_SIZE, O_NONBLOCK, 0), { code: 'EINVAL' });
    await assert.rejects(dmaHeapBufferAlloc(system, PAGE_SIZE, 0, 1), { code: 'EINVAL' });
    await assert.rejects(dmaHeapBufferAlloc(system, 0, 0, 0), { code: 'EINVAL' });
    const d = await dmaHeapBufferAlloc(system, 100, O_RDWR | O_CLOEXEC, 0);
    assert.equal(d.size, PAGE_SIZE);
    assert.equal(d.expName, 'system');
    assert.equal(d.file.fFlags, O_RDWR, 'O_CLOEXEC is an fd property, not a file flag');
    dmaBufPut(d);
  });

  test('DMA_HEAP_IOCTL_ALLOC: heap_flags and len are u64s, checked on all 64 bits (drivers/dma-buf/dma-heap.c dma_heap_ioctl_allocate)', async () => {
    // Linux: `if (heap_allocation->heap_flags & ~DMA_HEAP_VALID_HEAP_FLAGS) return -EINVAL;` with a u64
    // heap_flags, then PAGE_ALIGN(len) of the u64 len, 0 (wrapped) being -EINVAL.
    const file = dmaHeapOpen('system', O_RDWR);
    assert.ok(typeof file !== 'number');
    const files = new FdTable();
    const task = new Task(files);
    const alloc = (v: Parameters<typeof dma_heap_allocation_data.encode>[0]): Promise<number> =>
      Promise.resolve(file.fOp.unlockedIoctl!(file, DMA_HEAP_IOCTL_ALLOC, dma_heap_allocation_data.encode({ fd_flags: O_RDWR, ...v }), task));
    for (const bit of [0n, 31n, 32n, 53n, 63n]) {
      assert.equal(await alloc({ len: PAGE_SIZE, heap_flags: 1n << bit }), -EINVAL, `heap_flags bit ${bit}`);
      await assert.rejects(dmaHeapBufferAlloc(system, PAGE_SIZE, O_RDWR, 1n << bit), { code: 'EINVAL' }, `kernel face, bit ${bit}`);
    }
    assert.equal(await alloc({ len: 2n ** 64n - 4095n }), -EINVAL, 'PAGE_ALIGN wraps to 0');
    assert.equal(await alloc({ len: 2n ** 64n - 4096n }), -ENOMEM, 'the last aligned length is no wrap: too big');
    assert.equal(await alloc({ len: 2n ** 53n + 1n }), -ENOMEM);
    assert.deepEqual(files.openFds(), [], 'no fd was installed');
    const arg = dma_heap_allocation_data.encode({ len: 1, fd_flags: O_RDWR });
    assert.equal(await file.fOp.unlockedIoctl!(file, DMA_HEAP_IOCTL_ALLOC, arg, task), 0);
    const fd = dma_heap_allocation_data.get(arg, 'fd');
    assert.equal(files.lookup(fd)?.name, 'dmabuf');
    files.closeAll();
    fput(file);
  });

  // The stable fix in Linux 6.12.113 (drivers/dma-buf/dma-heap.c): the new fd is installed
  // only after copy_to_user() succeeded, so a faulting copy leaves no fd and no buffer behind.
  test('DMA_HEAP_IOCTL_ALLOC whose result cannot be copied out leaves no fd and no buffer (fail_usercopy)', async () => {
    const files = new FdTable();
    const task = new Task(files);
    const file = dmaHeapOpen('system', O_RDWR) as File;
    const live = dmaBufStats.live;
    const pages = memInfo().allocatedPages;
    const arg = dma_heap_allocation_data.encode({ len: 3 * PAGE_SIZE, fd_flags: O_RDWR | O_CLOEXEC });
    // The ioctl's first user copy brings the argument in; the second takes the result out: fail that one.
    failNthAlloc(2, ['usercopy']);
    try {
      assert.equal(await file.fOp.unlockedIoctl!(file, DMA_HEAP_IOCTL_ALLOC, arg, task), -EFAULT);
    } finally {
      failAllocDisarm();
    }
    assert.deepEqual(files.openFds(), [], 'no fd was installed');
    assert.equal(files.getUnusedFdFlags(0), 0, 'the reserved number was given back');
    files.putUnusedFd(0);
    assert.equal(dmaBufStats.live, live, 'the buffer was freed');
    assert.equal(memInfo().allocatedPages, pages);
    // Without the fault the same call installs the fd.
    assert.equal(await file.fOp.unlockedIoctl!(file, DMA_HEAP_IOCTL_ALLOC, arg, task), 0);
    assert.equal(files.lookup(dma_heap_allocation_data.get(arg, 'fd'))?.name, 'dmabuf');
    files.closeAll();
    fput(file);
  });
});

describe('system heap', () => {
  test('chunks of 1 MiB, 64 KiB and 4 KiB, largest first, never growing; one sg entry per chunk', async () => {
    const len = (1 << 20) + 3 * (64 << 10) + 5 * PAGE_SIZE;
    const d = await dmaHeapBufferAlloc(system, len, O_RDWR, 0);
    const buf = d.priv as SystemHeapBuffer;
    assert.deepEqual(buf.chunks.map((c) => c.order), [8, 4, 4, 4, 0, 0, 0, 0, 0]);
    const table = buf.sgTable()!;
    assert.equal(table.origNents, 9);
    assert.deepEqual(table.sgl.map((sg) => sg.length), [1 << 20, 65536, 65536, 65536, 4096, 4096, 4096, 4096, 4096]);
    assert.equal(buf.pages().length, len / PAGE_SIZE);
    dmaBufPut(d);
  });

  test('falls back to smaller orders when large blocks run out', async () => {
    memInit({ normalBytes: 256 * PAGE_SIZE, dma32Bytes: 0, cmaBytes: 0 });
    try {
      const d = await dmaHeapBufferAlloc(system, 256 * PAGE_SIZE, O_RDWR, 0);
      const d2 = await dmaHeapBufferAlloc(system, PAGE_SIZE, O_RDWR, 0).catch((e: { code: string }) => e.code);
      assert.equal(d2, 'ENOMEM', 'the memory limit');
      dmaBufPut(d);
      assert.equal(memInfo().allocatedPages, 0);
    } finally {
      memInit();
    }
  });

  test('a killed allocating process gets -EINTR and leaves nothing', async () => {
    const task = new Task(new FdTable());
    task.kill();
    const before = memInfo().allocatedPages;
    await assert.rejects(dmaHeapBufferAlloc(system, 2 << 20, O_RDWR, 0, task), { code: 'EINTR' });
    assert.equal(memInfo().allocatedPages, before);
  });

  test('mmap and vmap are zero-copy views of the same bytes', async () => {
    const d = await dmaHeapBufferAlloc(system, 3 * PAGE_SIZE, O_RDWR, 0);
    const vma = new Vma(0, 2 * PAGE_SIZE, 1, VM_READ | VM_WRITE | VM_SHARED);
    assert.equal(await d.file.fOp.mmap!(d.file, vma), 0);
    const map = new IosysMap();
    assert.equal(await dmaBufVmapUnlocked(d, map), 0);
    vma.view![5] = 99;
    assert.equal(map.rd(PAGE_SIZE + 5, 'u8'), 99);
    assert.equal(vma.view!.buffer, map.vaddr!.buffer, 'one SharedArrayBuffer');
    await dmaBufVunmapUnlocked(d, map);
    dmaBufPut(d);
  });

  test('mmap walks the chunks from vm_pgoff: a view across a 1 MiB chunk and the 4 KiB ones after it; past the end is -EINVAL', async () => {
    const d = await dmaHeapBufferAlloc(system, 258 * PAGE_SIZE, O_RDWR, 0);
    const buffer = d.priv as SystemHeapBuffer;
    assert.deepEqual(buffer.chunks.map((c) => c.order), [8, 0, 0]);
    const vma = new Vma(0, 3 * PAGE_SIZE, 255, VM_READ | VM_WRITE | VM_SHARED);
    assert.equal(await d.file.fOp.mmap!(d.file, vma), 0);
    assert.equal(vma.view!.length, 3 * PAGE_SIZE);
    const map = new IosysMap();
    assert.equal(await dmaBufVmapUnlocked(d, map), 0);
    vma.view![2 * PAGE_SIZE + 7] = 42; // page 257, the last chunk
    assert.equal(map.rd(257 * PAGE_SIZE + 7, 'u8'), 42);
    await dmaBufVunmapUnlocked(d, map);
    assert.equal(await d.file.fOp.mmap!(d.file, new Vma(0, 4 * PAGE_SIZE, 255, VM_READ | VM_SHARED)), -EINVAL);
    dmaBufPut(d);
  });

  test('each attachment has its own table mapped for its device; CPU access syncs mapped attachments only', async () => {
    const d = await dmaHeapBufferAlloc(system, 2 * PAGE_SIZE, O_RDWR, 0);
    const iommu = new Device({ name: 'gpu', iommu: true });
    const direct = new Device({ name: 'isp' });
    const a1 = await dmaBufAttach(d, iommu);
    const a2 = await dmaBufAttach(d, direct);
    const s1 = await dmaBufMapAttachmentUnlocked(a1, DMA_BIDIRECTIONAL);
    assert.notEqual(s1, (a2.priv as { table: unknown }).table);
    assert.equal(s1.nents, 1, 'the IOMMU merged the chunks');
    const synced: string[] = [];
    const hook = { syncForCpu: (dev: Device) => void synced.push(`cpu:${dev.name}`), syncForDevice: (dev: Device) => void synced.push(`dev:${dev.name}`) };
    dmaSyncHooks.push(hook);
    try {
      await dmaBufBeginCpuAccess(d, DMA_FROM_DEVICE);
      await dmaBufEndCpuAccess(d, DMA_FROM_DEVICE);
    } finally {
      dmaSyncHooks.splice(dmaSyncHooks.indexOf(hook), 1);
    }
    assert.deepEqual(synced, ['cpu:gpu', 'dev:gpu']);
    await dmaBufUnmapAttachmentUnlocked(a1, s1, DMA_BIDIRECTIONAL);
    await dmaBufDetach(d, a1);
    await dmaBufDetach(d, a2);
    dmaBufPut(d);
  });

  test('a device that cannot reach the pages fails the map with the DMA API\'s error', async () => {
    const d = await dmaHeapBufferAlloc(system, PAGE_SIZE, O_RDWR, 0);
    const a = await dmaBufAttach(d, new Device({ name: 'old32', dmaBits: 32 }));
    await assert.rejects(dmaBufMapAttachmentUnlocked(a, DMA_BIDIRECTIONAL), { code: 'EIO' });
    await dmaBufDetach(d, a);
    dmaBufPut(d);
  });
});

describe('CMA heap', () => {
  test('one physically contiguous run below 4 GiB, one sg entry; a 32-bit device maps it', async () => {
    const d = await dmaHeapBufferAlloc(cma, 5 * PAGE_SIZE, O_RDWR, 0);
    const buf = d.priv as CmaHeapBuffer;
    const pfns = buf.pages().map((p) => p.pfn);
    for (let i = 1; i < pfns.length; i++) assert.equal(pfns[i], pfns[0] + i);
    const a = await dmaBufAttach(d, new Device({ name: 'old32', dmaBits: 32 }));
    const s = await dmaBufMapAttachmentUnlocked(a, DMA_BIDIRECTIONAL);
    assert.equal(s.nents, 1);
    assert.equal(s.sgl[0].dmaLength, 5 * PAGE_SIZE);
    await dmaBufUnmapAttachmentUnlocked(a, s, DMA_BIDIRECTIONAL);
    await dmaBufDetach(d, a);
    dmaBufPut(d);
  });

  test('mmap needs a shared mapping', async () => {
    const d = await dmaHeapBufferAlloc(cma, PAGE_SIZE, O_RDWR, 0);
    assert.equal(await d.file.fOp.mmap!(d.file, new Vma(0, PAGE_SIZE, 0, VM_READ)), -EINVAL);
    assert.equal(await d.file.fOp.mmap!(d.file, new Vma(0, PAGE_SIZE, 0, VM_READ | VM_SHARED)), 0);
    dmaBufPut(d);
  });

  test('the area runs out: -ENOMEM', async () => {
    await assert.rejects(dmaHeapBufferAlloc(cma, 2 ** 30, O_RDWR, 0), { code: 'ENOMEM' });
  });
});
