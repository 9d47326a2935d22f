/**
 * vgem, the virtual GEM provider (drivers/gpu/drm/vgem): dumb buffers in
 * shmem, mmap through fake offsets, PRIME, and fences userspace attaches to
 * a buffer and signals itself (each auto-signals after 10 s so nothing
 * hangs forever).
 */
import { EBUSY, EINVAL, ENOENT, ETIMEDOUT, ptrErr } from '../lib/errno.js';
import { HZ } from '../lib/time.js';
import { DmaFence, type DmaFenceOps, dmaFenceContextAlloc } from '../fence/dma-fence.js';
import { DMA_RESV_USAGE_READ, DMA_RESV_USAGE_WRITE, dmaResvUsageRw } from '../resv/dma-resv.js';
import { Device } from '../mm/device.js';
import { pageAlign } from '../mm/page.js';
import { DrmDevice, DrmFile, drmGemHandleCreate, drmGemObjectLookup, drmGemObjectPut, drmGemRelease, drmGemShmemCreate, drmGemMmapOffset } from './drm-gem.js';

/** VGEM_FENCE_TIMEOUT */
export const VGEM_FENCE_TIMEOUT = 10 * HZ;
export const VGEM_FENCE_WRITE = 0x1;

class VgemFence extends DmaFence {
  timer: ReturnType<typeof setTimeout> | null = null;
}

const vgemFenceOps: DmaFenceOps = {
  getDriverName: () => 'vgem',
  getTimelineName: () => 'unbound',
  release(f): void {
    const vf = f as VgemFence;
    if (vf.timer) clearTimeout(vf.timer);
    vf.timer = null;
  },
};

/** vgem_fence_create(): a fence that signals by itself after VGEM_FENCE_TIMEOUT. */
function vgemFenceCreate(): VgemFence {
  const fence = new VgemFence(vgemFenceOps, dmaFenceContextAlloc(1), 1);
  fence.timer = setTimeout(() => {
    fence.timer = null;
    fence.signal();
  }, VGEM_FENCE_TIMEOUT);
  return fence;
}

/** struct vgem_file: the fences this open file attached, by id (an idr from 1). */
export class VgemFile {
  readonly fences = new Map<number, VgemFence | null>();
  nextId = 1;
}

/** The vgem DRM device and its DMA device. */
export const vgemDevice = new DrmDevice(
  // DRM_IOCTL_VERSION reports the date "0": drivers' dates are deprecated (drm_version() in the Linux 6.12
  // stable series, as Debian's 6.12 kernels answer; vgem's was "20120112" before)
  { name: 'vgem', desc: 'Virtual GEM provider', date: '0', major: 1, minor: 0, patchlevel: 0 },
  new Device({ name: 'vgem' }),
);

/** open() of /dev/dri/card0 (drm_open + vgem_open) */
export function vgemOpen(): DrmFile {
  const file = new DrmFile(vgemDevice);
  file.driverPriv = new VgemFile();
  return file;
}

/** close of the DRM file (vgem_postclose + drm_gem_release): pending fences signal, handles go. */
export function vgemClose(file: DrmFile): void {
  const vfile = file.driverPriv as VgemFile;
  for (const f of vfile.fences.values()) {
    if (!f) continue;
    f.signal();
    f.put();
  }
  vfile.fences.clear();
  drmGemRelease(file);
}

/** struct drm_mode_create_dumb's outputs */
export interface DumbBuffer {
  handle: number;
  pitch: number;
  size: number;
}

/**
 * DRM_IOCTL_MODE_CREATE_DUMB (drm_gem_shmem_dumb_create): pitch and size
 * from width, height and bpp unless the caller asked for more; a new
 * object and handle. -EINVAL for zero sizes (drm_mode_create_dumb_ioctl; flags are ignored).
 */
