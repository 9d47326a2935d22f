/**
 * The page-frame allocator (mm/page_alloc.c): a buddy allocator per zone.
 *
 * Physical layout (x86-64-like): ZONE_DMA32 below 4 GiB, ZONE_NORMAL from
 * 4 GiB up, so that a device with a 32-bit DMA mask and no IOMMU can reach
 * only DMA32 pages, as on real machines. The zone sizes are the machine's
 * memory limit: when they are used up, allocation fails (-ENOMEM to the
 * caller). GFP_DMA32 asks for DMA32 pages; anything else prefers NORMAL
 * and falls back to DMA32.
 */
import { WARN } from '../lib/bug.js';
import { shouldFailAlloc } from '../lib/failslab.js';
import { statsRegister } from '../lib/stats.js';
import { Backing, memMapInsert, memMapRemove, Page, PAGE_SHIFT, PAGE_SIZE, type ZoneName } from './page.js';

/** MAX_PAGE_ORDER: the largest block is 2^10 pages (4 MiB). */
export const MAX_ORDER = 10;

export const GFP_KERNEL = 0;
export const __GFP_DMA32 = 1 << 0;
export const GFP_DMA32 = __GFP_DMA32;
export const __GFP_ZERO = 1 << 1;
/** __GFP_NOWARN | __GFP_NORETRY: the system heap's high-order attempts */
export const __GFP_NORETRY = 1 << 2;

class Zone {
  readonly freeArea: Set<number>[] = Array.from({ length: MAX_ORDER + 1 }, () => new Set<number>());
  nrFree = 0;
  constructor(readonly name: ZoneName, readonly startPfn: number, readonly nrPages: number) {
    // Carve the zone into maximal aligned blocks.
    let pfn = startPfn;
    const end = startPfn + nrPages;
    while (pfn < end) {
      let order = MAX_ORDER;
      while (order > 0 && ((pfn - startPfn) % (1 << order) !== 0 || pfn + (1 << order) > end)) order--;
      this.freeArea[order].add(pfn);
      this.nrFree += 1 << order;
      pfn += 1 << order;
    }
  }

  allocBlock(order: number): number | null {
    let o = order;
    while (o <= MAX_ORDER && this.freeArea[o].size === 0) o++;
    if (o > MAX_ORDER) return null;
    const pfn = this.freeArea[o].values().next().value as number;
    this.freeArea[o].delete(pfn);
    // Split down, keeping the lower half.
    while (o > order) {
      o--;
      this.freeArea[o].add(pfn + (1 << o));
    }
    this.nrFree -= 1 << order;
    return pfn;
  }

  freeBlock(pfn: number, order: number): void {
    this.nrFree += 1 << order;
    while (order < MAX_ORDER) {
      const buddy = this.startPfn + ((pfn - this.startPfn) ^ (1 << order));
      if (!this.freeArea[order].has(buddy)) break;
      this.freeArea[order].delete(buddy);
      pfn = Math.min(pfn, buddy);
      order++;
    }
    this.freeArea[order].add(pfn);
  }

  contains(pfn: number): boolean {
    return pfn >= this.startPfn && pfn < this.startPfn + this.nrPages;
  }
}

/** The emulated machine's RAM by zone, and its CMA area ({@link BootOptions.memory}); unset sizes take the defaults. */
export interface MemoryConfig {
  /** bytes of ZONE_NORMAL (above 4 GiB) */
  normalBytes?: number;
  /** bytes of ZONE_DMA32 (below 4 GiB) */
  dma32Bytes?: number;
  /** bytes of the CMA area (cma=), reserved below 4 GiB after DMA32 */
  cmaBytes?: number;
}

/** A contiguous memory area (mm/cma.c): a bitmap of pages handed out in aligned runs. */
class CmaArea {
  readonly bitmap: Uint8Array;
  used = 0;
  constructor(readonly name: string, readonly basePfn: number, readonly count: number) {
    this.bitmap = new Uint8Array(count);
  }
}

/** CONFIG_CMA_ALIGNMENT */
export const CMA_ALIGNMENT = 8;

const DMA32_START = (16 << 20) >> PAGE_SHIFT; // leave the first 16 MiB out, as ZONE_DMA
const NORMAL_START = (4 * 2 ** 30) / PAGE_SIZE;

let zones: Zone[] = [];
let cma: CmaArea | null = null;
let allocated = 0;
const stats = { allocations: 0, frees: 0 };

/** Set up (or reset) physical memory. Refused while pages are allocated. */
export function memInit(cfg: MemoryConfig = {}): void {
  if (allocated) throw new Error(`memInit: ${allocated} pages are still allocated`);
  const normal = Math.floor((cfg.normalBytes ?? 2 * 2 ** 30) / PAGE_SIZE);
  const dma32 = Math.floor((cfg.dma32Bytes ?? 256 * 2 ** 20) / PAGE_SIZE);
  const cmaPages = Math.floor((cfg.cmaBytes ?? 64 * 2 ** 20) / PAGE_SIZE);
  zones = [new Zone('NORMAL', NORMAL_START, normal), new Zone('DMA32', DMA32_START, dma32)];
  // The CMA area follows DMA32, aligned to the largest CMA alignment.
  const align = 1 << CMA_ALIGNMENT;
  const cmaBase = Math.ceil((DMA32_START + dma32) / align) * align;
  cma = cmaPages > 0 ? new CmaArea('reserved', cmaBase, cmaPages) : null;
}

