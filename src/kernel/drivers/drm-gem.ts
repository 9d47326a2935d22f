/**
 * The DRM GEM core a vgem-style driver needs (drivers/gpu/drm/drm_gem.c,
 * drm_prime.c, drm_gem_shmem_helper.c, drm_vma_manager.c): buffer objects
 * with per-file handles, global flink names, fake mmap offsets, and PRIME
 * export/import of dma-bufs. Importing a dma-buf the device exported
 * itself gives back the same object.
 */
import { EINVAL, ENOENT, ENOMEM, EACCES, kerr, ptrErr } from '../lib/errno.js';
import { WARN } from '../lib/bug.js';
import { lockdepTask } from '../locking/lockdep.js';
import { pr_err } from '../lib/printk.js';
import { krefGet, krefPut } from '../lib/kref.js';
import { shouldFailAlloc } from '../lib/failslab.js';
import { O_CLOEXEC, O_RDWR } from '../../uapi/fcntl.js';
import { DmaResv } from '../resv/dma-resv.js';
import { allocPages, freePages, GFP_KERNEL } from '../mm/page-alloc.js';
import { Backing, type Page, PAGE_SHIFT, PAGE_SIZE, pageAlign } from '../mm/page.js';
import type { Device } from '../mm/device.js';
import { dmaMapNewSgtable, dmaUnmapSgtable, DMA_BIDIRECTIONAL, type DmaDataDirection } from '../mm/dma-mapping.js';
import type { IosysMap } from '../mm/iosys-map.js';
import { sgAllocTableFromPages, sgFreeTable, type SgTable } from '../mm/scatterlist.js';
import { isCowMapping, vmaMapPages, type Vma } from '../mm/vma.js';
import type { FdTable } from '../fs/fdtable.js';
import { WaitQueue, deferRelease } from '../fs/file.js';
import {
  dmaBufExport, dmaBufGet, dmaBufPut, getDmaBuf, type DmaBuf, type DmaBufAttachment, type DmaBufOps,
} from '../buf/dma-buf.js';
import { dmaBufAttach, dmaBufDetach, dmaBufMapAttachmentUnlocked, dmaBufUnmapAttachmentUnlocked } from '../buf/attachment.js';
import { dmaBufMmap, dmaBufVmapUnlocked, dmaBufVunmapUnlocked } from '../buf/cpu-access.js';

/** DRM_FILE_PAGE_OFFSET_START on 64-bit: fake offsets start above 4 GiB. */
export const DRM_FILE_PAGE_OFFSET_START = (0xffffffff >>> PAGE_SHIFT) + 1;

/** struct drm_driver (the fields userspace sees through DRM_IOCTL_VERSION) */
export interface DrmDriverInfo {
  name: string;
  desc: string;
  date: string;
  major: number;
  minor: number;
  patchlevel: number;
}

/** struct drm_device */
export class DrmDevice {
  /** flink names: name -> object */
  readonly names = new Map<number, DrmGemObject>();
  /** fake mmap offsets (in pages) -> object */
  readonly offsets = new Map<number, DrmGemObject>();
  nextOffset = DRM_FILE_PAGE_OFFSET_START;
  constructor(readonly driver: DrmDriverInfo, readonly dev: Device) {}
}

/** struct drm_gem_object (with the shmem helper's pages) */
export class DrmGemObject {
  refcount = 1;
  handleCount = 0;
  /** flink name, 0 if none */
  name = 0;
  /** the reservation object: the object's own, or the imported dma-buf's */
  resv: DmaResv;
  ownResv: boolean;
  /** the dma-buf this object was exported as (or imported from) */
  dmaBuf: DmaBuf | null = null;
  /** set when the object wraps another exporter's dma-buf */
  importAttach: DmaBufAttachment | null = null;
  importSgt: SgTable | null = null;
  /** fake mmap offset, in pages (0 until created) */
  mmapOffset = 0;
  backing: Backing | null = null;
  pages: Page[] = [];
  pinCount = 0;
  vmapCount = 0;
  released = false;
  constructor(readonly dev: DrmDevice, readonly size: number, resv: DmaResv | null) {
    this.ownResv = !resv;
    this.resv = resv ?? new DmaResv();
  }
}

