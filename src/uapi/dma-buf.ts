/**
 * include/uapi/linux/dma-buf.h
 */
import { _IOW, _IOWR } from './ioctl.js';
import { alloc, s32, setS32, setU32, setU64, u32, u64 } from './struct.js';

export const DMA_BUF_SYNC_READ = 1 << 0;
export const DMA_BUF_SYNC_WRITE = 2 << 0;
export const DMA_BUF_SYNC_RW = DMA_BUF_SYNC_READ | DMA_BUF_SYNC_WRITE;
export const DMA_BUF_SYNC_START = 0 << 2;
export const DMA_BUF_SYNC_END = 1 << 2;
export const DMA_BUF_SYNC_VALID_FLAGS_MASK = DMA_BUF_SYNC_RW | DMA_BUF_SYNC_END;
export const DMA_BUF_NAME_LEN = 32;
export const DMA_BUF_BASE = 'b';

/** struct dma_buf_sync { __u64 flags; } */
export const SIZEOF_DMA_BUF_SYNC = 8;
/** struct dma_buf_export_sync_file / dma_buf_import_sync_file { __u32 flags; __s32 fd; } */
export const SIZEOF_DMA_BUF_SYNC_FILE = 8;

export const DMA_BUF_IOCTL_SYNC = _IOW(DMA_BUF_BASE, 0, SIZEOF_DMA_BUF_SYNC);
/** _IOW('b', 1, const char *) on a 64-bit kernel */
export const DMA_BUF_SET_NAME = _IOW(DMA_BUF_BASE, 1, 8);
export const DMA_BUF_SET_NAME_A = _IOW(DMA_BUF_BASE, 1, 4);
export const DMA_BUF_SET_NAME_B = _IOW(DMA_BUF_BASE, 1, 8);
export const DMA_BUF_IOCTL_EXPORT_SYNC_FILE = _IOWR(DMA_BUF_BASE, 2, SIZEOF_DMA_BUF_SYNC_FILE);
export const DMA_BUF_IOCTL_IMPORT_SYNC_FILE = _IOW(DMA_BUF_BASE, 3, SIZEOF_DMA_BUF_SYNC_FILE);

export interface DmaBufSync { flags: number }
export const dmaBufSync = {
  size: SIZEOF_DMA_BUF_SYNC,
  encode(v: DmaBufSync): Uint8Array {
    const b = alloc(SIZEOF_DMA_BUF_SYNC);
    setU64(b, 0, v.flags);
    return b;
  },
  decode(b: Uint8Array): DmaBufSync {
    return { flags: u64(b, 0) };
  },
};

export interface DmaBufSyncFile { flags: number; fd: number }
export const dmaBufSyncFile = {
  size: SIZEOF_DMA_BUF_SYNC_FILE,
  encode(v: DmaBufSyncFile): Uint8Array {
    const b = alloc(SIZEOF_DMA_BUF_SYNC_FILE);
    setU32(b, 0, v.flags);
    setS32(b, 4, v.fd);
    return b;
  },
  decode(b: Uint8Array): DmaBufSyncFile {
    return { flags: u32(b, 0), fd: s32(b, 4) };
  },
};
