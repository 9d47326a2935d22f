/**
 * The DRM character device file (drivers/gpu/drm/drm_file.c,
 * drm_ioctl.c) for the vgem device: /dev/dri/card0 and its render node
 * /dev/dri/renderD128. drm_ioctl() picks the
 * handler by number, copies the argument at the user's size zero-extended
 * to the kernel's, and answers -EINVAL for numbers it does not know.
 */
import { EACCES, EAGAIN, EBUSY, EFAULT, EINTR, EINVAL, ENOENT, ENOTTY, EOPNOTSUPP } from '../lib/errno.js';
import { copyFromUser, copyToUser, userPtr, type UserArg } from '../lib/uaccess.js';
import type { Task } from '../fs/task.js';
import { File, Inode, type FileOperations, type PollTable, type TaskStruct } from '../fs/file.js';
import { miscRegister } from '../fs/miscdevice.js';
import { mkdev } from '../fs/super.js';

/** DRM_MAJOR (include/drm/drm_*.h): the primary node is minor 0, the render node 128 (drm_minor_alloc) */
const DRM_MAJOR = 226;
import { _IOC_DIRSHIFT, _IOC_NR, _IOC_READ, _IOC_SIZE, _IOC_TYPE, _IOC_WRITE } from '../../uapi/ioctl.js';
import { O_EXCL, O_NONBLOCK } from '../../uapi/fcntl.js';
import {
  DRM_CAP_PRIME, DRM_CAP_SYNCOBJ, DRM_CAP_SYNCOBJ_TIMELINE, DRM_CAP_TIMESTAMP_MONOTONIC,
  DRM_IOCTL_BASE, DRM_IOCTL_GEM_CLOSE, DRM_IOCTL_GEM_FLINK, DRM_IOCTL_GEM_OPEN, DRM_IOCTL_GET_CAP, DRM_IOCTL_MODE_CREATE_DUMB,
  DRM_IOCTL_MODE_DESTROY_DUMB, DRM_IOCTL_MODE_MAP_DUMB, DRM_IOCTL_PRIME_FD_TO_HANDLE, DRM_IOCTL_PRIME_HANDLE_TO_FD,
  DRM_IOCTL_SET_VERSION, DRM_IOCTL_VERSION, DRM_IOCTL_VGEM_FENCE_ATTACH, DRM_IOCTL_VGEM_FENCE_SIGNAL, DRM_PRIME_CAP_EXPORT,
  DRM_PRIME_CAP_IMPORT, drm_gem_close, drm_gem_flink, drm_gem_open, drm_get_cap, drm_mode_create_dumb,
  drm_mode_destroy_dumb, drm_mode_map_dumb, drm_prime_handle, drm_set_version, drm_version, drm_vgem_fence_attach, drm_vgem_fence_signal,
} from '../../uapi/drm.js';
import type { Vma } from '../mm/vma.js';
import {
  DrmFile, drmGemFlink, drmGemHandleDelete, drmGemMmap, drmGemOpen, drmGemPrimeFdToHandle, drmGemPrimeHandleToFd,
} from './drm-gem.js';
import { vgemClose, vgemDevice, vgemDumbCreate, vgemDumbMapOffset, vgemFenceAttach, vgemFenceSignal, vgemOpen, type DumbBuffer } from './vgem.js';

const IOC_IN = _IOC_WRITE << _IOC_DIRSHIFT;
const IOC_OUT = (_IOC_READ << _IOC_DIRSHIFT) >>> 0;

type Handler = (file: DrmFile, data: Uint8Array, task: Task, arg: UserArg) => number | Promise<number>;

/**
 * drm_copy_field(): copy a string to the user buffer the struct points at
 * (at most *_len bytes, no NUL) and set *_len (a size_t) to its full
 * length. Nothing is copied when either the length or the pointer is 0.
 */
