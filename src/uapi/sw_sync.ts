/**
 * The sw_sync ioctls: Linux defines them inside drivers/dma-buf/sw_sync.c
 * (no uapi header); users copy the definitions.
 */
import { _IOW, _IOWR, type IoctlDecl } from './ioctl.js';
import { __u32, field, struct } from './struct.js';

export const SW_SYNC_IOC_MAGIC = 'W';

export const sw_sync_create_fence_data = struct('sw_sync_create_fence_data', 40, {
  value: field('__u32', 0),
  name: field('char[32]', 4),
  fence: field('__s32', 36),
});

export const sw_sync_get_deadline = struct('sw_sync_get_deadline', 16, {
  deadline_ns: field('__u64', 0),
  pad: field('__u32', 8),
  fence_fd: field('__s32', 12),
});

export const SW_SYNC_IOC_CREATE_FENCE = _IOWR(SW_SYNC_IOC_MAGIC, 0, sw_sync_create_fence_data.size);
/** its argument points to a __u32: the increment */
export const SW_SYNC_IOC_INC = _IOW(SW_SYNC_IOC_MAGIC, 1, __u32.size);
export const SW_SYNC_GET_DEADLINE = _IOWR(SW_SYNC_IOC_MAGIC, 2, sw_sync_get_deadline.size);

export const SW_SYNC_IOCTLS: readonly IoctlDecl[] = [
  { name: 'SW_SYNC_IOC_CREATE_FENCE', request: SW_SYNC_IOC_CREATE_FENCE, arg: sw_sync_create_fence_data },
  { name: 'SW_SYNC_IOC_INC', request: SW_SYNC_IOC_INC, arg: __u32 },
  { name: 'SW_SYNC_GET_DEADLINE', request: SW_SYNC_GET_DEADLINE, arg: sw_sync_get_deadline },
];
