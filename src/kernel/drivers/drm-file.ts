/**
 * The DRM character device file (drivers/gpu/drm/drm_file.c,
 * drm_ioctl.c) for the vgem device: /dev/dri/card0. drm_ioctl() picks the
 * handler by number, copies the argument at the user's size zero-extended
 * to the kernel's, and answers -EINVAL for numbers it does not know.
 */
import { EFAULT, EINVAL, ENOENT } from '../lib/errno.js';
import { copyFromUser, copyToUser, userPtr, type UserArg } from '../lib/uaccess.js';
import type { Task } from '../fs/task.js';
import { File, Inode, type FileOperations } from '../fs/file.js';
import { miscRegister } from '../fs/miscdevice.js';
import { setS32, setU32, setU64, u64 } from '../../uapi/struct.js';
import { _IOC_DIRSHIFT, _IOC_NR, _IOC_READ, _IOC_SIZE, _IOC_WRITE } from '../../uapi/ioctl.js';
import {
  DRM_CAP_DUMB_BUFFER, DRM_CAP_DUMB_PREFERRED_DEPTH, DRM_CAP_DUMB_PREFER_SHADOW, DRM_CAP_PRIME, DRM_CAP_TIMESTAMP_MONOTONIC,
  DRM_IOCTL_GEM_CLOSE, DRM_IOCTL_GEM_FLINK, DRM_IOCTL_GEM_OPEN, DRM_IOCTL_GET_CAP, DRM_IOCTL_MODE_CREATE_DUMB,
  DRM_IOCTL_MODE_DESTROY_DUMB, DRM_IOCTL_MODE_MAP_DUMB, DRM_IOCTL_PRIME_FD_TO_HANDLE, DRM_IOCTL_PRIME_HANDLE_TO_FD,
  DRM_IOCTL_SET_VERSION, DRM_IOCTL_VERSION, DRM_IOCTL_VGEM_FENCE_ATTACH, DRM_IOCTL_VGEM_FENCE_SIGNAL, DRM_PRIME_CAP_EXPORT,
  DRM_PRIME_CAP_IMPORT, drmGemClose, drmGemFlink as flinkCodec, drmGemOpen as openCodec, drmGetCap, drmModeCreateDumb,
  drmModeDestroyDumb, drmModeMapDumb, drmPrimeHandle, drmSetVersion, drmVgemFenceAttach, drmVgemFenceSignal,
} from '../../uapi/drm.js';
import type { Vma } from '../mm/vma.js';
import {
  DrmFile, drmGemFlink, drmGemHandleDelete, drmGemMmap, drmGemOpen, drmGemPrimeFdToHandle, drmGemPrimeHandleToFd,
} from './drm-gem.js';
import { vgemClose, vgemDevice, vgemDumbCreate, vgemDumbMapOffset, vgemFenceAttach, vgemFenceSignal, vgemOpen, type DumbBuffer } from './vgem.js';

const IOC_IN = _IOC_WRITE << _IOC_DIRSHIFT;
const IOC_OUT = (_IOC_READ << _IOC_DIRSHIFT) >>> 0;

type Handler = (file: DrmFile, data: Uint8Array, task: Task, arg: UserArg) => number | Promise<number>;

/** drm_copy_field(): copy a string to the user buffer the struct points at; the length is the full length. */
function copyField(data: Uint8Array, lenOff: number, ptrOff: number, value: string, arg: UserArg): number {
  const bytes = new TextEncoder().encode(value);
  const room = u64(data, lenOff);
  setU64(data, lenOff, bytes.length);
  if (!room) return 0;
  const n = Math.min(room, bytes.length);
  const dst = userPtr(arg, u64(data, ptrOff), n);
  if (!dst) return -EFAULT;
  dst.set(bytes.subarray(0, n));
  return 0;
}

