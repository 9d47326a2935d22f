/**
 * struct file, struct inode and their reference counting (fs/file_table.c,
 * include/linux/fs.h). A file is what a file descriptor points at; the
 * last fput() runs the file's release.
 */
import { krefGet } from '../lib/kref.js';
import { WARN } from '../lib/bug.js';
import { statsRegister } from '../lib/stats.js';
import type { ModuleRef } from '../lib/module.js';
import { O_ACCMODE } from '../../uapi/fcntl.js';
import type { Vma } from '../mm/vma.js';
import type { UserArg } from '../lib/uaccess.js';
import { anonInodeSb, type SuperBlock } from './super.js';

/**
 * struct task_struct, declared forward as in C (`struct task_struct;`):
 * the caller a file operation is handed. fs/task.ts completes it (it is
 * its Task), so this file needs neither the task nor the fd table a task
 * holds, which both need File.
 */
export interface TaskStruct {}

export const FMODE_READ = 0x1;
export const FMODE_WRITE = 0x2;
export const FMODE_LSEEK = 0x4;
export const FMODE_PREAD = 0x8;
export const FMODE_PWRITE = 0x10;
/** FMODE_PATH: an O_PATH file, which only names its path: no operations, and fget() passes it over */
export const FMODE_PATH = 0x4000;
export const FMODE_OPENED = 0x80000;

/** A poll wait: the file calls `wake(mask)` when the events it reported may have changed. */
export interface PollTable {
  /** requested events (poll_requested_events()) */
  events: number;
  /** registers interest: called by the file's poll with a wake function for its wait queue */
  wait(queue: WaitQueue): void;
}

/** Entries on every wait queue (a leak check: a cancelled or interrupted wait leaves none). */
export const waitQueueStats = { waiters: 0 };

/** The wait-queue entry count joins the kernel's counters (Machine.stats().waiters). */
export function waitQueueStatsInit(): number {
  return statsRegister('waiters', () => waitQueueStats.waiters);
}

/** wait_queue_head_t: pollers waiting for a file's events. */
export class WaitQueue {
  private readonly waiters = new Set<(mask: number) => void>();
  add(fn: (mask: number) => void): () => void {
    if (!this.waiters.has(fn)) waitQueueStats.waiters++;
    this.waiters.add(fn);
    return () => {
      if (this.waiters.delete(fn)) waitQueueStats.waiters--;
    };
  }
  /** wake_up_poll() */
  wake(mask: number): void {
    for (const w of [...this.waiters]) w(mask);
  }
  get size(): number {
    return this.waiters.size;
  }
}

/** struct file_operations (the ones this kernel uses) */
export interface FileOperations {
  /** .open: called on a file just made for a registered node (privateData is the node's data); a negative errno fails the open */
  open?(inode: Inode, file: File): number | Promise<number>;
  release?(inode: Inode, file: File): void;
  llseek?(file: File, offset: number, whence: number): number;
  mmap?(file: File, vma: Vma): number | Promise<number>;
  poll?(file: File, pt: PollTable | null): number | Promise<number>;
  /** arg: the user buffer (struct bytes) or a number; task: the caller (its fd table and signals) */
  unlockedIoctl?(file: File, cmd: number, arg: UserArg, task: TaskStruct): number | Promise<number>;
  /** may wait (a DRM file's events): then a promise, and the caller's task tells when to stop (a signal) */
  read?(file: File, length: number, pos: number, task?: TaskStruct): Uint8Array | number | Promise<Uint8Array | number>;
  write?(file: File, data: Uint8Array, pos: number): number;
  showFdinfo?(file: File): string;
  /** the name d_path() gives the file (dentry_operations.d_dname), when it is not a path */
  dname?(file: File): string;
  /** after release, when the last reference is gone (the dentry's d_release) */
  finalRelease?(file: File): void;
}

let nextIno = 1000;

let lastTimeMs = -1;
let lastTimeNs = 0n;

/** current_time(): the realtime clock in ns, what a new or changed inode's times take. */
export function currentTimeNs(): bigint {
  const ms = Date.now();
  // Inodes made in the same millisecond share one bigint (24 bytes each an idle buffer kept otherwise).
  if (ms !== lastTimeMs) {
    lastTimeMs = ms;
    lastTimeNs = BigInt(ms) * 1_000_000n;
  }
  return lastTimeNs;
}

/** inode_operations.getattr's answer: what is computed when asked (a directory's size and links follow its entries). */
export interface InodeAttrs {
  size?: number;
  nlink?: number;
}

