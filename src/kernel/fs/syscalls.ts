/**
 * The system calls a process makes, on the kernel side (fs/open.c,
 * fs/ioctl.c, fs/select.c, fs/read_write.c, fs/fcntl.c, mm/mmap.c,
 * mm/memfd.c, and SCM_RIGHTS fd passing), each returning what Linux
 * returns: a value, or a negative errno checked in Linux's order.
 */
import { randomUUID } from 'node:crypto';
import {
  EACCES, EBADF, EFAULT, EINTR, EINVAL, ENODEV, ENOENT, ENOMEM, ENOTTY, EOVERFLOW, EPERM, ESPIPE, ESRCH,
} from '../lib/errno.js';
import { tasks, type Task } from './task.js';
import { copyFromUser, copyToUser, type UserArg } from '../lib/uaccess.js';
import { armTimeout } from '../lib/time.js';
import { statsRegister } from '../lib/stats.js';
import {
  F_ADD_SEALS, F_DUPFD, F_DUPFD_CLOEXEC, F_GETFD, F_GETFL, F_GET_SEALS, F_SETFD, F_SETFL, FD_CLOEXEC, O_ACCMODE, O_APPEND,
  O_CLOEXEC, O_CREAT, O_DIRECT, O_DIRECTORY, O_LARGEFILE, O_NOATIME, O_NONBLOCK, O_PATH, O_PATH_FLAGS, O_RDONLY, SEEK_END, SEEK_HOLE,
  VALID_OPEN_FLAGS, __O_TMPFILE,
} from '../../uapi/fcntl.js';
import { MAP_ANONYMOUS, MAP_PRIVATE, MAP_SHARED, MAP_SHARED_VALIDATE, MAP_TYPE, PROT_EXEC, PROT_READ, PROT_WRITE } from '../../uapi/mman.js';
import { POLLERR, POLLHUP, POLLIN, POLLNVAL, POLLOUT, POLLRDNORM, POLLWRNORM } from '../../uapi/poll.js';
import { Backing, PAGE_SHIFT, PAGE_SIZE, pageAlign } from '../mm/page.js';
import { Vma, VM_MAYREAD, VM_MAYSHARE, VM_MAYWRITE, VM_READ, VM_SHARED, VM_WRITE, VM_EXEC } from '../mm/vma.js';
import { unixInFlight } from './unix-socket.js';
import { userMappingMapped, userMappingsCheck, userMappingsForget, userMappingUnmapped } from './user-mappings.js';
import { dPath, fdget, fget, FMODE_PATH, releasesPending, FMODE_READ, FMODE_WRITE, fput, getFile, type File, type PollTable, type WaitQueue } from './file.js';
import { S_IFDIR, S_IFLNK, S_IFMT, S_IFREG, stat } from '../../uapi/stat.js';
import { FASYNC, FIBMAP, FIGETBSZ, FIOASYNC, FIOCLEX, FIONBIO, FIONCLEX, FIONREAD, FIOQSIZE } from '../../uapi/ioctls.js';
import { RLIM_INFINITY, RLIMIT_NOFILE } from '../../uapi/signal.js';
import { pr_warn } from '../lib/printk.js';
import { memfdAddSeals, memfdCreate, memfdGetSeals, isShmemFile, shmemBytes, shmemSize, shmemTruncate } from './memfd.js';
import { vfsList, vfsOpen, vfsReadText } from './vfs.js';

/** SEEK_MAX (include/uapi/linux/fs.h) */
const SEEK_MAX = SEEK_HOLE;

/** DEFAULT_POLLMASK: files without a poll op are always ready. */
const DEFAULT_POLLMASK = POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM;