function copyField(data: Uint8Array, lenField: 'name_len' | 'date_len' | 'desc_len', ptrField: 'name' | 'date' | 'desc', value: string, arg: UserArg): number {
  const bytes = new TextEncoder().encode(value);
  const room = drm_version.get(data, lenField);
  const len = room < BigInt(bytes.length) ? Number(room) : bytes.length;
  drm_version.set(data, lenField, BigInt(bytes.length));
  const buf = drm_version.get(data, ptrField);
  if (len && buf) {
    const dst = userPtr(arg, buf, len);
    if (!dst) return -EFAULT;
    dst.set(bytes.subarray(0, len));
  }
  return 0;
}

/**
 * What drm_getcap() answers a driver without DRIVER_MODESET (vgem): the
 * capabilities that make sense for render-only drivers (a u64, compared
 * exactly); every other one is -EOPNOTSUPP ("other caps only work with KMS
 * drivers", the Linux 6.12 drm_ioctl.c), dumb buffers included although vgem
 * makes them. vgem has no syncobjs.
 */
const caps = new Map<bigint, bigint>([
  [BigInt(DRM_CAP_TIMESTAMP_MONOTONIC), 1n],
  [BigInt(DRM_CAP_PRIME), BigInt(DRM_PRIME_CAP_IMPORT | DRM_PRIME_CAP_EXPORT)],
  [BigInt(DRM_CAP_SYNCOBJ), 0n],
  [BigInt(DRM_CAP_SYNCOBJ_TIMELINE), 0n],
]);