/** struct inode */
export class Inode {
  ino: number;
  size = 0;
  /** i_mode: an anon inode's is 0600 with no file-type bits (alloc_anon_inode) */
  mode = 0o600;
  /** i_rdev of a device node (new_encode_dev) */
  rdev = 0;
  /** i_nlink: 1; 0 for an unlinked file (a memfd) */
  nlink = 1;
  /** inode_get_bytes(): i_blocks * 512 (st_blocks) */
  bytes = 0;
  /** i_atime, i_mtime, i_ctime (ns since the epoch) */
  atime: bigint;
  mtime: bigint;
  ctime: bigint;
  /** i_private */
  private: unknown = null;
  /** attributes that change with the inode's contents (see InodeAttrs) */
  getattr: (() => InodeAttrs) | null = null;
  constructor(ino?: number, readonly sb: SuperBlock = anonInodeSb) {
    this.ino = ino ?? nextIno++;
    this.atime = this.mtime = this.ctime = currentTimeNs();
  }
}

/**
 * anon_inode_inode: the one inode every anon_inode_getfile() file shares
 * (sync_file, ...): one inode number, mode 0600 with no file type.
 */
export const anonInodeInode = new Inode(undefined, anonInodeSb);

/** Files that are open (some reference left), for leak checks. */
export const fileStats = { live: 0 };

/** struct file */
export class File {
  fOp: FileOperations;
  privateData: unknown;
  /** f_flags: O_* (open flags kept by the file) */
  fFlags: number;
  /** f_mode: FMODE_* */
  fMode: number;
  /** f_count */
  refcount = 1;
  fPos = 0;
  /** the inode (an opened node's file takes the node's: vfsOpen) */
  inode: Inode;
  /** the dentry name, e.g. "dmabuf", "sync_file", "memfd:name" */
  readonly name: string;
  /** the path it was opened by, for files opened by path (what d_path shows for them) */
  path: string | null = null;
  /** the module whose code the file runs (fops->owner), held until the last fput; null for built-in code */
  owner: ModuleRef | null = null;

  constructor(inode: Inode, name: string, flags: number, fops: FileOperations, privateData: unknown = null) {
    this.inode = inode;
    this.name = name;
    this.fFlags = flags;
    this.fOp = fops;
    this.privateData = privateData;
    // OPEN_FMODE(flags): O_RDONLY -> READ, O_WRONLY -> WRITE, O_RDWR -> both
    this.fMode = (((flags & O_ACCMODE) + 1) & O_ACCMODE) | FMODE_OPENED;
    if (fops.llseek) this.fMode |= FMODE_LSEEK;
    fileStats.live++;
  }
}

/** alloc_file_pseudo(inode, mnt, name, flags, fops) */
export function allocFilePseudo(inode: Inode, name: string, flags: number, fops: FileOperations): File {
  return new File(inode, name, flags, fops);
}

/** get_file(): another reference. */
export function getFile(file: File): File {
  krefGet(file);
  return file;
}

/** file_count() */
export function fileCount(file: File): number {
  return file.refcount;
}

/** fput(): drop a reference; the last one releases the file. */
export function fput(file: File): void {
  if (file.refcount <= 0) {
    WARN(true, `fput() of a released file (${file.name})`);
    return;
  }
  if (--file.refcount > 0) return;
  fileStats.live--;
  // A file whose open failed was never opened: nothing to release (fput of an unopened file frees it).
  if (!(file.fMode & FMODE_OPENED)) return;
  file.fOp.release?.(file.inode, file);
  file.fOp.finalRelease?.(file);
  file.owner?.put();
}

/** d_path() of an open file: what /proc/<pid>/fd/<n> links to. */
export function dPath(file: File): string {
  if (file.fOp.dname) return file.fOp.dname(file);
  return file.path ?? `anon_inode:${file.name}`;
}

/** What fget()/fdget() look in: a task's fd table. */
interface FdLookup {
  lookup(fd: number): File | null;
  fget(fd: number): File | null;
}

/**
 * fget(fd): the open file behind `fd` with a new reference, or null. An
 * O_PATH file is not returned (__fget(fd, FMODE_PATH), fs/file.c): only
 * the calls that take fget_raw() — fstat, fcntl's few commands, dup,
 * close — reach one.
 */
export function fget(files: FdLookup, fd: number): File | null {
  const file = files.fget(fd);
  if (file && file.fMode & FMODE_PATH) {
    fput(file);
    return null;
  }
  return file;
}

/** fdget(fd): the open file behind `fd` without a reference (the caller is the table's user), O_PATH files passed over; or null. */
export function fdget(files: FdLookup, fd: number): File | null {
  const file = files.lookup(fd);
  return file && file.fMode & FMODE_PATH ? null : file;
}

/**
 * Release work that a file's last fput set going and that must sleep (a
 * lock): in Linux the final __fput() runs as task work before the closing
 * task returns to userspace, so close(2) returns after it. Here the work is
 * a promise, and close waits for it (releasesPending()).
 */
const deferred = new Set<Promise<unknown>>();

/** Register release work that the current close must wait for. */
export function deferRelease(work: Promise<unknown>): void {
  deferred.add(work);
  void work.finally(() => deferred.delete(work));
}

/** The release work still running, as one promise, or null when there is none. */
export function releasesPending(): Promise<void> | null {
  if (!deferred.size) return null;
  return Promise.allSettled([...deferred]).then(() => {});
}
