/**
 * include/uapi/linux/sync_file.h (SYNC_IOC_SET_DEADLINE and struct
 * sync_set_deadline as of Linux 6.6)
 */
import { _IOW, _IOWR, type IoctlDecl } from './ioctl.js';
import { field, pointer, records, struct } from './struct.js';

export const SYNC_IOC_MAGIC = '>';

export const sync_merge_data = struct('sync_merge_data', 48, {
  name: field('char[32]', 0),
  fd2: field('__s32', 32),
  fence: field('__s32', 36),
  flags: field('__u32', 40),
  pad: field('__u32', 44),
});

export const sync_fence_info = struct('sync_fence_info', 80, {
  obj_name: field('char[32]', 0),
  driver_name: field('char[32]', 32),
  status: field('__s32', 64),
  flags: field('__u32', 68),
  timestamp_ns: field('__u64', 72),
});

export const sync_file_info = struct('sync_file_info', 56, {
  name: field('char[32]', 0),
  status: field('__s32', 32),
  flags: field('__u32', 36),
  num_fences: field('__u32', 40),
  pad: field('__u32', 44),
  /** a user pointer to num_fences records */
  sync_fence_info: pointer('__u64', 48, records(sync_fence_info, 'num_fences')),
});

export const sync_set_deadline = struct('sync_set_deadline', 16, {
  deadline_ns: field('__u64', 0),
  pad: field('__u64', 8),
});

export const SYNC_IOC_MERGE = _IOWR(SYNC_IOC_MAGIC, 3, sync_merge_data.size);
export const SYNC_IOC_FILE_INFO = _IOWR(SYNC_IOC_MAGIC, 4, sync_file_info.size);
export const SYNC_IOC_SET_DEADLINE = _IOW(SYNC_IOC_MAGIC, 5, sync_set_deadline.size);

export const SYNC_FILE_IOCTLS: readonly IoctlDecl[] = [
  { name: 'SYNC_IOC_MERGE', request: SYNC_IOC_MERGE, arg: sync_merge_data },
  { name: 'SYNC_IOC_FILE_INFO', request: SYNC_IOC_FILE_INFO, arg: sync_file_info },
  { name: 'SYNC_IOC_SET_DEADLINE', request: SYNC_IOC_SET_DEADLINE, arg: sync_set_deadline },
];
