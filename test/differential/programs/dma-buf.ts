/**
 * The dma-buf ioctls (drivers/dma-buf/dma-buf.c dma_buf_ioctl): SYNC,
 * SET_NAME_A/B, EXPORT_SYNC_FILE and IMPORT_SYNC_FILE with valid, boundary
 * and invalid arguments, on a system-heap buffer.
 */
import * as u from '../../../src/uapi/index.js';
import type { Recorder } from '../recorder.js';
import { bufSync, exportSyncFile, fdinfo, fdLink, fileInfo, importSyncFile, systemBuf, withDir, withSize } from './lib.js';

/** DMA_BUF_IOCTL_SYNC: every direction with START and END, then flags Linux refuses (bits of all 64). */
export function syncFlags(r: Recorder): void {
  const buf = systemBuf(r);
  const { DMA_BUF_SYNC_READ: R, DMA_BUF_SYNC_WRITE: W, DMA_BUF_SYNC_RW: RW, DMA_BUF_SYNC_END: END } = u;
  for (const dir of [R, W, RW]) {
    bufSync(r, buf, dir);
    bufSync(r, buf, dir | END);
  }
  // END without a START, twice a START
  bufSync(r, buf, R | END);
  bufSync(r, buf, W);
  bufSync(r, buf, W);
  bufSync(r, buf, W | END);
  bufSync(r, buf, W | END);
  // no direction; unknown bits below and above bit 31
  for (const f of [0n, BigInt(END), 8n, 0x10n, 0x80000000n | BigInt(R), 1n << 32n | BigInt(R), 1n << 63n | BigInt(RW), 0xffffffffffffffffn]) bufSync(r, buf, f);
  r.close(buf);
}

/** DMA_BUF_IOCTL_SYNC with a wrong size, a wrong direction, NULL and a bare integer. */
export function syncBadArgs(r: Recorder): void {
  const buf = systemBuf(r);
  r.ioctl(buf, withSize(u.DMA_BUF_IOCTL_SYNC, 4), new Uint8Array(4).fill(0).map((_, i) => (i === 0 ? 1 : 0)));
  r.ioctl(buf, withSize(u.DMA_BUF_IOCTL_SYNC, 16), u.dma_buf_sync.encode({ flags: 1n }, 8));
  r.ioctl(buf, withDir(u.DMA_BUF_IOCTL_SYNC, u._IOC_READ), u.dma_buf_sync.encode({ flags: 1n }));
  r.ioctl(buf, withDir(u.DMA_BUF_IOCTL_SYNC, u._IOC_READ | u._IOC_WRITE), u.dma_buf_sync.encode({ flags: 1n }));
  r.ioctl(buf, u.DMA_BUF_IOCTL_SYNC, 0);
  r.ioctl(buf, u.DMA_BUF_IOCTL_SYNC);
  r.close(buf);
}

const enc = (s: string): Uint8Array => {
  const b = new TextEncoder().encode(s);
  const out = new Uint8Array(b.length + 1);
  out.set(b);
  return out;
};

/** SET_NAME_A and _B: names up to the limit and past it, empty, replaced; what readlink, fdinfo and bufinfo show. */
export function setName(r: Recorder): void {
  const buf = systemBuf(r, 8192);
  fdLink(r, buf);
  fdinfo(r, buf);
  r.ioctl(buf, u.DMA_BUF_SET_NAME_A, enc('first'));
  fdLink(r, buf);
  fdinfo(r, buf);
  r.ioctl(buf, u.DMA_BUF_SET_NAME_B, enc('second name'));
  fdLink(r, buf);
  r.ioctl(buf, u.DMA_BUF_SET_NAME_B, enc('x'.repeat(31)));
  fdLink(r, buf);
  r.ioctl(buf, u.DMA_BUF_SET_NAME_B, enc('y'.repeat(32)));
  r.ioctl(buf, u.DMA_BUF_SET_NAME_B, enc('z'.repeat(40)));
  // no NUL within the 32 bytes strndup_user reads (the array is long enough for the kernel to read them)
  r.ioctl(buf, u.DMA_BUF_SET_NAME_B, new Uint8Array(40).fill(0x61));
  fdLink(r, buf);
  r.ioctl(buf, u.DMA_BUF_SET_NAME_A, enc(''));
  fdLink(r, buf);
  fdinfo(r, buf);
  r.ioctl(buf, u.DMA_BUF_SET_NAME_A, enc('with space\tand tab'));
  fdLink(r, buf);
  fdinfo(r, buf);
  r.ioctl(buf, u.DMA_BUF_SET_NAME_A, 0);
  r.ioctl(buf, u.DMA_BUF_SET_NAME_B);
  r.ioctl(buf, withSize(u.DMA_BUF_SET_NAME_A, 2), enc('two'));
  r.ioctl(buf, withSize(u.DMA_BUF_SET_NAME_A, 16), enc('sixteen'));
  fdLink(r, buf);
  r.readFile('/sys/kernel/debug/dma_buf/bufinfo');
  r.close(buf);
}

