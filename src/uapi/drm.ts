/** include/uapi/drm/drm.h, drm_mode.h (the parts a vgem client uses) and vgem_drm.h */
import { _IOW, _IOWR, type IoctlDecl } from './ioctl.js';
import { bytes, field, pointer, struct } from './struct.js';

/** The ioctl type (magic) of every DRM ioctl: 'd' (include/uapi/drm/drm.h). */
export const DRM_IOCTL_BASE = 'd';
/** The first command number of a driver's own ioctls; the core's are below it (vgem's are DRM_COMMAND_BASE + 1 and + 2). */
export const DRM_COMMAND_BASE = 0x40;
const DRM_IOWR = (nr: number, size: number): number => _IOWR(DRM_IOCTL_BASE, nr, size);
const DRM_IOW = (nr: number, size: number): number => _IOW(DRM_IOCTL_BASE, nr, size);

/**
 * struct drm_version (64 bytes), the argument of {@link DRM_IOCTL_VERSION}:
 * the driver's version numbers, then its name, date and description. Each
 * string is a user buffer of *_len bytes; the kernel writes back the full
 * length.
 */
export const drm_version = struct('drm_version', 64, {
  version_major: field('int', 0),
  version_minor: field('int', 4),
  version_patchlevel: field('int', 8),
  name_len: field('__kernel_size_t', 16),
  name: pointer('char *', 24, bytes('name_len')),
  date_len: field('__kernel_size_t', 32),
  date: pointer('char *', 40, bytes('date_len')),
  desc_len: field('__kernel_size_t', 48),
  desc: pointer('char *', 56, bytes('desc_len')),
});

/**
 * struct drm_set_version (16 bytes), the argument of {@link DRM_IOCTL_SET_VERSION}:
 * the DRM interface (di) and driver (dd) versions asked for (a major of -1
 * asks for nothing); the versions in use are written back.
 */
export const drm_set_version = struct('drm_set_version', 16, {
  drm_di_major: field('int', 0),
  drm_di_minor: field('int', 4),
  drm_dd_major: field('int', 8),
  drm_dd_minor: field('int', 12),
});

/** struct drm_gem_close (8 bytes), the argument of {@link DRM_IOCTL_GEM_CLOSE}: the `handle` to drop; `pad` is 0. */
export const drm_gem_close = struct('drm_gem_close', 8, {
  handle: field('__u32', 0),
  pad: field('__u32', 4),
});

/** struct drm_gem_flink (8 bytes), the argument of {@link DRM_IOCTL_GEM_FLINK}: `handle` in, the global `name` out. */
export const drm_gem_flink = struct('drm_gem_flink', 8, {
  handle: field('__u32', 0),
  name: field('__u32', 4),
});

/** struct drm_gem_open (16 bytes), the argument of {@link DRM_IOCTL_GEM_OPEN}: a flink `name` in, the new `handle` and the object's `size` out. */
export const drm_gem_open = struct('drm_gem_open', 16, {
  name: field('__u32', 0),
  handle: field('__u32', 4),
  size: field('__u64', 8),
});

/** struct drm_get_cap (16 bytes), the argument of {@link DRM_IOCTL_GET_CAP}: a DRM_CAP_* `capability` in, its `value` out. */
export const drm_get_cap = struct('drm_get_cap', 16, {
  capability: field('__u64', 0),
  value: field('__u64', 8),
});

/**
 * struct drm_prime_handle (12 bytes), the argument of both PRIME ioctls:
 * a GEM `handle`, the dma-buf `fd`, and `flags` (DRM_CLOEXEC, DRM_RDWR) for
 * {@link DRM_IOCTL_PRIME_HANDLE_TO_FD}.
 */
export const drm_prime_handle = struct('drm_prime_handle', 12, {
  handle: field('__u32', 0),
  flags: field('__u32', 4),
  fd: field('__s32', 8),
});

/**
 * struct drm_mode_create_dumb (32 bytes, include/uapi/drm/drm_mode.h), the
 * argument of {@link DRM_IOCTL_MODE_CREATE_DUMB}: `height`, `width`, `bpp`
 * and `flags` (0) in; `handle`, `pitch` (bytes per row) and `size` out.
 */
export const drm_mode_create_dumb = struct('drm_mode_create_dumb', 32, {
  height: field('__u32', 0),
  width: field('__u32', 4),
  bpp: field('__u32', 8),
  flags: field('__u32', 12),
  handle: field('__u32', 16),
  pitch: field('__u32', 20),
  size: field('__u64', 24),
});

/**
 * struct drm_mode_map_dumb (16 bytes, drm_mode.h), the argument of
 * {@link DRM_IOCTL_MODE_MAP_DUMB}: `handle` in, `offset` out, the offset to
 * mmap() the DRM fd at.
 */
export const drm_mode_map_dumb = struct('drm_mode_map_dumb', 16, {
  handle: field('__u32', 0),
  pad: field('__u32', 4),
  offset: field('__u64', 8),
});

/** struct drm_mode_destroy_dumb (4 bytes, drm_mode.h), the argument of {@link DRM_IOCTL_MODE_DESTROY_DUMB}: the `handle`. */
export const drm_mode_destroy_dumb = struct('drm_mode_destroy_dumb', 4, {
  handle: field('__u32', 0),
});