/** The ioctl table (drm_ioctls[] and vgem_ioctls[]), by number. Handlers work on the copied-in struct. */
const ioctls = new Map<number, [number, Handler]>([
  [_IOC_NR(DRM_IOCTL_VERSION), [DRM_IOCTL_VERSION, (_f, d, _t, arg) => {
    const drv = vgemDevice.driver;
    drm_version.write(d, { version_major: drv.major, version_minor: drv.minor, version_patchlevel: drv.patchlevel });
    return copyField(d, 'name_len', 'name', drv.name, arg) || copyField(d, 'date_len', 'date', drv.date, arg) || copyField(d, 'desc_len', 'desc', drv.desc, arg);
  }]],
  [_IOC_NR(DRM_IOCTL_SET_VERSION), [DRM_IOCTL_SET_VERSION, (_f, d) => {
    const v = drm_set_version.decode(d);
    let ret = 0;
    // The interface version in use (1.4); -EINVAL for versions the core does not offer.
    if (v.drm_di_major !== -1 && (v.drm_di_major !== 1 || v.drm_di_minor < 0 || v.drm_di_minor > 4)) ret = -EINVAL;
    else if (v.drm_dd_major !== -1 && (v.drm_dd_major !== vgemDevice.driver.major || v.drm_dd_minor < 0 || v.drm_dd_minor > vgemDevice.driver.minor)) ret = -EINVAL;
    // done: the versions in use are written back whatever the answer
    drm_set_version.write(d, { drm_di_major: 1, drm_di_minor: 4, drm_dd_major: vgemDevice.driver.major, drm_dd_minor: vgemDevice.driver.minor });
    return ret;
  }]],
  [_IOC_NR(DRM_IOCTL_GET_CAP), [DRM_IOCTL_GET_CAP, (_f, d) => {
    drm_get_cap.set(d, 'value', 0n);
    const value = caps.get(drm_get_cap.get(d, 'capability'));
    if (value === undefined) return -EOPNOTSUPP;
    drm_get_cap.set(d, 'value', value);
    return 0;
  }]],
  [_IOC_NR(DRM_IOCTL_GEM_CLOSE), [DRM_IOCTL_GEM_CLOSE, (f, d) => {
    // drm_gem_close_ioctl() does not look at pad
    return drmGemHandleDelete(f, drm_gem_close.get(d, 'handle'));
  }]],
  [_IOC_NR(DRM_IOCTL_GEM_FLINK), [DRM_IOCTL_GEM_FLINK, (f, d) => {
    const name = drmGemFlink(f, drm_gem_flink.get(d, 'handle'));
    if (name < 0) return name;
    drm_gem_flink.set(d, 'name', name);
    return 0;
  }]],
  [_IOC_NR(DRM_IOCTL_GEM_OPEN), [DRM_IOCTL_GEM_OPEN, (f, d) => {
    const r = drmGemOpen(f, drm_gem_open.get(d, 'name'));
    if (typeof r === 'number') return r;
    drm_gem_open.write(d, { handle: r.handle, size: BigInt(r.size) });
    return 0;
  }]],
  [_IOC_NR(DRM_IOCTL_PRIME_HANDLE_TO_FD), [DRM_IOCTL_PRIME_HANDLE_TO_FD, (f, d, t) => {
    const p = drm_prime_handle.decode(d);
    const fd = drmGemPrimeHandleToFd(f, p.handle, p.flags, t.files);
    if (fd < 0) return fd;
    drm_prime_handle.set(d, 'fd', fd);
    return 0;
  }]],
  [_IOC_NR(DRM_IOCTL_PRIME_FD_TO_HANDLE), [DRM_IOCTL_PRIME_FD_TO_HANDLE, async (f, d, t) => {
    const h = await drmGemPrimeFdToHandle(f, drm_prime_handle.get(d, 'fd'), t.files);
    if (h < 0) return h;
    drm_prime_handle.set(d, 'handle', h);
    return 0;
  }]],
  [_IOC_NR(DRM_IOCTL_MODE_CREATE_DUMB), [DRM_IOCTL_MODE_CREATE_DUMB, (f, d) => {
    const a = drm_mode_create_dumb.decode(d);
    // drm_mode_create_dumb() zeroes handle, pitch and size (output fields) before the driver sees them
    const r = vgemDumbCreate(f, a.width, a.height, a.bpp, a.flags);
    if (typeof r === 'number') return r;
    const b = r as DumbBuffer;
    drm_mode_create_dumb.write(d, { handle: b.handle, pitch: b.pitch, size: BigInt(b.size) });
    return 0;
  }]],
  [_IOC_NR(DRM_IOCTL_MODE_MAP_DUMB), [DRM_IOCTL_MODE_MAP_DUMB, (f, d) => {
    // drm_mode_mmap_dumb_ioctl() does not look at pad
    const off = vgemDumbMapOffset(f, drm_mode_map_dumb.get(d, 'handle'));
    if (off < 0) return off;
    drm_mode_map_dumb.set(d, 'offset', BigInt(off));
    return 0;
  }]],
  // drm_mode_destroy_dumb(): drm_gem_handle_delete()'s answer (-EINVAL for an unknown handle)
  [_IOC_NR(DRM_IOCTL_MODE_DESTROY_DUMB), [DRM_IOCTL_MODE_DESTROY_DUMB, (f, d) => drmGemHandleDelete(f, drm_mode_destroy_dumb.get(d, 'handle'))]],
  [_IOC_NR(DRM_IOCTL_VGEM_FENCE_ATTACH), [DRM_IOCTL_VGEM_FENCE_ATTACH, async (f, d) => {
    const a = drm_vgem_fence_attach.decode(d);
    const id = await vgemFenceAttach(f, a.handle, a.flags, a.pad);
    if (id < 0) return id;
    drm_vgem_fence_attach.set(d, 'out_fence', id);
    return 0;
  }]],
  [_IOC_NR(DRM_IOCTL_VGEM_FENCE_SIGNAL), [DRM_IOCTL_VGEM_FENCE_SIGNAL, (f, d) => {
    const s = drm_vgem_fence_signal.decode(d);
    return vgemFenceSignal(f, s.fence, s.flags);
  }]],
]);

/**
 * DRM_RENDER_ALLOW: what a render node may do (drm_ioctls[] and
 * vgem_ioctls[] in Linux 6.12): queries, PRIME and fences. Dumb buffers,
 * flink/open and SET_VERSION need the primary node.
 */