/** openat(AT_FDCWD, path, flags, mode) */
export async function sysOpen(task: Task, path: string, flags: number): Promise<number> {
  // open(2) (not openat2): on a 64-bit kernel it always adds O_LARGEFILE (force_o_largefile()); build_open_how()
  // drops the bits it does not know, and O_PATH keeps only O_DIRECTORY, O_NOFOLLOW and O_CLOEXEC besides.
  flags = (flags & VALID_OPEN_FLAGS) | O_LARGEFILE;
  if (flags & O_PATH) flags &= O_PATH_FLAGS;
  const bad = buildOpenFlags(flags);
  if (bad) return bad;
  const fd = task.files.getUnusedFdFlags(flags);
  if (fd < 0) return fd;
  const file = await vfsOpen(task, path, flags);
  if (typeof file === 'number') {
    task.files.putUnusedFd(fd);
    return file;
  }
  task.files.fdInstall(fd, file);
  return fd;
}

/**
 * build_open_flags() (fs/open.c, Linux 6.12): the combinations open refuses
 * before it looks at the path, -EINVAL: O_DIRECTORY with O_CREAT, and
 * __O_TMPFILE without O_DIRECTORY or without write access.
 */
function buildOpenFlags(flags: number): number {
  if ((flags & (O_DIRECTORY | O_CREAT)) === (O_DIRECTORY | O_CREAT)) return -EINVAL;
  if (flags & __O_TMPFILE) {
    if (!(flags & O_DIRECTORY)) return -EINVAL;
    if ((flags & O_ACCMODE) === O_RDONLY) return -EINVAL;
  }
  return 0;
}

/** close(fd): 0 or -EBADF, once the release work the last fput set going is done (__fput runs as task work, before the return to userspace). */
export function sysClose(task: Task, fd: number): number | Promise<number> {
  const r = task.files.close(fd);
  const pending = releasesPending();
  return pending ? pending.then(() => r) : r;
}

/** dup(fd) */
export function sysDup(task: Task, fd: number): number {
  return task.files.dup(fd, 0, 0);
}

/** get_user() of an int argument: the value, or null (-EFAULT). */
function getUserInt(arg: UserArg): number | null {
  const b = copyFromUser(arg, 4);
  return b ? new DataView(b.buffer, b.byteOffset, 4).getInt32(0, true) : null;
}

/** put_user() of an int (or, with `size` 8, a loff_t): 0 or -EFAULT. */
function putUser(arg: UserArg, value: number, size = 4): number {
  const b = new Uint8Array(size);
  const dv = new DataView(b.buffer);
  if (size === 8) dv.setBigInt64(0, BigInt(value), true);
  else dv.setInt32(0, value, true);
  return copyToUser(arg, b) ? 0 : -EFAULT;
}

/**
 * do_vfs_ioctl() (fs/ioctl.c): the requests the VFS answers for every file
 * before the file's own ioctl (FIOCLEX, FIONCLEX, FIONBIO, FIOASYNC,
 * FIOQSIZE, FIGETBSZ; FIBMAP and FIONREAD for regular files), or null for
 * the file's.
 */
