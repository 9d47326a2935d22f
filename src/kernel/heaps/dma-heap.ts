/**
 * The DMA-BUF heap core (drivers/dma-buf/dma-heap.c): named allocators of
 * dma-bufs, one /dev/dma_heap/<name> node each.
 */
import { EBUSY, EINVAL, kerr } from '../lib/errno.js';
import { O_ACCMODE, O_CLOEXEC } from '../../uapi/fcntl.js';
import { pageAlign } from '../mm/page.js';
import type { DmaBuf } from '../buf/dma-buf.js';
import type { Task } from '../lib/task.js';

/** DMA_HEAP_VALID_FD_FLAGS */
export const DMA_HEAP_VALID_FD_FLAGS = O_CLOEXEC | O_ACCMODE;
/** DMA_HEAP_VALID_HEAP_FLAGS */
export const DMA_HEAP_VALID_HEAP_FLAGS = 0;
/** NUM_HEAP_MINORS */
export const NUM_HEAP_MINORS = 128;

/** struct dma_heap_ops */
export interface DmaHeapOps {
  /** a new dma-buf of `len` bytes (page aligned), or throws KernelError */
  allocate(heap: DmaHeap, len: number, fdFlags: number, heapFlags: number, task?: Task): DmaBuf | Promise<DmaBuf>;
}

/** struct dma_heap_export_info */
export interface DmaHeapExportInfo {
  name: string;
  ops: DmaHeapOps;
  priv?: unknown;
}

/** struct dma_heap */
export class DmaHeap {
  constructor(readonly name: string, readonly ops: DmaHeapOps, readonly priv: unknown, readonly minor: number) {}
}

const heaps: DmaHeap[] = [];

/**
 * dma_heap_add(exp_info): register a heap. Throws -EINVAL without a name
 * or an allocate op, or for a name in use; -EBUSY when all minors are taken.
 */
export function dmaHeapAdd(info: DmaHeapExportInfo): DmaHeap {
  if (!info.name || !info.name.length) throw kerr(-EINVAL, 'dma_heap: cannot add heap without a name');
  if (!info.ops || !info.ops.allocate) throw kerr(-EINVAL, 'dma_heap: cannot add heap with invalid ops struct');
  if (heaps.some((h) => h.name === info.name)) throw kerr(-EINVAL, `dma_heap: Already registered heap named ${info.name}`);
  const used = new Set(heaps.map((h) => h.minor));
  let minor = 0;
  while (used.has(minor)) minor++;
  if (minor >= NUM_HEAP_MINORS) throw kerr(-EBUSY, 'dma_heap: Unable to get minor number for heap');
  const heap = new DmaHeap(info.name, info.ops, info.priv ?? null, minor);
  heaps.push(heap);
  return heap;
}

/** dma_heap_get_drvdata() */
export function dmaHeapGetDrvdata(heap: DmaHeap): unknown {
  return heap.priv;
}

/** dma_heap_get_name() */
export function dmaHeapGetName(heap: DmaHeap): string {
  return heap.name;
}

/** dma_heap_find(): a heap by name, or null. */
export function dmaHeapFind(name: string): DmaHeap | null {
  return heaps.find((h) => h.name === name) ?? null;
}

/** The registered heaps (what /dev/dma_heap lists). */
export function dmaHeaps(): readonly DmaHeap[] {
  return heaps;
}

/**
 * The checks of DMA_HEAP_IOCTL_ALLOC and dma_heap_buffer_alloc() (without
 * the fd): -EINVAL for fd flags beyond O_CLOEXEC|O_ACCMODE, for heap flags,
 * or for a length that page-aligns to 0; then the heap's allocator.
 */
export async function dmaHeapBufferAlloc(heap: DmaHeap, len: number, fdFlags: number, heapFlags: number, task?: Task): Promise<DmaBuf> {
  if (fdFlags & ~DMA_HEAP_VALID_FD_FLAGS) throw kerr(-EINVAL, 'invalid fd_flags');
  if (heapFlags & ~DMA_HEAP_VALID_HEAP_FLAGS) throw kerr(-EINVAL, 'invalid heap_flags');
  const aligned = pageAlign(len);
  if (!aligned) throw kerr(-EINVAL, 'zero length');
  return heap.ops.allocate(heap, aligned, fdFlags, heapFlags, task);
}
