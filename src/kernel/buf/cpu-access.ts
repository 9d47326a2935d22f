/**
 * CPU access to a dma-buf (drivers/dma-buf/dma-buf.c): the begin/end
 * bracket with its implicit-sync wait, the kernel's mmap helper, and the
 * reference-counted kernel mapping (vmap).
 */
import { BUG, WARN, WARN_ON_ONCE } from '../lib/bug.js';
import { coherencyBeginCpu, coherencyEndCpu } from './coherency.js';
import { EINVAL, EOVERFLOW } from '../lib/errno.js';
import { MAX_SCHEDULE_TIMEOUT } from '../lib/time.js';
import { dmaResvUsageRw } from '../resv/dma-resv.js';
import { DMA_BIDIRECTIONAL, DMA_TO_DEVICE, type DmaDataDirection } from '../mm/dma-mapping.js';
import { IosysMap } from '../mm/iosys-map.js';
import { PAGE_SHIFT } from '../mm/page.js';
import type { Vma } from '../mm/vma.js';
import type { DmaBuf } from './dma-buf-struct.js';

/**
 * __dma_buf_begin_cpu_access(): wait for the implicit fences the access
 * conflicts with: a writer waits for readers and writers, a reader for
 * writers.
 */
async function waitImplicitFences(dmabuf: DmaBuf, dir: DmaDataDirection, signal?: AbortSignal): Promise<number> {
  const write = dir === DMA_BIDIRECTIONAL || dir === DMA_TO_DEVICE;
  const ret = await dmabuf.resv.waitTimeout(dmaResvUsageRw(write), true, MAX_SCHEDULE_TIMEOUT, signal);
  return ret < 0 ? ret : 0;
}

/**
 * dma_buf_begin_cpu_access(dmabuf, dir): the exporter makes the memory
 * coherent for the CPU, then the implicit fences are waited for
 * (interruptibly, without a time limit). 0, -EINVAL (WARN) without a
 * buffer, -ERESTARTSYS when `signal` fires, or the exporter's error. Called
 * without the resv lock.
 */
export async function dmaBufBeginCpuAccess(dmabuf: DmaBuf, dir: DmaDataDirection, signal?: AbortSignal): Promise<number> {
  if (!dmabuf) {
    WARN(true, 'dma_buf_begin_cpu_access(NULL)');
    return -EINVAL;
  }
  coherencyBeginCpu(dmabuf, dir);
  let ret = 0;
  if (dmabuf.ops.beginCpuAccess) ret = await dmabuf.ops.beginCpuAccess(dmabuf, dir);
  // The exporter may already have waited; a second wait is a cheap no-op.
  if (ret === 0) ret = await waitImplicitFences(dmabuf, dir, signal);
  return ret;
}

/**
 * dma_buf_end_cpu_access(dmabuf, dir): the exporter flushes what the CPU
 * wrote. No fence wait. WARNs for a null buffer.
 */
export async function dmaBufEndCpuAccess(dmabuf: DmaBuf, dir: DmaDataDirection): Promise<number> {
  if (!dmabuf) {
    WARN(true, 'dma_buf_end_cpu_access(NULL)');
    return -EINVAL;
  }
  coherencyEndCpu(dmabuf, dir);
  return dmabuf.ops.endCpuAccess ? dmabuf.ops.endCpuAccess(dmabuf, dir) : 0;
}

/**
 * dma_buf_mmap(dmabuf, vma, pgoff): map the buffer into a VMA from the
 * kernel (a driver forwarding its own mmap). -EINVAL (WARN) for nulls,
 * -EINVAL without an mmap op or past the end, -EOVERFLOW when the page
 * offset wraps.
 */
export async function dmaBufMmap(dmabuf: DmaBuf, vma: Vma, pgoff: number | bigint): Promise<number> {
  if (!dmabuf || !vma) {
    WARN(true, 'dma_buf_mmap: null argument');
    return -EINVAL;
  }
  if (!dmabuf.ops.mmap) return -EINVAL;
  // pgoff is an unsigned long: pgoff + pages may wrap around 2^64.
  const end = BigInt(pgoff) + BigInt(vma.pages());
  if (end > 0xffffffffffffffffn) return -EOVERFLOW;
  if (end > BigInt(Math.floor(dmabuf.size / 2 ** PAGE_SHIFT))) return -EINVAL;
  vma.vmFile = dmabuf.file;
  vma.vmPgoff = Number(pgoff);
  return dmabuf.ops.mmap(dmabuf, vma);
}