const RENDER_ALLOW = new Set([DRM_IOCTL_VERSION, DRM_IOCTL_GET_CAP, DRM_IOCTL_GEM_CLOSE, DRM_IOCTL_PRIME_HANDLE_TO_FD, DRM_IOCTL_PRIME_FD_TO_HANDLE, DRM_IOCTL_VGEM_FENCE_ATTACH, DRM_IOCTL_VGEM_FENCE_SIGNAL].map(_IOC_NR));

/** drm_ioctl(): -ENOTTY for another type than DRM's ('d'), the handler by number (-EINVAL for none), drm_ioctl_permit() (-EACCES), then the copy in. */
async function drmIoctl(file: File, cmd: number, arg: UserArg, task: Task): Promise<number> {
  if (_IOC_TYPE(cmd) !== DRM_IOCTL_BASE.charCodeAt(0)) return -ENOTTY;
  const entry = ioctls.get(_IOC_NR(cmd));
  if (!entry) return -EINVAL;
  if ((file.privateData as DrmFile).render && !RENDER_ALLOW.has(_IOC_NR(cmd))) return -EACCES;
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
  // The struct goes back whatever the handler answered (what it wrote on an error path too).
  if (outSize && !copyToUser(arg, kdata.subarray(0, outSize))) return -EFAULT;
  return ret;
}

/**
 * drm_read(): the file's pending events; vgem sends none, so a read with
 * O_NONBLOCK is -EAGAIN (whatever its length) and one without waits until
 * a signal interrupts it (-EINTR: ERESTARTSYS without SA_RESTART).
 */
function drmRead(file: File, _length: number, _pos: number, task?: TaskStruct): number | Promise<number> {
  if (file.fFlags & O_NONBLOCK) return -EAGAIN;
  const signal = (task as Task | undefined)?.signal;
  if (!signal) return -EAGAIN;
  if (signal.aborted) return -EINTR;
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(-EINTR), { once: true }));
}

/** drm_poll(): EPOLLIN once an event is pending; vgem sends none. */
function drmPoll(file: File, pt: PollTable | null): number {
  pt?.wait((file.privateData as DrmFile).eventWait);
  return 0;
}

const drmFops: FileOperations = {
  unlockedIoctl: drmIoctl,
  read: drmRead,
  poll: drmPoll,
  // noop_llseek: the position stays where it is (drm_fops in the Linux 6.12 drm_file.c).
  llseek: (file) => file.fPos,
  mmap: (file: File, vma: Vma) => drmGemMmap(file.privateData as DrmFile, vma),
  release(_inode, file): void {
    vgemClose(file.privateData as DrmFile);
  },
};

/** drm_open() of /dev/dri/card0, or of the render node /dev/dri/renderD128 */
export function drmOpen(flags: number, render = false): File {
  const f = vgemOpen();
  f.render = render;
  return new File(new Inode(), render ? 'dri/renderD128' : 'dri/card0', flags, drmFops, f);
}

/** drm_open_helper() (drivers/gpu/drm/drm_file.c, Linux 6.12): no exclusive opens (O_EXCL is -EBUSY), then drm_open(). */
function drmOpenHelper(flags: number, render = false): File | number {
  if (flags & O_EXCL) return -EBUSY;
  return drmOpen(flags, render);
}

/** drm_dev_register() of the vgem device (vgem_init, module_init): its primary node /dev/dri/card0 and render node /dev/dri/renderD128. */
export function vgemInit(): number {
  return (
    miscRegister({ name: 'dri/card0', rdev: mkdev(DRM_MAJOR, 0), open: ({ flags }) => drmOpenHelper(flags) }) ||
    miscRegister({ name: 'dri/renderD128', rdev: mkdev(DRM_MAJOR, 128), open: ({ flags }) => drmOpenHelper(flags, true) })
  );
}