/** EXPORT_SYNC_FILE of an idle buffer (the stub fence): flags, the sync_file's info, poll, and bad arguments. */
export function exportSyncFileIdle(r: Recorder): void {
  const buf = systemBuf(r);
  for (const flags of [0, u.DMA_BUF_SYNC_END, 8, u.DMA_BUF_SYNC_READ | 8, 0x80000000]) exportSyncFile(r, buf, flags);
  for (const flags of [u.DMA_BUF_SYNC_READ, u.DMA_BUF_SYNC_WRITE, u.DMA_BUF_SYNC_RW]) {
    const sf = exportSyncFile(r, buf, flags);
    if (sf < 0) continue;
    fileInfo(r, sf, 0);
    fileInfo(r, sf, 2);
    r.poll([{ fd: sf, events: u.POLLIN | u.POLLOUT }]);
    fdLink(r, sf);
    r.fcntl(sf, u.F_GETFD);
    r.fcntl(sf, u.F_GETFL);
    r.close(sf);
  }
  // the fd field going in is ignored
  r.ioctl(buf, u.DMA_BUF_IOCTL_EXPORT_SYNC_FILE, u.dma_buf_export_sync_file.encode({ flags: u.DMA_BUF_SYNC_READ, fd: 12345 }));
  r.ioctl(buf, u.DMA_BUF_IOCTL_EXPORT_SYNC_FILE, 0);
  r.ioctl(buf, withSize(u.DMA_BUF_IOCTL_EXPORT_SYNC_FILE, 4), new Uint8Array([1, 0, 0, 0]));
  r.ioctl(buf, withDir(u.DMA_BUF_IOCTL_EXPORT_SYNC_FILE, u._IOC_READ), u.dma_buf_export_sync_file.encode({ flags: u.DMA_BUF_SYNC_READ, fd: -1 }));
  r.close(buf);
}

/** IMPORT_SYNC_FILE: a signalled sync_file as reader and writer, then bad flags and fds; the buffer stays idle. */
export function importSyncFileIdle(r: Recorder): void {
  const buf = systemBuf(r);
  const other = systemBuf(r);
  const sf = exportSyncFile(r, other, u.DMA_BUF_SYNC_RW);
  for (const flags of [0, 8, u.DMA_BUF_SYNC_END | u.DMA_BUF_SYNC_READ, 0x100]) importSyncFile(r, buf, flags, sf);
  importSyncFile(r, buf, u.DMA_BUF_SYNC_READ, sf);
  importSyncFile(r, buf, u.DMA_BUF_SYNC_WRITE, sf);
  importSyncFile(r, buf, u.DMA_BUF_SYNC_RW, sf);
  r.poll([{ fd: buf, events: u.POLLIN | u.POLLOUT }]);
  // not a sync_file: -1, a dma-buf, the buffer itself
  importSyncFile(r, buf, u.DMA_BUF_SYNC_READ, -1);
  importSyncFile(r, buf, u.DMA_BUF_SYNC_READ, other);
  importSyncFile(r, buf, u.DMA_BUF_SYNC_READ, buf);
  r.ioctl(buf, u.DMA_BUF_IOCTL_IMPORT_SYNC_FILE, 0);
  // (a number Linux refuses before it looks at the fd: the bytes go in the recording as they are)
  r.ioctl(buf, withSize(u.DMA_BUF_IOCTL_IMPORT_SYNC_FILE, 16), u.dma_buf_import_sync_file.encode({ flags: u.DMA_BUF_SYNC_READ, fd: -1 }, 8));
  // what an export sees after the imports: the signalled fences
  const back = exportSyncFile(r, buf, u.DMA_BUF_SYNC_RW);
  if (back >= 0) {
    fileInfo(r, back, 4);
    r.close(back);
  }
  r.readFile('/sys/kernel/debug/dma_buf/bufinfo');
  r.close(sf);
  r.close(other);
  r.close(buf);
}

/** Requests a dma-buf does not know: another family's, unknown numbers, the 'b' type with other numbers. */
export function unknownIoctls(r: Recorder): void {
  const buf = systemBuf(r);
  r.ioctl(buf, u._IO('b', 9));
  r.ioctl(buf, u._IOW('b', 4, 8), new Uint8Array(8));
  r.ioctl(buf, u.SYNC_IOC_FILE_INFO, u.sync_file_info.encode({}));
  r.ioctl(buf, u.DMA_HEAP_IOCTL_ALLOC, u.dma_heap_allocation_data.encode({ len: 4096n }));
  r.close(buf);
}

/** The ioctls the VFS answers for every file before the file's own (fs/ioctl.c do_vfs_ioctl): FIOCLEX, FIONCLEX, FIONBIO, FIOASYNC, FIONREAD, FIGETBSZ. */
export function vfsIoctls(r: Recorder): void {
  const buf = systemBuf(r);
  const int = (v: number): Uint8Array => new Uint8Array(new Int32Array([v]).buffer);
  r.fcntl(buf, u.F_GETFD);
  r.ioctl(buf, FIONCLEX);
  r.fcntl(buf, u.F_GETFD);
  r.ioctl(buf, FIOCLEX);
  r.fcntl(buf, u.F_GETFD);
  r.ioctl(buf, FIONBIO, int(1));
  r.fcntl(buf, u.F_GETFL);
  r.ioctl(buf, FIONBIO, int(0));
  r.fcntl(buf, u.F_GETFL);
  r.ioctl(buf, FIONBIO, 0);
  r.ioctl(buf, FIOASYNC, int(0));
  r.ioctl(buf, FIONREAD, int(-1));
  r.ioctl(buf, FIGETBSZ, int(-1));
  r.close(buf);
}

/** include/uapi/asm-generic/ioctls.h and linux/fs.h */
const FIONREAD = 0x541b;
const FIONBIO = 0x5421;
const FIONCLEX = 0x5450;
const FIOCLEX = 0x5451;
const FIOASYNC = 0x5452;
const FIGETBSZ = u._IO(0x00, 2);
