/**
 * A small exporter for tests: real pages in one backing store, every
 * callback counted, optionally dynamic (pin/unpin) or caching.
 */
import { dmaBufExport, type DmaBuf, type DmaBufAttachment, type DmaBufOps } from '../../src/kernel/buf/dma-buf.js';
import { dmaMapNewSgtable, dmaUnmapSgtable, type DmaDataDirection } from '../../src/kernel/mm/dma-mapping.js';
import { allocPages, freePages, GFP_KERNEL } from '../../src/kernel/mm/page-alloc.js';
import { Backing, type Page, PAGE_SIZE } from '../../src/kernel/mm/page.js';
import { sgAllocTableFromPages, sgFreeTable, type SgTable } from '../../src/kernel/mm/scatterlist.js';
import { vmaMapPages, type Vma } from '../../src/kernel/mm/vma.js';
import type { IosysMap } from '../../src/kernel/mm/iosys-map.js';

export interface Counts {
  attach: number;
  detach: number;
  pin: number;
  unpin: number;
  map: number;
  unmap: number;
  release: number;
  begin: number;
  end: number;
  mmap: number;
  vmap: number;
  vunmap: number;
  [k: string]: number;
}

export interface TestBuffer {
  backing: Backing;
  pages: Page[];
  counts: Counts;
  /** the directions map_dma_buf was called with */
  dirs: DmaDataDirection[];
  /** whether the resv lock was held in each map call */
  lockedInMap: boolean[];
  dmabuf: DmaBuf;
}

export interface TestExporterOptions {
  pages?: number;
  dynamic?: boolean;
  cache?: boolean;
  attachError?: number;
  pinError?: number;
  noVmap?: boolean;
  noMmap?: boolean;
  mapReturnsNull?: boolean;
  expName?: string;
  flags?: number;
}

export function testExporter(opts: TestExporterOptions = {}): TestBuffer {
  const n = opts.pages ?? 2;
  const backing = new Backing('test', n * PAGE_SIZE);
  const pages: Page[] = [];
  for (let i = 0; i < n; i++) pages.push(allocPages(GFP_KERNEL, 0, backing, i * PAGE_SIZE)![0]);
  const counts: Counts = { attach: 0, detach: 0, pin: 0, unpin: 0, map: 0, unmap: 0, release: 0, begin: 0, end: 0, mmap: 0, vmap: 0, vunmap: 0 };
  const tb = { backing, pages, counts, dirs: [], lockedInMap: [] } as unknown as TestBuffer;
  const ops: DmaBufOps = {
    cacheSgtMapping: opts.cache,
    attach(_d, _a: DmaBufAttachment) {
      counts.attach++;
      return opts.attachError ?? 0;
    },
    detach() {
      counts.detach++;
    },
    mapDmaBuf(attach: DmaBufAttachment, dir: DmaDataDirection): SgTable | null {
      counts.map++;
      tb.dirs.push(dir);
      tb.lockedInMap.push(attach.dmabuf.resv.isLocked());
      if (opts.mapReturnsNull) return null;
      // A table that cannot be allocated or mapped is -ENOMEM / the mapping's error, as ERR_PTR in Linux.
      return dmaMapNewSgtable(attach.dev, sgAllocTableFromPages(pages, 0, n * PAGE_SIZE), dir);
    },
    unmapDmaBuf(attach: DmaBufAttachment, sgt: SgTable, dir: DmaDataDirection) {
      counts.unmap++;
      dmaUnmapSgtable(attach.dev, sgt, dir);
      sgFreeTable(sgt);
    },
    release() {
      counts.release++;
      for (const p of pages) freePages(p, 0);
    },
    beginCpuAccess() {
      counts.begin++;
      return 0;
    },
    endCpuAccess() {
      counts.end++;
      return 0;
    },
  };
  if (!opts.noMmap) {
    ops.mmap = (_d: DmaBuf, vma: Vma) => {
      counts.mmap++;
      return vmaMapPages(vma, pages);
    };
  }
  if (!opts.noVmap) {
    ops.vmap = (_d: DmaBuf, map: IosysMap) => {
      counts.vmap++;
      map.setVaddr(backing.view(0, n * PAGE_SIZE));
      return 0;
    };
    ops.vunmap = (_d: DmaBuf, map: IosysMap) => {
      counts.vunmap++;
      map.clear();
    };
  }
  if (opts.dynamic) {
    ops.pin = () => {
      counts.pin++;
      return opts.pinError ?? 0;
    };
    ops.unpin = () => {
      counts.unpin++;
    };
  }
  tb.dmabuf = dmaBufExport({ expName: opts.expName ?? 'test', ops, size: n * PAGE_SIZE, flags: opts.flags ?? 2, priv: tb });
  return tb;
}