/**
 * struct drm_vgem_fence_attach (16 bytes, include/uapi/drm/vgem_drm.h), the
 * argument of {@link DRM_IOCTL_VGEM_FENCE_ATTACH}: the object's `handle`,
 * `flags` (VGEM_FENCE_WRITE or 0), `pad` (0) in; the fence id `out_fence` out.
 */
export const drm_vgem_fence_attach = struct('drm_vgem_fence_attach', 16, {
  handle: field('__u32', 0),
  flags: field('__u32', 4),
  out_fence: field('__u32', 8),
  pad: field('__u32', 12),
});

/** struct drm_vgem_fence_signal (8 bytes, vgem_drm.h), the argument of {@link DRM_IOCTL_VGEM_FENCE_SIGNAL}: the `fence` id; `flags` is 0. */
export const drm_vgem_fence_signal = struct('drm_vgem_fence_signal', 8, {
  fence: field('__u32', 0),
  flags: field('__u32', 4),
});

/**
 * The driver's name, date, description and version ({@link drm_version});
 * call once with zero lengths to learn the sizes, then with buffers.
 */
export const DRM_IOCTL_VERSION = DRM_IOWR(0x00, drm_version.size);
/** Ask for an interface and driver version ({@link drm_set_version}); EINVAL for one the device does not offer. EACCES on a render node. */
export const DRM_IOCTL_SET_VERSION = DRM_IOWR(0x07, drm_set_version.size);
/** Drop a GEM handle of this file ({@link drm_gem_close}); EINVAL for an unknown handle. */
export const DRM_IOCTL_GEM_CLOSE = DRM_IOW(0x09, drm_gem_close.size);
/** Give a GEM object a global name any client of the device can open ({@link drm_gem_flink}); ENOENT for an unknown handle. EACCES on a render node. */
export const DRM_IOCTL_GEM_FLINK = DRM_IOWR(0x0a, drm_gem_flink.size);
/** Open a flink name as a handle of this file ({@link drm_gem_open}); ENOENT for an unknown name. EACCES on a render node. */
export const DRM_IOCTL_GEM_OPEN = DRM_IOWR(0x0b, drm_gem_open.size);
/**
 * Read one of the device's capabilities ({@link drm_get_cap}). A driver
 * without modesetting, like vgem, answers only TIMESTAMP_MONOTONIC, PRIME
 * and the SYNCOBJ ones and gives EOPNOTSUPP for the rest (drm_getcap in the
 * Linux 6.x drm_ioctl.c); a modesetting driver gives EINVAL for an unknown one.
 */
export const DRM_IOCTL_GET_CAP = DRM_IOWR(0x0c, drm_get_cap.size);
/** Export a GEM handle as a dma-buf fd ({@link drm_prime_handle}); EINVAL for flags other than DRM_CLOEXEC and DRM_RDWR, ENOENT for an unknown handle. */
export const DRM_IOCTL_PRIME_HANDLE_TO_FD = DRM_IOWR(0x2d, drm_prime_handle.size);
/** Import a dma-buf fd as a GEM handle ({@link drm_prime_handle}); the same buffer gives this file the same handle each time. */
export const DRM_IOCTL_PRIME_FD_TO_HANDLE = DRM_IOWR(0x2e, drm_prime_handle.size);
/** Create a CPU-drawable "dumb" buffer and a handle to it ({@link drm_mode_create_dumb}); EINVAL for a zero or overflowing size. EACCES on a render node. */
export const DRM_IOCTL_MODE_CREATE_DUMB = DRM_IOWR(0xb2, drm_mode_create_dumb.size);
/** The offset at which mmap() of the DRM fd maps a dumb buffer ({@link drm_mode_map_dumb}); ENOENT for an unknown handle. EACCES on a render node. */
export const DRM_IOCTL_MODE_MAP_DUMB = DRM_IOWR(0xb3, drm_mode_map_dumb.size);
/** Drop a dumb buffer's handle ({@link drm_mode_destroy_dumb}); the buffer goes when its last user does. EACCES on a render node. */
export const DRM_IOCTL_MODE_DESTROY_DUMB = DRM_IOWR(0xb4, drm_mode_destroy_dumb.size);
/** vgem's command number for FENCE_ATTACH, relative to DRM_COMMAND_BASE (include/uapi/drm/vgem_drm.h). */
export const DRM_VGEM_FENCE_ATTACH = 0x1;
/** vgem's command number for FENCE_SIGNAL, relative to DRM_COMMAND_BASE. */
export const DRM_VGEM_FENCE_SIGNAL = 0x2;
/**
 * Add a new unsignaled fence to a vgem object's reservation, as a writer
 * (VGEM_FENCE_WRITE) or a reader ({@link drm_vgem_fence_attach}); it must
 * be signaled within 10 s or it signals itself. EBUSY when it would
 * conflict with a fence already there, ENOENT for an unknown handle.
 */
