/** Linux's epoll ABI (include/uapi/linux/eventpoll.h): on x86-64 struct epoll_event is packed, 12 bytes. */
export const EPOLL_CTL_ADD = 1;
export const EPOLL_CTL_DEL = 2;
export const EPOLL_CTL_MOD = 3;
export const EPOLL_CLOEXEC = 0o2000000;
export const EPOLLIN = 0x001;
export const EPOLLONESHOT = 1 << 30;
export const SIZEOF_EPOLL_EVENT = 12;
/** eventfd(2) flags */
export const EFD_CLOEXEC = 0o2000000;
export const EFD_NONBLOCK = 0o4000;

export function epollEvent(events: number, data: bigint): Uint8Array {
  const b = new Uint8Array(SIZEOF_EPOLL_EVENT);
  const v = new DataView(b.buffer);
  v.setUint32(0, events >>> 0, true);
  v.setBigUint64(4, data, true);
  return b;
}
