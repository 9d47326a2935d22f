/**
 * struct page and the physical memory map.
 *
 * Memory is real: bytes live in SharedArrayBuffers so that CPU mappings are
 * zero-copy views usable from any thread. A physical page is an accounting
 * object with a page frame number (its physical address >> PAGE_SHIFT) and
 * the place its bytes live: a slice of some backing store. One backing
 * store holds the pages of one object (a heap buffer, a memfd, a GEM
 * object), so the object's CPU mapping is one contiguous view, as vmap()
 * gives in Linux; the pages themselves may be scattered in the physical
 * address space.
 */
export const PAGE_SHIFT = 12;
export const PAGE_SIZE = 1 << PAGE_SHIFT;

/** PAGE_ALIGN(): round up to a page boundary. */
export function pageAlign(n: number): number {
  return Math.ceil(n / PAGE_SIZE) * PAGE_SIZE;
}

/** PAGE_ALIGNED() */
export function pageAligned(n: number): boolean {
  return n % PAGE_SIZE === 0;
}

/** PAGE_ALIGN() of a u64, exactly: the last page of the range wraps to 0 as in C. */
export function pageAlignU64(n: bigint): bigint {
  return BigInt.asUintN(64, (n + BigInt(PAGE_SIZE - 1)) & ~BigInt(PAGE_SIZE - 1));
}

/** PAGE_ALIGNED() of a u64. */
export function pageAlignedU64(n: bigint): boolean {
  return (n & BigInt(PAGE_SIZE - 1)) === 0n;
}

/** Where bytes live: a SharedArrayBuffer (growable for memfds). */
export class Backing {
  readonly sab: SharedArrayBuffer;
  private whole: Uint8Array | null = null;
  constructor(readonly name: string, size: number, maxSize?: number) {
    this.sab = maxSize !== undefined ? new SharedArrayBuffer(size, { maxByteLength: maxSize }) : new SharedArrayBuffer(size);
  }

  /** A length-tracking view of the whole store (made on first use: idle buffers need none). */
  get bytes(): Uint8Array {
    return (this.whole ??= new Uint8Array(this.sab));
  }

  /** A zero-copy view of [offset, offset + length). */
  view(offset: number, length: number): Uint8Array {
    return new Uint8Array(this.sab, offset, length);
  }
}

export type ZoneName = 'DMA32' | 'NORMAL' | 'DEVICE';

/** struct page */
export class Page {
  /** page frame number: physical address >> PAGE_SHIFT */
  readonly pfn: number;
  readonly zone: ZoneName;
  /** the backing store and byte offset of this page's bytes */
  backing: Backing;
  offset: number;
  /** get_page/put_page pins (udmabuf pins memfd pages) */
  refcount = 1;

  constructor(pfn: number, zone: ZoneName, backing: Backing, offset: number) {
    this.pfn = pfn;
    this.zone = zone;
    this.backing = backing;
    this.offset = offset;
  }

  /** page_to_phys() */
  phys(): number {
    return this.pfn * PAGE_SIZE;
  }

  /** kmap_local_page(): the page's bytes. */
  bytes(): Uint8Array {
    return this.backing.view(this.offset, PAGE_SIZE);
  }
}

/** The physical memory map: pfn -> page, for everything that can be addressed by DMA. */
const memMap = new Map<number, Page>();

/** pfn_to_page(): the page at a pfn, or undefined when nothing is there. */
export function pfnToPage(pfn: number): Page | undefined {
  return memMap.get(pfn);
}

/** @internal register pages when they are allocated */
export function memMapInsert(page: Page): void {
  memMap.set(page.pfn, page);
}

/** @internal unregister pages when they are freed */
export function memMapRemove(pfn: number): void {
  memMap.delete(pfn);
}

/**
 * Resolve a physical byte range to the bytes behind it. The range must lie
 * within one page, or within consecutive pages of one backing store.
 * Returns null if any page is not present (a bus error).
 */
export function physToBytes(phys: number, length: number): Uint8Array | null {
  const first = pfnToPage(Math.floor(phys / PAGE_SIZE));
  if (!first) return null;
  const inPage = phys % PAGE_SIZE;
  const lastPfn = Math.floor((phys + length - 1) / PAGE_SIZE);
  // Consecutive pfns must be consecutive bytes of the same store.
  for (let pfn = first.pfn + 1; pfn <= lastPfn; pfn++) {
    const p = pfnToPage(pfn);
    if (!p || p.backing !== first.backing || p.offset !== first.offset + (pfn - first.pfn) * PAGE_SIZE) return null;
  }
  return first.backing.view(first.offset + inPage, length);
}