export const DRM_IOCTL_VGEM_FENCE_ATTACH = DRM_IOWR(DRM_COMMAND_BASE + DRM_VGEM_FENCE_ATTACH, drm_vgem_fence_attach.size);
/** Signal a fence FENCE_ATTACH made ({@link drm_vgem_fence_signal}); ENOENT for an unknown or already-signaled id, ETIMEDOUT if it had expired. */
export const DRM_IOCTL_VGEM_FENCE_SIGNAL = DRM_IOW(DRM_COMMAND_BASE + DRM_VGEM_FENCE_SIGNAL, drm_vgem_fence_signal.size);
/** {@link drm_vgem_fence_attach} flag: the fence is a writer's (others wait for it); without it, a reader's. */
export const VGEM_FENCE_WRITE = 0x1;

/** DRM_IOCTL_GET_CAP capability (include/uapi/drm/drm.h): 1 if the driver makes dumb buffers (asked of modesetting drivers). */
export const DRM_CAP_DUMB_BUFFER = 0x1;
/** GET_CAP: whether vblank waits can name CRTCs beyond the second (a display driver's). */
export const DRM_CAP_VBLANK_HIGH_CRTC = 0x2;
/** GET_CAP: the colour depth the driver prefers for dumb buffers (0: no preference). */
export const DRM_CAP_DUMB_PREFERRED_DEPTH = 0x3;
/** GET_CAP: 1 if drawing into a shadow copy beats drawing into the dumb buffer directly. */
export const DRM_CAP_DUMB_PREFER_SHADOW = 0x4;
/** GET_CAP: which PRIME directions the driver supports, DRM_PRIME_CAP_IMPORT | DRM_PRIME_CAP_EXPORT bits. */
export const DRM_CAP_PRIME = 0x5;
/** DRM_CAP_PRIME bit: PRIME_FD_TO_HANDLE works. */
export const DRM_PRIME_CAP_IMPORT = 0x1;
/** DRM_CAP_PRIME bit: PRIME_HANDLE_TO_FD works. */
export const DRM_PRIME_CAP_EXPORT = 0x2;
/** GET_CAP: 1 if the driver's event timestamps are CLOCK_MONOTONIC. */
export const DRM_CAP_TIMESTAMP_MONOTONIC = 0x6;
/** GET_CAP: 1 if the driver has DRM sync objects (vgem: 0). */
export const DRM_CAP_SYNCOBJ = 0x13;
/** GET_CAP: 1 if the driver's sync objects are timelines (vgem: 0). */
export const DRM_CAP_SYNCOBJ_TIMELINE = 0x14;
/** {@link drm_prime_handle} flag: the new dma-buf fd is close-on-exec (O_CLOEXEC's value). */
export const DRM_CLOEXEC = 0o2000000;
/** {@link drm_prime_handle} flag: the dma-buf fd is open read-write, so it can be mmap()ed for writing (O_RDWR's value). */
export const DRM_RDWR = 0o2;

/** The DRM core ioctls a vgem client uses, and vgem's two. */
export const DRM_IOCTLS: readonly IoctlDecl[] = [
  { name: 'DRM_IOCTL_VERSION', request: DRM_IOCTL_VERSION, arg: drm_version },
  { name: 'DRM_IOCTL_SET_VERSION', request: DRM_IOCTL_SET_VERSION, arg: drm_set_version },
  { name: 'DRM_IOCTL_GEM_CLOSE', request: DRM_IOCTL_GEM_CLOSE, arg: drm_gem_close },
  { name: 'DRM_IOCTL_GEM_FLINK', request: DRM_IOCTL_GEM_FLINK, arg: drm_gem_flink },
  { name: 'DRM_IOCTL_GEM_OPEN', request: DRM_IOCTL_GEM_OPEN, arg: drm_gem_open },
  { name: 'DRM_IOCTL_GET_CAP', request: DRM_IOCTL_GET_CAP, arg: drm_get_cap },
  { name: 'DRM_IOCTL_PRIME_HANDLE_TO_FD', request: DRM_IOCTL_PRIME_HANDLE_TO_FD, arg: drm_prime_handle },
  { name: 'DRM_IOCTL_PRIME_FD_TO_HANDLE', request: DRM_IOCTL_PRIME_FD_TO_HANDLE, arg: drm_prime_handle },
  { name: 'DRM_IOCTL_MODE_CREATE_DUMB', request: DRM_IOCTL_MODE_CREATE_DUMB, arg: drm_mode_create_dumb },
  { name: 'DRM_IOCTL_MODE_MAP_DUMB', request: DRM_IOCTL_MODE_MAP_DUMB, arg: drm_mode_map_dumb },
  { name: 'DRM_IOCTL_MODE_DESTROY_DUMB', request: DRM_IOCTL_MODE_DESTROY_DUMB, arg: drm_mode_destroy_dumb },
  { name: 'DRM_IOCTL_VGEM_FENCE_ATTACH', request: DRM_IOCTL_VGEM_FENCE_ATTACH, arg: drm_vgem_fence_attach },
  { name: 'DRM_IOCTL_VGEM_FENCE_SIGNAL', request: DRM_IOCTL_VGEM_FENCE_SIGNAL, arg: drm_vgem_fence_signal },
];
