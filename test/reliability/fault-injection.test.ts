/**
 * Fault injection (Linux's failslab / fail_page_alloc): for each operation,
 * fail its 1st allocation, then its 2nd, ... until it runs without
 * reaching the armed one. Every run that hit the fault must fail with
 * -ENOMEM (or the NULL return Linux gives) and leave nothing behind: no
 * pages, no dma-buf, no fence (the harness checks fences and WARNs per
 * test). Linux's own error paths are the reference (dma-buf.c
 * dma_buf_export / __dma_buf_dynamic_attach, system_heap.c, udmabuf.c,
 * sync_file.c sync_file_merge, dma-fence-array.c).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import '../helpers/harness.js';
import { failAllocDisarm, failNthAlloc, faultsInjected } from '../../src/kernel/lib/failslab.js';
import { pagesAllocated } from '../../src/kernel/mm/page-alloc.js';
import { dmaBufExport, dmaBufPut, dmaBufStats, type DmaBufOps } from '../../src/kernel/buf/dma-buf.js';
import { dmaBufAttach, dmaBufDetach, dmaBufMapAttachmentUnlocked, dmaBufUnmapAttachmentUnlocked } from '../../src/kernel/buf/attachment.js';
import { dmaHeapBufferAlloc } from '../../src/kernel/heaps/dma-heap.js';
import { systemHeapCreate } from '../../src/kernel/heaps/system-heap.js';
import { udmabufCreateBuf } from '../../src/kernel/drivers/udmabuf.js';
import { memfdAddSeals, memfdCreate, shmemTruncate } from '../../src/kernel/fs/memfd.js';
import { FdTable } from '../../src/kernel/fs/fdtable.js';
import type { File } from '../../src/kernel/fs/file.js';
import { Device } from '../../src/kernel/mm/device.js';
import { DMA_BIDIRECTIONAL } from '../../src/kernel/mm/dma-mapping.js';
import { PAGE_SIZE } from '../../src/kernel/mm/page.js';
import { DmaFence, dmaFenceContextAlloc, dmaFenceStats, type DmaFenceOps } from '../../src/kernel/fence/dma-fence.js';
import { dmaFenceArrayCreate } from '../../src/kernel/fence/dma-fence-array.js';
import { SyncFile } from '../../src/kernel/sync/sync-file.js';
import { F_SEAL_SHRINK, MFD_ALLOW_SEALING, O_RDWR } from '../../src/uapi/fcntl.js';
import { testExporter } from '../helpers/exporter.js';

const heap = systemHeapCreate();
const fops: DmaFenceOps = { getDriverName: () => 'fi', getTimelineName: () => 'walk' };

interface Held {
  pages: number;
  dmabufs: number;
  fences: number;
}
const held = (): Held => ({ pages: pagesAllocated(), dmabufs: dmaBufStats.live, fences: dmaFenceStats.live });

/**
 * Walk N = 1, 2, ... over the allocations `op` makes. `op` returns a
 * cleanup for success; a fault must surface as `isEnomem(error or result)`.
 * Returns how many faults were injected.
 */
async function walk(name: string, op: () => Promise<(() => Promise<void> | void) | 'ENOMEM'>): Promise<number> {
  let injected = 0;
  for (let n = 1; n < 10_000; n++) {
    const before = held();
    const f0 = faultsInjected();
    failNthAlloc(n);
    let outcome: 'ok' | 'ENOMEM';
    let cleanup: (() => Promise<void> | void) | null = null;
    try {
      const r = await op();
      if (r === 'ENOMEM') outcome = 'ENOMEM';
      else {
        outcome = 'ok';
        cleanup = r;
      }
    } catch (e) {
      assert.equal((e as { code?: string }).code, 'ENOMEM', `${name}, allocation ${n} failed: ${(e as Error).message}`);
      outcome = 'ENOMEM';
    } finally {
      failAllocDisarm();
    }
    const hit = faultsInjected() > f0;
    if (outcome === 'ENOMEM') {
      assert.ok(hit, `${name}: ENOMEM without an injected fault at allocation ${n}`);
      injected++;
      assert.deepEqual(held(), before, `${name}: allocation ${n} failed and left something behind`);
      continue;
    }
    // Success: the armed allocation was never reached (or a fault was absorbed by a fallback, as the heap's smaller orders do).
    await cleanup!();
    assert.deepEqual(held(), before, `${name}: the cleanup after success leaves nothing`);
    if (!hit) {
      if (process.env.DMABUF_FAULT_REPORT) process.stderr.write(`fault injection: ${name}: ${injected} faults over ${n - 1} allocations\n`);
      return injected;
    }
    injected++;
  }
  assert.fail(`${name}: more than 10,000 allocations`);
}