export function vgemDumbCreate(file: DrmFile, width: number, height: number, bpp: number, flags = 0, pitchIn = 0, sizeIn = 0): DumbBuffer | number {
  // drm_mode_create_dumb() checks the sizes; flags are not looked at
  void flags;
  if (!width || !height || !bpp) return -EINVAL;
  // drm_mode_create_dumb() (drivers/gpu/drm/drm_dumb_buffers.c, Linux 6.12): the 32-bit overflow checks, in u32
  // arithmetic (integer divisions), on stride = cpp * width, then the page-aligned size must not wrap to 0.
  if (bpp > 0xffffffff - 8) return -EINVAL;
  const cpp = Math.ceil(bpp / 8);
  if (cpp > Math.floor(0xffffffff / width)) return -EINVAL;
  const stride = cpp * width;
  if (height > Math.floor(0xffffffff / stride)) return -EINVAL;
  if (height * stride > 0xfffff000) return -EINVAL;
  const minPitch = Math.ceil((width * bpp) / 8);
  let pitch = pitchIn;
  let size = sizeIn;
  if (!pitch || !size) {
    pitch = minPitch;
    size = pageAlign(pitch * height);
  } else {
    if (pitch < minPitch) pitch = minPitch;
    if (size < pitch * height) size = pageAlign(pitch * height);
  }
  if (pitch * height > 0xffffffff) return -EINVAL;
  let obj;
  try {
    obj = drmGemShmemCreate(vgemDevice, size);
  } catch (e) {
    return ptrErr(e);
  }
  const handle = drmGemHandleCreate(file, obj);
  drmGemObjectPut(obj);
  return { handle, pitch, size: obj.size };
}

/** DRM_IOCTL_MODE_MAP_DUMB: the fake mmap offset of a handle, or -ENOENT. */
export function vgemDumbMapOffset(file: DrmFile, handle: number): number {
  const obj = drmGemObjectLookup(file, handle);
  if (!obj) return -ENOENT;
  // drm_gem_dumb_map_offset(): an imported object is not mapped through the
  // importer (map the dma-buf's own fd instead): -EINVAL.
  if (obj.importAttach) {
    drmGemObjectPut(obj);
    return -EINVAL;
  }
  const off = drmGemMmapOffset(obj);
  drmGemObjectPut(obj);
  return off;
}

/**
 * DRM_IOCTL_VGEM_FENCE_ATTACH: a new fence in the object's reservation
 * object, as a writer (VGEM_FENCE_WRITE) or a reader. Returns the fence id.
 * -EINVAL for unknown flags or pad, -ENOENT for an unknown handle, -EBUSY
 * when a conflicting fence is still pending, -ENOMEM.
 */
export async function vgemFenceAttach(file: DrmFile, handle: number, flags: number, pad = 0): Promise<number> {
  if (flags & ~VGEM_FENCE_WRITE) return -EINVAL;
  if (pad) return -EINVAL;
  const obj = drmGemObjectLookup(file, handle);
  if (!obj) return -ENOENT;
  const vfile = file.driverPriv as VgemFile;
  const fence = vgemFenceCreate();
  let ret = 0;
  const resv = obj.resv;
  if (!resv.testSignaled(dmaResvUsageRw(!!(flags & VGEM_FENCE_WRITE)))) {
    ret = -EBUSY;
  } else {
    await resv.lockResv(null);
    ret = resv.reserveFences(1);
    if (!ret) resv.addFence(fence, flags & VGEM_FENCE_WRITE ? DMA_RESV_USAGE_WRITE : DMA_RESV_USAGE_READ);
    resv.unlock();
    if (!ret) {
      const id = vfile.nextId++;
      vfile.fences.set(id, fence);
      ret = id;
    }
  }
  if (ret < 0) {
    fence.signal();
    fence.put();
  }
  drmGemObjectPut(obj);
  return ret;
}

/**
 * DRM_IOCTL_VGEM_FENCE_SIGNAL: signal a fence by id. -EINVAL for flags,
 * -ENOENT for an unknown (or already signalled) id, -ETIMEDOUT if the fence
 * had already timed out (it is signalled all the same).
 */
export function vgemFenceSignal(file: DrmFile, id: number, flags = 0): number {
  if (flags) return -EINVAL;
  const vfile = file.driverPriv as VgemFile;
  const fence = vfile.fences.get(id);
  if (!fence) return -ENOENT;
  vfile.fences.set(id, null);
  const ret = fence.isSignaled() ? -ETIMEDOUT : 0;
  fence.signal();
  if (fence.timer) {
    clearTimeout(fence.timer);
    fence.timer = null;
  }
  fence.put();
  return ret;
}

