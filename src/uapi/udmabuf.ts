/** include/uapi/linux/udmabuf.h */
import { _IOW, type IoctlDecl } from './ioctl.js';
import { field, flex, struct } from './struct.js';

/** udmabuf_create(_list) flag: the dma-buf fd is close-on-exec; other bits are ignored (include/uapi/linux/udmabuf.h). */
export const UDMABUF_FLAGS_CLOEXEC = 0x01;

/**
 * struct udmabuf_create (24 bytes), the argument of {@link UDMABUF_CREATE}:
 * a sealed `memfd`, `flags`, and the page-aligned `offset` and `size` of the
 * range of it to turn into a dma-buf.
 */
export const udmabuf_create = struct('udmabuf_create', 24, {
  memfd: field('__u32', 0),
  flags: field('__u32', 4),
  offset: field('__u64', 8),
  size: field('__u64', 16),
});

/** struct udmabuf_create_item (24 bytes): one memfd range of a {@link udmabuf_create_list}; `__pad` is not checked. */
export const udmabuf_create_item = struct('udmabuf_create_item', 24, {
  memfd: field('__u32', 0),
  __pad: field('__u32', 4),
  offset: field('__u64', 8),
  size: field('__u64', 16),
});

/**
 * struct udmabuf_create_list (an 8-byte header), the argument of
 * {@link UDMABUF_CREATE_LIST}: `flags`, `count` and the items right after
 * it; encode() sets `count` from the list.
 */
export const udmabuf_create_list = struct('udmabuf_create_list', 8, {
  flags: field('__u32', 0),
  count: field('__u32', 4),
  /** the flexible array: count items right after the header */
  list: flex(8, udmabuf_create_item, 'count'),
});

/**
 * A dma-buf over a range of a memfd ({@link udmabuf_create}); returns the fd.
 * EINVAL for an unaligned or empty range, one past size_limit_mb, or a memfd
 * without F_SEAL_SHRINK or with a write seal; EBADFD when `memfd` is not an
 * open memfd (shmem or hugetlbfs file).
 */
export const UDMABUF_CREATE = _IOW('u', 0x42, udmabuf_create.size);
/** One dma-buf over several memfd ranges ({@link udmabuf_create_list}); EINVAL for more than list_limit items, otherwise as UDMABUF_CREATE. */
export const UDMABUF_CREATE_LIST = _IOW('u', 0x43, udmabuf_create_list.size);

/** The udmabuf ioctls. */
export const UDMABUF_IOCTLS: readonly IoctlDecl[] = [
  { name: 'UDMABUF_CREATE', request: UDMABUF_CREATE, arg: udmabuf_create },
  { name: 'UDMABUF_CREATE_LIST', request: UDMABUF_CREATE_LIST, arg: udmabuf_create_list },
];
