/**
 * The sw_sync ioctls: Linux defines them inside drivers/dma-buf/sw_sync.c
 * (no uapi header); users copy the definitions.
 */
import { _IOW, _IOWR, type IoctlDecl } from './ioctl.js';
import { __u32, field, struct } from './struct.js';

/** The ioctl type (magic) of the sw_sync ioctls: 'W' (defined in drivers/dma-buf/sw_sync.c). */
export const SW_SYNC_IOC_MAGIC = 'W';

/**
 * struct sw_sync_create_fence_data (40 bytes), the argument of
 * {@link SW_SYNC_IOC_CREATE_FENCE}: the point's `value` on the timeline and
 * a `name` (ignored by Linux) in, the new sync_file `fence` out.
 */
export const sw_sync_create_fence_data = struct('sw_sync_create_fence_data', 40, {
  value: field('__u32', 0),
  name: field('char[32]', 4),
  fence: field('__s32', 36),
});

/**
 * struct sw_sync_get_deadline (16 bytes), the argument of
 * {@link SW_SYNC_GET_DEADLINE}: the sync_file `fence_fd` in (`deadline_ns`
 * and `pad` 0), the earliest deadline set on its fence out.
 */
export const sw_sync_get_deadline = struct('sw_sync_get_deadline', 16, {
  deadline_ns: field('__u64', 0),
  pad: field('__u32', 8),
  fence_fd: field('__s32', 12),
});

/**
 * A sync_file holding a new fence on the timeline the fd is, signaled once
 * the timeline reaches `value` ({@link sw_sync_create_fence_data}).
 */
export const SW_SYNC_IOC_CREATE_FENCE = _IOWR(SW_SYNC_IOC_MAGIC, 0, sw_sync_create_fence_data.size);
/**
 * Advance the timeline by a __u32 (the argument points to it; {@link __u32}),
 * signaling every point it passes.
 */
export const SW_SYNC_IOC_INC = _IOW(SW_SYNC_IOC_MAGIC, 1, __u32.size);
/**
 * The deadline set on a sw_sync fence ({@link sw_sync_get_deadline}): a test
 * hook for SYNC_IOC_SET_DEADLINE. ENOENT if none was set, EINVAL for a fence
 * that is not sw_sync's or non-zero input fields.
 */
export const SW_SYNC_GET_DEADLINE = _IOWR(SW_SYNC_IOC_MAGIC, 2, sw_sync_get_deadline.size);

/** The sw_sync ioctls. */
export const SW_SYNC_IOCTLS: readonly IoctlDecl[] = [
  { name: 'SW_SYNC_IOC_CREATE_FENCE', request: SW_SYNC_IOC_CREATE_FENCE, arg: sw_sync_create_fence_data },
  { name: 'SW_SYNC_IOC_INC', request: SW_SYNC_IOC_INC, arg: __u32 },
  { name: 'SW_SYNC_GET_DEADLINE', request: SW_SYNC_GET_DEADLINE, arg: sw_sync_get_deadline },
];
