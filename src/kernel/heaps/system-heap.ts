/**
 * The system heap (drivers/dma-buf/heaps/system_heap.c, heap "system"):
 * zeroed pages taken in the largest chunks available (1 MiB, 64 KiB, then
 * 4 KiB), never going back up in size, so buffers are physically
 * scattered. One sg_table entry per chunk.
 */
import { EINTR, EINVAL, ENOMEM, kerr } from '../lib/errno.js';
import { shouldFailAlloc } from '../lib/failslab.js';
import { allocPages, freePages, GFP_KERNEL, __GFP_NORETRY, memInfo } from '../mm/page-alloc.js';
import { Backing, type Page, PAGE_SIZE, pfnToPage } from '../mm/page.js';
import { sgAllocTable, sgSetPage, type SgTable } from '../mm/scatterlist.js';
import { isCowMapping, vmaMapRuns, type PageRun, type Vma } from '../mm/vma.js';
import { dmaBufExport, type DmaBuf } from '../buf/dma-buf.js';
import type { Task } from '../fs/task.js';
import { dmaHeapAdd, dmaHeapGetName, type DmaHeap } from './dma-heap.js';
import { HeapBuffer, heapBufferOps } from './heap-buffer.js';

/** The orders tried, largest first, and their gfp flags (high orders do not reclaim). */
export const SYSTEM_HEAP_ORDERS = [8, 4, 0] as const;
const ORDER_FLAGS = [__GFP_NORETRY, __GFP_NORETRY, GFP_KERNEL];

interface Chunk {
  first: Page;
  order: number;
}

/** struct system_heap_buffer */
export class SystemHeapBuffer extends HeapBuffer {
  /** the chunks, in buffer order: the buffer's sg_table (one entry per chunk) */
  readonly chunks: Chunk[] = [];
  constructor(readonly heap: DmaHeap, len: number) {
    super(len, new Backing('system', len));
  }

  /** Every page, in buffer order (the pages of each chunk are consecutive pfns). */
  pages(): Page[] {
    const out: Page[] = [];
    for (const c of this.chunks) for (let i = 0; i < 1 << c.order; i++) out.push(i === 0 ? c.first : pfnToPage(c.first.pfn + i)!);
    return out;
  }

  private runList: PageRun[] | null = null;

  /** The chunks as runs of pages (what the buffer's sg_table entries hold); built once, the chunks never change. */
  runs(): readonly PageRun[] {
    return (this.runList ??= this.chunks.map((c) => ({ page: c.first, offset: 0, length: PAGE_SIZE << c.order })));
  }

  /** The buffer's table: one entry per chunk. */
  sgTable(): SgTable | null {
    const t = sgAllocTable(this.chunks.length);
    if (!t) return null;
    this.chunks.forEach((c, i) => sgSetPage(t.sgl[i], c.first, PAGE_SIZE << c.order, 0));
    return t;
  }

  /** dup_sg_table(): each attachment gets its own copy of the buffer's table. */
  attachmentTable(): SgTable | null {
    return this.sgTable();
  }

  free(): void {
    for (const c of this.chunks) freePages(c.first, c.order);
    this.chunks.length = 0;
    this.runList = null;
  }
}

const systemHeapBufOps = heapBufferOps({
  /**
   * system_heap_mmap(): remap_pfn_range() page by page. A copy-on-write
   * mapping (MAP_PRIVATE) can only be remapped whole in one call
   * (remap_pfn_range_notrack: -EINVAL otherwise), so a private mapping of
   * more than one page fails; a one-page one succeeds, and writes through
   * it reach a private copy, never the buffer. The copy is made at mmap
   * time here (docs/linux-differences.md: Linux copies at the first write,
   * so until then the mapping sees other writers).
   */
  mmap(dmabuf: DmaBuf, vma: Vma): number {
    const buffer = dmabuf.priv as SystemHeapBuffer;
    if (isCowMapping(vma.vmFlags) && vma.pages() !== 1) return -EINVAL;
    const ret = vmaMapRuns(vma, buffer.runs());
    if (ret || !isCowMapping(vma.vmFlags)) return ret;
    const copy = new Backing('system-heap-cow', PAGE_SIZE).view(0, PAGE_SIZE);
    copy.set(vma.view!);
    vma.view = copy;
    return 0;
  },
  release(dmabuf: DmaBuf): void {
    (dmabuf.priv as SystemHeapBuffer).free();
  },
});

/** alloc_largest_available(): the largest order that fits what remains and is not above max_order. */
function allocLargestAvailable(buffer: SystemHeapBuffer, offset: number, size: number, maxOrder: number): Chunk | null {
  for (let i = 0; i < SYSTEM_HEAP_ORDERS.length; i++) {
    const order = SYSTEM_HEAP_ORDERS[i];
    if (size < PAGE_SIZE << order) continue;
    if (maxOrder < order) continue;
    const pages = allocPages(ORDER_FLAGS[i], order, buffer.backing, offset);
    if (!pages) continue;
    return { first: pages[0], order };
  }
  return null;
}

/** system_heap_allocate() */
async function systemHeapAllocate(heap: DmaHeap, len: number, fdFlags: number, _heapFlags: bigint, task?: Task): Promise<DmaBuf> {
  if (shouldFailAlloc('slab')) throw kerr(-ENOMEM);
  // More than the machine has can never succeed: refuse before reserving anything (Linux: len / PAGE_SIZE > totalram_pages()).
  if (len / PAGE_SIZE > memInfo().totalPages) throw kerr(-ENOMEM, `system heap: ${len} bytes is more than all memory`);
  const buffer = new SystemHeapBuffer(heap, len);
  let remaining = len;
  let maxOrder: number = SYSTEM_HEAP_ORDERS[0];
  try {
    while (remaining > 0) {
      // Do not keep allocating for a process that has been killed.
      if (task?.signal.aborted) throw kerr(-EINTR);
      const chunk = allocLargestAvailable(buffer, len - remaining, remaining, maxOrder);
      if (!chunk) throw kerr(-ENOMEM, `system heap: out of memory allocating ${len} bytes`);
      buffer.chunks.push(chunk);
      remaining -= PAGE_SIZE << chunk.order;
      maxOrder = chunk.order;
    }
    if (shouldFailAlloc('slab')) throw kerr(-ENOMEM); // sg_alloc_table()
    return dmaBufExport({ expName: dmaHeapGetName(heap), ops: systemHeapBufOps, size: buffer.len, flags: fdFlags, priv: buffer });
  } catch (e) {
    buffer.free();
    throw e;
  }
}

let systemHeap: DmaHeap | null = null;

/** system_heap_create(): register the "system" heap (once). */
export function systemHeapCreate(): DmaHeap {
  systemHeap ??= dmaHeapAdd({ name: 'system', ops: { allocate: systemHeapAllocate } });
  return systemHeap;
}
