/**
 * The streaming DMA API for scatter-gather tables (kernel/dma/mapping.c,
 * kernel/dma/direct.c, drivers/iommu/dma-iommu.c).
 *
 * Without an IOMMU a DMA address is the physical address, and a page the
 * device's mask cannot reach fails the mapping with -EIO (there is no
 * swiotlb bounce buffer here). Behind an IOMMU the pages get a contiguous
 * IOVA range inside the mask and entries merge into as few DMA segments
 * as the device's segment size and boundary allow. Device memory (a peer's
 * BAR) needs a P2P-capable device: -EREMOTEIO otherwise.
 */
import { WARN } from '../lib/bug.js';
import { EINVAL, EIO, ENOMEM, EREMOTEIO, kerr } from '../lib/errno.js';
import { shouldFailAlloc } from '../lib/failslab.js';
import type { Device } from './device.js';
import { PAGE_SIZE } from './page.js';
import { sgFreeTable, type SgTable } from './scatterlist.js';

/** enum dma_data_direction */
export const DMA_BIDIRECTIONAL = 0;
export const DMA_TO_DEVICE = 1;
export const DMA_FROM_DEVICE = 2;
export const DMA_NONE = 3;
export type DmaDataDirection = 0 | 1 | 2 | 3;

/** valid_dma_direction() */
export function validDmaDirection(dir: number): dir is DmaDataDirection {
  return dir === DMA_BIDIRECTIONAL || dir === DMA_TO_DEVICE || dir === DMA_FROM_DEVICE;
}

interface Mapping {
  dev: Device;
  dir: DmaDataDirection;
  iovaStart: number;
  iovaPages: number;
}

const mappings = new WeakMap<SgTable, Mapping>();

/** Hooks the coherency checker attaches to (dma_sync_* and map/unmap). */
export interface DmaSyncHooks {
  mapped?(dev: Device, sgt: SgTable, dir: DmaDataDirection): void;
  unmapped?(dev: Device, sgt: SgTable, dir: DmaDataDirection): void;
  syncForCpu?(dev: Device, sgt: SgTable, dir: DmaDataDirection): void;
  syncForDevice?(dev: Device, sgt: SgTable, dir: DmaDataDirection): void;
}
export const dmaSyncHooks: DmaSyncHooks[] = [];

function segmentCanMerge(dev: Device, start: number, len: number): boolean {
  if (len > dev.maxSegmentSize) return false;
  const boundary = dev.segmentBoundaryMask;
  if (boundary >= Number.MAX_SAFE_INTEGER) return true;
  // The whole segment must sit inside one (boundary + 1)-sized window.
  return Math.floor(start / (boundary + 1)) === Math.floor((start + len - 1) / (boundary + 1));
}

/**
 * dma_map_sgtable(dev, sgt, dir, attrs): 0, or -EINVAL (bad direction or
 * an entry without a page), -EIO (unreachable with the device's mask),
 * -EREMOTEIO (device memory for a device without P2P), -ENOMEM (no IOVA
 * space). On failure nothing stays mapped.
 */
export function dmaMapSgtable(dev: Device, sgt: SgTable, dir: number, _attrs = 0): number {
  if (!validDmaDirection(dir)) {
    WARN(true, `dma_map_sgtable: invalid direction ${dir}`);
    return -EINVAL;
  }
  if (WARN(mappings.has(sgt), 'dma_map_sgtable: table already mapped')) return -EINVAL;
  for (let i = 0; i < sgt.origNents; i++) {
    const sg = sgt.sgl[i];
    if (!sg.page) return -EINVAL;
    if (sg.page.zone === 'DEVICE' && !dev.p2p) return -EREMOTEIO;
  }
  if (!dev.iommu) {
    for (let i = 0; i < sgt.origNents; i++) {
      const sg = sgt.sgl[i];
      const addr = sg.page!.phys() + sg.offset;
      if (addr + sg.length - 1 > dev.dmaMask) {
        for (let j = 0; j < i; j++) sgt.sgl[j].dmaAddress = sgt.sgl[j].dmaLength = 0;
        return -EIO;
      }
      sg.dmaAddress = addr;
      sg.dmaLength = sg.length;
    }
    sgt.nents = sgt.origNents;
    mappings.set(sgt, { dev, dir, iovaStart: 0, iovaPages: 0 });
  } else {
    if (shouldFailAlloc('slab')) return -ENOMEM;
    const spans = sgt.sgl.slice(0, sgt.origNents).map((sg) => Math.ceil(((sg.offset % PAGE_SIZE) + sg.length) / PAGE_SIZE));
    const total = spans.reduce((a, b) => a + b, 0);
    const iova = dev.iommu.allocIova(total);
    if (iova === null) return -ENOMEM;
    let cursor = iova;
    const starts: number[] = [];
    for (let i = 0; i < sgt.origNents; i++) {
      const sg = sgt.sgl[i];
      const firstPfn = sg.page!.pfn + Math.floor(sg.offset / PAGE_SIZE);
      for (let k = 0; k < spans[i]; k++) dev.iommu.ptes.set(cursor + k, firstPfn + k);
      starts.push(cursor * PAGE_SIZE + (sg.offset % PAGE_SIZE));
      cursor += spans[i];
    }
    // __finalise_sg(): merge entries that continue each other in IOVA space.
    let out = -1;
    for (let i = 0; i < sgt.origNents; i++) {
      const sg = sgt.sgl[i];
      const start = starts[i];
      const prev = out >= 0 ? sgt.sgl[out] : null;
      const contiguous = prev !== null && prev.dmaAddress + prev.dmaLength === start && (prev.dmaAddress + prev.dmaLength) % PAGE_SIZE === 0;
      if (prev && contiguous && segmentCanMerge(dev, prev.dmaAddress, prev.dmaLength + sg.length)) {
        prev.dmaLength += sg.length;
      } else {
        out++;
        sgt.sgl[out].dmaAddress = start;
        sgt.sgl[out].dmaLength = sg.length;
      }
    }
    for (let i = out + 1; i < sgt.origNents; i++) sgt.sgl[i].dmaAddress = sgt.sgl[i].dmaLength = 0;
    sgt.nents = out + 1;
    mappings.set(sgt, { dev, dir, iovaStart: iova, iovaPages: total });
  }
  sgt.mappedFor = dev;
  for (const h of dmaSyncHooks) h.mapped?.(dev, sgt, dir);
  return 0;
}

