/**
 * struct device as the DMA API sees it (include/linux/device.h,
 * include/linux/dma-mapping.h): a DMA mask (the addresses it can emit), a
 * coherent mask, segment limits (device_dma_parameters), whether an IOMMU
 * translates for it, whether it can reach other devices' memory
 * (peer-to-peer) and whether its caches are coherent with the CPU's.
 */
import { PAGE_SIZE } from './page.js';

export interface DeviceConfig {
  name: string;
  /** address bits the device can drive (dma_set_mask(DMA_BIT_MASK(n))); default 64 */
  dmaBits?: number;
  /** bits for coherent allocations; default dmaBits */
  coherentDmaBits?: number;
  /** dma_set_max_seg_size(); default 64 KiB (Linux's default without dma_parms) */
  maxSegmentSize?: number;
  /** dma_set_seg_boundary(); default: no boundary */
  segmentBoundaryMask?: number;
  /** behind an IOMMU: DMA addresses are IOVAs it translates */
  iommu?: boolean;
  /** can DMA to peer devices' memory (PCI P2PDMA) */
  p2p?: boolean;
  /** dev_is_dma_coherent(); default true */
  coherent?: boolean;
}

/** DMA_BIT_MASK(n) as a number (addresses here stay below 2^53). */
export function dmaBitMask(bits: number): number {
  return bits >= 53 ? Number.MAX_SAFE_INTEGER : 2 ** bits - 1;
}

/** An IOMMU domain: the device's I/O virtual address space. */
export class IommuDomain {
  /** iova pfn -> phys pfn */
  readonly ptes = new Map<number, number>();
  /** free IOVA ranges [start, end) in pages, kept sorted */
  private free: [number, number][];
  constructor(limit: number) {
    // IOVA 0 is never handed out (a NULL DMA address would look like an error).
    this.free = [[1, Math.floor(Math.min(limit, 2 ** 48 - 1) / PAGE_SIZE)]];
  }

  /** alloc_iova(): `npages` contiguous pages, aligned to a power of two up to 1 MiB for large requests. */
  allocIova(npages: number): number | null {
    const align = Math.min(256, 2 ** Math.floor(Math.log2(npages)));
    for (let i = 0; i < this.free.length; i++) {
      const [s, e] = this.free[i];
      const start = Math.ceil(s / align) * align;
      if (start + npages > e) continue;
      const parts: [number, number][] = [];
      if (start > s) parts.push([s, start]);
      if (start + npages < e) parts.push([start + npages, e]);
      this.free.splice(i, 1, ...parts);
      return start;
    }
    return null;
  }

  /** free_iova() */
  freeIova(start: number, npages: number): void {
    this.free.push([start, start + npages]);
    this.free.sort((a, b) => a[0] - b[0]);
    const merged: [number, number][] = [];
    for (const r of this.free) {
      const last = merged[merged.length - 1];
      if (last && last[1] >= r[0]) last[1] = Math.max(last[1], r[1]);
      else merged.push([r[0], r[1]]);
    }
    this.free = merged;
  }
}

/** struct device */
export class Device {
  readonly name: string;
  dmaMask: number;
  coherentDmaMask: number;
  maxSegmentSize: number;
  segmentBoundaryMask: number;
  readonly iommu: IommuDomain | null;
  readonly p2p: boolean;
  readonly coherent: boolean;

  constructor(cfg: DeviceConfig) {
    this.name = cfg.name;
    this.dmaMask = dmaBitMask(cfg.dmaBits ?? 64);
    this.coherentDmaMask = dmaBitMask(cfg.coherentDmaBits ?? cfg.dmaBits ?? 64);
    this.maxSegmentSize = cfg.maxSegmentSize ?? 65536;
    this.segmentBoundaryMask = cfg.segmentBoundaryMask ?? Number.MAX_SAFE_INTEGER;
    this.iommu = cfg.iommu ? new IommuDomain(this.dmaMask) : null;
    this.p2p = cfg.p2p ?? false;
    this.coherent = cfg.coherent ?? true;
  }

  /** dev_name() */
  devName(): string {
    return this.name;
  }

  /** dma_set_mask(dev, mask) */
  setDmaMaskBits(bits: number): void {
    this.dmaMask = dmaBitMask(bits);
  }

  /** dma_get_max_seg_size() */
  getMaxSegSize(): number {
    return this.maxSegmentSize;
  }

  /** dma_get_seg_boundary() */
  getSegBoundary(): number {
    return this.segmentBoundaryMask;
  }
}
