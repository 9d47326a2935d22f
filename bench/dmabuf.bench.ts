/**
 * dma-buf core benchmarks (issue: the DMA-BUF core). Baseline: Promise
 * create + then + resolve (the fence benchmark's baseline), measured here.
 * - export -> attach -> map -> unmap -> detach -> put cycles/s
 * - cached map (a static importer of a dynamic exporter) map+unmap/s
 * - vmap get/put of an already mapped buffer (the refcount path)
 * - poll readiness check of an idle buffer
 * - memory: 100k live idle 4 KiB dma-bufs from the system heap
 */
import { dmaBufExport, dmaBufPut, type DmaBufOps } from '../src/kernel/buf/dma-buf.js';
import { dmaBufAttach, dmaBufDetach, dmaBufMapAttachmentUnlocked, dmaBufUnmapAttachmentUnlocked } from '../src/kernel/buf/attachment.js';
import { dmaBufVmap, dmaBufVunmap } from '../src/kernel/buf/cpu-access.js';
import { dmaBufPoll, EPOLLIN, EPOLLOUT } from '../src/kernel/buf/poll.js';
import { Device } from '../src/kernel/mm/device.js';
import { dmaMapSgtable, dmaUnmapSgtable, DMA_BIDIRECTIONAL } from '../src/kernel/mm/dma-mapping.js';
import { IosysMap } from '../src/kernel/mm/iosys-map.js';
import { allocPages, freePages, GFP_KERNEL, memInit } from '../src/kernel/mm/page-alloc.js';
import { Backing, PAGE_SIZE } from '../src/kernel/mm/page.js';
import { sgAllocTableFromPages, sgFreeTable } from '../src/kernel/mm/scatterlist.js';
import { dmaHeapBufferAlloc } from '../src/kernel/heaps/dma-heap.js';
import { systemHeapCreate } from '../src/kernel/heaps/system-heap.js';
import type { PollTable } from '../src/kernel/fs/file.js';
import { compareAsync, gc, opsPerSecAsync, type Row } from './harness.js';

export const title = 'dma-buf core';

async function promiseBaseline(n: number): Promise<void> {
  let last: Promise<void> = Promise.resolve();
  let sink = 0;
  for (let i = 0; i < n; i++) {
    let resolve!: () => void;
    const p = new Promise<void>((r) => {
      resolve = r;
    });
    last = p.then(() => void sink++);
    resolve();
  }
  await last;
}

