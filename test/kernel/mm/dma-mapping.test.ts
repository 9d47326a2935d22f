/** Devices, sg_tables and the streaming DMA API (kernel/dma, lib/scatterlist.c, include/linux/iosys-map.h). */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { expectWarn } from '../../helpers/harness.js';
import { Device } from '../../../src/kernel/mm/device.js';
import { allocPages, freePages, GFP_DMA32, GFP_KERNEL } from '../../../src/kernel/mm/page-alloc.js';
import { Backing, memMapInsert, memMapRemove, Page, PAGE_SIZE } from '../../../src/kernel/mm/page.js';
import {
  dmaMapSgtable, dmaMappedDevice, dmaToPhys, dmaUnmapSgtable, DMA_BIDIRECTIONAL, DMA_TO_DEVICE,
} from '../../../src/kernel/mm/dma-mapping.js';
import {
  forEachSgtableDmaPage, forEachSgtablePage, sgAllocTable, sgAllocTableFromPages, sgSetPage, sgtableLength, type SgTable,
} from '../../../src/kernel/mm/scatterlist.js';
import { IosysMap } from '../../../src/kernel/mm/iosys-map.js';
import { EINVAL, EIO, EREMOTEIO } from '../../../src/kernel/lib/errno.js';

/** n single pages from the allocator, in one backing, made non-contiguous by a spacer. */
function scattered(n: number, gfp = GFP_KERNEL): { pages: Page[]; spacers: Page[]; backing: Backing } {
  const backing = new Backing('t', n * PAGE_SIZE);
  const spare = new Backing('spacer', n * PAGE_SIZE);
  const pages: Page[] = [];
  const spacers: Page[] = [];
  for (let i = 0; i < n; i++) {
    pages.push(allocPages(gfp, 0, backing, i * PAGE_SIZE)![0]);
    spacers.push(allocPages(gfp, 0, spare, i * PAGE_SIZE)![0]);
  }
  return { pages, spacers, backing };
}

function freeAll(...lists: Page[][]): void {
  for (const l of lists) for (const p of l) freePages(p, 0);
}

function tableOf(pages: Page[]): SgTable {
  const t = sgAllocTable(pages.length)!;
  pages.forEach((p, i) => sgSetPage(t.sgl[i], p, PAGE_SIZE, 0));
  return t;
}

describe('sg_table', () => {
  test('sg_alloc_table_from_pages merges physically contiguous runs', () => {
    const b = new Backing('t', 8 * PAGE_SIZE);
    const run = allocPages(GFP_KERNEL, 3, b, 0)!;
    const t = sgAllocTableFromPages(run, 0, 8 * PAGE_SIZE)!;
    assert.equal(t.origNents, 1);
    assert.equal(t.sgl[0].length, 8 * PAGE_SIZE);
    assert.equal(sgtableLength(t), 8 * PAGE_SIZE);
    const s = scattered(3);
    const t2 = sgAllocTableFromPages(s.pages, 0, 3 * PAGE_SIZE)!;
    assert.equal(t2.origNents, 3);
    assert.deepEqual([...forEachSgtablePage(t)].map((p) => p.pfn), run.map((p) => p.pfn));
    assert.deepEqual([...forEachSgtablePage(t, 5)].map((p) => p.pfn), run.slice(5).map((p) => p.pfn));
    freePages(run[0], 3);
    freeAll(s.pages, s.spacers);
  });
});