/**
 * What an exporter's map_dma_buf does with a table it has just built (NULL
 * when building it failed): map it for the device, or free it and fail with
 * the errno (-ENOMEM for no table). Returns the mapped table; throws.
 */
export function dmaMapNewSgtable(dev: Device, sgt: SgTable | null, dir: number): SgTable {
  if (!sgt) throw kerr(-ENOMEM);
  const ret = dmaMapSgtable(dev, sgt, dir, 0);
  if (ret) {
    sgFreeTable(sgt);
    throw kerr(ret);
  }
  return sgt;
}

/** dma_unmap_sgtable(dev, sgt, dir, attrs): WARNs if the table is not mapped for `dev`. */
export function dmaUnmapSgtable(dev: Device, sgt: SgTable, dir: number, _attrs = 0): void {
  const m = mappings.get(sgt);
  if (WARN(!m || m.dev !== dev, `dma_unmap_sgtable: table not mapped for ${dev.name}`)) return;
  WARN(m!.dir !== dir, `dma_unmap_sgtable: direction ${dir} differs from the mapping's ${m!.dir}`);
  for (const h of dmaSyncHooks) h.unmapped?.(dev, sgt, m!.dir);
  if (dev.iommu) {
    for (let k = 0; k < m!.iovaPages; k++) dev.iommu.ptes.delete(m!.iovaStart + k);
    dev.iommu.freeIova(m!.iovaStart, m!.iovaPages);
  }
  for (const sg of sgt.sgl) sg.dmaAddress = sg.dmaLength = 0;
  sgt.nents = sgt.origNents;
  sgt.mappedFor = null;
  mappings.delete(sgt);
}

/** Whether a table is currently mapped (and for which device). */
export function dmaMappedDevice(sgt: SgTable): Device | null {
  return mappings.get(sgt)?.dev ?? null;
}

/** dma_sync_sgtable_for_cpu(): hand the buffer to the CPU (cache invalidation on non-coherent devices). */
export function dmaSyncSgtableForCpu(dev: Device, sgt: SgTable, dir: number): void {
  for (const h of dmaSyncHooks) h.syncForCpu?.(dev, sgt, dir as DmaDataDirection);
}

/** dma_sync_sgtable_for_device(): hand the buffer back to the device (cache writeback on non-coherent devices). */
export function dmaSyncSgtableForDevice(dev: Device, sgt: SgTable, dir: number): void {
  for (const h of dmaSyncHooks) h.syncForDevice?.(dev, sgt, dir as DmaDataDirection);
}

/**
 * The device's view of a DMA address: the physical address it reaches,
 * or null (an IOMMU fault, or an address outside the mask).
 */
export function dmaToPhys(dev: Device, dmaAddr: number): number | null {
  if (dev.iommu) {
    const pfn = dev.iommu.ptes.get(Math.floor(dmaAddr / PAGE_SIZE));
    return pfn === undefined ? null : pfn * PAGE_SIZE + (dmaAddr % PAGE_SIZE);
  }
  return dmaAddr <= dev.dmaMask ? dmaAddr : null;
}
