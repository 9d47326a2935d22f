/**
 * Attachments and mappings (drivers/dma-buf/dma-buf.c): attach, detach,
 * pin, map_attachment and unmap, and move_notify, with the locking rules
 * of the Linux 6.x dma-buf.h:
 *
 * - attach/detach are called without the resv lock (they take it);
 * - pin/unpin/map/unmap need the resv lock held; the _unlocked variants
 *   take it themselves;
 * - when importer and exporter differ in being dynamic, attach pins (for a
 *   dynamic exporter) and maps the buffer once, BIDIRECTIONAL, and every
 *   map returns that cached table (as Linux 6.x up to 6.12 does).
 */
import { WARN } from '../lib/bug.js';
import { coherencyDeviceRead, coherencyMapped } from './coherency.js';
import { EBUSY, EINVAL, ENOMEM, kerr } from '../lib/errno.js';
import { shouldFailAlloc } from '../lib/failslab.js';
import { kconfig } from '../lib/kconfig.js';
import { tracepoint } from '../lib/trace.js';
import { MAX_SCHEDULE_TIMEOUT } from '../lib/time.js';
import { DMA_RESV_USAGE_KERNEL } from '../resv/dma-resv.js';
import { DMA_BIDIRECTIONAL, type DmaDataDirection } from '../mm/dma-mapping.js';
import type { Device } from '../mm/device.js';
import type { Page } from '../mm/page.js';
import type { SgTable } from '../mm/scatterlist.js';
import {
  type DmaBuf, DmaBufAttachment, type DmaBufAttachOps, dmaBufAttachmentIsDynamic, dmaBufIsDynamic,
} from './dma-buf.js';

const tpAttach = tracepoint('dma_buf_dynamic_attach');
const tpDetach = tracepoint('dma_buf_detach');

/** The real pages of tables handed out under CONFIG_DMABUF_DEBUG. */
const mangled = new WeakMap<SgTable, (Page | null)[]>();

/** A page link no importer may follow: any use throws. */
const poisonedPage = new Proxy({}, {
  get(_t, prop) {
    throw new TypeError(`DMABUF_DEBUG: importer touched sg_page() (.${String(prop)}) of an imported sg_table; use the DMA addresses`);
  },
}) as Page;

/** mangle_sg_table(): XOR the page links (here: swap in a poisoned page) so importers cannot use them; applied twice it restores. */
function mangleSgTable(sgt: SgTable): void {
  if (!kconfig.DMABUF_DEBUG) return;
  const saved = mangled.get(sgt);
  if (saved) {
    sgt.sgl.forEach((sg, i) => (sg.page = saved[i]));
    mangled.delete(sgt);
  } else {
    mangled.set(sgt, sgt.sgl.map((sg) => sg.page));
    for (const sg of sgt.sgl) if (sg.page) sg.page = poisonedPage;
  }
}

/** The resv lock is required here: WARN and report whether it is held. */
function resvHeld(dmabuf: DmaBuf, what: string): boolean {
  if (dmabuf.resv.isLocked()) return true;
  WARN(true, `${what}: the dma_buf's reservation lock is not held`);
  return false;
}

/** The exporter's map_dma_buf; NULL becomes -ENOMEM (its errors propagate as thrown). */
async function callMap(attach: DmaBufAttachment, dir: DmaDataDirection): Promise<SgTable> {
  const sgt = await attach.dmabuf.ops.mapDmaBuf(attach, dir);
  if (!sgt) throw kerr(-ENOMEM, 'map_dma_buf returned NULL');
  return sgt;
}

/**
 * __map_dma_buf(): the exporter's mapping; a static importer then waits
 * for the kernel's fences (moves, clears) before it may use it.
 */
async function mapDmaBufInternal(attach: DmaBufAttachment, dir: DmaDataDirection): Promise<SgTable> {
  const sgt = await callMap(attach, dir);
  if (!dmaBufAttachmentIsDynamic(attach)) {
    const ret = await attach.dmabuf.resv.waitTimeout(DMA_RESV_USAGE_KERNEL, true, MAX_SCHEDULE_TIMEOUT);
    if (ret < 0) {
      attach.dmabuf.ops.unmapDmaBuf(attach, sgt, dir);
      throw kerr(ret);
    }
  }
  coherencyMapped(attach.dmabuf, attach.dev, sgt);
  mangleSgTable(sgt);
  return sgt;
}

/** __unmap_dma_buf() */
function unmapDmaBufInternal(attach: DmaBufAttachment, sgt: SgTable, dir: DmaDataDirection): void {
  mangleSgTable(sgt); // restores the page links for the exporter
  attach.dmabuf.ops.unmapDmaBuf(attach, sgt, dir);
}