function doVfsIoctl(task: Task, fd: number, file: File, cmd: number, arg: UserArg): number | null {
  const mode = file.inode.mode & S_IFMT;
  switch (cmd) {
    case FIOCLEX:
    case FIONCLEX:
      task.files.setCloexec(fd, cmd === FIOCLEX);
      return 0;
    case FIONBIO: {
      const on = getUserInt(arg);
      if (on === null) return -EFAULT;
      file.fFlags = on ? file.fFlags | O_NONBLOCK : file.fFlags & ~O_NONBLOCK;
      return 0;
    }
    case FIOASYNC: {
      const on = getUserInt(arg);
      if (on === null) return -EFAULT;
      // No file here has a fasync operation: turning FASYNC on (or off once on) is -ENOTTY.
      return ((on ? FASYNC : 0) ^ file.fFlags) & FASYNC ? -ENOTTY : 0;
    }
    case FIOQSIZE:
      if (mode !== S_IFDIR && mode !== S_IFREG && mode !== S_IFLNK) return -ENOTTY;
      return putUser(arg, isShmemFile(file) ? shmemBytes(file) : 0, 8);
    case FIGETBSZ:
      return putUser(arg, file.inode.sb.blocksize);
    case FIBMAP: {
      // file_ioctl() (regular files only), ioctl_fibmap(): the caller is root (CAP_SYS_RAWIO), the block number is
      // read, and bmap() of a file with no a_ops->bmap (none here: pseudo filesystems and shmem) is -EINVAL, with 0
      // written back.
      if (mode !== S_IFREG) return null;
      const block = getUserInt(arg);
      if (block === null) return -EFAULT;
      if (block < 0) return -EINVAL;
      return putUser(arg, 0) || -EINVAL;
    }
    case FIONREAD:
      // file_ioctl(): regular files only; others pass it to the file.
      if (mode !== S_IFREG) return null;
      return putUser(arg, (isShmemFile(file) ? shmemSize(file) : file.inode.size) - file.fPos);
    default:
      return null;
  }
}

/** ioctl(fd, cmd, arg): -EBADF, the VFS's own requests, -ENOTTY for a file without ioctls, else the file's answer. */
export async function sysIoctl(task: Task, fd: number, cmd: number, arg: UserArg): Promise<number> {
  const file = fget(task.files, fd);
  if (!file) return -EBADF;
  try {
    const vfs = doVfsIoctl(task, fd, file, cmd >>> 0, arg);
    if (vfs !== null) return vfs;
    if (!file.fOp.unlockedIoctl) return -ENOTTY;
    return await file.fOp.unlockedIoctl(file, cmd >>> 0, arg, task);
  } finally {
    fput(file);
  }
}

/** lseek(fd, offset, whence): -EINVAL for a whence past SEEK_MAX (before the file is asked), -ESPIPE for files that cannot seek. */
export function sysLseek(task: Task, fd: number, offset: number, whence: number): number {
  const file = fdget(task.files, fd);
  if (!file) return -EBADF;
  if (whence < 0 || whence > SEEK_MAX) return -EINVAL;
  if (!file.fOp.llseek) return -ESPIPE;
  return file.fOp.llseek(file, offset, whence);
}

/** read(fd, length): the bytes, or -EBADF (not open for reading), -EINVAL (the file has no read). */
export async function sysRead(task: Task, fd: number, length: number): Promise<Uint8Array | number> {
  const file = fdget(task.files, fd);
  if (!file) return -EBADF;
  if (!(file.fMode & FMODE_READ)) return -EBADF;
  if (!file.fOp.read) return -EINVAL;
  if (length < 0) return -EINVAL;
  const r = await file.fOp.read(file, length, file.fPos, task);
  if (typeof r === 'number') return r;
  file.fPos += r.length;
  return r;
}

/** write(fd, bytes): bytes written, -EBADF (not open for writing), -EINVAL (no write). */
export function sysWrite(task: Task, fd: number, data: Uint8Array): number {
  const file = fdget(task.files, fd);
  if (!file) return -EBADF;
  if (!(file.fMode & FMODE_WRITE)) return -EBADF;
  if (!file.fOp.write) return -EINVAL;
  // O_APPEND: every write goes to the end.
  if (file.fFlags & O_APPEND && file.fOp.llseek) file.fOp.llseek(file, 0, SEEK_END);
  const n = file.fOp.write(file, data, file.fPos);
  if (n > 0) file.fPos += n;
  return n;
}

/** memfd_create(name, flags): an fd (MFD_CLOEXEC gives close-on-exec) or -EINVAL/-EMFILE. */
export function sysMemfdCreate(task: Task, name: string, flags: number): number {
  const file = memfdCreate(name, flags);
  if (typeof file === 'number') return file;
  const fd = task.files.getUnusedFdFlags(flags & 1 ? O_CLOEXEC : 0);
  if (fd < 0) {
    fput(file);
    return fd;
  }
  task.files.fdInstall(fd, file);
  return fd;
}