/** struct drm_file: one open of the device */
export class DrmFile {
  readonly handles = new Map<number, DrmGemObject>();
  /** the PRIME cache: dma-buf <-> handle (each entry holds a dma-buf reference) */
  readonly prime = new Map<DmaBuf, number>();
  /** driver private data (vgem's fence table) */
  driverPriv: unknown = null;
  /** opened through the render node (drm_is_render_client): only DRM_RENDER_ALLOW ioctls */
  render = false;
  /** event_wait: readers and pollers of the file's events */
  readonly eventWait = new WaitQueue();
  constructor(readonly dev: DrmDevice) {}
}

export const drmGemStats = { live: 0 };

/** drm_gem_object_get() */
export function drmGemObjectGet(obj: DrmGemObject): DrmGemObject {
  krefGet(obj);
  return obj;
}

/** drm_gem_object_put(): the last reference frees the object (its pages or its import). */
export function drmGemObjectPut(obj: DrmGemObject): void {
  krefPut(obj, drmGemObjectFree);
}

function drmGemObjectFree(obj: DrmGemObject): void {
  if (obj.importAttach) {
    // drm_prime_gem_destroy(): unmap, detach, drop the dma-buf reference.
    const attach = obj.importAttach;
    const dmabuf = attach.dmabuf;
    const sgt = obj.importSgt!;
    obj.importAttach = null;
    // The unlocked unmap takes the resv lock, so the teardown completes
    // asynchronously: a work item of its own (a task of its own to lockdep,
    // not part of whatever dropped the last reference — a process exit may
    // free many objects, whose teardowns then run side by side).
    // A close that dropped it waits for it (deferRelease), as Linux's completes before close(2) returns.
    deferRelease(lockdepTask(() =>
      dmaBufUnmapAttachmentUnlocked(attach, sgt, DMA_BIDIRECTIONAL)
        .then(() => dmaBufDetach(dmabuf, attach))
        .then(() => dmaBufPut(dmabuf))
        .catch((e: unknown) => pr_err(`drm_prime_gem_destroy: ${String(e)}`)),
    ));
  } else {
    for (const p of obj.pages) freePages(p, 0);
    obj.pages = [];
  }
  if (obj.mmapOffset) obj.dev.offsets.delete(obj.mmapOffset);
  if (obj.ownResv) obj.resv.fini();
  obj.released = true;
  drmGemStats.live--;
}

/**
 * drm_gem_shmem_create(): an object of `size` bytes (page aligned). Like a
 * shmem file it has no pages yet: they come when first needed
 * (drmGemShmemGetPages), so a large object costs nothing until it is used.
 * Throws -ENOMEM.
 */
export function drmGemShmemCreate(dev: DrmDevice, size: number): DrmGemObject {
  size = pageAlign(size);
  if (!size) throw kerr(-EINVAL);
  if (shouldFailAlloc('slab')) throw kerr(-ENOMEM);
  const obj = new DrmGemObject(dev, size, null);
  drmGemStats.live++;
  return obj;
}

/**
 * drm_gem_shmem_get_pages(): the object's zeroed pages, allocated on first
 * use (mmap, the sg table, vmap). 0, or -ENOMEM: where Linux fills a shmem
 * object page by page at fault time (and fails then, with SIGBUS or the
 * OOM killer), this machine takes the whole object at its first use.
 */
export function drmGemShmemGetPages(obj: DrmGemObject): number {
  if (obj.backing) return 0;
  let backing: Backing;
  try {
    backing = new Backing(`${obj.dev.driver.name}-gem`, obj.size);
  } catch {
    return -ENOMEM; // a JavaScript RangeError: no memory for the store
  }
  const pages: Page[] = [];
  for (let i = 0; i < obj.size / PAGE_SIZE; i++) {
    const p = allocPages(GFP_KERNEL, 0, backing, i * PAGE_SIZE);
    if (!p) {
      for (const q of pages) freePages(q, 0);
      return -ENOMEM;
    }
    pages.push(p[0]);
  }
  obj.backing = backing;
  obj.pages = pages;
  return 0;
}

