/** include/uapi/linux/udmabuf.h */
import { _IOW } from './ioctl.js';
import { alloc, setU32, setU64, u32, u64 } from './struct.js';

export const UDMABUF_FLAGS_CLOEXEC = 0x01;
/** struct udmabuf_create { __u32 memfd; __u32 flags; __u64 offset; __u64 size; } */
export const SIZEOF_UDMABUF_CREATE = 24;
/** struct udmabuf_create_item { __u32 memfd; __u32 __pad; __u64 offset; __u64 size; } */
export const SIZEOF_UDMABUF_CREATE_ITEM = 24;
/** struct udmabuf_create_list { __u32 flags; __u32 count; struct udmabuf_create_item list[]; } */
export const SIZEOF_UDMABUF_CREATE_LIST = 8;
export const UDMABUF_CREATE = _IOW('u', 0x42, SIZEOF_UDMABUF_CREATE);
export const UDMABUF_CREATE_LIST = _IOW('u', 0x43, SIZEOF_UDMABUF_CREATE_LIST);

export interface UdmabufCreate { memfd: number; flags: number; offset: number; size: number }
export const udmabufCreate = {
  size: SIZEOF_UDMABUF_CREATE,
  encode(v: Partial<UdmabufCreate>): Uint8Array {
    const b = alloc(SIZEOF_UDMABUF_CREATE);
    setU32(b, 0, v.memfd ?? 0);
    setU32(b, 4, v.flags ?? 0);
    setU64(b, 8, v.offset ?? 0);
    setU64(b, 16, v.size ?? 0);
    return b;
  },
  decode(b: Uint8Array): UdmabufCreate {
    return { memfd: u32(b, 0), flags: u32(b, 4), offset: u64(b, 8), size: u64(b, 16) };
  },
};

export interface UdmabufCreateItem { memfd: number; offset: number; size: number }
export const udmabufCreateList = {
  /** The header followed by the items (the flexible array). */
  encode(flags: number, items: UdmabufCreateItem[]): Uint8Array {
    const b = alloc(SIZEOF_UDMABUF_CREATE_LIST + items.length * SIZEOF_UDMABUF_CREATE_ITEM);
    setU32(b, 0, flags);
    setU32(b, 4, items.length);
    items.forEach((it, i) => {
      const o = SIZEOF_UDMABUF_CREATE_LIST + i * SIZEOF_UDMABUF_CREATE_ITEM;
      setU32(b, o, it.memfd);
      setU64(b, o + 8, it.offset);
      setU64(b, o + 16, it.size);
    });
    return b;
  },
  decodeHeader(b: Uint8Array): { flags: number; count: number } {
    return { flags: u32(b, 0), count: u32(b, 4) };
  },
  decodeItem(b: Uint8Array, i: number): UdmabufCreateItem {
    const o = i * SIZEOF_UDMABUF_CREATE_ITEM;
    return { memfd: u32(b, o), offset: u64(b, o + 8), size: u64(b, o + 16) };
  },
};