/** ftruncate(fd, length) */
export function sysFtruncate(task: Task, fd: number, length: number): number {
  const file = fdget(task.files, fd);
  if (!file) return -EBADF;
  if (length < 0) return -EINVAL;
  if (!isShmemFile(file)) return -EINVAL;
  return shmemTruncate(file, length);
}

/** fcntl(fd, cmd, arg) for the commands this machine has. */
export function sysFcntl(task: Task, fd: number, cmd: number, arg: number): number {
  const file = task.files.lookup(fd);
  if (!file) return -EBADF;
  // fdget_raw(), then check_fcntl_cmd(): an O_PATH file answers only these.
  if (file.fMode & FMODE_PATH && ![F_DUPFD, F_DUPFD_CLOEXEC, F_GETFD, F_SETFD, F_GETFL].includes(cmd)) return -EBADF;
  switch (cmd) {
    case F_DUPFD:
      return task.files.dup(fd, arg, 0);
    case F_DUPFD_CLOEXEC:
      return task.files.dup(fd, arg, O_CLOEXEC);
    case F_GETFD:
      return task.files.isCloexec(fd) ? FD_CLOEXEC : 0;
    case F_SETFD:
      task.files.setCloexec(fd, !!(arg & FD_CLOEXEC));
      return 0;
    case F_GETFL:
      return file.fFlags;
    case F_SETFL: {
      // setfl(): O_DIRECT on a file that cannot do direct I/O (no FMODE_CAN_ODIRECT: none here) is -EINVAL.
      if (arg & O_DIRECT) return -EINVAL;
      const changeable = O_APPEND | O_NONBLOCK | O_DIRECT | O_NOATIME;
      file.fFlags = (file.fFlags & ~changeable) | (arg & changeable);
      return 0;
    }
    case F_ADD_SEALS:
      return memfdAddSeals(file, arg);
    case F_GET_SEALS:
      return memfdGetSeals(file);
    default:
      return -EINVAL;
  }
}

/**
 * mmap(NULL, length, prot, flags, fd, offset): the mapping, or -EINVAL
 * (length 0, unaligned offset, no MAP_SHARED/MAP_PRIVATE), -EBADF, -EACCES
 * (the file's mode does not allow it), -EOVERFLOW (offset + length past
 * what the file can address), -ENODEV (the file cannot be mapped), or the
 * file's mmap error.
 */
