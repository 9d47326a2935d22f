/** include/uapi/linux/udmabuf.h */
import { _IOW, type IoctlDecl } from './ioctl.js';
import { field, flex, struct } from './struct.js';

export const UDMABUF_FLAGS_CLOEXEC = 0x01;

export const udmabuf_create = struct('udmabuf_create', 24, {
  memfd: field('__u32', 0),
  flags: field('__u32', 4),
  offset: field('__u64', 8),
  size: field('__u64', 16),
});

export const udmabuf_create_item = struct('udmabuf_create_item', 24, {
  memfd: field('__u32', 0),
  __pad: field('__u32', 4),
  offset: field('__u64', 8),
  size: field('__u64', 16),
});

export const udmabuf_create_list = struct('udmabuf_create_list', 8, {
  flags: field('__u32', 0),
  count: field('__u32', 4),
  /** the flexible array: count items right after the header */
  list: flex(8, udmabuf_create_item, 'count'),
});

export const UDMABUF_CREATE = _IOW('u', 0x42, udmabuf_create.size);
export const UDMABUF_CREATE_LIST = _IOW('u', 0x43, udmabuf_create_list.size);

export const UDMABUF_IOCTLS: readonly IoctlDecl[] = [
  { name: 'UDMABUF_CREATE', request: UDMABUF_CREATE, arg: udmabuf_create },
  { name: 'UDMABUF_CREATE_LIST', request: UDMABUF_CREATE_LIST, arg: udmabuf_create_list },
];
