/** The dynamic VRAM exporter (eviction, move_notify, pinning, P2P) and the DMA engine. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import '../../helpers/harness.js';
import { VramDevice, vramBo } from '../../../src/kernel/drivers/vram.js';
import { DmaEngine } from '../../../src/kernel/drivers/dma-engine.js';
import { dmaBufPut } from '../../../src/kernel/buf/dma-buf.js';
import {
  dmaBufAttach, dmaBufDetach, dmaBufDynamicAttach, dmaBufMapAttachment, dmaBufMapAttachmentUnlocked, dmaBufPin, dmaBufUnmapAttachment,
  dmaBufUnmapAttachmentUnlocked, dmaBufUnpin,
} from '../../../src/kernel/buf/attachment.js';
import { dmaBufVmapUnlocked, dmaBufVunmapUnlocked } from '../../../src/kernel/buf/cpu-access.js';
import { Device } from '../../../src/kernel/mm/device.js';
import { DMA_BIDIRECTIONAL } from '../../../src/kernel/mm/dma-mapping.js';
import { IosysMap } from '../../../src/kernel/mm/iosys-map.js';
import { PAGE_SIZE } from '../../../src/kernel/mm/page.js';
import { kconfig } from '../../../src/kernel/lib/kconfig.js';
import { EIO } from '../../../src/kernel/lib/errno.js';
import { dmaHeapBufferAlloc } from '../../../src/kernel/heaps/dma-heap.js';
import { systemHeapCreate } from '../../../src/kernel/heaps/system-heap.js';

const MB = 1 << 20;

describe('VRAM exporter', () => {
  test('buffers go to VRAM while there is room; an unpinned one is evicted for a new one and its dynamic importers hear move_notify', async () => {
    kconfig.DMABUF_MOVE_NOTIFY = true;
    try {
      const gpu = new VramDevice('gpu0', 2 * MB);
      const a = gpu.createBuffer(MB);
      const b = gpu.createBuffer(MB);
      assert.equal(vramBo(a)!.placement, 'vram');
      assert.equal(vramBo(b)!.placement, 'vram');
      vramBo(a)!.bytes().fill(0xab);
      const moved: string[] = [];
      const peer = new Device({ name: 'peer', p2p: true });
      const at = await dmaBufDynamicAttach(a, peer, { allowPeer2peer: true, moveNotify: (x) => void moved.push(x.dev.name) });
      await a.resv.lockResv(null);
      const sgt = await dmaBufMapAttachment(at, DMA_BIDIRECTIONAL);
      assert.equal(sgt.sgl[0].page, null, 'VRAM has no struct pages for importers');
      assert.ok(sgt.sgl[0].dmaAddress >= 512 * 2 ** 30, 'a bus address in the BAR');
      dmaBufUnmapAttachment(at, sgt, DMA_BIDIRECTIONAL);
      a.resv.unlock();
      const c = gpu.createBuffer(MB); // no room: the least recently used unpinned buffer goes
      assert.equal(vramBo(c)!.placement, 'vram');
      assert.equal(gpu.evictions, 1);
      const evicted = vramBo(a)!.placement === 'system' ? a : b;
      assert.equal(vramBo(evicted)!.placement, 'system');
      if (evicted === a) {
        assert.deepEqual(moved, ['peer']);
        assert.ok(vramBo(a)!.bytes().every((x) => x === 0xab), 'the data moved with it');
      }
      await dmaBufDetach(a, at);
      for (const d of [a, b, c]) dmaBufPut(d);
    } finally {
      kconfig.DMABUF_MOVE_NOTIFY = false;
    }
  });

  test('a static importer pins the buffer: it is never evicted; a non-P2P importer moves it to system memory first', async () => {
    const gpu = new VramDevice('gpu1', MB);
    const a = gpu.createBuffer(MB);
    const display = new Device({ name: 'display' }); // no P2P: needs system memory
    const at = await dmaBufAttach(a, display); // static: pinned + mapped at attach
    assert.equal(vramBo(a)!.placement, 'system', 'moved so the display can reach it');
    assert.equal(vramBo(a)!.pinCount, 1);
    const b = gpu.createBuffer(MB);
    assert.equal(vramBo(b)!.placement, 'vram', 'the freed VRAM is reused');
    await dmaBufDetach(a, at);
    assert.equal(vramBo(a)!.pinCount, 0);
    dmaBufPut(a);
    dmaBufPut(b);
  });

  test('attach fails with -EBUSY when the buffer is pinned in VRAM and the new device cannot reach VRAM', async () => {
    const gpu = new VramDevice('gpu2', MB);
    const a = gpu.createBuffer(MB / 2);
    const peer = new Device({ name: 'peer', p2p: true });
    const pinner = await dmaBufDynamicAttach(a, peer, { allowPeer2peer: true, moveNotify: () => {} });
    await a.resv.lockResv(null);
    assert.equal(await dmaBufPin(pinner), 0);
    a.resv.unlock();
    assert.equal(vramBo(a)!.placement, 'vram');
    await assert.rejects(dmaBufAttach(a, new Device({ name: 'display' })), { code: 'EBUSY' });
    await a.resv.lockResv(null);
    dmaBufUnpin(pinner);
    a.resv.unlock();
    await dmaBufDetach(a, pinner);
    dmaBufPut(a);
  });

  test('vmap pins in system memory while mapped', async () => {
    const gpu = new VramDevice('gpu3', MB);
    const a = gpu.createBuffer(PAGE_SIZE);
    const map = new IosysMap();
    assert.equal(await dmaBufVmapUnlocked(a, map), 0);
    assert.equal(vramBo(a)!.placement, 'system');
    assert.equal(vramBo(a)!.pinCount, 1);
    await dmaBufVunmapUnlocked(a, map);
    assert.equal(vramBo(a)!.pinCount, 0);
    dmaBufPut(a);
  });
});

describe('DMA engine', () => {
  test('copies through DMA addresses only (IOMMU-translated), byte for byte, and signals its fence', async () => {
    const engine = new DmaEngine({ name: 'dma0', iommu: true });
    const heap = systemHeapCreate();
    const src = await dmaHeapBufferAlloc(heap, 300 * 1024, 2, 0);
    const dst = await dmaHeapBufferAlloc(heap, 300 * 1024, 2, 0);
    const sv = new IosysMap();
    const dv = new IosysMap();
    await dmaBufVmapUnlocked(src, sv);
    await dmaBufVmapUnlocked(dst, dv);
    for (let i = 0; i < src.size; i++) sv.vaddr![i] = (i * 31 + 7) & 0xff;
    const as = await dmaBufAttach(src, engine.dev);
    const ad = await dmaBufAttach(dst, engine.dev);
    const ss = await dmaBufMapAttachmentUnlocked(as, DMA_BIDIRECTIONAL);
    const ds = await dmaBufMapAttachmentUnlocked(ad, DMA_BIDIRECTIONAL);
    const fence = engine.copy(ss, 100, ds, 5000, 200 * 1024);
    assert.equal(fence.isSignaled(), false, 'asynchronous');
    assert.equal(await fence.wait(false), 0);
    assert.equal(fence.getStatus(), 1);
    for (let i = 0; i < 200 * 1024; i++) assert.equal(dv.vaddr![5000 + i], sv.vaddr![100 + i]);
    assert.equal(dv.vaddr![4999], 0);
    assert.equal(dv.vaddr![5000 + 200 * 1024], 0);
    fence.put();
    const fill = engine.fill(ds, 0, 10, 0xee);
    await fill.wait(false);
    assert.deepEqual([...dv.vaddr!.subarray(0, 11)], [...new Array(10).fill(0xee), 0]);
    fill.put();
    // A table not mapped for the engine faults: -EIO on the fence.
    await dmaBufUnmapAttachmentUnlocked(ad, ds, DMA_BIDIRECTIONAL);
    const bad = engine.fill(ds, 0, 10, 1);
    await bad.wait(false);
    assert.equal(bad.getStatus(), -EIO);
    bad.put();
    await dmaBufUnmapAttachmentUnlocked(as, ss, DMA_BIDIRECTIONAL);
    await dmaBufDetach(src, as);
    await dmaBufDetach(dst, ad);
    await dmaBufVunmapUnlocked(src, sv);
    await dmaBufVunmapUnlocked(dst, dv);
    dmaBufPut(src);
    dmaBufPut(dst);
  });
});
