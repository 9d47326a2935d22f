/** The sw_sync ioctls (defined inside drivers/dma-buf/sw_sync.c, copied by users). */
import { _IOW, _IOWR } from './ioctl.js';
import { alloc, cstr, s32, setCstr, setS32, setU32, setU64, u32, u64 } from './struct.js';

export const SW_SYNC_IOC_MAGIC = 'W';
/** struct sw_sync_create_fence_data { __u32 value; char name[32]; __s32 fence; } */
export const SIZEOF_SW_SYNC_CREATE_FENCE_DATA = 40;
/** struct sw_sync_get_deadline { __u64 deadline_ns; __u32 pad; __s32 fence_fd; } */
export const SIZEOF_SW_SYNC_GET_DEADLINE = 16;
export const SW_SYNC_IOC_CREATE_FENCE = _IOWR(SW_SYNC_IOC_MAGIC, 0, SIZEOF_SW_SYNC_CREATE_FENCE_DATA);
export const SW_SYNC_IOC_INC = _IOW(SW_SYNC_IOC_MAGIC, 1, 4);
export const SW_SYNC_GET_DEADLINE = _IOWR(SW_SYNC_IOC_MAGIC, 2, SIZEOF_SW_SYNC_GET_DEADLINE);

export interface SwSyncCreateFenceData { value: number; name: string; fence: number }
export const swSyncCreateFenceData = {
  size: SIZEOF_SW_SYNC_CREATE_FENCE_DATA,
  encode(v: Partial<SwSyncCreateFenceData>): Uint8Array {
    const b = alloc(SIZEOF_SW_SYNC_CREATE_FENCE_DATA);
    setU32(b, 0, v.value ?? 0);
    setCstr(b, 4, 32, v.name ?? '');
    setS32(b, 36, v.fence ?? 0);
    return b;
  },
  decode(b: Uint8Array): SwSyncCreateFenceData {
    return { value: u32(b, 0), name: cstr(b, 4, 32), fence: s32(b, 36) };
  },
};

/** SW_SYNC_IOC_INC's argument: a __u32 */
export const u32Arg = {
  encode(v: number): Uint8Array {
    const b = alloc(4);
    setU32(b, 0, v);
    return b;
  },
  decode(b: Uint8Array): number {
    return u32(b, 0);
  },
};

export interface SwSyncGetDeadline { deadlineNs: number; pad: number; fenceFd: number }
export const swSyncGetDeadline = {
  size: SIZEOF_SW_SYNC_GET_DEADLINE,
  encode(v: Partial<SwSyncGetDeadline>): Uint8Array {
    const b = alloc(SIZEOF_SW_SYNC_GET_DEADLINE);
    setU64(b, 0, v.deadlineNs ?? 0);
    setU32(b, 8, v.pad ?? 0);
    setS32(b, 12, v.fenceFd ?? 0);
    return b;
  },
  decode(b: Uint8Array): SwSyncGetDeadline {
    return { deadlineNs: u64(b, 0), pad: u32(b, 8), fenceFd: s32(b, 12) };
  },
};
