/**
 * struct dma_buf and the structs around it (include/linux/dma-buf.h):
 * the exporter's ops, the importer's attach ops, attachments, the export
 * info. The functions on them live in dma-buf.ts and its neighbours, which
 * all import these types from here (so none needs another's file).
 */
import type { ModuleRef } from '../lib/module.js';
import { DmaFenceCb } from '../fence/dma-fence.js';
import { DmaResv } from '../resv/dma-resv.js';
import { WaitQueue, type File } from '../fs/file.js';
import { IosysMap } from '../mm/iosys-map.js';
import type { Vma } from '../mm/vma.js';
import type { SgTable } from '../mm/scatterlist.js';
import type { DmaDataDirection } from '../mm/dma-mapping.js';
import type { Device } from '../mm/device.js';

export type { ModuleRef } from '../lib/module.js';

/** struct dma_buf_ops: what an exporter implements. */
export interface DmaBufOps {
  /** .cache_sgt_mapping: the core caches the first mapping of each attachment (not with pin/unpin) */
  cacheSgtMapping?: boolean;
  /** .attach: may refuse a device (-EBUSY: the storage cannot be made reachable for it) */
  attach?(dmabuf: DmaBuf, attach: DmaBufAttachment): number | Promise<number>;
  /** .detach */
  detach?(dmabuf: DmaBuf, attach: DmaBufAttachment): void;
  /** .pin (resv held): the buffer must not move any more; makes the exporter dynamic (needs .unpin) */
  pin?(attach: DmaBufAttachment): number | Promise<number>;
  /** .unpin (resv held) */
  unpin?(attach: DmaBufAttachment): void;
  /** .map_dma_buf (mandatory; resv held for dynamic exporters): a new sg_table mapped for attach.dev, or throws / returns null */
  mapDmaBuf(attach: DmaBufAttachment, dir: DmaDataDirection): SgTable | null | Promise<SgTable | null>;
  /** .unmap_dma_buf (mandatory) */
  unmapDmaBuf(attach: DmaBufAttachment, sgt: SgTable, dir: DmaDataDirection): void;
  /** .release (mandatory): after the last reference */
  release(dmabuf: DmaBuf): void;
  /** .begin_cpu_access */
  beginCpuAccess?(dmabuf: DmaBuf, dir: DmaDataDirection): number | Promise<number>;
  /** .end_cpu_access */
  endCpuAccess?(dmabuf: DmaBuf, dir: DmaDataDirection): number | Promise<number>;
  /** .mmap: fill vma.view with the buffer's pages from vma.vmPgoff */
  mmap?(dmabuf: DmaBuf, vma: Vma): number | Promise<number>;
  /** .vmap (resv held): a kernel mapping of the whole buffer */
  vmap?(dmabuf: DmaBuf, map: IosysMap): number | Promise<number>;
  /** .vunmap (resv held) */
  vunmap?(dmabuf: DmaBuf, map: IosysMap): void;
}

/** struct dma_buf_attach_ops: what a dynamic importer implements. */
export interface DmaBufAttachOps {
  /** .allow_peer2peer: the importer can handle memory without struct pages */
  allowPeer2peer?: boolean;
  /** .move_notify (resv held): the buffer moved; re-map before the next access */
  moveNotify(attach: DmaBufAttachment): void;
}

/** struct dma_buf_attachment */
export class DmaBufAttachment {
  /** the cached mapping (when one is cached) and its direction */
  sgt: SgTable | null = null;
  dir: DmaDataDirection = 0;
  peer2peer = false;
  /** exporter's data */
  priv: unknown = null;
  constructor(
    readonly dmabuf: DmaBuf,
    readonly dev: Device,
    readonly importerOps: DmaBufAttachOps | null,
    readonly importerPriv: unknown,
  ) {}
}

/** struct dma_buf_poll_cb_t */
export class DmaBufPollCb extends DmaFenceCb {
  /** the event a callback is pending for (0 when idle) */
  active = 0;
  constructor(readonly dmabuf: DmaBuf) {
    super();
  }
}

/** struct dma_buf_export_info */
export interface DmaBufExportInfo {
  expName: string;
  owner?: ModuleRef | null;
  ops: DmaBufOps;
  size: number;
  /** file flags: only O_ACCMODE and O_NONBLOCK are kept */
  flags: number;
  /** null: the dma-buf gets a reservation object of its own */
  resv?: DmaResv | null;
  priv: unknown;
}

/** DMA_BUF_NAME_LEN */
export const DMA_BUF_NAME_LEN = 32;

/** The attachment list of a buffer nobody attached to (never modified). */
const NO_ATTACHMENTS: DmaBufAttachment[] = [];

/** struct dma_buf */
export class DmaBuf {
  readonly size: number;
  file!: File;
  /** attachments, most recent first (a shared empty list until the first attach) */
  attachments: DmaBufAttachment[] = NO_ATTACHMENTS;
  readonly ops: DmaBufOps;
  vmappingCounter = 0;
  private vmapPtrStore: IosysMap | null = null;
  readonly expName: string;
  /** user name from DMA_BUF_SET_NAME, null when unset */
  name: string | null = null;
  readonly owner: ModuleRef | null;
  priv: unknown;
  readonly resv: DmaResv;
  /** the reservation object is the buffer's own (fini at release) */
  readonly ownResv: boolean;
  private pollStore: { wq: WaitQueue; cbIn: DmaBufPollCb; cbOut: DmaBufPollCb } | null = null;
  /** set once released (for use-after-free checks) */
  released = false;

  /** @internal use dmaBufExport() */
  constructor(info: DmaBufExportInfo, resv: DmaResv | null) {
    this.size = info.size;
    this.ops = info.ops;
    this.expName = info.expName;
    this.owner = info.owner ?? null;
    this.priv = info.priv;
    this.ownResv = !resv;
    this.resv = resv ?? new DmaResv();
  }

  /** The cached kernel mapping (vmap_ptr). */
  get vmapPtr(): IosysMap {
    return (this.vmapPtrStore ??= new IosysMap());
  }

  /** Whether a kernel mapping is cached (without making the map object). */
  get vmapped(): boolean {
    return this.vmapPtrStore !== null && this.vmapPtrStore.isSet();
  }

  private pollState(): { wq: WaitQueue; cbIn: DmaBufPollCb; cbOut: DmaBufPollCb } {
    return (this.pollStore ??= { wq: new WaitQueue(), cbIn: new DmaBufPollCb(this), cbOut: new DmaBufPollCb(this) });
  }

  /** wait queue for poll() (made on the first poll) */
  get poll(): WaitQueue {
    return this.pollState().wq;
  }

  /** poll callback for EPOLLIN */
  get cbIn(): DmaBufPollCb {
    return this.pollState().cbIn;
  }

  /** poll callback for EPOLLOUT */
  get cbOut(): DmaBufPollCb {
    return this.pollState().cbOut;
  }

  /** Whether a poll callback is armed (without making the poll state). */
  get pollActive(): boolean {
    return this.pollStore !== null && (this.pollStore.cbIn.active !== 0 || this.pollStore.cbOut.active !== 0);
  }

  /** The attachment list, made private to this buffer so it can be changed. */
  mutableAttachments(): DmaBufAttachment[] {
    if (this.attachments === NO_ATTACHMENTS) this.attachments = [];
    return this.attachments;
  }

  /** The inode number (unique, from 1). */
  get ino(): number {
    return this.file.inode.ino;
  }
}
