/**
 * The memory character devices of drivers/char/mem.c that this machine
 * has: /dev/null, and /dev/kmsg (printk's, in kmsg.ts), registered by
 * chr_dev_init.
 */
import { File, Inode, type FileOperations } from './file.js';
import { devKmsgOpen } from './kmsg.js';
import { miscRegister } from './miscdevice.js';

/** /dev/null: reads end at once, writes vanish (what a new process has on fds 0, 1 and 2 here). */
const nullFops: FileOperations = {
  read: () => new Uint8Array(0),
  write: (_f, data) => data.length,
  llseek: () => 0,
};

/** open() of /dev/null */
export function devNullOpen(flags: number): File {
  return new File(new Inode(), 'null', flags, nullFops, null);
}

/** chr_dev_init(): the /dev/null and /dev/kmsg nodes (fs_initcall). */
export function chrDevInit(): number {
  return (
    miscRegister({ name: 'null', mode: 0o666, open: ({ flags }) => devNullOpen(flags) }) ||
    miscRegister({ name: 'kmsg', mode: 0o644, open: ({ flags }) => devKmsgOpen(flags) })
  );
}
