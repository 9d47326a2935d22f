/**
 * Character device nodes under /dev (misc_register of drivers/char/misc.c,
 * and the class devices devtmpfs makes for other char drivers): a path, a
 * mode, how the node opens, and the module that owns it. Opening the node
 * takes a reference on the owner (fops_get), which the file keeps until
 * its last fput.
 */
import { EINVAL, ENOENT } from '../lib/errno.js';
import type { ModuleRef } from '../lib/module.js';
import { S_IFCHR } from '../../uapi/stat.js';
import type { FileOperations } from './file.js';
import { mkdev } from './super.js';
import { devDir, FileNode, registryAdd, registryMkdirs, registryRemove, type DirNode, type OpenFn } from './registry.js';

/** struct miscdevice, the parts a node needs */
export interface MiscDevice {
  /** the node's path under /dev (nodename): 'udmabuf', 'dri/card0', 'dma_heap/system' */
  name: string;
  /** permission bits (devtmpfs's default 0600) */
  mode?: number;
  /** the driver's open (it makes the File) */
  open?: OpenFn;
  /** or: the file operations the VFS makes the File with (their .open, if any, runs on it) */
  fops?: FileOperations;
  /** the module that owns the device (null: built in) */
  owner?: ModuleRef | null;
  /** the open's ctx.node.data; the privateData of a file made from fops */
  data?: unknown;
  /** the device number (mkdev(major, minor)); a misc device's by default: MISC_MAJOR and a dynamic minor */
  rdev?: number;
}

/** MISC_MAJOR (include/linux/major.h) */
export const MISC_MAJOR = 10;
/** The dynamic minors handed out (MISC_DYNAMIC_MINOR): counted down from 127, as misc_minor_alloc() does */
let nextDynamicMinor = 127;

const nodes = new Map<MiscDevice, FileNode>();

/**
 * misc_register(): create /dev/<name> (and the directories on its path).
 * 0, or -EINVAL (no name, or neither open nor fops), -EEXIST (a node of
 * that name exists), -ENOTDIR (a file is in the way).
 */
export function miscRegister(misc: MiscDevice): number {
  const parts = misc.name.split('/');
  const base = parts.pop()!;
  if (!base || parts.some((p) => p === '' || p === '.' || p === '..') || base === '.' || base === '..') return -EINVAL;
  if (!misc.open === !misc.fops) return -EINVAL;
  if (nodes.has(misc)) return -EINVAL;
  const dir = registryMkdirs(devDir, parts.join('/'), 'devtmpfs');
  if (typeof dir === 'number') return dir;
  const node = new FileNode(base, S_IFCHR | (misc.mode ?? 0o600), 'devtmpfs', { open: misc.open, fops: misc.fops }, misc.owner ?? null, misc.data ?? null);
  node.rdev = misc.rdev ?? mkdev(MISC_MAJOR, nextDynamicMinor--);
  const ret = registryAdd(dir, node);
  if (ret) return ret;
  nodes.set(misc, node);
  return 0;
}

/**
 * misc_deregister(): remove the node (files already open stay open), and
 * the directories on its path that are left empty, as devtmpfs does. 0, or
 * -ENOENT if it was not registered.
 */
export function miscDeregister(misc: MiscDevice): number {
  const node = nodes.get(misc);
  if (!node) return -ENOENT;
  nodes.delete(misc);
  let dir = node.parent;
  registryRemove(node);
  while (dir && dir !== devDir && dir.entries().length === 0) {
    const up: DirNode | null = dir.parent;
    registryRemove(dir);
    dir = up;
  }
  return 0;
}