export async function run(): Promise<Row[]> {
  const rows: Row[] = [];
  const dev = new Device({ name: 'bench-dev' });
  // One page, allocated once: the cycle measures the framework, not the page allocator.
  const backing = new Backing('bench', PAGE_SIZE);
  const pages = allocPages(GFP_KERNEL, 0, backing, 0)!;
  const ops: DmaBufOps = {
    mapDmaBuf(attach, dir) {
      const t = sgAllocTableFromPages(pages, 0, PAGE_SIZE)!;
      dmaMapSgtable(attach.dev, t, dir);
      return t;
    },
    unmapDmaBuf(attach, t, dir) {
      dmaUnmapSgtable(attach.dev, t, dir);
      sgFreeTable(t);
    },
    release() {},
    vmap(_d, map) {
      map.setVaddr(backing.bytes);
      return 0;
    },
  };
  const priv = {};

  const cycle = async (n: number): Promise<void> => {
    for (let i = 0; i < n; i++) {
      const d = dmaBufExport({ expName: 'bench', ops, size: PAGE_SIZE, flags: 2, priv });
      const a = await dmaBufAttach(d, dev);
      const s = await dmaBufMapAttachmentUnlocked(a, DMA_BIDIRECTIONAL);
      await dmaBufUnmapAttachmentUnlocked(a, s, DMA_BIDIRECTIONAL);
      await dmaBufDetach(d, a);
      dmaBufPut(d);
    }
  };
  const [cyc, base] = await compareAsync(() => opsPerSecAsync(cycle), () => opsPerSecAsync(promiseBaseline), 3);
  rows.push({ name: 'export -> attach -> map -> unmap -> detach -> put', value: cyc, unit: 'cycles/s', baseline: { name: 'Promise create+then+resolve', value: base }, ratio: cyc / base });

  const heap = systemHeapCreate();
  const [heapCyc] = await compareAsync(() => opsPerSecAsync(async (n) => {
    for (let i = 0; i < n; i++) {
      const d = await dmaHeapBufferAlloc(heap, PAGE_SIZE, 2, 0);
      const a = await dmaBufAttach(d, dev);
      const s = await dmaBufMapAttachmentUnlocked(a, DMA_BIDIRECTIONAL);
      await dmaBufUnmapAttachmentUnlocked(a, s, DMA_BIDIRECTIONAL);
      await dmaBufDetach(d, a);
      dmaBufPut(d);
    }
  }), async () => 0, 3);
  rows.push({ name: 'the same through the system heap (page allocation included)', value: heapCyc, unit: 'cycles/s', baseline: { name: 'Promise create+then+resolve', value: base }, ratio: heapCyc / base });

  // Cached map: a static importer of a dynamic exporter gets the mapping made at attach.
  const dyn = dmaBufExport({ expName: 'bench-dyn', ops: { ...ops, pin: () => 0, unpin: () => {} }, size: PAGE_SIZE, flags: 2, priv });
  const att = await dmaBufAttach(dyn, dev);
  const [cached] = await compareAsync(() => opsPerSecAsync(async (n) => {
    for (let i = 0; i < n; i++) {
      const s = await dmaBufMapAttachmentUnlocked(att, DMA_BIDIRECTIONAL);
      await dmaBufUnmapAttachmentUnlocked(att, s, DMA_BIDIRECTIONAL);
    }
  }), async () => 0, 3);
  rows.push({ name: 'cached map + unmap (static importer, dynamic exporter)', value: cached, unit: 'ops/s', baseline: { name: 'Promise create+then+resolve', value: base }, ratio: cached / base });

  // vmap get/put while another mapping holds the count (the refcount path), resv held.
  const first = new IosysMap();
  await dyn.resv.lockResv(null);
  await dmaBufVmap(dyn, first);
  const m = new IosysMap();
  const [vmap] = await compareAsync(() => opsPerSecAsync(async (n) => {
    for (let i = 0; i < n; i++) {
      await dmaBufVmap(dyn, m);
      dmaBufVunmap(dyn, m);
    }
  }), async () => 0, 3);
  dmaBufVunmap(dyn, first);
  dyn.resv.unlock();
  rows.push({ name: 'vmap + vunmap (counted)', value: vmap, unit: 'ops/s', baseline: { name: 'Promise create+then+resolve', value: base }, ratio: vmap / base });

  const pt: PollTable = { events: EPOLLIN | EPOLLOUT, wait: () => {} };
  const [poll] = await compareAsync(() => opsPerSecAsync(async (n) => {
    for (let i = 0; i < n; i++) await dmaBufPoll(dyn.file, pt);
  }), async () => 0, 3);
  rows.push({ name: 'poll readiness check (idle buffer)', value: poll, unit: 'ops/s', baseline: { name: 'Promise create+then+resolve', value: base }, ratio: poll / base });
  await dmaBufDetach(dyn, att);
  dmaBufPut(dyn);
  freePages(pages[0], 0);

  // Memory: 100k idle 4 KiB buffers.
  memInit({ normalBytes: 1.5 * 2 ** 30, dma32Bytes: 64 << 20 });
  const N = 100_000;
  gc();
  const m0 = process.memoryUsage();
  const held = [];
  for (let i = 0; i < N; i++) held.push(await dmaHeapBufferAlloc(heap, PAGE_SIZE, 2, 0));
  gc();
  const m1 = process.memoryUsage();
  const heapPer = (m1.heapUsed - m0.heapUsed) / N;
  const extPer = (m1.arrayBuffers - m0.arrayBuffers) / N;
  rows.push({
    name: '100k idle 4 KiB dma-bufs: framework heap per buffer', value: heapPer, unit: 'B',
    note: `plus ${extPer.toFixed(0)} B of SharedArrayBuffer (the page itself)`, target: '<= 1 KiB', pass: heapPer <= 1024,
  });
  for (const d of held) dmaBufPut(d);
  held.length = 0;
  memInit();
  return rows;
}