/** drm_gem_handle_create(): a new handle in `file` (holds a reference): the lowest free number from 1 (idr_alloc). */
export function drmGemHandleCreate(file: DrmFile, obj: DrmGemObject): number {
  let handle = 1;
  while (file.handles.has(handle)) handle++;
  file.handles.set(handle, drmGemObjectGet(obj));
  obj.handleCount++;
  return handle;
}

/** drm_gem_object_lookup(): a reference to the object behind a handle, or null. */
export function drmGemObjectLookup(file: DrmFile, handle: number): DrmGemObject | null {
  const obj = file.handles.get(handle);
  return obj ? drmGemObjectGet(obj) : null;
}

/** drm_gem_handle_delete() (DRM_IOCTL_GEM_CLOSE): 0 or -EINVAL for an unknown handle. */
export function drmGemHandleDelete(file: DrmFile, handle: number): number {
  const obj = file.handles.get(handle);
  if (!obj) return -EINVAL;
  file.handles.delete(handle);
  // drm_gem_remove_prime_handles()
  for (const [dmabuf, h] of file.prime) {
    if (h === handle) {
      file.prime.delete(dmabuf);
      dmaBufPut(dmabuf);
    }
  }
  if (--obj.handleCount === 0) {
    // drm_gem_object_handle_free(): the flink name and the export link go with the last handle.
    if (obj.name) {
      obj.dev.names.delete(obj.name);
      obj.name = 0;
    }
    if (obj.dmaBuf) {
      const d = obj.dmaBuf;
      obj.dmaBuf = null;
      dmaBufPut(d);
    }
  }
  drmGemObjectPut(obj);
  return 0;
}

/** drm_gem_release(): the file's handles go when the file closes. */
export function drmGemRelease(file: DrmFile): void {
  for (const handle of [...file.handles.keys()]) drmGemHandleDelete(file, handle);
}

/** DRM_IOCTL_GEM_FLINK: a global name for the object (the same one each time). */
export function drmGemFlink(file: DrmFile, handle: number): number {
  const obj = file.handles.get(handle);
  if (!obj) return -ENOENT;
  if (!obj.name) {
    // idr_alloc(&dev->object_name_idr, obj, 1, 0): the lowest free name
    let name = 1;
    while (obj.dev.names.has(name)) name++;
    obj.name = name;
    obj.dev.names.set(obj.name, obj);
  }
  return obj.name;
}

/** DRM_IOCTL_GEM_OPEN: a handle in `file` for a flink name; -ENOENT for an unknown name. */
export function drmGemOpen(file: DrmFile, name: number): { handle: number; size: number } | number {
  const obj = file.dev.names.get(name);
  if (!obj) return -ENOENT;
  return { handle: drmGemHandleCreate(file, obj), size: obj.size };
}

/** drm_gem_create_mmap_offset(): the fake offset userspace passes to mmap(). */
export function drmGemMmapOffset(obj: DrmGemObject): number {
  if (!obj.mmapOffset) {
    obj.mmapOffset = obj.dev.nextOffset;
    obj.dev.nextOffset += obj.size / PAGE_SIZE;
    obj.dev.offsets.set(obj.mmapOffset, obj);
  }
  return obj.mmapOffset * PAGE_SIZE;
}

/**
 * drm_gem_mmap(): map the object a fake offset names. -EINVAL for an
 * unknown offset or a mapping larger than the object, -EACCES when the
 * caller holds no handle to it.
 */
