/**
 * What the system and CMA heaps share (heaps/system_heap.c,
 * heaps/cma_heap.c): each attachment gets its own copy of the buffer's
 * sg_table, mapped for its device on map_dma_buf; CPU access syncs every
 * mapped attachment; the kernel mapping is reference counted.
 */
import { ENOMEM } from '../lib/errno.js';
import { kerr } from '../lib/errno.js';
import { dmaMapSgtable, dmaSyncSgtableForCpu, dmaSyncSgtableForDevice, dmaUnmapSgtable, type DmaDataDirection } from '../mm/dma-mapping.js';
import type { Device } from '../mm/device.js';
import type { IosysMap } from '../mm/iosys-map.js';
import type { Backing, Page } from '../mm/page.js';
import { sgFreeTable, type SgTable } from '../mm/scatterlist.js';
import type { DmaBuf, DmaBufAttachment, DmaBufOps } from '../buf/dma-buf.js';

/** struct dma_heap_attachment */
export class HeapAttachment {
  mapped = false;
  constructor(readonly dev: Device, readonly table: SgTable) {}
}

/** The common part of system_heap_buffer / cma_heap_buffer. */
export abstract class HeapBuffer {
  /** attachments (null until the first attach: idle buffers need no list) */
  attachments: HeapAttachment[] | null = null;
  vmapCnt = 0;
  vaddr: Uint8Array | null = null;
  constructor(readonly len: number, readonly backing: Backing) {}
  /** the buffer's pages, in order */
  abstract pages(): readonly Page[];
  /** a new per-attachment table over the buffer's pages, or null on ENOMEM */
  abstract attachmentTable(): SgTable | null;
}

/** The attach/map/cpu-access/vmap ops both heaps use; each heap adds allocation, mmap and release. */
export function heapBufferOps(extra: Pick<DmaBufOps, 'mmap' | 'release'>): DmaBufOps {
  return {
    attach(dmabuf: DmaBuf, attachment: DmaBufAttachment): number {
      const buffer = dmabuf.priv as HeapBuffer;
      const table = buffer.attachmentTable();
      if (!table) return -ENOMEM;
      const a = new HeapAttachment(attachment.dev, table);
      attachment.priv = a;
      (buffer.attachments ??= []).push(a);
      return 0;
    },
    detach(dmabuf: DmaBuf, attachment: DmaBufAttachment): void {
      const buffer = dmabuf.priv as HeapBuffer;
      const a = attachment.priv as HeapAttachment;
      const i = buffer.attachments?.indexOf(a) ?? -1;
      if (i >= 0) buffer.attachments!.splice(i, 1);
      sgFreeTable(a.table);
    },
    mapDmaBuf(attachment: DmaBufAttachment, dir: DmaDataDirection): SgTable {
      const a = attachment.priv as HeapAttachment;
      const ret = dmaMapSgtable(attachment.dev, a.table, dir, 0);
      if (ret) throw kerr(ret, `dma_map_sgtable for ${attachment.dev.name}`);
      a.mapped = true;
      return a.table;
    },
    unmapDmaBuf(attachment: DmaBufAttachment, table: SgTable, dir: DmaDataDirection): void {
      const a = attachment.priv as HeapAttachment;
      a.mapped = false;
      dmaUnmapSgtable(attachment.dev, table, dir, 0);
    },
    beginCpuAccess(dmabuf: DmaBuf, dir: DmaDataDirection): number {
      const buffer = dmabuf.priv as HeapBuffer;
      for (const a of buffer.attachments ?? []) if (a.mapped) dmaSyncSgtableForCpu(a.dev, a.table, dir);
      return 0;
    },
    endCpuAccess(dmabuf: DmaBuf, dir: DmaDataDirection): number {
      const buffer = dmabuf.priv as HeapBuffer;
      for (const a of buffer.attachments ?? []) if (a.mapped) dmaSyncSgtableForDevice(a.dev, a.table, dir);
      return 0;
    },
    vmap(dmabuf: DmaBuf, map: IosysMap): number {
      const buffer = dmabuf.priv as HeapBuffer;
      if (buffer.vmapCnt === 0) buffer.vaddr = buffer.backing.view(0, buffer.len);
      buffer.vmapCnt++;
      map.setVaddr(buffer.vaddr!);
      return 0;
    },
    vunmap(dmabuf: DmaBuf, map: IosysMap): void {
      const buffer = dmabuf.priv as HeapBuffer;
      if (--buffer.vmapCnt === 0) buffer.vaddr = null;
      map.clear();
    },
    ...extra,
  };
}