/** The ioctl table (drm_ioctls[] and vgem_ioctls[]), by number. */
const ioctls = new Map<number, [number, Handler]>([
  [_IOC_NR(DRM_IOCTL_VERSION), [DRM_IOCTL_VERSION, (_f, d, _t, arg) => {
    const drv = vgemDevice.driver;
    setS32(d, 0, drv.major);
    setS32(d, 4, drv.minor);
    setS32(d, 8, drv.patchlevel);
    return copyField(d, 16, 24, drv.name, arg) || copyField(d, 32, 40, drv.date, arg) || copyField(d, 48, 56, drv.desc, arg);
  }]],
  [_IOC_NR(DRM_IOCTL_SET_VERSION), [DRM_IOCTL_SET_VERSION, (_f, d) => {
    const v = drmSetVersion.decode(d);
    // The interface version in use (1.4); -EINVAL for versions the core does not offer.
    if (v.diMajor !== -1 && (v.diMajor !== 1 || v.diMinor < 0 || v.diMinor > 4)) return -EINVAL;
    if (v.ddMajor !== -1 && (v.ddMajor !== vgemDevice.driver.major || v.ddMinor < 0 || v.ddMinor > vgemDevice.driver.minor)) return -EINVAL;
    d.set(drmSetVersion.encode({ diMajor: 1, diMinor: 4, ddMajor: vgemDevice.driver.major, ddMinor: vgemDevice.driver.minor }));
    return 0;
  }]],
  [_IOC_NR(DRM_IOCTL_GET_CAP), [DRM_IOCTL_GET_CAP, (_f, d) => {
    const cap = drmGetCap.decode(d).capability;
    const values: Record<number, number> = {
      [DRM_CAP_DUMB_BUFFER]: 1,
      [DRM_CAP_DUMB_PREFERRED_DEPTH]: 0,
      [DRM_CAP_DUMB_PREFER_SHADOW]: 0,
      [DRM_CAP_PRIME]: DRM_PRIME_CAP_IMPORT | DRM_PRIME_CAP_EXPORT,
      [DRM_CAP_TIMESTAMP_MONOTONIC]: 1,
    };
    if (!(cap in values)) return -EINVAL;
    setU64(d, 8, values[cap]);
    return 0;
  }]],
  [_IOC_NR(DRM_IOCTL_GEM_CLOSE), [DRM_IOCTL_GEM_CLOSE, (f, d) => {
    const c = drmGemClose.decode(d);
    if (c.pad) return -EINVAL;
    return drmGemHandleDelete(f, c.handle);
  }]],
  [_IOC_NR(DRM_IOCTL_GEM_FLINK), [DRM_IOCTL_GEM_FLINK, (f, d) => {
    const name = drmGemFlink(f, flinkCodec.decode(d).handle);
    if (name < 0) return name;
    setU32(d, 4, name);
    return 0;
  }]],
  [_IOC_NR(DRM_IOCTL_GEM_OPEN), [DRM_IOCTL_GEM_OPEN, (f, d) => {
    const r = drmGemOpen(f, openCodec.decode(d).name);
    if (typeof r === 'number') return r;
    setU32(d, 4, r.handle);
    setU64(d, 8, r.size);
    return 0;
  }]],
  [_IOC_NR(DRM_IOCTL_PRIME_HANDLE_TO_FD), [DRM_IOCTL_PRIME_HANDLE_TO_FD, (f, d, t) => {
    const p = drmPrimeHandle.decode(d);
    const fd = drmGemPrimeHandleToFd(f, p.handle, p.flags, t.files);
    if (fd < 0) return fd;
    setS32(d, 8, fd);
    return 0;
  }]],
  [_IOC_NR(DRM_IOCTL_PRIME_FD_TO_HANDLE), [DRM_IOCTL_PRIME_FD_TO_HANDLE, async (f, d, t) => {
    const h = await drmGemPrimeFdToHandle(f, drmPrimeHandle.decode(d).fd, t.files);
    if (h < 0) return h;
    setU32(d, 0, h);
    return 0;
  }]],
  [_IOC_NR(DRM_IOCTL_MODE_CREATE_DUMB), [DRM_IOCTL_MODE_CREATE_DUMB, (f, d) => {
    const a = drmModeCreateDumb.decode(d);
    const r = vgemDumbCreate(f, a.width, a.height, a.bpp, a.flags, a.pitch, a.size);
    if (typeof r === 'number') return r;
    const b = r as DumbBuffer;
    setU32(d, 16, b.handle);
    setU32(d, 20, b.pitch);
    setU64(d, 24, b.size);
    return 0;
  }]],
  [_IOC_NR(DRM_IOCTL_MODE_MAP_DUMB), [DRM_IOCTL_MODE_MAP_DUMB, (f, d) => {
    const m = drmModeMapDumb.decode(d);
    if (m.pad) return -EINVAL;
    const off = vgemDumbMapOffset(f, m.handle);
    if (off < 0) return off;
    setU64(d, 8, off);
    return 0;
  }]],
  [_IOC_NR(DRM_IOCTL_MODE_DESTROY_DUMB), [DRM_IOCTL_MODE_DESTROY_DUMB, (f, d) => {
    const r = drmGemHandleDelete(f, drmModeDestroyDumb.decode(d).handle);
    return r === -EINVAL ? -ENOENT : r;
  }]],
  [_IOC_NR(DRM_IOCTL_VGEM_FENCE_ATTACH), [DRM_IOCTL_VGEM_FENCE_ATTACH, async (f, d) => {
    const a = drmVgemFenceAttach.decode(d);
    const id = await vgemFenceAttach(f, a.handle, a.flags, a.pad);
    if (id < 0) return id;
    setU32(d, 8, id);
    return 0;
  }]],
  [_IOC_NR(DRM_IOCTL_VGEM_FENCE_SIGNAL), [DRM_IOCTL_VGEM_FENCE_SIGNAL, (f, d) => {
    const s = drmVgemFenceSignal.decode(d);
    return vgemFenceSignal(f, s.fence, s.flags);
  }]],
]);

