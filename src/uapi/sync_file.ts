/**
 * include/uapi/linux/sync_file.h (SYNC_IOC_SET_DEADLINE and struct
 * sync_set_deadline as of Linux 6.6)
 */
import { _IOW, _IOWR, type IoctlDecl } from './ioctl.js';
import { field, pointer, records, struct } from './struct.js';

/** The ioctl type (magic) of the sync_file ioctls: '>' (include/uapi/linux/sync_file.h; numbers 0-2 are retired). */
export const SYNC_IOC_MAGIC = '>';

/**
 * struct sync_merge_data (48 bytes), the argument of {@link SYNC_IOC_MERGE}:
 * the new file's `name` and the other sync_file `fd2` in, the new sync_file
 * `fence` out; `flags` and `pad` are 0.
 */
export const sync_merge_data = struct('sync_merge_data', 48, {
  name: field('char[32]', 0),
  fd2: field('__s32', 32),
  fence: field('__s32', 36),
  flags: field('__u32', 40),
  pad: field('__u32', 44),
});

/**
 * struct sync_fence_info (80 bytes): one fence of a sync_file, as
 * {@link SYNC_IOC_FILE_INFO} reports it: timeline (`obj_name`) and driver
 * names, `status` (1 signaled, 0 pending, a negative errno on error) and
 * the signal time `timestamp_ns` (CLOCK_MONOTONIC; 0 until signaled).
 */
export const sync_fence_info = struct('sync_fence_info', 80, {
  obj_name: field('char[32]', 0),
  driver_name: field('char[32]', 32),
  status: field('__s32', 64),
  flags: field('__u32', 68),
  timestamp_ns: field('__u64', 72),
});

/**
 * struct sync_file_info (56 bytes), the argument of {@link SYNC_IOC_FILE_INFO}:
 * the file's `name` and overall `status` out, and `num_fences`. Called with
 * num_fences 0 it only counts; called again with room for that many
 * {@link sync_fence_info} records at the user pointer `sync_fence_info`, it
 * fills them.
 */
export const sync_file_info = struct('sync_file_info', 56, {
  name: field('char[32]', 0),
  status: field('__s32', 32),
  flags: field('__u32', 36),
  num_fences: field('__u32', 40),
  pad: field('__u32', 44),
  /** a user pointer to num_fences records */
  sync_fence_info: pointer('__u64', 48, records(sync_fence_info, 'num_fences')),
});

/** struct sync_set_deadline (16 bytes), the argument of {@link SYNC_IOC_SET_DEADLINE}: `deadline_ns`, CLOCK_MONOTONIC; `pad` is 0. */
export const sync_set_deadline = struct('sync_set_deadline', 16, {
  deadline_ns: field('__u64', 0),
  pad: field('__u64', 8),
});

/**
 * A new sync_file whose fence signals when both files' fences have
 * ({@link sync_merge_data}). ENOENT when `fd2` is not a sync_file, EINVAL for
 * non-zero flags or pad.
 */
export const SYNC_IOC_MERGE = _IOWR(SYNC_IOC_MAGIC, 3, sync_merge_data.size);
/**
 * A sync_file's name, status and fences ({@link sync_file_info}). EINVAL for
 * non-zero flags or pad, or num_fences too small for the fences there are.
 */
export const SYNC_IOC_FILE_INFO = _IOWR(SYNC_IOC_MAGIC, 4, sync_file_info.size);
/** Tell the fences' drivers when the result is wanted ({@link sync_set_deadline}), a hint to boost; EINVAL for non-zero pad. */
export const SYNC_IOC_SET_DEADLINE = _IOW(SYNC_IOC_MAGIC, 5, sync_set_deadline.size);

/** The sync_file ioctls. */
export const SYNC_FILE_IOCTLS: readonly IoctlDecl[] = [
  { name: 'SYNC_IOC_MERGE', request: SYNC_IOC_MERGE, arg: sync_merge_data },
  { name: 'SYNC_IOC_FILE_INFO', request: SYNC_IOC_FILE_INFO, arg: sync_file_info },
  { name: 'SYNC_IOC_SET_DEADLINE', request: SYNC_IOC_SET_DEADLINE, arg: sync_set_deadline },
];
