/** include/uapi/linux/stat.h: the file type and permission bits of a mode. */
export const S_IFMT = 0o170000;
export const S_IFREG = 0o100000;
export const S_IFDIR = 0o040000;
export const S_IFCHR = 0o020000;
export const S_IRWXU = 0o700;
export const S_IRUSR = 0o400;
export const S_IWUSR = 0o200;
export const S_IRUGO = 0o444;
export const S_IWUGO = 0o222;
