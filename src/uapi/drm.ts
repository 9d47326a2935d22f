/** include/uapi/drm/drm.h, drm_mode.h (the parts a vgem client uses) and vgem_drm.h */
import { _IOW, _IOWR } from './ioctl.js';
import { alloc, cstr, s32, setS32, setU32, setU64, u32, u64 } from './struct.js';

export const DRM_IOCTL_BASE = 'd';
export const DRM_COMMAND_BASE = 0x40;
const DRM_IOWR = (nr: number, size: number): number => _IOWR(DRM_IOCTL_BASE, nr, size);
const DRM_IOW = (nr: number, size: number): number => _IOW(DRM_IOCTL_BASE, nr, size);

/** struct drm_version: 3 ints, then (size_t len, char *ptr) x3 for name, date, desc = 64 bytes */
export const SIZEOF_DRM_VERSION = 64;
export const DRM_IOCTL_VERSION = DRM_IOWR(0x00, SIZEOF_DRM_VERSION);
export const DRM_IOCTL_SET_VERSION = DRM_IOWR(0x07, 16);
export const DRM_IOCTL_GEM_CLOSE = DRM_IOW(0x09, 8);
export const DRM_IOCTL_GEM_FLINK = DRM_IOWR(0x0a, 8);
export const DRM_IOCTL_GEM_OPEN = DRM_IOWR(0x0b, 16);
export const DRM_IOCTL_GET_CAP = DRM_IOWR(0x0c, 16);
export const DRM_IOCTL_PRIME_HANDLE_TO_FD = DRM_IOWR(0x2d, 12);
export const DRM_IOCTL_PRIME_FD_TO_HANDLE = DRM_IOWR(0x2e, 12);
export const DRM_IOCTL_MODE_CREATE_DUMB = DRM_IOWR(0xb2, 32);
export const DRM_IOCTL_MODE_MAP_DUMB = DRM_IOWR(0xb3, 16);
export const DRM_IOCTL_MODE_DESTROY_DUMB = DRM_IOWR(0xb4, 4);
export const DRM_VGEM_FENCE_ATTACH = 0x1;
export const DRM_VGEM_FENCE_SIGNAL = 0x2;
export const DRM_IOCTL_VGEM_FENCE_ATTACH = DRM_IOWR(DRM_COMMAND_BASE + DRM_VGEM_FENCE_ATTACH, 16);
export const DRM_IOCTL_VGEM_FENCE_SIGNAL = DRM_IOW(DRM_COMMAND_BASE + DRM_VGEM_FENCE_SIGNAL, 8);
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

/** struct drm_version, with its three string buffers following it in the same array */
export const drmVersion = {
  /** room: bytes for each of name, date, desc */
  encode(room = 0): Uint8Array {
    const b = alloc(SIZEOF_DRM_VERSION, 3 * room);
    for (let i = 0; i < 3; i++) {
      setU64(b, 16 + i * 16, room);
      setU64(b, 24 + i * 16, room ? SIZEOF_DRM_VERSION + i * room : 0);
    }
    return b;
  },
  decode(b: Uint8Array): { major: number; minor: number; patchlevel: number; name: string; date: string; desc: string; nameLen: number; dateLen: number; descLen: number } {
    const str = (i: number): string => {
      const len = u64(b, 16 + i * 16);
      const ptr = u64(b, 24 + i * 16);
      return ptr && ptr + len <= b.length ? cstr(b, ptr, len + 1 > b.length - ptr ? b.length - ptr : len) : '';
    };
    return {
      major: s32(b, 0), minor: s32(b, 4), patchlevel: s32(b, 8),
      nameLen: u64(b, 16), dateLen: u64(b, 32), descLen: u64(b, 48),
      name: str(0), date: str(1), desc: str(2),
    };
  },
};

export const drmGetCap = {
  encode(capability: number): Uint8Array {
    const b = alloc(16);
    setU64(b, 0, capability);
    return b;
  },
  decode(b: Uint8Array): { capability: number; value: number } {
    return { capability: u64(b, 0), value: u64(b, 8) };
  },
};

