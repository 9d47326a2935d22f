/**
 * debugfs (fs/debugfs), mounted at /sys/kernel/debug: directories and
 * files created by drivers at init, a file being a generated text (a show
 * function, DEFINE_SHOW_ATTRIBUTE) or file operations of its own (sw_sync).
 * Only the mode's usual permission check applies: root may open even a
 * 0444 file for writing (CAP_DAC_OVERRIDE), and then a write fails with
 * -EINVAL as the file has no write.
 */
import { EEXIST, EINVAL, kerr } from '../lib/errno.js';
import type { ModuleRef } from '../lib/module.js';
import { S_IFREG } from '../../uapi/stat.js';
import { DirNode, FileNode, registryAdd, registryRemove, type Dentry, type FileNodeOps } from './registry.js';
import { kernelKobj } from './sysfs.js';

/** The root of debugfs (its mount point, /sys/kernel/debug). */
export const debugfsRoot = new DirNode('debug', 'debugfs');
registryAdd(kernelKobj, debugfsRoot);

/** debugfs_create_dir(name, parent): throws -EEXIST for a name in use. */
export function debugfsCreateDir(name: string, parent: DirNode | null, owner: ModuleRef | null = null): DirNode {
  const dir = new DirNode(name, 'debugfs', null, owner);
  if (registryAdd(parent ?? debugfsRoot, dir)) throw kerr(-EEXIST, `debugfs: '${name}' already present`);
  return dir;
}

/**
 * debugfs_create_file(name, mode, parent, data, fops): a file that opens
 * with `ops` (show, fops or open). Throws -EINVAL without any, -EEXIST for
 * a name in use.
 */
export function debugfsCreateFile(name: string, mode: number, parent: DirNode | null, data: unknown, ops: FileNodeOps, owner: ModuleRef | null = null): FileNode {
  if (!ops.show && !ops.fops && !ops.open) throw kerr(-EINVAL, 'debugfs: a file needs show, fops or open');
  const node = new FileNode(name, S_IFREG | (mode & 0o777), 'debugfs', ops, owner, data);
  if (registryAdd(parent ?? debugfsRoot, node)) throw kerr(-EEXIST, `debugfs: '${name}' already present`);
  return node;
}

/** debugfs_remove(): a file, or a directory with everything in it; null is ignored. */
export function debugfsRemove(dentry: Dentry | null): void {
  if (dentry) registryRemove(dentry);
}