/** drm_ioctl() */
async function drmIoctl(file: File, cmd: number, arg: UserArg, task: Task): Promise<number> {
  const entry = ioctls.get(_IOC_NR(cmd));
  if (!entry) return -EINVAL;
  const [kcmd, fn] = entry;
  const usize = _IOC_SIZE(cmd);
  const asize = _IOC_SIZE(kcmd);
  const inSize = (cmd & kcmd & IOC_IN) ? usize : 0;
  const outSize = ((cmd & kcmd) >>> 0) & IOC_OUT ? usize : 0;
  const kdata = new Uint8Array(Math.max(asize, usize));
  if (inSize) {
    const src = copyFromUser(arg, Math.min(inSize, kdata.length));
    if (!src) return -EFAULT;
    kdata.set(src);
  }
  const ret = await fn(file.privateData as DrmFile, kdata.subarray(0, Math.max(asize, 1)), task, arg);
  if (ret === 0 && outSize && !copyToUser(arg, kdata.subarray(0, outSize))) return -EFAULT;
  return ret;
}

const drmFops: FileOperations = {
  unlockedIoctl: drmIoctl,
  // noop_llseek: the position stays where it is (drm_fops in the Linux 6.12 drm_file.c).
  llseek: (file) => file.fPos,
  mmap: (file: File, vma: Vma) => drmGemMmap(file.privateData as DrmFile, vma),
  release(_inode, file): void {
    vgemClose(file.privateData as DrmFile);
  },
};

/** drm_open() of /dev/dri/card0 */
export function drmOpen(flags: number): File {
  return new File(new Inode(), 'dri/card0', flags, drmFops, vgemOpen());
}

/** drm_dev_register() of the vgem device (vgem_init, module_init): its primary node /dev/dri/card0. */
export function vgemInit(): number {
  return miscRegister({ name: 'dri/card0', open: ({ flags }) => drmOpen(flags) });
}

