/** include/uapi/linux/eventpoll.h: the event bits a file's poll returns (the same values as POLL*). */
export const EPOLLIN = 0x001;
export const EPOLLPRI = 0x002;
export const EPOLLOUT = 0x004;
export const EPOLLERR = 0x008;
export const EPOLLHUP = 0x010;
export const EPOLLNVAL = 0x020;
export const EPOLLRDNORM = 0x040;
export const EPOLLRDBAND = 0x080;
export const EPOLLWRNORM = 0x100;
export const EPOLLWRBAND = 0x200;
export const EPOLLMSG = 0x400;
export const EPOLLRDHUP = 0x2000;
