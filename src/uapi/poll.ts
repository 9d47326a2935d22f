/** include/uapi/asm-generic/poll.h */

/** poll(2) event: data to read; for a dma-buf or sync_file, its fences have signaled (include/uapi/asm-generic/poll.h). */
export const POLLIN = 0x0001;
/** poll(2) event: an exceptional condition (urgent data). */
export const POLLPRI = 0x0002;
/** poll(2) event: writing will not block; for a dma-buf, every fence has signaled. */
export const POLLOUT = 0x0004;
/** poll(2) revent: an error; always reported. */
export const POLLERR = 0x0008;
/** poll(2) revent: hang-up; always reported. */
export const POLLHUP = 0x0010;
/** poll(2) revent: the fd is not open. */
export const POLLNVAL = 0x0020;
/** poll(2) event: normal data to read. */
export const POLLRDNORM = 0x0040;
/** poll(2) event: priority-band data to read. */
export const POLLRDBAND = 0x0080;
/** poll(2) event: normal data can be written. */
export const POLLWRNORM = 0x0100;
/** poll(2) event: priority-band data can be written. */
export const POLLWRBAND = 0x0200;
