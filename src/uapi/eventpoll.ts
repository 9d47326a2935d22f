/** include/uapi/linux/eventpoll.h: the event bits a file's poll returns (the same values as POLL*). */

/**
 * Readable (include/uapi/linux/eventpoll.h; POLLIN's value). A dma-buf: every
 * writer's fence has signaled, so reading is safe. A sync_file: its fence
 * has signaled.
 */
export const EPOLLIN = 0x001;
/** Exceptional condition (urgent data). */
export const EPOLLPRI = 0x002;
/** Writable. A dma-buf: every fence, readers' too, has signaled, so writing is safe. */
export const EPOLLOUT = 0x004;
/** Error; reported whether asked for or not (a dma-buf without a reservation object). */
export const EPOLLERR = 0x008;
/** Hang-up; reported whether asked for or not. */
export const EPOLLHUP = 0x010;
/** Invalid request: poll(2) reports it for an fd that is not open. */
export const EPOLLNVAL = 0x020;
/** Normal data readable. */
export const EPOLLRDNORM = 0x040;
/** Priority-band data readable. */
export const EPOLLRDBAND = 0x080;
/** Normal data writable. */
export const EPOLLWRNORM = 0x100;
/** Priority-band data writable. */
export const EPOLLWRBAND = 0x200;
/** Unused by Linux; defined for the ABI. */
export const EPOLLMSG = 0x400;
/** Stream socket peer closed its writing half. */
export const EPOLLRDHUP = 0x2000;