export async function sysMmap(task: Task, length: number, prot: number, flags: number, fd: number, offset: bigint): Promise<Vma | number> {
  // Linux 6.12's order: the x86 syscall's offset check, ksys_mmap_pgoff()'s fget, then do_mmap() (mm/mmap.c):
  // the length (a size_t: -1 page-aligns to 0, ENOMEM), and the map type only after them.
  if (offset % BigInt(PAGE_SIZE) !== 0n || offset < 0n) return -EINVAL;
  const file = flags & MAP_ANONYMOUS ? null : fdget(task.files, fd);
  if (!(flags & MAP_ANONYMOUS) && !file) return -EBADF;
  if (!length) return -EINVAL;
  const size = BigInt.asUintN(64, BigInt(length));
  if (size > 2n ** 47n) return -ENOMEM;
  const len = pageAlign(Number(size));
  if (!len) return -ENOMEM;
  const type = flags & MAP_TYPE;
  let vmFlags = (prot & PROT_READ ? VM_READ : 0) | (prot & PROT_WRITE ? VM_WRITE : 0) | (prot & PROT_EXEC ? VM_EXEC : 0);
  if (!file) {
    // An anonymous mapping is MAP_SHARED or MAP_PRIVATE (MAP_SHARED_VALIDATE is for files).
    if (type !== MAP_SHARED && type !== MAP_PRIVATE) return -EINVAL;
    const vma = new Vma(task.mm.nextAddr, len, 0, vmFlags | VM_MAYREAD | VM_MAYWRITE | (type === MAP_PRIVATE ? 0 : VM_SHARED | VM_MAYSHARE));
    vma.view = new Backing('anon', len).view(0, len);
    return install(task, vma);
  }
  // file_mmap_ok(): an anon inode can address up to ULONG_MAX, a regular (shmem) file up to LLONG_MAX.
  const maxsize = isShmemFile(file) ? 0x7fffffffffffffffn : 0xffffffffffffffffn;
  if (offset + BigInt(len) > maxsize) return -EOVERFLOW;
  if (type !== MAP_SHARED && type !== MAP_PRIVATE && type !== MAP_SHARED_VALIDATE) return -EINVAL;
  // The file's mode, not its access-mode bits, decides: an fd opened with O_ACCMODE (3) may neither read nor write.
  if (type !== MAP_PRIVATE) {
    if (prot & PROT_WRITE && !(file.fMode & FMODE_WRITE)) return -EACCES;
    vmFlags |= VM_SHARED | VM_MAYSHARE;
    if (file.fMode & FMODE_WRITE) vmFlags |= VM_MAYWRITE;
  } else {
    vmFlags |= VM_MAYWRITE;
  }
  if (!(file.fMode & FMODE_READ)) return -EACCES;
  vmFlags |= VM_MAYREAD;
  // path_noexec() (a noexec mount or an SB_I_NOEXEC filesystem: procfs): an executable mapping is EPERM, before ENODEV.
  if (file.inode.sb.noexec && vmFlags & VM_EXEC) return -EPERM;
  if (!file.fOp.mmap) return -ENODEV;
  const vma = new Vma(task.mm.nextAddr, len, Number(offset >> BigInt(PAGE_SHIFT)), vmFlags);
  vma.vmFile = file;
  const ret = await file.fOp.mmap(file, vma);
  if (ret) return ret;
  if (!vma.view) return -ENODEV;
  // The mapping holds the file (vma->vm_file): the buffer lives until munmap.
  getFile(vma.vmFile as File);
  return install(task, vma);
}

function install(task: Task, vma: Vma): Vma {
  userMappingMapped(task, vma);
  const id = task.mm.nextVmaId++;
  task.mm.vmas.set(id, vma);
  task.mm.nextAddr += vma.length() + PAGE_SIZE;
  (vma as Vma & { id: number }).id = id;
  return vma;
}

/** The id the kernel gave a mapping (what munmap names). */
export function vmaId(vma: Vma): number {
  return (vma as Vma & { id: number }).id;
}

/** munmap() of a whole mapping: -EINVAL for an unknown one. */
export function sysMunmap(task: Task, id: number): number {
  const vma = task.mm.vmas.get(id);
  if (!vma) return -EINVAL;
  // Under DMABUF_CHECK_USER_MAPPINGS: a write the process made where Linux would have faulted ends it here.
  if (!userMappingUnmapped(task, vma)) return -EINTR;
  return unmap(task, id, vma);
}

/** do_munmap(): the mapping goes; its file reference with it. */
function unmap(task: Task, id: number, vma: Vma): number {
  task.mm.vmas.delete(id);
  vma.close?.();
  if (vma.vmFile) fput(vma.vmFile as File);
  vma.view = null;
  return 0;
}

export interface PollFd {
  fd: number;
  events: number;
  revents: number;
}

/**
 * poll(fds, nfds, timeout): the number of entries with events (revents
 * filled in), 0 on timeout, -EINTR when the process is signalled. A
 * negative fd is skipped; a closed one reports POLLNVAL.
 */
