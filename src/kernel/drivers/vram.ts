/**
 * A dynamic exporter of device-local memory ("VRAM"), in the manner of
 * amdgpu/TTM: buffers live in VRAM while there is room, unpinned buffers
 * are evicted to system memory under pressure (their dynamic importers get
 * move_notify with the resv held), pinned buffers never move. Peer devices
 * that can do P2P DMA map VRAM directly (page-less sg entries); others get
 * the buffer moved to system memory first, which fails with -EBUSY while
 * it is pinned in VRAM.
 */
import { BUG_ON, WARN } from '../lib/bug.js';
import { EBUSY, ENOMEM, kerr } from '../lib/errno.js';
import { pr_info } from '../lib/printk.js';
import { shouldFailAlloc } from '../lib/failslab.js';
import { allocPages, freePages, GFP_KERNEL } from '../mm/page-alloc.js';
import { Backing, memMapInsert, Page, PAGE_SIZE, pageAlign } from '../mm/page.js';
import { Device } from '../mm/device.js';
import { dmaMapNewSgtable, dmaUnmapSgtable, type DmaDataDirection } from '../mm/dma-mapping.js';
import type { IosysMap } from '../mm/iosys-map.js';
import { sgAllocTable, sgAllocTableFromPages, sgFreeTable, type SgTable } from '../mm/scatterlist.js';
import { dmaBufExport, type DmaBuf, type DmaBufAttachment, type DmaBufOps } from '../buf/dma-buf.js';
import { dmaBufMoveNotify } from '../buf/attachment.js';

export type Placement = 'vram' | 'system';

/** A buffer object (ttm_buffer_object) */
export class VramBo {
  placement: Placement = 'system';
  /** VRAM pages (DEVICE zone: no struct page for importers) */
  vramFirst = -1;
  /** system placement */
  sysBacking: Backing | null = null;
  sysPages: Page[] = [];
  pinCount = 0;
  /** VRAM pins (a P2P importer pinned it where it is) */
  vramPins = 0;
  dmabuf!: DmaBuf;
  moves = 0;
  constructor(readonly vram: VramDevice, readonly size: number) {}

  /** The bytes of the buffer where they are now. */
  bytes(): Uint8Array {
    if (this.placement === 'vram') return this.vram.backing.view(this.vramFirst * PAGE_SIZE, this.size);
    return this.sysBacking!.view(0, this.size);
  }
}

const VRAM_BASE_PFN = (512 * 2 ** 30) / PAGE_SIZE; // the BAR window at 512 GiB

/** The device with VRAM. */
export class VramDevice {
  readonly dev: Device;
  readonly backing: Backing;
  readonly nrPages: number;
  private readonly used: Uint8Array;
  /** buffers in VRAM, least recently used first */
  readonly lru: VramBo[] = [];
  readonly bos = new Set<VramBo>();
  evictions = 0;

  constructor(name: string, capacityBytes: number) {
    this.dev = new Device({ name, p2p: true });
    this.nrPages = Math.floor(capacityBytes / PAGE_SIZE);
    this.backing = new Backing(`${name}-vram`, this.nrPages * PAGE_SIZE);
    this.used = new Uint8Array(this.nrPages);
    // The BAR is addressable by peers: device pages in the physical map.
    for (let i = 0; i < this.nrPages; i++) memMapInsert(new Page(VRAM_BASE_PFN + i, 'DEVICE', this.backing, i * PAGE_SIZE));
  }

  /** Free VRAM pages. */
  freePages(): number {
    let n = 0;
    for (const u of this.used) if (!u) n++;
    return n;
  }

  private findRun(npages: number): number {
    let run = 0;
    for (let i = 0; i < this.nrPages; i++) {
      run = this.used[i] ? 0 : run + 1;
      if (run === npages) return i - npages + 1;
    }
    return -1;
  }

  /** Room for `npages` in VRAM, evicting unpinned buffers (LRU) if needed; -1 when impossible. */
  private reserve(npages: number, except: VramBo | null): number {
    let at = this.findRun(npages);
    for (let i = 0; at < 0 && i < this.lru.length;) {
      const victim = this.lru[i];
      if (victim === except || victim.pinCount > 0 || !victim.dmabuf.resv.trylock()) {
        i++;
        continue;
      }
      // ttm_bo_evict(): move to system memory and tell the dynamic importers, resv held.
      const ok = this.moveToSystem(victim);
      if (ok) {
        this.evictions++;
        dmaBufMoveNotify(victim.dmabuf);
        pr_info(`${this.dev.name}: evicted a ${victim.size}-byte buffer to system memory`);
      }
      victim.dmabuf.resv.unlock();
      if (!ok) i++;
      at = this.findRun(npages);
    }
    return at;
  }

