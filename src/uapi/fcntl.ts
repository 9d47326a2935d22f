/**
 * include/uapi/asm-generic/fcntl.h, include/uapi/linux/fcntl.h,
 * include/uapi/linux/memfd.h, include/uapi/linux/fs.h (SEEK_*): the
 * x86-64 values.
 */

/**
 * open(2)'s access-mode mask: O_RDONLY, O_WRONLY or O_RDWR. The open(2) and
 * fcntl(2) flags here are the x86-64 values of include/uapi/asm-generic/fcntl.h.
 */
export const O_ACCMODE = 0o3;
/** open(2): for reading only. */
export const O_RDONLY = 0o0;
/** open(2): for writing only. */
export const O_WRONLY = 0o1;
/** open(2): for reading and writing; what a dma-buf fd needs to be mapped writable. */
export const O_RDWR = 0o2;
/** open(2): create the file if it does not exist. */
export const O_CREAT = 0o100;
/** open(2): with O_CREAT, fail with EEXIST if the file exists. */
export const O_EXCL = 0o200;
/** open(2): a terminal does not become the controlling terminal. */
export const O_NOCTTY = 0o400;
/** open(2): truncate a regular file to length 0. */
export const O_TRUNC = 0o1000;
/** open(2): every write goes to the end of the file. */
export const O_APPEND = 0o2000;
/** open(2)/F_SETFL: calls that would block fail with EAGAIN instead. */
export const O_NONBLOCK = 0o4000;
/** open(2): writes return once the data is on stable storage. */
export const O_DSYNC = 0o10000;
/** open(2)/F_SETFL: bypass the page cache; EINVAL on a file that cannot. */
export const O_DIRECT = 0o40000;
/** open(2): 64-bit file offsets; open(2) on x86-64 sets it by itself. */
export const O_LARGEFILE = 0o100000;
/** open(2): fail with ENOTDIR unless the path is a directory. */
export const O_DIRECTORY = 0o200000;
/** open(2): fail with ELOOP if the last path component is a symbolic link. */
export const O_NOFOLLOW = 0o400000;
/** open(2): reads do not update the access time. */
export const O_NOATIME = 0o1000000;
/** open(2) and the fd-making ioctls: the new fd is closed on execve (FD_CLOEXEC). */
export const O_CLOEXEC = 0o2000000;
/** open(2): an fd that only names a path (no reads, writes or ioctls). */
export const O_PATH = 0o10000000;
/** __O_SYNC: O_SYNC is __O_SYNC | O_DSYNC */
export const __O_SYNC = 0o4000000;
/** __O_TMPFILE: O_TMPFILE is __O_TMPFILE | O_DIRECTORY */
export const __O_TMPFILE = 0o20000000;
/** O_TMPFILE: an unnamed file in the given directory (__O_TMPFILE | O_DIRECTORY) */
export const O_TMPFILE = __O_TMPFILE | 0o200000;
/** O_PATH_FLAGS (fs/open.c): what an O_PATH open keeps of the other flags */
export const O_PATH_FLAGS = 0o200000 | 0o400000 | 0o10000000 | 0o2000000;
/** VALID_OPEN_FLAGS (include/linux/fcntl.h): the bits open(2) keeps; it ignores the rest */
export const VALID_OPEN_FLAGS = 0o3 | 0o100 | 0o200 | 0o400 | 0o1000 | 0o2000 | 0o4000 | 0o10000 | 0o20000 | 0o40000 | 0o100000 | 0o200000 | 0o400000 | 0o1000000 | 0o2000000 | 0o4000000 | 0o10000000 | 0o20000000;

/** fcntl(2) command: duplicate the fd onto the lowest free fd >= arg. */
export const F_DUPFD = 0;
/** fcntl(2) command: the fd's own flags (FD_CLOEXEC). */
export const F_GETFD = 1;
/** fcntl(2) command: set the fd's own flags. */
export const F_SETFD = 2;
/** fcntl(2) command: the open file's access mode and status flags. */
export const F_GETFL = 3;
/** fcntl(2) command: change the status flags O_APPEND, O_NONBLOCK, O_DIRECT, O_NOATIME and O_ASYNC; other bits are ignored. */
export const F_SETFL = 4;
/** The fd flag F_GETFD/F_SETFD carry: close on execve. */
export const FD_CLOEXEC = 1;
/** Where Linux's own fcntl(2) commands start (include/uapi/linux/fcntl.h). */
export const F_LINUX_SPECIFIC_BASE = 1024;
/** fcntl(2) command: F_DUPFD with FD_CLOEXEC set on the new fd. */
export const F_DUPFD_CLOEXEC = F_LINUX_SPECIFIC_BASE + 6;
/** fcntl(2) command: add F_SEAL_* bits to a memfd; EPERM once F_SEAL_SEAL is set (as it is from the start without MFD_ALLOW_SEALING). */
export const F_ADD_SEALS = F_LINUX_SPECIFIC_BASE + 9;
/** fcntl(2) command: a memfd's seals. */
export const F_GET_SEALS = F_LINUX_SPECIFIC_BASE + 10;

/** Seal (include/uapi/linux/fcntl.h): no further seals can be added. */
export const F_SEAL_SEAL = 0x0001;
/** Seal: the file cannot shrink. udmabuf requires it on every memfd it takes (EINVAL otherwise). */
export const F_SEAL_SHRINK = 0x0002;
/** Seal: the file cannot grow. */
export const F_SEAL_GROW = 0x0004;
/** Seal: the contents cannot change. udmabuf refuses a memfd that has it (EINVAL). */
export const F_SEAL_WRITE = 0x0008;
/** Seal: no new writes or writable mappings; existing mappings keep writing. udmabuf refuses it too (EINVAL). */
export const F_SEAL_FUTURE_WRITE = 0x0010;
/** Seal: the file's exec permission bits cannot change. */
export const F_SEAL_EXEC = 0x0020;

/** memfd_create(2) flag: the fd is close-on-exec (include/uapi/linux/memfd.h). */
export const MFD_CLOEXEC = 0x0001;
/** memfd_create(2) flag: seals can be added (without it the memfd starts with F_SEAL_SEAL); udmabuf needs it. */
export const MFD_ALLOW_SEALING = 0x0002;
/** memfd_create(2) flag: back the file with huge pages (hugetlbfs). */
export const MFD_HUGETLB = 0x0004;
/** memfd_create(2) flag: the file is not executable and F_SEAL_EXEC keeps it so. */
export const MFD_NOEXEC_SEAL = 0x0008;
/** memfd_create(2) flag: the file is executable. */
export const MFD_EXEC = 0x0010;

/**
 * lseek(2) whence: from the start (include/uapi/linux/fs.h). A dma-buf takes
 * SEEK_SET and SEEK_END with offset 0 only: its size is lseek(fd, 0, SEEK_END).
 */
export const SEEK_SET = 0;
/** lseek(2) whence: from the current position (EINVAL on a dma-buf). */
export const SEEK_CUR = 1;
/** lseek(2) whence: from the end. */
export const SEEK_END = 2;
/** lseek(2) whence: the next offset holding data. */
export const SEEK_DATA = 3;
/** lseek(2) whence: the next hole. */
export const SEEK_HOLE = 4;
