/**
 * struct scatterlist and struct sg_table (include/linux/scatterlist.h,
 * lib/scatterlist.c). Each CPU entry names a page, an offset and a length;
 * after dma_map_sgtable() the first `nents` entries also carry a DMA
 * address and length for the device (an IOMMU may merge entries, so nents
 * can be smaller than orig_nents).
 */
import { shouldFailAlloc } from '../lib/failslab.js';
import { type Page, PAGE_SIZE, pfnToPage } from './page.js';

/** struct scatterlist */
export class Scatterlist {
  /** sg_page(); null in tables of memory without struct page (device memory, P2P) */
  page: Page | null = null;
  offset = 0;
  length = 0;
  /** sg_dma_address() */
  dmaAddress = 0;
  /** sg_dma_len() */
  dmaLength = 0;
}

/** struct sg_table */
export class SgTable {
  sgl: Scatterlist[] = [];
  /** mapped (DMA) entries; set by dma_map_sgtable */
  nents = 0;
  /** CPU entries */
  origNents = 0;
  /** @internal the device it is mapped for, if mapped */
  mappedFor: unknown = null;
}

/** sg_alloc_table(table, nents): null on allocation failure. */
export function sgAllocTable(nents: number): SgTable | null {
  if (shouldFailAlloc('slab')) return null;
  const t = new SgTable();
  for (let i = 0; i < nents; i++) t.sgl.push(new Scatterlist());
  t.nents = t.origNents = nents;
  return t;
}

/** sg_set_page(sg, page, len, offset) */
export function sgSetPage(sg: Scatterlist, page: Page | null, length: number, offset: number): void {
  sg.page = page;
  sg.length = length;
  sg.offset = offset;
}

/**
 * sg_alloc_table_from_pages_segment(): one entry per run of physically
 * contiguous pages, each at most `maxSegment` bytes. Null on ENOMEM.
 */
export function sgAllocTableFromPages(pages: readonly Page[], offset: number, size: number, maxSegment = 0xfffff000): SgTable | null {
  if (shouldFailAlloc('slab')) return null;
  const t = new SgTable();
  let remaining = size;
  let i = 0;
  let off = offset;
  while (remaining > 0 && i < pages.length) {
    const sg = new Scatterlist();
    sg.page = pages[i];
    sg.offset = off;
    let len = Math.min(PAGE_SIZE - off, remaining);
    let j = i + 1;
    while (j < pages.length && len < remaining && pages[j].pfn === pages[j - 1].pfn + 1 && len + PAGE_SIZE <= maxSegment) {
      len += Math.min(PAGE_SIZE, remaining - len);
      j++;
    }
    sg.length = len;
    remaining -= len;
    off = 0;
    i = j;
    t.sgl.push(sg);
  }
  t.nents = t.origNents = t.sgl.length;
  return t;
}

/** sg_free_table(): the table is empty afterwards. */
export function sgFreeTable(t: SgTable): void {
  t.sgl = [];
  t.nents = t.origNents = 0;
}

/** for_each_sgtable_sg(): the CPU entries. */
export function* forEachSgtableSg(t: SgTable): Generator<Scatterlist> {
  for (let i = 0; i < t.origNents; i++) yield t.sgl[i];
}

/** for_each_sgtable_dma_sg(): the mapped (DMA) entries. */
export function* forEachSgtableDmaSg(t: SgTable): Generator<Scatterlist> {
  for (let i = 0; i < t.nents; i++) yield t.sgl[i];
}

/** for_each_sgtable_page(table, piter, pgoffset): every page of the CPU entries, from page `pgoffset` on. */
export function* forEachSgtablePage(t: SgTable, pgoffset = 0): Generator<Page> {
  let skip = pgoffset;
  for (const sg of forEachSgtableSg(t)) {
    if (!sg.page) continue;
    const first = Math.floor(sg.offset / PAGE_SIZE);
    const n = Math.ceil((sg.offset + sg.length) / PAGE_SIZE) - first;
    for (let k = 0; k < n; k++) {
      if (skip > 0) {
        skip--;
        continue;
      }
      // Pages of one entry are physically contiguous: the head page's neighbours.
      yield k === 0 && first === 0 ? sg.page : pageAt(sg.page, first + k);
    }
  }
}

/** for_each_sgtable_dma_page(): the DMA address of every page of the mapped entries. */
export function* forEachSgtableDmaPage(t: SgTable, pgoffset = 0): Generator<number> {
  let skip = pgoffset;
  for (const sg of forEachSgtableDmaSg(t)) {
    for (let off = 0; off < sg.dmaLength; off += PAGE_SIZE) {
      if (skip > 0) {
        skip--;
        continue;
      }
      yield sg.dmaAddress + off;
    }
  }
}

/** The n-th page after `head` in its contiguous block (nth_page()). */
function pageAt(head: Page, n: number): Page {
  return pfnToPage(head.pfn + n) ?? head;
}

/** The total CPU length of a table. */
export function sgtableLength(t: SgTable): number {
  let n = 0;
  for (const sg of forEachSgtableSg(t)) n += sg.length;
  return n;
}