  /** Move a buffer to system memory (copying its bytes). False on ENOMEM. */
  moveToSystem(bo: VramBo): boolean {
    if (bo.placement === 'system') return true;
    const backing = new Backing(`${this.dev.name}-gtt`, bo.size);
    const pages: Page[] = [];
    for (let i = 0; i < bo.size / PAGE_SIZE; i++) {
      const p = allocPages(GFP_KERNEL, 0, backing, i * PAGE_SIZE);
      if (!p) {
        for (const q of pages) freePages(q, 0);
        return false;
      }
      pages.push(p[0]);
    }
    backing.bytes.set(bo.bytes());
    this.releaseVram(bo);
    bo.sysBacking = backing;
    bo.sysPages = pages;
    bo.placement = 'system';
    bo.moves++;
    return true;
  }

  /** Move a buffer into VRAM if there is (or can be made) room. */
  moveToVram(bo: VramBo): boolean {
    if (bo.placement === 'vram') return true;
    const npages = bo.size / PAGE_SIZE;
    const at = this.reserve(npages, bo);
    if (at < 0) return false;
    this.used.fill(1, at, at + npages);
    this.backing.view(at * PAGE_SIZE, bo.size).set(bo.bytes());
    for (const p of bo.sysPages) freePages(p, 0);
    bo.sysPages = [];
    bo.sysBacking = null;
    bo.vramFirst = at;
    bo.placement = 'vram';
    bo.moves++;
    this.lru.push(bo);
    return true;
  }

  private releaseVram(bo: VramBo): void {
    if (bo.placement !== 'vram') return;
    this.used.fill(0, bo.vramFirst, bo.vramFirst + bo.size / PAGE_SIZE);
    this.backing.view(bo.vramFirst * PAGE_SIZE, bo.size).fill(0);
    const i = this.lru.indexOf(bo);
    if (i >= 0) this.lru.splice(i, 1);
    bo.vramFirst = -1;
  }

  /** Free a buffer wherever it is. */
  destroy(bo: VramBo): void {
    this.releaseVram(bo);
    for (const p of bo.sysPages) freePages(p, 0);
    bo.sysPages = [];
    this.bos.delete(bo);
  }

  /**
   * A new buffer, exported as a dynamic dma-buf: in VRAM if it fits
   * (evicting others), else in system memory. Throws -ENOMEM.
   */
  createBuffer(size: number, name = 'vram'): DmaBuf {
    size = pageAlign(size);
    if (!size || shouldFailAlloc('slab')) throw kerr(-ENOMEM);
    const bo = new VramBo(this, size);
    const npages = size / PAGE_SIZE;
    if (npages <= this.nrPages) {
      const at = this.reserve(npages, null);
      if (at >= 0) {
        this.used.fill(1, at, at + npages);
        bo.vramFirst = at;
        bo.placement = 'vram';
        this.lru.push(bo);
      }
    }
    if (bo.placement === 'system') {
      const backing = new Backing(`${this.dev.name}-gtt`, size);
      bo.sysBacking = backing;
      for (let i = 0; i < npages; i++) {
        const p = allocPages(GFP_KERNEL, 0, backing, i * PAGE_SIZE);
        if (!p) {
          this.destroy(bo);
          throw kerr(-ENOMEM);
        }
        bo.sysPages.push(p[0]);
      }
    }
    this.bos.add(bo);
    try {
      bo.dmabuf = dmaBufExport({ expName: name, ops: vramDmaBufOps, size, flags: 2, priv: bo });
    } catch (e) {
      this.destroy(bo);
      throw e;
    }
    return bo.dmabuf;
  }
}

/** Whether this attachment can reach VRAM directly (P2P). */
function canP2p(attach: DmaBufAttachment): boolean {
  return attach.peer2peer && attach.dev.p2p;
}

