/** include/uapi/drm/drm.h, drm_mode.h (the parts a vgem client uses) and vgem_drm.h */
import { _IOW, _IOWR, type IoctlDecl } from './ioctl.js';
import { bytes, field, pointer, struct } from './struct.js';

export const DRM_IOCTL_BASE = 'd';
export const DRM_COMMAND_BASE = 0x40;
const DRM_IOWR = (nr: number, size: number): number => _IOWR(DRM_IOCTL_BASE, nr, size);
const DRM_IOW = (nr: number, size: number): number => _IOW(DRM_IOCTL_BASE, nr, size);

/** struct drm_version: each string is a user buffer of *_len bytes; the kernel writes back the full length. */
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

export const drm_set_version = struct('drm_set_version', 16, {
  drm_di_major: field('int', 0),
  drm_di_minor: field('int', 4),
  drm_dd_major: field('int', 8),
  drm_dd_minor: field('int', 12),
});

export const drm_gem_close = struct('drm_gem_close', 8, {
  handle: field('__u32', 0),
  pad: field('__u32', 4),
});

export const drm_gem_flink = struct('drm_gem_flink', 8, {
  handle: field('__u32', 0),
  name: field('__u32', 4),
});

export const drm_gem_open = struct('drm_gem_open', 16, {
  name: field('__u32', 0),
  handle: field('__u32', 4),
  size: field('__u64', 8),
});

export const drm_get_cap = struct('drm_get_cap', 16, {
  capability: field('__u64', 0),
  value: field('__u64', 8),
});

export const drm_prime_handle = struct('drm_prime_handle', 12, {
  handle: field('__u32', 0),
  flags: field('__u32', 4),
  fd: field('__s32', 8),
});

export const drm_mode_create_dumb = struct('drm_mode_create_dumb', 32, {
  height: field('__u32', 0),
  width: field('__u32', 4),
  bpp: field('__u32', 8),
  flags: field('__u32', 12),
  handle: field('__u32', 16),
  pitch: field('__u32', 20),
  size: field('__u64', 24),
});

export const drm_mode_map_dumb = struct('drm_mode_map_dumb', 16, {
  handle: field('__u32', 0),
  pad: field('__u32', 4),
  offset: field('__u64', 8),
});

export const drm_mode_destroy_dumb = struct('drm_mode_destroy_dumb', 4, {
  handle: field('__u32', 0),
});

export const drm_vgem_fence_attach = struct('drm_vgem_fence_attach', 16, {
  handle: field('__u32', 0),
  flags: field('__u32', 4),
  out_fence: field('__u32', 8),
  pad: field('__u32', 12),
});

export const drm_vgem_fence_signal = struct('drm_vgem_fence_signal', 8, {
  fence: field('__u32', 0),
  flags: field('__u32', 4),
});

export const DRM_IOCTL_VERSION = DRM_IOWR(0x00, drm_version.size);
export const DRM_IOCTL_SET_VERSION = DRM_IOWR(0x07, drm_set_version.size);
export const DRM_IOCTL_GEM_CLOSE = DRM_IOW(0x09, drm_gem_close.size);
export const DRM_IOCTL_GEM_FLINK = DRM_IOWR(0x0a, drm_gem_flink.size);
export const DRM_IOCTL_GEM_OPEN = DRM_IOWR(0x0b, drm_gem_open.size);
export const DRM_IOCTL_GET_CAP = DRM_IOWR(0x0c, drm_get_cap.size);
export const DRM_IOCTL_PRIME_HANDLE_TO_FD = DRM_IOWR(0x2d, drm_prime_handle.size);
export const DRM_IOCTL_PRIME_FD_TO_HANDLE = DRM_IOWR(0x2e, drm_prime_handle.size);
export const DRM_IOCTL_MODE_CREATE_DUMB = DRM_IOWR(0xb2, drm_mode_create_dumb.size);
export const DRM_IOCTL_MODE_MAP_DUMB = DRM_IOWR(0xb3, drm_mode_map_dumb.size);
export const DRM_IOCTL_MODE_DESTROY_DUMB = DRM_IOWR(0xb4, drm_mode_destroy_dumb.size);
export const DRM_VGEM_FENCE_ATTACH = 0x1;
export const DRM_VGEM_FENCE_SIGNAL = 0x2;
export const DRM_IOCTL_VGEM_FENCE_ATTACH = DRM_IOWR(DRM_COMMAND_BASE + DRM_VGEM_FENCE_ATTACH, drm_vgem_fence_attach.size);
export const DRM_IOCTL_VGEM_FENCE_SIGNAL = DRM_IOW(DRM_COMMAND_BASE + DRM_VGEM_FENCE_SIGNAL, drm_vgem_fence_signal.size);
export const VGEM_FENCE_WRITE = 0x1;

export const DRM_CAP_DUMB_BUFFER = 0x1;
export const DRM_CAP_VBLANK_HIGH_CRTC = 0x2;
export const DRM_CAP_DUMB_PREFERRED_DEPTH = 0x3;
export const DRM_CAP_DUMB_PREFER_SHADOW = 0x4;
export const DRM_CAP_PRIME = 0x5;
export const DRM_PRIME_CAP_IMPORT = 0x1;
export const DRM_PRIME_CAP_EXPORT = 0x2;
export const DRM_CAP_TIMESTAMP_MONOTONIC = 0x6;
export const DRM_CAP_SYNCOBJ = 0x13;
export const DRM_CLOEXEC = 0o2000000;
export const DRM_RDWR = 0o2;

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
