/**
 * The buffer-sharing lifecycle of Linux's DMA-BUF guide (Documentation/dma-buf-sharing.txt, Linux 3.3):
 * 1. the exporter announces the buffer (dma_buf_export);
 * 2. userspace gets an fd and passes it to the users;
 * 3. each user device attaches;
 * 4. a user maps the buffer when it needs access;
 * 5. and unmaps it when done;
 * 6. users detach and drop their references; the last one frees the buffer.
 * With several importers, devices with conflicting constraints, backing
 * storage chosen at the first map and migrated between map cycles when a
 * stricter device attaches, eviction with move_notify, and a DMA copy
 * between two buffers checked byte for byte.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import '../helpers/harness.js';
import { dmaBufExport, dmaBufFd, dmaBufGet, dmaBufPut, type DmaBuf, type DmaBufAttachment, type DmaBufOps } from '../../src/kernel/buf/dma-buf.js';
import { dmaBufAttach, dmaBufDetach, dmaBufDynamicAttach, dmaBufMapAttachmentUnlocked, dmaBufUnmapAttachmentUnlocked } from '../../src/kernel/buf/attachment.js';
import { dmaBufBeginCpuAccess, dmaBufEndCpuAccess, dmaBufVmapUnlocked, dmaBufVunmapUnlocked } from '../../src/kernel/buf/cpu-access.js';
import { FdTable } from '../../src/kernel/fs/fdtable.js';
import { Device } from '../../src/kernel/mm/device.js';
import { dmaMapSgtable, dmaUnmapSgtable, DMA_BIDIRECTIONAL, DMA_FROM_DEVICE, DMA_TO_DEVICE, type DmaDataDirection } from '../../src/kernel/mm/dma-mapping.js';
import { allocPages, freePages, GFP_DMA32, GFP_KERNEL } from '../../src/kernel/mm/page-alloc.js';
import { Backing, type Page, PAGE_SIZE } from '../../src/kernel/mm/page.js';
import { sgAllocTableFromPages, sgFreeTable, type SgTable } from '../../src/kernel/mm/scatterlist.js';
import { IosysMap } from '../../src/kernel/mm/iosys-map.js';
import { kerr, ENOMEM } from '../../src/kernel/lib/errno.js';
import { DmaEngine } from '../../src/kernel/drivers/dma-engine.js';
import { VramDevice, vramBo } from '../../src/kernel/drivers/vram.js';
import { kconfig } from '../../src/kernel/lib/kconfig.js';
import { DMA_RESV_USAGE_WRITE } from '../../src/kernel/resv/dma-resv.js';

/**
 * The guide's exporter that defers allocation: backing storage is chosen at
 * the first map, to suit every device attached then, and moved between map
 * cycles if a device with stricter constraints attaches later.
 */
class DeferringExporter {
  backing: Backing | null = null;
  pages: Page[] = [];
  zone: 'NORMAL' | 'DMA32' | null = null;
  mapped = 0;
  migrations = 0;
  readonly ops: DmaBufOps;
  dmabuf!: DmaBuf;
  constructor(readonly size: number) {
    this.ops = {
      mapDmaBuf: (attach, dir) => this.map(attach, dir),
      unmapDmaBuf: (attach, sgt, dir) => {
        dmaUnmapSgtable(attach.dev, sgt, dir);
        sgFreeTable(sgt);
        this.mapped--;
      },
      release: () => this.free(),
      vmap: (_d, map) => {
        this.ensure();
        map.setVaddr(this.backing!.view(0, this.size));
        return 0;
      },
    };
  }

  /** Devices that reach only the low 4 GiB without an IOMMU need DMA32 pages. */
  private neededZone(): 'NORMAL' | 'DMA32' {
    const strict = this.dmabuf.attachments.some((a) => !a.dev.iommu && a.dev.dmaMask <= 0xffffffff);
    return strict ? 'DMA32' : 'NORMAL';
  }

  private allocate(zone: 'NORMAL' | 'DMA32'): void {
    const backing = new Backing('deferred', this.size);
    const pages: Page[] = [];
    for (let i = 0; i < this.size / PAGE_SIZE; i++) {
      const p = allocPages(zone === 'DMA32' ? GFP_DMA32 : GFP_KERNEL, 0, backing, i * PAGE_SIZE);
      if (!p) throw kerr(-ENOMEM);
      pages.push(p[0]);
    }
    if (this.backing) {
      backing.bytes.set(this.backing.bytes); // migrate the contents
      this.migrations++;
    }
    this.free();
    this.backing = backing;
    this.pages = pages;
    this.zone = zone;
  }

