/**
 * The ioctls every file answers through the VFS before its own
 * (include/uapi/asm-generic/ioctls.h, include/uapi/linux/fs.h): x86-64's
 * numbers.
 */
import { _IO } from './ioctl.js';

/** FIONREAD: the bytes ready to read (an int out); for a regular file its size less the file position */
export const FIONREAD = 0x541b;
/** FIONBIO: set or clear O_NONBLOCK from an int in */
export const FIONBIO = 0x5421;
/** FIONCLEX: clear the fd's close-on-exec flag */
export const FIONCLEX = 0x5450;
/** FIOCLEX: set the fd's close-on-exec flag */
export const FIOCLEX = 0x5451;
/** FIOASYNC: set or clear O_ASYNC from an int in */
export const FIOASYNC = 0x5452;
/** FIOQSIZE: the size of a regular file, directory or symlink (a loff_t out); other files ENOTTY */
export const FIOQSIZE = 0x5460;
/** _IO(0x00, 1): the disk block of a file block (root only) */
export const FIBMAP = _IO(0x00, 1);
/** _IO(0x00, 2): the block size of the file's filesystem */
export const FIGETBSZ = _IO(0x00, 2);
/** O_ASYNC / FASYNC (include/uapi/asm-generic/fcntl.h) */
export const FASYNC = 0o20000;
