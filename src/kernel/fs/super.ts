/**
 * struct super_block, the parts userspace sees of a filesystem: its device
 * number (st_dev: pseudo filesystems get an anonymous one, get_anon_bdev()),
 * its block size (st_blksize, FIGETBSZ) and the id of its mount (the mnt_id
 * fdinfo shows). The numbers are this machine's own: Linux allocates them at
 * boot, so no program may depend on their values, only on which files share
 * them.
 */

/** new_encode_dev(MKDEV(major, minor)): what st_dev and st_rdev hold. */
export function mkdev(major: number, minor: number): number {
  return (minor & 0xff) | (major << 8) | ((minor & ~0xff) << 12);
}

/** struct super_block: a filesystem's device, block size and mount id. */
export class SuperBlock {
  constructor(
    /** the filesystem type's name */
    readonly name: string,
    /** s_dev */
    readonly dev: number,
    /** s_blocksize */
    readonly blocksize: number,
    /** the mount's id (mnt_id) */
    readonly mntId: number,
    /** SB_I_NOEXEC: nothing on it may be mapped executable (path_noexec()) */
    readonly noexec = false,
  ) {}
}

/** anon_inodefs: the shared anon inode of anon_inode_getfile() (sync_file, ...) */
export const anonInodeSb = new SuperBlock('anon_inodefs', mkdev(0, 15), 4096, 15);
/** the dmabuf pseudo filesystem (dma_buf_mnt) */
export const dmabufSb = new SuperBlock('dmabuf', mkdev(0, 12), 4096, 12);
/** shmem's internal mount (shm_mnt): memfds */
export const shmemSb = new SuperBlock('tmpfs', mkdev(0, 1), 4096, 1);
/** sockfs */
export const sockfsSb = new SuperBlock('sockfs', mkdev(0, 8), 4096, 8);
/** devtmpfs, mounted at /dev */
export const devtmpfsSb = new SuperBlock('devtmpfs', mkdev(0, 5), 4096, 22);
/** proc, mounted at /proc (its block size is 1 KiB: proc_fill_super) */
export const procSb = new SuperBlock('proc', mkdev(0, 20), 1024, 24, true); // proc_fill_super() sets SB_I_NOEXEC
/** sysfs, mounted at /sys */
export const sysfsSb = new SuperBlock('sysfs', mkdev(0, 21), 4096, 25);
/** debugfs, mounted at /sys/kernel/debug */
export const debugfsSb = new SuperBlock('debugfs', mkdev(0, 7), 4096, 26);
/** the root filesystem */
export const rootfsSb = new SuperBlock('rootfs', mkdev(0, 2), 4096, 1);