export async function sysPoll(task: Task, fds: PollFd[], timeoutMs: number): Promise<number> {
  const unsubs: (() => void)[] = [];
  let wake: (() => void) | null = null;
  let woken = false;
  const onWake = (): void => {
    woken = true;
    wake?.();
  };
  let register = true;
  let timedOut = timeoutMs === 0;
  const cancel = timeoutMs > 0 ? armTimeout(timeoutMs, () => {
    timedOut = true;
    wake?.();
  }) : () => {};
  const onSignal = (): void => wake?.();
  task.signal.addEventListener('abort', onSignal);
  try {
    for (;;) {
      let count = 0;
      for (const p of fds) {
        p.revents = 0;
        if (p.fd < 0) continue;
        // fdget(): an O_PATH file is not there for poll
        const file = fdget(task.files, p.fd);
        if (!file) {
          p.revents = POLLNVAL;
          count++;
          continue;
        }
        const pt: PollTable = {
          events: p.events | POLLERR | POLLHUP,
          wait: (q: WaitQueue) => {
            if (register) unsubs.push(q.add(onWake));
          },
        };
        const mask = file.fOp.poll ? await file.fOp.poll(file, pt) : DEFAULT_POLLMASK;
        p.revents = mask & (p.events | POLLERR | POLLHUP);
        if (p.revents) count++;
      }
      register = false;
      if (count || timedOut) return count;
      if (task.signal.aborted) return -EINTR;
      if (!woken) {
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = null;
      }
      woken = false;
      if (task.signal.aborted) return -EINTR;
    }
  } finally {
    cancel();
    task.signal.removeEventListener('abort', onSignal);
    for (const u of unsubs) u();
  }
}

/** fstat(fd): struct stat of the open file (cp_new_stat), or -EBADF. */
export function sysFstat(task: Task, fd: number): Uint8Array | number {
  const file = task.files.lookup(fd);
  if (!file) return -EBADF;
  const inode = file.inode;
  const dyn = inode.getattr?.() ?? {};
  const sec = (ns: bigint): bigint => ns / 1_000_000_000n;
  const nsec = (ns: bigint): bigint => ns % 1_000_000_000n;
  // generic_fillattr(): the inode's fields; a shmem file's size and blocks are its own
  const bytes = isShmemFile(file) ? shmemBytes(file) : inode.bytes;
  return stat.encode({
    st_dev: BigInt(inode.sb.dev),
    st_ino: inode.ino,
    st_mode: inode.mode,
    st_nlink: dyn.nlink ?? inode.nlink,
    st_rdev: inode.rdev,
    st_size: isShmemFile(file) ? shmemSize(file) : dyn.size ?? inode.size,
    st_blksize: inode.sb.blocksize,
    // i_blocks: 512-byte units
    st_blocks: Math.ceil(bytes / 512),
    st_atime: sec(inode.atime), st_atime_nsec: nsec(inode.atime),
    st_mtime: sec(inode.mtime), st_mtime_nsec: nsec(inode.mtime),
    st_ctime: sec(inode.ctime), st_ctime_nsec: nsec(inode.ctime),
  });
}

/**
 * readlink(path): the target of /proc/<pid>/fd/<n> (d_path of the open
 * file), -ENOENT for a process or descriptor that does not exist, -EINVAL
 * for a path that is not a symbolic link.
 */
export function sysReadlink(task: Task, path: string): string | number {
  const m = /^\/proc\/(self|\d+)\/fd\/(\d+)$/.exec(path);
  if (!m) return -EINVAL;
  const owner = m[1] === 'self' ? task : tasks.get(Number(m[1]));
  if (!owner) return -ENOENT;
  const file = owner.files.lookup(Number(m[2]));
  if (!file) return -ENOENT;
  return dPath(file);
}

/** sysctl fs.nr_open: the most a hard RLIMIT_NOFILE may be */
const NR_OPEN = 1024 * 1024;
const RLIM_NLIMITS = 16;