/** Make the buffer reachable for the attachment: P2P importers take it where it is, others need system memory. */
function placeFor(bo: VramBo, attach: DmaBufAttachment): number {
  if (canP2p(attach)) {
    if (bo.placement === 'system' && bo.pinCount === 0) bo.vram.moveToVram(bo); // back to VRAM when there is room
    return 0;
  }
  if (bo.placement === 'vram') {
    if (bo.pinCount > 0) return -EBUSY; // pinned in VRAM: cannot move for this device
    if (!bo.vram.moveToSystem(bo)) return -ENOMEM;
    dmaBufMoveNotify(bo.dmabuf);
  }
  return 0;
}

const vramDmaBufOps: DmaBufOps = {
  attach(dmabuf: DmaBuf, attach: DmaBufAttachment): number {
    const bo = dmabuf.priv as VramBo;
    // A device that cannot reach VRAM needs the buffer in system memory: impossible while pinned there.
    if (!canP2p(attach) && bo.placement === 'vram' && bo.pinCount > 0) return -EBUSY;
    return 0;
  },
  pin(attach: DmaBufAttachment): number {
    const bo = attach.dmabuf.priv as VramBo;
    const r = placeFor(bo, attach);
    if (r) return r;
    bo.pinCount++;
    if (bo.placement === 'vram') bo.vramPins++;
    return 0;
  },
  unpin(attach: DmaBufAttachment): void {
    const bo = attach.dmabuf.priv as VramBo;
    if (WARN(bo.pinCount === 0, 'vram: unpin of an unpinned buffer')) return;
    bo.pinCount--;
    if (bo.placement === 'vram' && bo.vramPins > 0) bo.vramPins--;
  },
  mapDmaBuf(attach: DmaBufAttachment, dir: DmaDataDirection): SgTable {
    const bo = attach.dmabuf.priv as VramBo;
    const r = placeFor(bo, attach);
    if (r) throw kerr(r);
    if (bo.placement === 'vram') {
      // Page-less entries with bus addresses for the peer (dma_map_resource()).
      const sgt = sgAllocTable(1);
      if (!sgt) throw kerr(-ENOMEM);
      const sg = sgt.sgl[0];
      sg.page = null;
      sg.length = bo.size;
      sg.dmaAddress = (VRAM_BASE_PFN + bo.vramFirst) * PAGE_SIZE;
      sg.dmaLength = bo.size;
      sgt.nents = 1;
      sgt.origNents = 0;
      const i = bo.vram.lru.indexOf(bo);
      if (i >= 0) bo.vram.lru.push(...bo.vram.lru.splice(i, 1)); // most recently used
      return sgt;
    }
    return dmaMapNewSgtable(attach.dev, sgAllocTableFromPages(bo.sysPages, 0, bo.size), dir);
  },
  unmapDmaBuf(attach: DmaBufAttachment, sgt: SgTable, dir: DmaDataDirection): void {
    if (sgt.origNents > 0) dmaUnmapSgtable(attach.dev, sgt, dir, 0);
    sgFreeTable(sgt);
  },
  release(dmabuf: DmaBuf): void {
    const bo = dmabuf.priv as VramBo;
    BUG_ON(bo.pinCount > 0, 'vram: released while pinned');
    bo.vram.destroy(bo);
  },
  /** vmap pins the buffer in system memory while mapped, like amdgpu's GTT pin. */
  vmap(dmabuf: DmaBuf, map: IosysMap): number {
    const bo = dmabuf.priv as VramBo;
    if (bo.placement === 'vram') {
      if (bo.pinCount > 0) {
        map.setVaddrIomem(bo.bytes()); // pinned in VRAM: map it through the BAR
        bo.pinCount++;
        return 0;
      }
      if (!bo.vram.moveToSystem(bo)) return -ENOMEM;
      dmaBufMoveNotify(dmabuf);
    }
    bo.pinCount++;
    map.setVaddr(bo.bytes());
    return 0;
  },
  vunmap(dmabuf: DmaBuf, map: IosysMap): void {
    const bo = dmabuf.priv as VramBo;
    bo.pinCount--;
    map.clear();
  },
};

/** The buffer object behind a VRAM dma-buf, or null. */
export function vramBo(dmabuf: DmaBuf): VramBo | null {
  return dmabuf.ops === vramDmaBufOps ? (dmabuf.priv as VramBo) : null;
}