/**
 * dma_buf_dynamic_attach(dmabuf, dev, importer_ops, importer_priv): attach
 * a device. Throws -EINVAL (WARN) without a buffer or device or for
 * importer ops without move_notify, -ENOMEM, or the exporter's attach
 * error (-EBUSY: the storage cannot be made reachable for this device), or
 * the error of the pin/map made for a static/dynamic mismatch. Called
 * without the resv lock.
 */
export async function dmaBufDynamicAttach(dmabuf: DmaBuf, dev: Device, importerOps: DmaBufAttachOps | null, importerPriv: unknown = null): Promise<DmaBufAttachment> {
  if (!dmabuf || !dev) {
    WARN(true, 'dma_buf_dynamic_attach: no dma_buf or no device');
    throw kerr(-EINVAL);
  }
  if (importerOps && !importerOps.moveNotify) {
    WARN(true, 'dma_buf_dynamic_attach: importer ops without move_notify');
    throw kerr(-EINVAL);
  }
  if (shouldFailAlloc('slab')) throw kerr(-ENOMEM);
  const attach = new DmaBufAttachment(dmabuf, dev, importerOps, importerPriv);
  if (importerOps) attach.peer2peer = !!importerOps.allowPeer2peer;
  if (dmabuf.ops.attach) {
    const ret = await dmabuf.ops.attach(dmabuf, attach);
    if (ret) throw kerr(ret, `the exporter (${dmabuf.expName}) refused to attach ${dev.name}`);
  }
  await dmabuf.resv.lockResv(null);
  dmabuf.mutableAttachments().unshift(attach);
  dmabuf.resv.unlock();
  if (tpAttach.enabled) tpAttach.emit({ exp_name: dmabuf.expName, ino: dmabuf.ino, dynamic: dmaBufAttachmentIsDynamic(attach), dev: dev.name });

  // A static importer of a dynamic exporter (or the reverse) gets a mapping
  // made now and kept: the importer cannot take the resv lock around maps.
  if (dmaBufAttachmentIsDynamic(attach) !== dmaBufIsDynamic(dmabuf)) {
    await dmabuf.resv.lockResv(null);
    let ret = 0;
    let pinned = false;
    try {
      if (dmaBufIsDynamic(dmabuf)) {
        ret = await dmabuf.ops.pin!(attach);
        if (ret) throw kerr(ret);
        pinned = true;
      }
      attach.sgt = await mapDmaBufInternal(attach, DMA_BIDIRECTIONAL);
      attach.dir = DMA_BIDIRECTIONAL;
    } catch (e) {
      if (pinned) dmabuf.ops.unpin!(attach);
      dmabuf.resv.unlock();
      await dmaBufDetach(dmabuf, attach);
      throw e;
    }
    dmabuf.resv.unlock();
  }
  return attach;
}

/** dma_buf_attach(dmabuf, dev): a static importer (no move_notify; its mappings never move). */
export function dmaBufAttach(dmabuf: DmaBuf, dev: Device): Promise<DmaBufAttachment> {
  return dmaBufDynamicAttach(dmabuf, dev, null, null);
}

/**
 * dma_buf_detach(dmabuf, attach): WARNs and does nothing for a null
 * argument or an attachment of another buffer. Releases a cached mapping
 * (and the pin made with it). Called without the resv lock.
 */
export async function dmaBufDetach(dmabuf: DmaBuf, attach: DmaBufAttachment): Promise<void> {
  if (!dmabuf || !attach || dmabuf !== attach.dmabuf) {
    WARN(true, 'dma_buf_detach: attachment does not belong to this dma_buf');
    return;
  }
  await dmabuf.resv.lockResv(null);
  if (attach.sgt) {
    unmapDmaBufInternal(attach, attach.sgt, attach.dir);
    if (dmaBufIsDynamic(dmabuf)) dmabuf.ops.unpin!(attach);
    attach.sgt = null;
  }
  const i = dmabuf.attachments.indexOf(attach);
  if (i >= 0) dmabuf.mutableAttachments().splice(i, 1);
  dmabuf.resv.unlock();
  dmabuf.ops.detach?.(dmabuf, attach);
  if (tpDetach.enabled) tpDetach.emit({ exp_name: dmabuf.expName, ino: dmabuf.ino, dev: attach.dev.name });
}

/**
 * dma_buf_pin(attach): keep the buffer where it is (dynamic importers,
 * resv held). WARNs for a static attachment; 0 or the exporter's error.
 */
export async function dmaBufPin(attach: DmaBufAttachment): Promise<number> {
  const dmabuf = attach.dmabuf;
  WARN(!dmaBufAttachmentIsDynamic(attach), 'dma_buf_pin: only for dynamic importers');
  if (!resvHeld(dmabuf, 'dma_buf_pin')) return -EINVAL;
  return dmabuf.ops.pin ? dmabuf.ops.pin(attach) : 0;
}

