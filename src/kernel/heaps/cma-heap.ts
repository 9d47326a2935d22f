/**
 * The CMA heap (drivers/dma-buf/heaps/cma_heap.c): physically contiguous
 * buffers from the CMA area, one sg_table entry each. Up to Linux 6.16 the
 * heap is named after its CMA area (cma_get_name): "reserved" for the
 * default area that CMA_SIZE_MBYTES or cma= sets up; 6.17 renamed the
 * default heap "default_cma_region".
 */
import { WARN } from '../lib/bug.js';
import { EINTR, EINVAL, ENOMEM, kerr } from '../lib/errno.js';
import { shouldFailAlloc } from '../lib/failslab.js';
import { cmaAlloc, cmaRelease, CMA_ALIGNMENT, getOrder, cmaArea } from '../mm/page-alloc.js';
import { Backing, type Page, PAGE_SHIFT, PAGE_SIZE } from '../mm/page.js';
import { sgAllocTableFromPages, type SgTable } from '../mm/scatterlist.js';
import { VM_MAYSHARE, VM_SHARED, vmaMapPages, type Vma } from '../mm/vma.js';
import { dmaBufExport, type DmaBuf } from '../buf/dma-buf.js';
import type { Task } from '../fs/task.js';
import { dmaHeapAdd, dmaHeapGetName, type DmaHeap } from './dma-heap.js';
import { HeapBuffer, heapBufferOps } from './heap-buffer.js';

/** The heap's name: the default CMA area's (cma_declare_contiguous names it "reserved"). */
export const CMA_HEAP_NAME = 'reserved';

/** struct cma_heap_buffer */
export class CmaHeapBuffer extends HeapBuffer {
  cmaPages: Page[] = [];
  pages(): Page[] {
    return this.cmaPages;
  }
  attachmentTable(): SgTable | null {
    return sgAllocTableFromPages(this.cmaPages, 0, this.cmaPages.length << PAGE_SHIFT);
  }
}

const cmaHeapBufOps = heapBufferOps({
  /** cma_heap_mmap(): shared mappings only */
  mmap(dmabuf: DmaBuf, vma: Vma): number {
    if ((vma.vmFlags & (VM_SHARED | VM_MAYSHARE)) === 0) return -EINVAL;
    const buffer = dmabuf.priv as CmaHeapBuffer;
    return vmaMapPages(vma, buffer.cmaPages);
  },
  release(dmabuf: DmaBuf): void {
    const buffer = dmabuf.priv as CmaHeapBuffer;
    if (buffer.vmapCnt > 0) {
      WARN(true, 'cma_heap_dma_buf_release: buffer still mapped in the kernel');
      buffer.vaddr = null;
    }
    cmaRelease(buffer.cmaPages);
  },
});

/** cma_heap_allocate() */
async function cmaHeapAllocate(heap: DmaHeap, len: number, fdFlags: number, _heapFlags: bigint, task?: Task): Promise<DmaBuf> {
  if (shouldFailAlloc('slab')) throw kerr(-ENOMEM);
  const pagecount = len / PAGE_SIZE; // len is page-aligned by dma_heap_buffer_alloc (and may pass 2^32: no shifts)
  // cma_alloc() cannot find more pages than the area has: NULL, -ENOMEM (checked before the backing store is reserved).
  if (pagecount > (cmaArea()?.pages ?? 0)) throw kerr(-ENOMEM, `cma heap: ${len} bytes is more than the CMA area`);
  const align = Math.min(getOrder(len), CMA_ALIGNMENT);
  const buffer = new CmaHeapBuffer(len, new Backing(heap.name, len));
  const pages = cmaAlloc(pagecount, align, buffer.backing);
  if (!pages) throw kerr(-ENOMEM, `cma heap: no contiguous run of ${pagecount} pages`);
  // The pages are cleared (a new backing store is zero); a killed process stops here.
  if (task?.signal.aborted) {
    cmaRelease(pages);
    throw kerr(-EINTR);
  }
  buffer.cmaPages = pages;
  try {
    return dmaBufExport({ expName: dmaHeapGetName(heap), ops: cmaHeapBufOps, size: len, flags: fdFlags, priv: buffer });
  } catch (e) {
    cmaRelease(pages);
    throw e;
  }
}

let cmaHeap: DmaHeap | null = null;

/** add_cma_heap(): register the CMA heap (once). */
export function cmaHeapCreate(): DmaHeap | null {
  // add_default_cma_heap(): no default CMA area, no heap.
  const area = cmaArea();
  if (!area) return null;
  cmaHeap ??= dmaHeapAdd({ name: area.name, ops: { allocate: cmaHeapAllocate } });
  return cmaHeap;
}