export async function drmGemMmap(file: DrmFile, vma: Vma): Promise<number> {
  const obj = file.dev.offsets.get(vma.vmPgoff);
  if (!obj) return -EINVAL;
  if (vma.pages() > obj.size / PAGE_SIZE) return -EINVAL;
  if (![...file.handles.values()].includes(obj)) return -EACCES;
  return drmGemObjectMmap(obj, vma, 0);
}

/** The object's mmap (drm_gem_shmem_mmap): an imported object forwards to its exporter; a copy-on-write (private) mapping is -EINVAL. */
async function drmGemObjectMmap(obj: DrmGemObject, vma: Vma, pgoff: number): Promise<number> {
  if (obj.importAttach) return dmaBufMmap(obj.dmaBuf!, vma, pgoff);
  if (isCowMapping(vma.vmFlags)) return -EINVAL;
  const ret = drmGemShmemGetPages(obj);
  if (ret) return ret;
  return vmaMapPages(vma, obj.pages, pgoff);
}

/** drm_gem_shmem_get_sg_table(): a table over the object's pages (null: no memory for them). */
function drmGemGetSgTable(obj: DrmGemObject): SgTable | null {
  if (drmGemShmemGetPages(obj)) return null;
  return sgAllocTableFromPages(obj.pages, 0, obj.size);
}

/** drm_gem_prime_dmabuf_ops: the ops of a dma-buf a DRM driver exported. */
const drmGemPrimeDmabufOps: DmaBufOps = {
  cacheSgtMapping: true,
  attach(dmabuf): number {
    (dmabuf.priv as DrmGemObject).pinCount++;
    return 0;
  },
  detach(dmabuf): void {
    (dmabuf.priv as DrmGemObject).pinCount--;
  },
  mapDmaBuf(attach: DmaBufAttachment, dir: DmaDataDirection): SgTable {
    const obj = attach.dmabuf.priv as DrmGemObject;
    return dmaMapNewSgtable(attach.dev, drmGemGetSgTable(obj), dir);
  },
  unmapDmaBuf(attach: DmaBufAttachment, sgt: SgTable, dir: DmaDataDirection): void {
    dmaUnmapSgtable(attach.dev, sgt, dir, 0);
    sgFreeTable(sgt);
  },
  release(dmabuf: DmaBuf): void {
    drmGemObjectPut(dmabuf.priv as DrmGemObject);
  },
  mmap(dmabuf: DmaBuf, vma: Vma): Promise<number> {
    return drmGemObjectMmap(dmabuf.priv as DrmGemObject, vma, vma.vmPgoff);
  },
  vmap(dmabuf: DmaBuf, map: IosysMap): number {
    const obj = dmabuf.priv as DrmGemObject;
    const ret = drmGemShmemGetPages(obj);
    if (ret) return ret;
    obj.vmapCount++;
    map.setVaddr(obj.backing!.view(0, obj.size));
    return 0;
  },
  vunmap(dmabuf: DmaBuf, map: IosysMap): void {
    (dmabuf.priv as DrmGemObject).vmapCount--;
    map.clear();
  },
};

/** Whether a dma-buf was exported by a DRM driver (drm_gem_prime_dmabuf_ops). */
export function isDrmPrimeDmaBuf(dmabuf: DmaBuf): boolean {
  return dmabuf.ops === drmGemPrimeDmabufOps;
}

/**
 * drm_gem_prime_handle_to_fd(): a dma-buf fd for a handle. -EINVAL for
 * flags other than O_CLOEXEC|O_RDWR, -ENOENT for an unknown handle, or
 * the fd allocation's error. Exporting twice gives the same dma-buf.
 */