describe('dma_map_sgtable', () => {
  test('direct mapping: the DMA address is the physical address, one segment per entry', () => {
    const dev = new Device({ name: 'direct' });
    const s = scattered(3);
    const t = tableOf(s.pages);
    assert.equal(dmaMapSgtable(dev, t, DMA_BIDIRECTIONAL), 0);
    assert.equal(t.nents, 3);
    t.sgl.forEach((sg, i) => {
      assert.equal(sg.dmaAddress, s.pages[i].phys());
      assert.equal(sg.dmaLength, PAGE_SIZE);
    });
    assert.equal(dmaMappedDevice(t), dev);
    assert.equal(dmaToPhys(dev, t.sgl[1].dmaAddress + 5), s.pages[1].phys() + 5);
    dmaUnmapSgtable(dev, t, DMA_BIDIRECTIONAL);
    assert.equal(dmaMappedDevice(t), null);
    freeAll(s.pages, s.spacers);
  });

  test('a 32-bit device without an IOMMU cannot reach pages above 4 GiB: -EIO; DMA32 pages work', () => {
    const dev = new Device({ name: 'dma32', dmaBits: 32 });
    const high = scattered(2);
    const t = tableOf(high.pages);
    assert.equal(dmaMapSgtable(dev, t, DMA_TO_DEVICE), -EIO);
    assert.equal(dmaMappedDevice(t), null, 'nothing left mapped');
    const low = scattered(2, GFP_DMA32);
    const t2 = tableOf(low.pages);
    assert.equal(dmaMapSgtable(dev, t2, DMA_TO_DEVICE), 0);
    dmaUnmapSgtable(dev, t2, DMA_TO_DEVICE);
    freeAll(high.pages, high.spacers, low.pages, low.spacers);
  });

  test('behind an IOMMU: scattered pages become one contiguous IOVA segment within the mask', () => {
    const dev = new Device({ name: 'iommu', dmaBits: 32, iommu: true, maxSegmentSize: 1 << 20 });
    const s = scattered(4);
    const t = tableOf(s.pages);
    assert.equal(dmaMapSgtable(dev, t, DMA_BIDIRECTIONAL), 0);
    assert.equal(t.nents, 1, 'merged');
    assert.equal(t.origNents, 4);
    assert.equal(t.sgl[0].dmaLength, 4 * PAGE_SIZE);
    assert.ok(t.sgl[0].dmaAddress + 4 * PAGE_SIZE - 1 <= 0xffffffff);
    for (let i = 0; i < 4; i++) assert.equal(dmaToPhys(dev, t.sgl[0].dmaAddress + i * PAGE_SIZE + 9), s.pages[i].phys() + 9);
    assert.deepEqual([...forEachSgtableDmaPage(t)].length, 4);
    dmaUnmapSgtable(dev, t, DMA_BIDIRECTIONAL);
    assert.equal(dmaToPhys(dev, t.sgl[0].dmaAddress), null, 'unmapped IOVAs fault');
    freeAll(s.pages, s.spacers);
  });

  test('the segment size and boundary limit merging', () => {
    const dev = new Device({ name: 'seg', iommu: true, maxSegmentSize: 2 * PAGE_SIZE });
    const s = scattered(4);
    const t = tableOf(s.pages);
    assert.equal(dmaMapSgtable(dev, t, DMA_BIDIRECTIONAL), 0);
    assert.equal(t.nents, 2);
    assert.ok(t.sgl.slice(0, 2).every((sg) => sg.dmaLength === 2 * PAGE_SIZE));
    dmaUnmapSgtable(dev, t, DMA_BIDIRECTIONAL);
    const bdev = new Device({ name: 'bnd', iommu: true, maxSegmentSize: 1 << 20, segmentBoundaryMask: PAGE_SIZE - 1 });
    assert.equal(dmaMapSgtable(bdev, t, DMA_BIDIRECTIONAL), 0);
    assert.equal(t.nents, 4, 'no segment may cross a page boundary');
    dmaUnmapSgtable(bdev, t, DMA_BIDIRECTIONAL);
    freeAll(s.pages, s.spacers);
  });

  test('device memory needs a P2P-capable device: -EREMOTEIO; an invalid direction WARNs with -EINVAL', async () => {
    const vram = new Backing('vram', PAGE_SIZE);
    const p = new Page(2 ** 27, 'DEVICE', vram, 0);
    memMapInsert(p);
    const t = tableOf([p]);
    assert.equal(dmaMapSgtable(new Device({ name: 'plain' }), t, DMA_BIDIRECTIONAL), -EREMOTEIO);
    const peer = new Device({ name: 'peer', p2p: true });
    assert.equal(dmaMapSgtable(peer, t, DMA_BIDIRECTIONAL), 0);
    dmaUnmapSgtable(peer, t, DMA_BIDIRECTIONAL);
    assert.equal(await expectWarn(() => dmaMapSgtable(peer, t, 7), 1), -EINVAL);
    const empty = sgAllocTable(1)!;
    assert.equal(dmaMapSgtable(peer, empty, DMA_BIDIRECTIONAL), -EINVAL, 'an entry without a page');
    memMapRemove(p.pfn);
  });

  test('unmapping what is not mapped WARNs', async () => {
    const dev = new Device({ name: 'x' });
    await expectWarn(() => dmaUnmapSgtable(dev, sgAllocTable(1)!, DMA_BIDIRECTIONAL), 1);
  });
});

describe('iosys_map', () => {
  test('set, compare, copy, read and write little-endian', () => {
    const mem = new Uint8Array(32);
    const m = new IosysMap();
    assert.ok(m.isNull());
    m.setVaddr(mem);
    assert.ok(m.isSet());
    m.wr(4, 'u32', 0x11223344);
    assert.deepEqual([...mem.subarray(4, 8)], [0x44, 0x33, 0x22, 0x11]);
    assert.equal(m.rd(4, 'u32'), 0x11223344);
    m.wr(8, 'u64', 2n ** 40n);
    assert.equal(m.rd(8, 'u64'), 2n ** 40n);
    m.memcpyTo(16, new Uint8Array([1, 2, 3]));
    const out = new Uint8Array(3);
    m.memcpyFrom(out, 16, 3);
    assert.deepEqual([...out], [1, 2, 3]);
    const io = new IosysMap();
    io.setVaddrIomem(mem);
    assert.ok(io.isIomem);
    assert.ok(!io.isEqual(m), 'system vs I/O memory differ');
    const m2 = new IosysMap();
    m.copyTo(m2);
    assert.ok(m2.isEqual(m));
    m2.incr(16);
    assert.equal(m2.rd(0, 'u8'), 1);
    m.clear();
    assert.throws(() => m.rd(0, 'u8'), RangeError);
  });
});