/**
 * dma_buf_vmap(dmabuf, map): a kernel mapping of the whole buffer (resv
 * held). Reference counted: only the first call reaches the exporter,
 * later ones return the same mapping. -EINVAL (WARN) for a null buffer or
 * without the resv lock, -EINVAL without a vmap op, or the exporter's
 * error (WARN once).
 */
export async function dmaBufVmap(dmabuf: DmaBuf, map: IosysMap): Promise<number> {
  map.clear();
  if (!dmabuf) {
    WARN(true, 'dma_buf_vmap(NULL)');
    return -EINVAL;
  }
  if (!dmabuf.resv.isLocked()) {
    WARN(true, 'dma_buf_vmap: the dma_buf\'s reservation lock is not held');
    return -EINVAL;
  }
  if (!dmabuf.ops.vmap) return -EINVAL;
  if (dmabuf.vmappingCounter) {
    dmabuf.vmappingCounter++;
    if (dmabuf.vmapPtr.isNull()) BUG('dma_buf_vmap: counted mapping is NULL');
    dmabuf.vmapPtr.copyTo(map);
    return 0;
  }
  if (dmabuf.vmapped) BUG('dma_buf_vmap: mapping set with a zero count');
  const ptr = new IosysMap();
  const ret = await dmabuf.ops.vmap(dmabuf, ptr);
  if (WARN_ON_ONCE(ret, `dma_buf_vmap: exporter ${dmabuf.expName} failed with ${ret}`)) return ret;
  ptr.copyTo(dmabuf.vmapPtr);
  dmabuf.vmappingCounter = 1;
  dmabuf.vmapPtr.copyTo(map);
  return 0;
}

/**
 * dma_buf_vunmap(dmabuf, map): drop a vmap reference (resv held); the last
 * one reaches the exporter. BUG if nothing is mapped or `map` is not the
 * buffer's mapping.
 */
export function dmaBufVunmap(dmabuf: DmaBuf, map: IosysMap): void {
  if (!dmabuf) {
    WARN(true, 'dma_buf_vunmap(NULL)');
    return;
  }
  if (!dmabuf.resv.isLocked()) {
    WARN(true, 'dma_buf_vunmap: the dma_buf\'s reservation lock is not held');
    return;
  }
  if (!dmabuf.vmapped) BUG('dma_buf_vunmap: buffer is not vmapped');
  if (dmabuf.vmappingCounter === 0) BUG('dma_buf_vunmap: vmap count is zero');
  if (!dmabuf.vmapPtr.isEqual(map)) BUG('dma_buf_vunmap: not the buffer\'s mapping');
  if (--dmabuf.vmappingCounter === 0) {
    dmabuf.ops.vunmap?.(dmabuf, map);
    dmabuf.vmapPtr.clear();
  }
}

/** dma_buf_vmap_unlocked(): takes the resv lock around dma_buf_vmap. */
export async function dmaBufVmapUnlocked(dmabuf: DmaBuf, map: IosysMap): Promise<number> {
  map.clear();
  if (!dmabuf) {
    WARN(true, 'dma_buf_vmap_unlocked(NULL)');
    return -EINVAL;
  }
  await dmabuf.resv.lockResv(null);
  try {
    return await dmaBufVmap(dmabuf, map);
  } finally {
    dmabuf.resv.unlock();
  }
}

/** dma_buf_vunmap_unlocked() */
export async function dmaBufVunmapUnlocked(dmabuf: DmaBuf, map: IosysMap): Promise<void> {
  if (!dmabuf) {
    WARN(true, 'dma_buf_vunmap_unlocked(NULL)');
    return;
  }
  await dmabuf.resv.lockResv(null);
  try {
    dmaBufVunmap(dmabuf, map);
  } finally {
    dmabuf.resv.unlock();
  }
}
