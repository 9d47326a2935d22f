/**
 * include/uapi/linux/sync_file.h
 */
import { _IOW, _IOWR } from './ioctl.js';
import { alloc, cstr, s32, setCstr, setS32, setU32, setU64, u32, u64 } from './struct.js';

export const SYNC_IOC_MAGIC = '>';
/** struct sync_merge_data { char name[32]; __s32 fd2; __s32 fence; __u32 flags; __u32 pad; } */
export const SIZEOF_SYNC_MERGE_DATA = 48;
/** struct sync_fence_info { char obj_name[32]; char driver_name[32]; __s32 status; __u32 flags; __u64 timestamp_ns; } */
export const SIZEOF_SYNC_FENCE_INFO = 80;
/** struct sync_file_info { char name[32]; __s32 status; __u32 flags; __u32 num_fences; __u32 pad; __u64 sync_fence_info; } */
export const SIZEOF_SYNC_FILE_INFO = 56;
/** struct sync_set_deadline { __u64 deadline_ns; __u64 pad; } */
export const SIZEOF_SYNC_SET_DEADLINE = 16;

export const SYNC_IOC_MERGE = _IOWR(SYNC_IOC_MAGIC, 3, SIZEOF_SYNC_MERGE_DATA);
export const SYNC_IOC_FILE_INFO = _IOWR(SYNC_IOC_MAGIC, 4, SIZEOF_SYNC_FILE_INFO);
export const SYNC_IOC_SET_DEADLINE = _IOW(SYNC_IOC_MAGIC, 5, SIZEOF_SYNC_SET_DEADLINE);

export interface SyncMergeData { name: string; fd2: number; fence: number; flags: number; pad: number }
export const syncMergeData = {
  size: SIZEOF_SYNC_MERGE_DATA,
  encode(v: Partial<SyncMergeData>): Uint8Array {
    const b = alloc(SIZEOF_SYNC_MERGE_DATA);
    setCstr(b, 0, 32, v.name ?? '');
    setS32(b, 32, v.fd2 ?? 0);
    setS32(b, 36, v.fence ?? 0);
    setU32(b, 40, v.flags ?? 0);
    setU32(b, 44, v.pad ?? 0);
    return b;
  },
  decode(b: Uint8Array): SyncMergeData {
    return { name: cstr(b, 0, 32), fd2: s32(b, 32), fence: s32(b, 36), flags: u32(b, 40), pad: u32(b, 44) };
  },
};

export interface SyncFenceInfoData { objName: string; driverName: string; status: number; flags: number; timestampNs: number }
export const syncFenceInfo = {
  size: SIZEOF_SYNC_FENCE_INFO,
  write(b: Uint8Array, off: number, v: SyncFenceInfoData): void {
    const r = b.subarray(off, off + SIZEOF_SYNC_FENCE_INFO);
    setCstr(r, 0, 32, v.objName);
    setCstr(r, 32, 32, v.driverName);
    setS32(r, 64, v.status);
    setU32(r, 68, v.flags);
    setU64(r, 72, v.timestampNs);
  },
  decode(b: Uint8Array, off = 0): SyncFenceInfoData {
    const r = b.subarray(off, off + SIZEOF_SYNC_FENCE_INFO);
    return { objName: cstr(r, 0, 32), driverName: cstr(r, 32, 32), status: s32(r, 64), flags: u32(r, 68), timestampNs: u64(r, 72) };
  },
};

export interface SyncFileInfoData { name: string; status: number; flags: number; numFences: number; pad: number; syncFenceInfo: number }
export const syncFileInfo = {
  size: SIZEOF_SYNC_FILE_INFO,
  /** A struct with room for `numFences` records after it, its pointer set to that room. */
  encode(v: Partial<SyncFileInfoData>, room = 0): Uint8Array {
    const b = alloc(SIZEOF_SYNC_FILE_INFO, room * SIZEOF_SYNC_FENCE_INFO);
    setCstr(b, 0, 32, v.name ?? '');
    setS32(b, 32, v.status ?? 0);
    setU32(b, 36, v.flags ?? 0);
    setU32(b, 40, v.numFences ?? 0);
    setU32(b, 44, v.pad ?? 0);
    setU64(b, 48, v.syncFenceInfo ?? (room ? SIZEOF_SYNC_FILE_INFO : 0));
    return b;
  },
  decode(b: Uint8Array): SyncFileInfoData {
    return { name: cstr(b, 0, 32), status: s32(b, 32), flags: u32(b, 36), numFences: u32(b, 40), pad: u32(b, 44), syncFenceInfo: u64(b, 48) };
  },
};

export interface SyncSetDeadline { deadlineNs: number; pad: number }
export const syncSetDeadline = {
  size: SIZEOF_SYNC_SET_DEADLINE,
  encode(v: Partial<SyncSetDeadline>): Uint8Array {
    const b = alloc(SIZEOF_SYNC_SET_DEADLINE);
    setU64(b, 0, v.deadlineNs ?? 0);
    setU64(b, 8, v.pad ?? 0);
    return b;
  },
  decode(b: Uint8Array): SyncSetDeadline {
    return { deadlineNs: u64(b, 0), pad: u64(b, 8) };
  },
};