  private ensure(): void {
    const want = this.neededZone();
    if (!this.backing || (want === 'DMA32' && this.zone !== 'DMA32')) {
      // Migration is only allowed between map cycles.
      if (this.backing && this.mapped > 0) throw kerr(-16 /* -EBUSY */, 'mapped: cannot migrate now');
      this.allocate(want);
    }
  }

  private map(attach: DmaBufAttachment, dir: DmaDataDirection): SgTable {
    this.ensure();
    const sgt = sgAllocTableFromPages(this.pages, 0, this.size)!;
    const r = dmaMapSgtable(attach.dev, sgt, dir);
    if (r) throw kerr(r);
    this.mapped++;
    return sgt;
  }

  free(): void {
    for (const p of this.pages) freePages(p, 0);
    this.pages = [];
  }
}

test('the six-step lifecycle with several importers, conflicting constraints and migration between map cycles', async () => {
  const size = 16 * PAGE_SIZE;
  // 1. export
  const exp = new DeferringExporter(size);
  exp.dmabuf = dmaBufExport({ expName: 'deferring', ops: exp.ops, size, flags: 2, priv: exp });
  // 2. an fd for userspace, passed on to the users (another process's table)
  const producer = new FdTable();
  const fd = dmaBufFd(exp.dmabuf, 0, producer);
  const consumerFiles = new FdTable();
  const cfd = consumerFiles.getUnusedFdFlags(0);
  consumerFiles.fdInstall(cfd, producer.fget(fd)!);
  const buf = dmaBufGet(cfd, consumerFiles);
  // 3. two devices attach: nothing is allocated yet
  const gpu = new Device({ name: 'gpu', iommu: true });
  const codec = new Device({ name: 'codec' });
  const aGpu = await dmaBufAttach(buf, gpu);
  const aCodec = await dmaBufAttach(buf, codec);
  assert.equal(exp.backing, null, 'allocation deferred to the first map');
  // 4. the first map picks storage for everyone attached: both reach NORMAL pages
  const s1 = await dmaBufMapAttachmentUnlocked(aGpu, DMA_TO_DEVICE);
  assert.equal(exp.zone, 'NORMAL');
  const map = new IosysMap();
  await dmaBufVmapUnlocked(buf, map);
  map.memset(0, 0x3c, size);
  await dmaBufVunmapUnlocked(buf, map);
  // 5. unmap
  await dmaBufUnmapAttachmentUnlocked(aGpu, s1, DMA_TO_DEVICE);
  // A legacy device with a 32-bit mask and no IOMMU attaches between map cycles.
  const legacy = new Device({ name: 'legacy32', dmaBits: 32 });
  const aLegacy = await dmaBufAttach(buf, legacy);
  const s2 = await dmaBufMapAttachmentUnlocked(aLegacy, DMA_FROM_DEVICE);
  assert.equal(exp.zone, 'DMA32', 'migrated to memory every device reaches');
  assert.equal(exp.migrations, 1);
  assert.ok(s2.sgl.every((sg) => sg.dmaAddress + sg.dmaLength <= 2 ** 32));
  await dmaBufVmapUnlocked(buf, map);
  assert.ok(map.vaddr!.every((b) => b === 0x3c), 'the contents survived the migration');
  await dmaBufVunmapUnlocked(buf, map);
  // While mapped, the exporter cannot migrate: another stricter device's map must wait for the unmap.
  const s3 = await dmaBufMapAttachmentUnlocked(aCodec, DMA_BIDIRECTIONAL);
  await dmaBufUnmapAttachmentUnlocked(aCodec, s3, DMA_BIDIRECTIONAL);
  await dmaBufUnmapAttachmentUnlocked(aLegacy, s2, DMA_FROM_DEVICE);
  // 6. detach and drop the references: the last one frees the buffer
  for (const a of [aGpu, aCodec, aLegacy]) await dmaBufDetach(buf, a);
  dmaBufPut(buf);
  consumerFiles.close(cfd);
  assert.ok(!exp.dmabuf.released, 'the producer still holds it');
  producer.close(fd);
  assert.ok(exp.dmabuf.released);
  assert.deepEqual(exp.pages, []);
});