memInit();

function zoneOf(pfn: number): Zone | undefined {
  return zones.find((z) => z.contains(pfn));
}

/**
 * alloc_pages(gfp, order): a physically contiguous block of 2^order
 * pages whose bytes are `backing` from `byteOffset` on. Null when no zone
 * the flags allow has a free block that large (or fault injection says so).
 */
export function allocPages(gfp: number, order: number, backing: Backing, byteOffset: number): Page[] | null {
  if (order < 0 || order > MAX_ORDER) {
    WARN(true, `alloc_pages: order ${order} > MAX_PAGE_ORDER`);
    return null;
  }
  if (shouldFailAlloc('page')) return null;
  const candidates = gfp & __GFP_DMA32 ? zones.filter((z) => z.name === 'DMA32') : zones;
  for (const zone of candidates) {
    const pfn = zone.allocBlock(order);
    if (pfn === null) continue;
    const pages: Page[] = [];
    for (let i = 0; i < 1 << order; i++) {
      const p = new Page(pfn + i, zone.name, backing, byteOffset + i * PAGE_SIZE);
      memMapInsert(p);
      pages.push(p);
    }
    if (gfp & __GFP_ZERO) backing.view(byteOffset, (1 << order) * PAGE_SIZE).fill(0);
    allocated += 1 << order;
    stats.allocations++;
    return pages;
  }
  return null;
}

/** __free_pages(): give back a block allocated with allocPages (its first page and order). */
export function freePages(first: Page, order: number): void {
  const zone = zoneOf(first.pfn);
  if (WARN(!zone, `__free_pages: pfn ${first.pfn} is not RAM`)) return;
  for (let i = 0; i < 1 << order; i++) memMapRemove(first.pfn + i);
  zone!.freeBlock(first.pfn, order);
  allocated -= 1 << order;
  stats.frees++;
}

/** The CMA area's name and size, or null when there is none. */
export function cmaArea(): { name: string; pages: number; used: number } | null {
  return cma ? { name: cma.name, pages: cma.count, used: cma.used } : null;
}

/**
 * cma_alloc(cma, count, align, no_warn): `count` physically contiguous
 * pages aligned to 2^align pages, whose bytes are `backing` from 0 on; null
 * when the area has no such run.
 */
export function cmaAlloc(count: number, align: number, backing: Backing): Page[] | null {
  if (!cma || count <= 0 || shouldFailAlloc('page')) return null;
  const step = 1 << Math.min(align, CMA_ALIGNMENT);
  for (let start = 0; start + count <= cma.count; start += step) {
    let free = true;
    for (let i = 0; i < count; i++) {
      if (cma.bitmap[start + i]) {
        free = false;
        break;
      }
    }
    if (!free) continue;
    cma.bitmap.fill(1, start, start + count);
    cma.used += count;
    allocated += count;
    stats.allocations++;
    const pages: Page[] = [];
    for (let i = 0; i < count; i++) {
      const p = new Page(cma.basePfn + start + i, 'DMA32', backing, i * PAGE_SIZE);
      memMapInsert(p);
      pages.push(p);
    }
    return pages;
  }
  return null;
}

/** cma_release(cma, pages, count): false (WARN) if the pages are not from the area. */
export function cmaRelease(pages: readonly Page[]): boolean {
  if (!cma || pages.length === 0) return false;
  const start = pages[0].pfn - cma.basePfn;
  if (WARN(start < 0 || start + pages.length > cma.count, 'cma_release: pages not in the CMA area')) return false;
  for (const p of pages) memMapRemove(p.pfn);
  cma.bitmap.fill(0, start, start + pages.length);
  cma.used -= pages.length;
  allocated -= pages.length;
  stats.frees++;
  return true;
}

/** si_meminfo(): totals in pages. */
export function memInfo(): { totalPages: number; freePages: number; allocatedPages: number; zones: { name: ZoneName; start: number; pages: number; free: number }[] } {
  return {
    totalPages: zones.reduce((n, z) => n + z.nrPages, 0),
    freePages: zones.reduce((n, z) => n + z.nrFree, 0),
    allocatedPages: allocated,
    zones: zones.map((z) => ({ name: z.name, start: z.startPfn, pages: z.nrPages, free: z.nrFree })),
  };
}

/** Pages currently allocated (leak checks). */
export function pagesAllocated(): number {
  return allocated;
}

/** get_order(size): the smallest order whose block holds `size` bytes. */
export function getOrder(size: number): number {
  let order = 0;
  while (PAGE_SIZE << order < size) order++;
  return order;
}

/** Registers the allocated page count with the kernel's counters (Machine.stats().pages). */
export function pageAllocInit(): number {
  return statsRegister('pages', pagesAllocated);
}
