/** The page allocator: zones, buddy blocks, the memory limit, CMA (mm/page_alloc.c, mm/cma.c). */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import '../../helpers/harness.js';
import { allocPages, cmaAlloc, cmaArea, cmaRelease, freePages, GFP_DMA32, GFP_KERNEL, getOrder, MAX_ORDER, memInfo, memInit, pagesAllocated } from '../../../src/kernel/mm/page-alloc.js';
import { Backing, PAGE_SIZE, pfnToPage, physToBytes } from '../../../src/kernel/mm/page.js';
import { failAllocDisarm, failNthAlloc } from '../../../src/kernel/lib/failslab.js';
import { expectWarn } from '../../helpers/harness.js';

describe('page allocator', () => {
  test('a block is 2^order contiguous pages backed by the given store; freeing merges buddies back', () => {
    const before = memInfo().freePages;
    const b = new Backing('t', 16 * PAGE_SIZE);
    const pages = allocPages(GFP_KERNEL, 4, b, 0)!;
    assert.equal(pages.length, 16);
    for (let i = 1; i < 16; i++) assert.equal(pages[i].pfn, pages[0].pfn + 1 * i);
    assert.equal(pages[0].pfn % 16, 0, 'naturally aligned');
    assert.equal(pages[3].offset, 3 * PAGE_SIZE);
    assert.equal(pfnToPage(pages[5].pfn), pages[5]);
    pages[2].bytes()[7] = 42;
    assert.equal(b.bytes[2 * PAGE_SIZE + 7], 42, 'the page is a view of its backing');
    assert.equal(physToBytes(pages[2].phys() + 7, 1)![0], 42, 'physical addresses reach the bytes');
    assert.equal(memInfo().freePages, before - 16);
    freePages(pages[0], 4);
    assert.equal(memInfo().freePages, before);
    assert.equal(pfnToPage(pages[5].pfn), undefined);
  });

  test('NORMAL pages sit above 4 GiB, GFP_DMA32 pages below', () => {
    const b = new Backing('t', 2 * PAGE_SIZE);
    const n = allocPages(GFP_KERNEL, 0, b, 0)!;
    const d = allocPages(GFP_DMA32, 0, b, PAGE_SIZE)!;
    assert.ok(n[0].phys() >= 4 * 2 ** 30);
    assert.equal(n[0].zone, 'NORMAL');
    assert.ok(d[0].phys() < 4 * 2 ** 30);
    assert.equal(d[0].zone, 'DMA32');
    freePages(n[0], 0);
    freePages(d[0], 0);
  });

  test('the memory limit: allocation fails (null) once the zones are used up, and fault injection fails any allocation', () => {
    memInit({ normalBytes: 64 * PAGE_SIZE, dma32Bytes: 0, cmaBytes: 0 });
    try {
      const b = new Backing('t', 64 * PAGE_SIZE);
      const all = allocPages(GFP_KERNEL, 6, b, 0)!;
      assert.ok(all);
      assert.equal(allocPages(GFP_KERNEL, 0, b, 0), null, 'no memory left');
      freePages(all[0], 6);
      failNthAlloc(1, ['page']);
      try {
        assert.equal(allocPages(GFP_KERNEL, 0, b, 0), null);
      } finally {
        failAllocDisarm();
      }
      assert.equal(pagesAllocated(), 0);
    } finally {
      memInit();
    }
  });

  test('orders above MAX_ORDER WARN and fail; get_order', async () => {
    const b = new Backing('t', PAGE_SIZE);
    assert.equal(await expectWarn(() => allocPages(GFP_KERNEL, MAX_ORDER + 1, b, 0), 1), null);
    assert.equal(getOrder(1), 0);
    assert.equal(getOrder(PAGE_SIZE + 1), 1);
    assert.equal(getOrder(1 << 20), 8);
  });

  test('CMA: contiguous runs of any length, aligned, released back', () => {
    const area = cmaArea()!;
    assert.ok(area.pages > 0);
    const b = new Backing('cma', 300 * PAGE_SIZE);
    const pages = cmaAlloc(300, 8, b)!;
    assert.equal(pages.length, 300);
    assert.equal(pages[0].pfn % 256, 0);
    for (let i = 1; i < 300; i++) assert.equal(pages[i].pfn, pages[0].pfn + i);
    assert.ok(pages[299].phys() < 4 * 2 ** 30, 'below 4 GiB');
    assert.equal(cmaAlloc(area.pages, 0, b), null, 'no room for the whole area while 300 pages are out');
    assert.ok(cmaRelease(pages));
    assert.equal(cmaArea()!.used, 0);
  });
});