/** dma_buf_unpin(attach): WARNs for a static attachment; resv held. */
export function dmaBufUnpin(attach: DmaBufAttachment): void {
  const dmabuf = attach.dmabuf;
  WARN(!dmaBufAttachmentIsDynamic(attach), 'dma_buf_unpin: only for dynamic importers');
  if (!resvHeld(dmabuf, 'dma_buf_unpin')) return;
  dmabuf.ops.unpin?.(attach);
}

/**
 * dma_buf_map_attachment(attach, dir): an sg_table mapped for the
 * attachment's device (resv held). The cached table when there is one
 * (-EBUSY if it was made for another direction that is not
 * BIDIRECTIONAL). A dynamic exporter is pinned for the mapping unless the
 * importer is dynamic and CONFIG_DMABUF_MOVE_NOTIFY is on. Throws -EINVAL
 * (WARN), -ENOMEM (the exporter returned NULL), the exporter's error, or
 * -ERESTARTSYS when a static importer's wait for kernel fences is
 * interrupted.
 */
export async function dmaBufMapAttachment(attach: DmaBufAttachment, dir: DmaDataDirection): Promise<SgTable> {
  if (!attach || !attach.dmabuf) {
    WARN(true, 'dma_buf_map_attachment: no attachment');
    throw kerr(-EINVAL);
  }
  const dmabuf = attach.dmabuf;
  if (!resvHeld(dmabuf, 'dma_buf_map_attachment')) throw kerr(-EINVAL, 'resv lock not held');
  if (attach.sgt) {
    // Two mappings with different directions for one attachment are not allowed.
    if (attach.dir !== dir && attach.dir !== DMA_BIDIRECTIONAL) throw kerr(-EBUSY, 'cached mapping has another direction');
    coherencyDeviceRead(attach.sgt, attach.dev, 'map');
    return attach.sgt;
  }
  const pinForMap = dmaBufIsDynamic(dmabuf) && !kconfig.DMABUF_MOVE_NOTIFY;
  if (pinForMap) {
    const r = await dmabuf.ops.pin!(attach);
    if (r) throw kerr(r);
  }
  let sgt: SgTable;
  try {
    sgt = await mapDmaBufInternal(attach, dir);
  } catch (e) {
    if (pinForMap) dmabuf.ops.unpin!(attach);
    throw e;
  }
  if (dmabuf.ops.cacheSgtMapping) {
    attach.sgt = sgt;
    attach.dir = dir;
  }
  return sgt;
}

/**
 * dma_buf_unmap_attachment(attach, sgt, dir): give a mapping back (resv
 * held). A cached table stays until detach. WARNs for null arguments.
 */
export function dmaBufUnmapAttachment(attach: DmaBufAttachment, sgt: SgTable, dir: DmaDataDirection): void {
  if (!attach || !attach.dmabuf || !sgt) {
    WARN(true, 'dma_buf_unmap_attachment: null argument');
    return;
  }
  const dmabuf = attach.dmabuf;
  if (!resvHeld(dmabuf, 'dma_buf_unmap_attachment')) return;
  if (attach.sgt === sgt) return;
  unmapDmaBufInternal(attach, sgt, dir);
  if (dmaBufIsDynamic(dmabuf) && !kconfig.DMABUF_MOVE_NOTIFY) dmabuf.ops.unpin!(attach);
}

/** dma_buf_map_attachment_unlocked(): takes the resv lock around the map. */
export async function dmaBufMapAttachmentUnlocked(attach: DmaBufAttachment, dir: DmaDataDirection): Promise<SgTable> {
  if (!attach || !attach.dmabuf) {
    WARN(true, 'dma_buf_map_attachment_unlocked: no attachment');
    throw kerr(-EINVAL);
  }
  await attach.dmabuf.resv.lockResv(null);
  try {
    return await dmaBufMapAttachment(attach, dir);
  } finally {
    attach.dmabuf.resv.unlock();
  }
}

/** dma_buf_unmap_attachment_unlocked() */
export async function dmaBufUnmapAttachmentUnlocked(attach: DmaBufAttachment, sgt: SgTable, dir: DmaDataDirection): Promise<void> {
  if (!attach || !attach.dmabuf || !sgt) {
    WARN(true, 'dma_buf_unmap_attachment_unlocked: null argument');
    return;
  }
  await attach.dmabuf.resv.lockResv(null);
  dmaBufUnmapAttachment(attach, sgt, dir);
  attach.dmabuf.resv.unlock();
}

/**
 * dma_buf_move_notify(dmabuf): the exporter moved the buffer (resv held);
 * every dynamic importer hears of it. Static attachments are pinned and
 * never move.
 */
export function dmaBufMoveNotify(dmabuf: DmaBuf): void {
  if (!resvHeld(dmabuf, 'dma_buf_move_notify')) return;
  for (const attach of dmabuf.attachments) attach.importerOps?.moveNotify(attach);
}
