/**
 * A coherency checker for devices whose caches are not coherent with the
 * CPU's (not in Linux; in the spirit of CONFIG_DMA_API_DEBUG). On such a
 * device the CPU must bracket its access with begin/end_cpu_access, which
 * is where an exporter does its cache maintenance; this checker reports
 * (WARN, naming the buffer and the access) the two ways to get it wrong:
 *
 * - the CPU wrote the buffer outside a begin/end_cpu_access(WRITE)
 *   bracket: seen as bytes that changed since the last hand-over (the end
 *   of a CPU access, or a device's access) when the next access comes;
 * - a device reads the buffer (maps it, or a DMA engine copies from it)
 *   while a CPU write access is still open: the CPU's writes may still sit
 *   in its cache.
 *
 * It keeps a copy of each watched buffer (buffers that a non-coherent
 * device mapped), so it is a debug switch: kconfig.DMABUF_COHERENCY_CHECK.
 */
import { WARN } from '../lib/bug.js';
import { kconfig } from '../lib/kconfig.js';
import type { Device } from '../mm/device.js';
import { DMA_BIDIRECTIONAL, DMA_TO_DEVICE, type DmaDataDirection } from '../mm/dma-mapping.js';
import type { Page } from '../mm/page.js';
import type { SgTable } from '../mm/scatterlist.js';
import type { DmaBuf } from './dma-buf-struct.js';

interface Watch {
  /** the buffer's bytes, page run by page run, as the exporter mapped them */
  runs: { page: Page; offset: number; length: number }[];
  /** the bytes at the last hand-over */
  snapshot: Uint8Array;
  /** open CPU write accesses */
  writers: number;
}

const watched = new WeakMap<DmaBuf, Watch>();
const bufOfTable = new WeakMap<SgTable, DmaBuf>();

function current(w: Watch): Uint8Array {
  const total = w.runs.reduce((n, r) => n + r.length, 0);
  const out = new Uint8Array(total);
  let o = 0;
  for (const r of w.runs) {
    out.set(r.page.backing.view(r.page.offset + r.offset, r.length), o);
    o += r.length;
  }
  return out;
}

const describe = (buf: DmaBuf): string => `dma-buf ${buf.ino} (${buf.expName}${buf.name ? ` '${buf.name}'` : ''})`;

/** Bytes that changed since the last hand-over while no CPU write access was open: report, then accept them. */
function checkOutside(buf: DmaBuf, w: Watch, at: string): void {
  const now = current(w);
  if (w.writers === 0) {
    let i = 0;
    while (i < now.length && now[i] === w.snapshot[i]) i++;
    if (i < now.length) WARN(true, `coherency: the CPU wrote ${describe(buf)} at offset ${i} outside begin/end_cpu_access (found at ${at})`);
  }
  w.snapshot = now;
}

const writes = (dir: DmaDataDirection): boolean => dir === DMA_TO_DEVICE || dir === DMA_BIDIRECTIONAL;

/** A device mapped the buffer (the exporter's table, before any page-link mangling). */
export function coherencyMapped(buf: DmaBuf, dev: Device, sgt: SgTable): void {
  if (!kconfig.DMABUF_COHERENCY_CHECK || dev.coherent) return;
  bufOfTable.set(sgt, buf);
  let w = watched.get(buf);
  if (!w) {
    const runs = sgt.sgl.filter((sg) => sg.page).map((sg) => ({ page: sg.page!, offset: sg.offset, length: sg.length }));
    w = { runs, snapshot: new Uint8Array(0), writers: 0 };
    w.snapshot = current(w);
    watched.set(buf, w);
  }
  coherencyDeviceRead(sgt, dev, 'map');
}

/** A device reads through a mapped table (a DMA engine's source, or the mapping itself). */
export function coherencyDeviceRead(sgt: SgTable, dev: Device, what = 'read'): void {
  const buf = bufOfTable.get(sgt);
  const w = buf && watched.get(buf);
  if (!w || dev.coherent) return;
  WARN(w.writers > 0, `coherency: device ${dev.name} ${what}s ${describe(buf!)} while a CPU write access is open (no end_cpu_access yet)`);
  checkOutside(buf!, w, `device ${dev.name} ${what}`);
}

/** A device wrote through a mapped table: its bytes are the new reference. */
export function coherencyDeviceWrote(sgt: SgTable): void {
  const buf = bufOfTable.get(sgt);
  const w = buf && watched.get(buf);
  if (w) w.snapshot = current(w);
}

/** dma_buf_begin_cpu_access() */
export function coherencyBeginCpu(buf: DmaBuf, dir: DmaDataDirection): void {
  const w = watched.get(buf);
  if (!w) return;
  checkOutside(buf, w, 'begin_cpu_access');
  if (writes(dir)) w.writers++;
}

/** dma_buf_end_cpu_access(): the CPU's writes are flushed: the new reference. */
export function coherencyEndCpu(buf: DmaBuf, dir: DmaDataDirection): void {
  const w = watched.get(buf);
  if (!w) return;
  if (writes(dir) && w.writers > 0) w.writers--;
  w.snapshot = current(w);
}
