/**
 * include/uapi/linux/dma-buf.h
 */
import { _IOW, _IOWR, type IoctlDecl } from './ioctl.js';
import { __u32, __u64, field, struct } from './struct.js';

export const DMA_BUF_SYNC_READ = 1 << 0;
export const DMA_BUF_SYNC_WRITE = 2 << 0;
export const DMA_BUF_SYNC_RW = DMA_BUF_SYNC_READ | DMA_BUF_SYNC_WRITE;
export const DMA_BUF_SYNC_START = 0 << 2;
export const DMA_BUF_SYNC_END = 1 << 2;
export const DMA_BUF_SYNC_VALID_FLAGS_MASK = DMA_BUF_SYNC_RW | DMA_BUF_SYNC_END;
export const DMA_BUF_NAME_LEN = 32;
export const DMA_BUF_BASE = 'b';

export const dma_buf_sync = struct('dma_buf_sync', 8, {
  flags: field('__u64', 0),
});

export const dma_buf_export_sync_file = struct('dma_buf_export_sync_file', 8, {
  flags: field('__u32', 0),
  fd: field('__s32', 4),
});

export const dma_buf_import_sync_file = struct('dma_buf_import_sync_file', 8, {
  flags: field('__u32', 0),
  fd: field('__s32', 4),
});

/** sizeof(const char *) on x86-64 */
const SIZEOF_POINTER = 8;

export const DMA_BUF_IOCTL_SYNC = _IOW(DMA_BUF_BASE, 0, dma_buf_sync.size);
/** _IOW('b', 1, const char *): the same number as DMA_BUF_SET_NAME_B on a 64-bit kernel */
export const DMA_BUF_SET_NAME = _IOW(DMA_BUF_BASE, 1, SIZEOF_POINTER);
export const DMA_BUF_SET_NAME_A = _IOW(DMA_BUF_BASE, 1, __u32.size);
export const DMA_BUF_SET_NAME_B = _IOW(DMA_BUF_BASE, 1, __u64.size);
export const DMA_BUF_IOCTL_EXPORT_SYNC_FILE = _IOWR(DMA_BUF_BASE, 2, dma_buf_export_sync_file.size);
export const DMA_BUF_IOCTL_IMPORT_SYNC_FILE = _IOW(DMA_BUF_BASE, 3, dma_buf_import_sync_file.size);

/** The dma-buf ioctls. SET_NAME's argument is itself the pointer to a NUL-terminated name. */
export const DMA_BUF_IOCTLS: readonly IoctlDecl[] = [
  { name: 'DMA_BUF_IOCTL_SYNC', request: DMA_BUF_IOCTL_SYNC, arg: dma_buf_sync },
  { name: 'DMA_BUF_SET_NAME_A', request: DMA_BUF_SET_NAME_A, arg: 'string pointer' },
  { name: 'DMA_BUF_SET_NAME_B', aliases: ['DMA_BUF_SET_NAME'], request: DMA_BUF_SET_NAME_B, arg: 'string pointer' },
  { name: 'DMA_BUF_IOCTL_EXPORT_SYNC_FILE', request: DMA_BUF_IOCTL_EXPORT_SYNC_FILE, arg: dma_buf_export_sync_file },
  { name: 'DMA_BUF_IOCTL_IMPORT_SYNC_FILE', request: DMA_BUF_IOCTL_IMPORT_SYNC_FILE, arg: dma_buf_import_sync_file },
];
