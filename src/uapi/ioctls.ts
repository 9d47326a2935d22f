/**
 * The ioctls every file answers through the VFS before its own
 * (include/uapi/asm-generic/ioctls.h, include/uapi/linux/fs.h): x86-64's
 * numbers.
 */
import { _IO } from './ioctl.js';

export const FIONREAD = 0x541b;
export const FIONBIO = 0x5421;
export const FIONCLEX = 0x5450;
export const FIOCLEX = 0x5451;
export const FIOASYNC = 0x5452;
export const FIOQSIZE = 0x5460;
/** _IO(0x00, 1): the disk block of a file block (root only) */
export const FIBMAP = _IO(0x00, 1);
/** _IO(0x00, 2): the block size of the file's filesystem */
export const FIGETBSZ = _IO(0x00, 2);
/** O_ASYNC / FASYNC (include/uapi/asm-generic/fcntl.h) */
export const FASYNC = 0o20000;