/**
 * prlimit64(pid, resource, new, old) for this process (pid 0 or its own):
 * the old limit, and the new one set when `setNew`. Only RLIMIT_NOFILE
 * limits anything here; the others read as unlimited and cannot be set
 * (-EINVAL, said in the kernel log). -EINVAL for cur > max or a resource
 * out of range, -EPERM for a hard limit above fs.nr_open, -ESRCH for
 * another pid.
 */
export function sysPrlimit(task: Task, pid: number, resource: number, cur: bigint, max: bigint, setNew: number): bigint[] | number {
  if (pid !== 0 && pid !== task.pid) return -ESRCH;
  if (!Number.isInteger(resource) || resource < 0 || resource >= RLIM_NLIMITS) return -EINVAL;
  const nofile = resource === RLIMIT_NOFILE;
  const old = nofile ? [BigInt(task.files.nofile), BigInt(task.files.nofileMax)] : [RLIM_INFINITY, RLIM_INFINITY];
  if (!setNew) return old;
  if (cur > max) return -EINVAL;
  if (!nofile) {
    pr_warn(`prlimit64: resource ${resource} is not modelled by this machine`);
    return -EINVAL;
  }
  if (max > BigInt(NR_OPEN)) return -EPERM;
  task.files.nofile = Number(cur);
  task.files.nofileMax = Number(max);
  return old;
}

/** getdents() of a directory of the pseudo filesystems: the names, or -ENOENT, -ENOTDIR. */
export function sysReaddir(task: Task, path: string): string[] | number {
  return vfsList(task, path);
}

/** Whole text of a procfs/debugfs/sysfs file. */
export function sysReadFile(task: Task, path: string): Promise<string | number> {
  return vfsReadText(task, path);
}

/** Descriptors in flight between processes (SCM_RIGHTS), by one-use token. */
const inFlight = new Map<string, { file: File; from: number; to: number }>();

/**
 * Send a descriptor to another process: the token the receiver redeems.
 * The message holds a reference to the file until received, or until the
 * receiver exits. -EBADF, -ESRCH for no such process.
 */
export function sysSendFd(task: Task, fd: number, toPid: number): string | number {
  const target = tasks.get(toPid);
  if (!target || target.exited) return -ESRCH;
  const file = task.files.fget(fd);
  if (!file) return -EBADF;
  const token = randomUUID();
  inFlight.set(token, { file, from: task.pid, to: toPid });
  return token;
}

/**
 * Receive a descriptor sent to this process: a new fd. A token that was
 * never issued or was already used is -EINVAL; one sent to another
 * process is -EPERM (and stays for its receiver).
 */
export function sysReceiveFd(task: Task, token: string, flags: number): number {
  const msg = inFlight.get(token);
  if (!msg) return -EINVAL;
  if (msg.to !== task.pid) return -EPERM;
  const fd = task.files.getUnusedFdFlags(flags & O_CLOEXEC);
  if (fd < 0) return fd;
  inFlight.delete(token);
  task.files.fdInstall(fd, msg.file);
  return fd;
}

/** Descriptors still in flight (leak checks). */
export function fdsInFlight(): number {
  return inFlight.size + unixInFlight.files;
}

/** Registers the descriptors in flight with the kernel's counters (Machine.stats().inFlight). */
export function fdPassingInit(): number {
  return statsRegister('inFlight', fdsInFlight);
}

/**
 * exit(): the process's pending calls are interrupted, its mappings go,
 * its descriptors close, and descriptors sent to it are dropped.
 */
export function sysExit(task: Task): void {
  if (!tasks.has(task.pid)) return;
  task.kill();
  userMappingsCheck(task);
  userMappingsForget(task);
  for (const [id, vma] of [...task.mm.vmas]) unmap(task, id, vma);
  task.files.closeAll();
  for (const [token, msg] of inFlight) {
    if (msg.to === task.pid) {
      inFlight.delete(token);
      fput(msg.file);
    }
  }
  tasks.delete(task.pid);
}