describe('every allocation of each operation fails in turn, with -ENOMEM and nothing left behind', () => {
  test('system heap allocation (3 MiB + 68 KiB: every chunk order, the sg table, the export)', async () => {
    const n = await walk('heap allocate', async () => {
      const buf = await dmaHeapBufferAlloc(heap, 3 * 2 ** 20 + 68 * 1024, O_RDWR, 0);
      return () => dmaBufPut(buf);
    });
    assert.ok(n >= 5, `faults injected: ${n}`);
  });

  test('udmabuf creation over a sealed memfd', async () => {
    const files = new FdTable();
    const mem = memfdCreate('fi', MFD_ALLOW_SEALING) as File;
    assert.equal(shmemTruncate(mem, 8 * PAGE_SIZE), 0);
    assert.equal(memfdAddSeals(mem, F_SEAL_SHRINK), 0);
    const fd = files.getUnusedFdFlags(0);
    files.fdInstall(fd, mem);
    const base = held();
    // The first pin fills the memfd's page cache; those pages belong to the memfd (freed with it), as in Linux.
    dmaBufPut(udmabufCreateBuf([{ memfd: fd, offset: 0, size: 8 * PAGE_SIZE }], files));
    const n = await walk('udmabuf create', async () => {
      const buf = udmabufCreateBuf([{ memfd: fd, offset: 0, size: 8 * PAGE_SIZE }], files);
      return () => dmaBufPut(buf);
    });
    assert.ok(n >= 2, `faults injected: ${n}`);
    files.close(fd);
    assert.equal(pagesAllocated(), base.pages, 'closing the memfd frees its pages');
  });

  test('export, attach and map', async () => {
    const ops: DmaBufOps = { mapDmaBuf: () => null, unmapDmaBuf: () => {}, release: () => {} };
    const n1 = await walk('export', async () => {
      const buf = dmaBufExport({ expName: 'fi', ops, size: PAGE_SIZE, flags: O_RDWR, priv: ops });
      return () => dmaBufPut(buf);
    });
    assert.ok(n1 >= 1);
    const tb = testExporter({ pages: 4 });
    const dev = new Device({ name: 'fi-dev', dmaBits: 64, iommu: true });
    const n2 = await walk('attach', async () => {
      const a = await dmaBufAttach(tb.dmabuf, dev);
      return () => dmaBufDetach(tb.dmabuf, a);
    });
    assert.ok(n2 >= 1);
    const attach = await dmaBufAttach(tb.dmabuf, dev);
    const n3 = await walk('map', async () => {
      const sgt = await dmaBufMapAttachmentUnlocked(attach, DMA_BIDIRECTIONAL);
      return () => dmaBufUnmapAttachmentUnlocked(attach, sgt, DMA_BIDIRECTIONAL);
    });
    assert.ok(n3 >= 2, `map: the sg table and the IOMMU mapping (${n3})`);
    await dmaBufDetach(tb.dmabuf, attach);
    dmaBufPut(tb.dmabuf);
  });

  test('sync_file merge and fence-array creation', async () => {
    const ctx = dmaFenceContextAlloc(2);
    const a = new DmaFence(fops, ctx, 1);
    const b = new DmaFence(fops, ctx + 1, 1);
    const sa = SyncFile.create(a)!;
    const sb = SyncFile.create(b)!;
    const n1 = await walk('sync_file merge', async () => {
      const m = SyncFile.merge('m', sa, sb);
      if (!m) return 'ENOMEM'; // sync_file_merge returns NULL; the ioctl makes it -ENOMEM
      return () => m.release();
    });
    assert.ok(n1 >= 2, `merge: the fence array and the file (${n1})`);
    const n2 = await walk('fence-array create', async () => {
      const arr = dmaFenceArrayCreate([a.get(), b.get()], dmaFenceContextAlloc(1), 1, false);
      if (!arr) {
        // dma_fence_array_create() takes the fences only on success
        a.put();
        b.put();
        return 'ENOMEM';
      }
      return () => arr.put();
    });
    assert.ok(n2 >= 1);
    sa.release();
    sb.release();
    for (const f of [a, b]) {
      f.signal();
      f.put();
    }
  });
});