test('eviction under memory pressure reaches dynamic importers with move_notify; they remap and find the data', async () => {
  kconfig.DMABUF_MOVE_NOTIFY = true;
  try {
    const gpu = new VramDevice('gpu', 1 << 20);
    const tex = gpu.createBuffer(1 << 20);
    vramBo(tex)!.bytes().fill(0x11);
    const peer = new Device({ name: 'peer-gpu', p2p: true });
    let stale = false;
    const att = await dmaBufDynamicAttach(tex, peer, { allowPeer2peer: true, moveNotify: () => void (stale = true) });
    let sgt = await dmaBufMapAttachmentUnlocked(att, DMA_BIDIRECTIONAL);
    const before = sgt.sgl[0].dmaAddress;
    await dmaBufUnmapAttachmentUnlocked(att, sgt, DMA_BIDIRECTIONAL);
    const other = gpu.createBuffer(1 << 20); // pressure: the texture is evicted
    assert.ok(stale, 'move_notify');
    assert.equal(vramBo(tex)!.placement, 'system');
    dmaBufPut(other); // room again
    sgt = await dmaBufMapAttachmentUnlocked(att, DMA_BIDIRECTIONAL); // the remap moves it back
    assert.equal(vramBo(tex)!.placement, 'vram');
    assert.equal(sgt.sgl[0].dmaAddress, before);
    assert.ok(vramBo(tex)!.bytes().every((b) => b === 0x11));
    await dmaBufUnmapAttachmentUnlocked(att, sgt, DMA_BIDIRECTIONAL);
    await dmaBufDetach(tex, att);
    dmaBufPut(tex);
  } finally {
    kconfig.DMABUF_MOVE_NOTIFY = false;
  }
});

test('a DMA copy between two exporters\' buffers, fenced through the reservation objects, verified byte for byte', async () => {
  const { systemHeapCreate } = await import('../../src/kernel/heaps/system-heap.js');
  const { cmaHeapCreate } = await import('../../src/kernel/heaps/cma-heap.js');
  const { dmaHeapBufferAlloc } = await import('../../src/kernel/heaps/dma-heap.js');
  const src = await dmaHeapBufferAlloc(systemHeapCreate(), 96 * 1024, 2, 0);
  const dst = await dmaHeapBufferAlloc(cmaHeapCreate()!, 96 * 1024, 2, 0);
  const engine = new DmaEngine({ name: 'copy-engine', dmaBits: 40, iommu: true });
  const sv = new IosysMap();
  await dmaBufVmapUnlocked(src, sv);
  const pattern = new Uint8Array(src.size);
  for (let i = 0; i < pattern.length; i++) pattern[i] = (i ^ (i >> 7)) & 0xff;
  // The CPU writes the source inside a begin/end bracket.
  await dmaBufBeginCpuAccess(src, DMA_TO_DEVICE);
  sv.memcpyTo(0, pattern);
  await dmaBufEndCpuAccess(src, DMA_TO_DEVICE);
  const as = await dmaBufAttach(src, engine.dev);
  const ad = await dmaBufAttach(dst, engine.dev);
  const ss = await dmaBufMapAttachmentUnlocked(as, DMA_TO_DEVICE);
  const ds = await dmaBufMapAttachmentUnlocked(ad, DMA_FROM_DEVICE);
  const fence = engine.copy(ss, 0, ds, 0, src.size);
  // Implicit sync: the copy is the destination's writer.
  await dst.resv.lockResv(null);
  dst.resv.reserveFences(1);
  dst.resv.addFence(fence, DMA_RESV_USAGE_WRITE);
  dst.resv.unlock();
  // A reader's begin_cpu_access waits for the copy.
  assert.equal(await dmaBufBeginCpuAccess(dst, DMA_FROM_DEVICE), 0);
  assert.ok(fence.isSignaled());
  const dv = new IosysMap();
  await dmaBufVmapUnlocked(dst, dv);
  assert.deepEqual(dv.vaddr!, pattern);
  await dmaBufEndCpuAccess(dst, DMA_FROM_DEVICE);
  await dmaBufVunmapUnlocked(dst, dv);
  await dmaBufVunmapUnlocked(src, sv);
  await dmaBufUnmapAttachmentUnlocked(as, ss, DMA_TO_DEVICE);
  await dmaBufUnmapAttachmentUnlocked(ad, ds, DMA_FROM_DEVICE);
  await dmaBufDetach(src, as);
  await dmaBufDetach(dst, ad);
  fence.put();
  dmaBufPut(src);
  dmaBufPut(dst);
});