export const drmSetVersion = {
  encode(v: { diMajor: number; diMinor: number; ddMajor: number; ddMinor: number }): Uint8Array {
    const b = alloc(16);
    setS32(b, 0, v.diMajor);
    setS32(b, 4, v.diMinor);
    setS32(b, 8, v.ddMajor);
    setS32(b, 12, v.ddMinor);
    return b;
  },
  decode(b: Uint8Array): { diMajor: number; diMinor: number; ddMajor: number; ddMinor: number } {
    return { diMajor: s32(b, 0), diMinor: s32(b, 4), ddMajor: s32(b, 8), ddMinor: s32(b, 12) };
  },
};

export const drmGemClose = {
  encode(handle: number): Uint8Array {
    const b = alloc(8);
    setU32(b, 0, handle);
    return b;
  },
  decode(b: Uint8Array): { handle: number; pad: number } {
    return { handle: u32(b, 0), pad: u32(b, 4) };
  },
};

export const drmGemFlink = {
  encode(handle: number): Uint8Array {
    const b = alloc(8);
    setU32(b, 0, handle);
    return b;
  },
  decode(b: Uint8Array): { handle: number; name: number } {
    return { handle: u32(b, 0), name: u32(b, 4) };
  },
};

export const drmGemOpen = {
  encode(name: number): Uint8Array {
    const b = alloc(16);
    setU32(b, 0, name);
    return b;
  },
  decode(b: Uint8Array): { name: number; handle: number; size: number } {
    return { name: u32(b, 0), handle: u32(b, 4), size: u64(b, 8) };
  },
};

export const drmPrimeHandle = {
  encode(v: { handle?: number; flags?: number; fd?: number }): Uint8Array {
    const b = alloc(12);
    setU32(b, 0, v.handle ?? 0);
    setU32(b, 4, v.flags ?? 0);
    setS32(b, 8, v.fd ?? 0);
    return b;
  },
  decode(b: Uint8Array): { handle: number; flags: number; fd: number } {
    return { handle: u32(b, 0), flags: u32(b, 4), fd: s32(b, 8) };
  },
};

export interface DrmModeCreateDumb { height: number; width: number; bpp: number; flags: number; handle: number; pitch: number; size: number }
export const drmModeCreateDumb = {
  encode(v: Partial<DrmModeCreateDumb>): Uint8Array {
    const b = alloc(32);
    setU32(b, 0, v.height ?? 0);
    setU32(b, 4, v.width ?? 0);
    setU32(b, 8, v.bpp ?? 0);
    setU32(b, 12, v.flags ?? 0);
    setU32(b, 16, v.handle ?? 0);
    setU32(b, 20, v.pitch ?? 0);
    setU64(b, 24, v.size ?? 0);
    return b;
  },
  decode(b: Uint8Array): DrmModeCreateDumb {
    return { height: u32(b, 0), width: u32(b, 4), bpp: u32(b, 8), flags: u32(b, 12), handle: u32(b, 16), pitch: u32(b, 20), size: u64(b, 24) };
  },
};

export const drmModeMapDumb = {
  encode(handle: number): Uint8Array {
    const b = alloc(16);
    setU32(b, 0, handle);
    return b;
  },
  decode(b: Uint8Array): { handle: number; pad: number; offset: number } {
    return { handle: u32(b, 0), pad: u32(b, 4), offset: u64(b, 8) };
  },
};

export const drmModeDestroyDumb = {
  encode(handle: number): Uint8Array {
    const b = alloc(4);
    setU32(b, 0, handle);
    return b;
  },
  decode(b: Uint8Array): { handle: number } {
    return { handle: u32(b, 0) };
  },
};

export const drmVgemFenceAttach = {
  encode(v: { handle: number; flags?: number; pad?: number }): Uint8Array {
    const b = alloc(16);
    setU32(b, 0, v.handle);
    setU32(b, 4, v.flags ?? 0);
    setU32(b, 12, v.pad ?? 0);
    return b;
  },
  decode(b: Uint8Array): { handle: number; flags: number; outFence: number; pad: number } {
    return { handle: u32(b, 0), flags: u32(b, 4), outFence: u32(b, 8), pad: u32(b, 12) };
  },
};

export const drmVgemFenceSignal = {
  encode(v: { fence: number; flags?: number }): Uint8Array {
    const b = alloc(8);
    setU32(b, 0, v.fence);
    setU32(b, 4, v.flags ?? 0);
    return b;
  },
  decode(b: Uint8Array): { fence: number; flags: number } {
    return { fence: u32(b, 0), flags: u32(b, 4) };
  },
};