export function drmGemPrimeHandleToFd(file: DrmFile, handle: number, flags: number, files: FdTable): number {
  if (flags & ~(O_CLOEXEC | O_RDWR)) return -EINVAL;
  const fd = files.getUnusedFdFlags(flags);
  if (fd < 0) return fd;
  const obj = drmGemObjectLookup(file, handle);
  if (!obj) {
    files.putUnusedFd(fd);
    return -ENOENT;
  }
  let dmabuf: DmaBuf;
  try {
    const cached = [...file.prime].find(([, h]) => h === handle)?.[0];
    if (cached) {
      dmabuf = getDmaBuf(cached);
    } else {
      if (obj.importAttach) dmabuf = getDmaBuf(obj.importAttach.dmabuf);
      else if (obj.dmaBuf) dmabuf = getDmaBuf(obj.dmaBuf);
      else {
        if (obj.handleCount === 0) throw kerr(-ENOENT);
        // drm_gem_prime_export(): the dma-buf holds a reference to the object.
        dmabuf = dmaBufExport({ expName: 'drm', ops: drmGemPrimeDmabufOps, size: obj.size, flags, resv: obj.resv, priv: drmGemObjectGet(obj) });
        obj.dmaBuf = getDmaBuf(dmabuf);
      }
      file.prime.set(getDmaBuf(dmabuf), handle);
    }
  } catch (e) {
    drmGemObjectPut(obj);
    files.putUnusedFd(fd);
    return ptrErr(e);
  }
  drmGemObjectPut(obj);
  files.fdInstall(fd, dmabuf.file);
  return fd;
}

/**
 * drm_gem_prime_fd_to_handle(): a handle for a dma-buf fd: the object
 * itself if this device exported it, else a new object wrapping an
 * attachment of the device (mapped once, kept). Throws -EBADF/-EINVAL
 * (not a dma-buf) or the attach/map error.
 */
export async function drmGemPrimeFdToHandle(file: DrmFile, fd: number, files: FdTable): Promise<number> {
  let dmabuf: DmaBuf;
  try {
    dmabuf = dmaBufGet(fd, files);
  } catch (e) {
    return ptrErr(e);
  }
  try {
    const known = file.prime.get(dmabuf);
    if (known !== undefined) return known;
    let obj: DrmGemObject;
    if (isDrmPrimeDmaBuf(dmabuf) && (dmabuf.priv as DrmGemObject).dev === file.dev) {
      // Importing our own export: the same object, one more reference.
      obj = drmGemObjectGet(dmabuf.priv as DrmGemObject);
    } else {
      const attach = await dmaBufAttach(dmabuf, file.dev.dev);
      getDmaBuf(dmabuf);
      let sgt: SgTable;
      try {
        sgt = await dmaBufMapAttachmentUnlocked(attach, DMA_BIDIRECTIONAL);
      } catch (e) {
        await dmaBufDetach(dmabuf, attach);
        dmaBufPut(dmabuf);
        throw e;
      }
      obj = new DrmGemObject(file.dev, dmabuf.size, dmabuf.resv);
      drmGemStats.live++;
      obj.importAttach = attach;
      obj.importSgt = sgt;
    }
    if (obj.dmaBuf) WARN(obj.dmaBuf !== dmabuf, 'prime import: object exported as another dma-buf');
    else obj.dmaBuf = getDmaBuf(dmabuf);
    const handle = drmGemHandleCreate(file, obj);
    drmGemObjectPut(obj);
    file.prime.set(getDmaBuf(dmabuf), handle);
    return handle;
  } catch (e) {
    return ptrErr(e);
  } finally {
    dmaBufPut(dmabuf);
  }
}

/** dma_buf_vmap of an imported object, or the object's own pages (drm_gem_vmap). */
export async function drmGemVmap(obj: DrmGemObject, map: IosysMap): Promise<number> {
  if (obj.importAttach) return dmaBufVmapUnlocked(obj.importAttach.dmabuf, map);
  const ret = drmGemShmemGetPages(obj);
  if (ret) return ret;
  obj.vmapCount++;
  map.setVaddr(obj.backing!.view(0, obj.size));
  return 0;
}

/** drm_gem_vunmap() */
export async function drmGemVunmap(obj: DrmGemObject, map: IosysMap): Promise<void> {
  if (obj.importAttach) return dmaBufVunmapUnlocked(obj.importAttach.dmabuf, map);
  obj.vmapCount--;
  map.clear();
}
