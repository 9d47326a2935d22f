/**
 * include/uapi/linux/dma-buf.h
 */
import { _IOW, _IOWR, type IoctlDecl } from './ioctl.js';
import { __u32, __u64, field, struct } from './struct.js';

/**
 * {@link dma_buf_sync} flag: the CPU reads the buffer (include/uapi/linux/dma-buf.h).
 * In the export/import sync_file flags: the reader's side (wait for writers; add a read fence).
 */
export const DMA_BUF_SYNC_READ = 1 << 0;
/** {@link dma_buf_sync} flag: the CPU writes the buffer (sync_file flags: wait for everyone; add a write fence). */
export const DMA_BUF_SYNC_WRITE = 2 << 0;
/** READ | WRITE. */
export const DMA_BUF_SYNC_RW = DMA_BUF_SYNC_READ | DMA_BUF_SYNC_WRITE;
/** {@link dma_buf_sync}: begin CPU access (the END bit clear; 0, so it only documents the call). */
export const DMA_BUF_SYNC_START = 0 << 2;
/** {@link dma_buf_sync}: end CPU access started with the same READ/WRITE bits. */
export const DMA_BUF_SYNC_END = 1 << 2;
/** Every bit DMA_BUF_IOCTL_SYNC accepts; any other is EINVAL. */
export const DMA_BUF_SYNC_VALID_FLAGS_MASK = DMA_BUF_SYNC_RW | DMA_BUF_SYNC_END;
/** The size of a dma-buf's name with its NUL: DMA_BUF_SET_NAME refuses 32 bytes or more of text with EINVAL. */
export const DMA_BUF_NAME_LEN = 32;
/** The ioctl type (magic) of the dma-buf ioctls: 'b'. */
export const DMA_BUF_BASE = 'b';

/**
 * struct dma_buf_sync (8 bytes), the argument of {@link DMA_BUF_IOCTL_SYNC}:
 * `flags`, DMA_BUF_SYNC_START or DMA_BUF_SYNC_END with READ, WRITE or both.
 */
export const dma_buf_sync = struct('dma_buf_sync', 8, {
  flags: field('__u64', 0),
});

/**
 * struct dma_buf_export_sync_file (8 bytes), the argument of
 * {@link DMA_BUF_IOCTL_EXPORT_SYNC_FILE}: `flags` (DMA_BUF_SYNC_READ and/or
 * WRITE, the access about to be made) in, `fd` (the new sync_file) out.
 */
export const dma_buf_export_sync_file = struct('dma_buf_export_sync_file', 8, {
  flags: field('__u32', 0),
  fd: field('__s32', 4),
});

/**
 * struct dma_buf_import_sync_file (8 bytes), the argument of
 * {@link DMA_BUF_IOCTL_IMPORT_SYNC_FILE}: `flags` (DMA_BUF_SYNC_WRITE adds
 * the fence as a writer, else as a reader) and `fd`, the sync_file.
 */
export const dma_buf_import_sync_file = struct('dma_buf_import_sync_file', 8, {
  flags: field('__u32', 0),
  fd: field('__s32', 4),
});

/** sizeof(const char *) on x86-64 */
const SIZEOF_POINTER = 8;

/**
 * Bracket CPU access to a mapped dma-buf ({@link dma_buf_sync}): START before
 * touching the mapping, END after, so the exporter can flush or invalidate
 * caches. Coherency only, not a lock. EINVAL for bits outside
 * DMA_BUF_SYNC_VALID_FLAGS_MASK or neither READ nor WRITE.
 */
export const DMA_BUF_IOCTL_SYNC = _IOW(DMA_BUF_BASE, 0, dma_buf_sync.size);
/**
 * _IOW('b', 1, const char *): name a dma-buf for debugfs and fdinfo; the
 * argument is the pointer to the NUL-terminated name itself. The same number
 * as DMA_BUF_SET_NAME_B on a 64-bit kernel.
 */
export const DMA_BUF_SET_NAME = _IOW(DMA_BUF_BASE, 1, SIZEOF_POINTER);
/** DMA_BUF_SET_NAME as 32-bit userspace encodes it (_IOW('b', 1, __u32)); the kernel accepts both. */
export const DMA_BUF_SET_NAME_A = _IOW(DMA_BUF_BASE, 1, __u32.size);
/** DMA_BUF_SET_NAME as 64-bit userspace encodes it (_IOW('b', 1, __u64)). EINVAL for a name of DMA_BUF_NAME_LEN bytes or more. */
export const DMA_BUF_SET_NAME_B = _IOW(DMA_BUF_BASE, 1, __u64.size);
/**
 * Snapshot the buffer's implicit fences as a new sync_file
 * ({@link dma_buf_export_sync_file}): READ waits for writers, WRITE for
 * everyone. EINVAL for flags outside DMA_BUF_SYNC_RW or with neither bit.
 */
export const DMA_BUF_IOCTL_EXPORT_SYNC_FILE = _IOWR(DMA_BUF_BASE, 2, dma_buf_export_sync_file.size);
/**
 * Add a sync_file's fence to the buffer's implicit fences
 * ({@link dma_buf_import_sync_file}), as a writer or a reader. EINVAL when
 * `fd` is not a sync_file or the flags are bad.
 */
export const DMA_BUF_IOCTL_IMPORT_SYNC_FILE = _IOW(DMA_BUF_BASE, 3, dma_buf_import_sync_file.size);

/** The dma-buf ioctls. SET_NAME's argument is itself the pointer to a NUL-terminated name. */
export const DMA_BUF_IOCTLS: readonly IoctlDecl[] = [
  { name: 'DMA_BUF_IOCTL_SYNC', request: DMA_BUF_IOCTL_SYNC, arg: dma_buf_sync },
  { name: 'DMA_BUF_SET_NAME_A', request: DMA_BUF_SET_NAME_A, arg: 'string pointer' },
  { name: 'DMA_BUF_SET_NAME_B', aliases: ['DMA_BUF_SET_NAME'], request: DMA_BUF_SET_NAME_B, arg: 'string pointer' },
  { name: 'DMA_BUF_IOCTL_EXPORT_SYNC_FILE', request: DMA_BUF_IOCTL_EXPORT_SYNC_FILE, arg: dma_buf_export_sync_file },
  { name: 'DMA_BUF_IOCTL_IMPORT_SYNC_FILE', request: DMA_BUF_IOCTL_IMPORT_SYNC_FILE, arg: dma_buf_import_sync_file },
];
