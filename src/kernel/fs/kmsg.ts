/**
 * /dev/kmsg (kernel/printk/printk.c, devkmsg_write / devkmsg_read): how
 * userspace writes to and reads the kernel log. A write is one record; a
 * leading `<N>` sets its level (N & 7), else the default message level
 * (KERN_WARNING, default_message_loglevel). A read returns one record as
 * `level,seq,usec,-;text\n`, from the oldest kept onward.
 */
import { EINVAL, EAGAIN, ESPIPE } from '../lib/errno.js';
import { KERN_WARNING, logNextSeq, logRecords, printk } from '../lib/printk.js';
import { File, Inode, type FileOperations } from './file.js';

/** LOG_LINE_MAX-ish: a longer write is refused (-EINVAL), as devkmsg_write does past its buffer */
const KMSG_MAX = 1024 - 32;

/** struct devkmsg_user: the reader's place in the log (a sequence number, not a byte offset) */
interface KmsgUser {
  seq: number;
}

const kmsgFops: FileOperations = {
  write(_file, data): number {
    if (data.length > KMSG_MAX) return -EINVAL;
    let text = new TextDecoder().decode(data);
    let level = KERN_WARNING;
    const m = /^<(\d+)>/.exec(text);
    if (m) {
      level = Number(m[1]) & 7;
      text = text.slice(m[0].length);
    }
    // The newline ends the record (printk); without one Linux keeps the record open for a
    // continuation, and readers see it only once the next record arrives.
    if (text.endsWith('\n')) text = text.slice(0, -1);
    printk(level, text);
    return data.length;
  },
  read(file, length): Uint8Array | number {
    const user = file.privateData as KmsgUser;
    const r = logRecords(user.seq)[0];
    if (!r) return -EAGAIN; // O_NONBLOCK semantics: nothing new (no blocking reads here)
    const line = new TextEncoder().encode(`${r.level},${r.seq},${Math.floor(r.ts / 1000)},-;${r.text}\n`);
    if (line.length > length) return -EINVAL;
    user.seq = r.seq + 1;
    return line;
  },
  llseek(file, offset, whence): number {
    // devkmsg_llseek() (kernel/printk/printk.c, Linux 6.12): any offset is -ESPIPE, before the whence. SEEK_SET: the
    // oldest record; SEEK_DATA: the first after the last clear (nothing here clears the log: the oldest); SEEK_END:
    // after the newest (what `dmesg -w` starts from).
    if (offset !== 0) return -ESPIPE;
    const user = file.privateData as KmsgUser;
    if (whence === 0 || whence === 3) user.seq = 0;
    else if (whence === 2) user.seq = logNextSeq();
    else return -EINVAL;
    return 0;
  },
};

export function devKmsgOpen(flags: number): File {
  return new File(new Inode(), 'kmsg', flags, kmsgFops, { seq: 0 } satisfies KmsgUser);
}
