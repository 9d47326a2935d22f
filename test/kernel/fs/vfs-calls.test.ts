/**
 * What the VFS answers before a file's own operations, as the differential
 * runner found Linux 6.12 answering: do_vfs_ioctl() (fs/ioctl.c), lseek's
 * whence check (fs/read_write.c), seq_file's and kernfs' llseek
 * (fs/seq_file.c seq_lseek, fs/kernfs/file.c), and a memfd's (mm/memfd.c,
 * mm/shmem.c).
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import '../../helpers/harness.js';
import { startKernel } from '../../../src/kernel/init.js';
import { Task } from '../../../src/kernel/fs/task.js';
import { FdTable } from '../../../src/kernel/fs/fdtable.js';
import { sysClose, sysExit, sysFcntl, sysFstat, sysIoctl, sysLseek, sysMemfdCreate, sysOpen, sysRead, sysWrite } from '../../../src/kernel/fs/syscalls.js';
import { dmaHeapBufferAlloc, dmaHeapFind } from '../../../src/kernel/heaps/dma-heap.js';
import { dmaBufFd } from '../../../src/kernel/buf/dma-buf.js';
import { EBADF, EFAULT, EINVAL, ENOSYS, ENOTTY, ENXIO, ESPIPE } from '../../../src/kernel/lib/errno.js';
import {
  F_ADD_SEALS, F_GETFD, F_GETFL, F_GET_SEALS, F_SEAL_EXEC, F_SEAL_FUTURE_WRITE, F_SEAL_GROW, F_SEAL_SEAL, F_SEAL_SHRINK, F_SEAL_WRITE, FD_CLOEXEC,
  MFD_ALLOW_SEALING, MFD_EXEC, MFD_HUGETLB, MFD_NOEXEC_SEAL, O_CLOEXEC, O_NONBLOCK, O_RDONLY, O_RDWR, SEEK_CUR, SEEK_DATA, SEEK_END, SEEK_HOLE, SEEK_SET,
} from '../../../src/uapi/fcntl.js';
import { FASYNC, FIGETBSZ, FIOASYNC, FIOCLEX, FIONBIO, FIONCLEX, FIONREAD, FIOQSIZE } from '../../../src/uapi/ioctls.js';
import { stat } from '../../../src/uapi/stat.js';

assert.equal(startKernel(), 0);

let task: Task;
before(() => {
  task = new Task(new FdTable(), 'vfs-calls');
});
after(() => sysExit(task));

const int = (v: number): Uint8Array => new Uint8Array(new Int32Array([v]).buffer);
const readInt = (b: Uint8Array): number => new DataView(b.buffer).getInt32(0, true);

async function dmaBuf(): Promise<number> {
  return dmaBufFd(await dmaHeapBufferAlloc(dmaHeapFind('system')!, 4096, O_RDWR), O_CLOEXEC, task.files);
}

describe('do_vfs_ioctl(): the requests every file answers', () => {
  test('FIOCLEX and FIONCLEX set and clear close-on-exec of the descriptor', async () => {
    const fd = await dmaBuf();
    assert.equal(await sysIoctl(task, fd, FIONCLEX, 0), 0);
    assert.equal(sysFcntl(task, fd, F_GETFD, 0), 0);
    assert.equal(await sysIoctl(task, fd, FIOCLEX, 0), 0);
    assert.equal(sysFcntl(task, fd, F_GETFD, 0), FD_CLOEXEC);
    sysClose(task, fd);
  });

  test('FIONBIO takes an int: O_NONBLOCK on or off (ioctl_fionbio); NULL is EFAULT', async () => {
    const fd = await dmaBuf();
    assert.equal(await sysIoctl(task, fd, FIONBIO, int(1)), 0);
    assert.ok(sysFcntl(task, fd, F_GETFL, 0) & O_NONBLOCK);
    assert.equal(await sysIoctl(task, fd, FIONBIO, int(0)), 0);
    assert.equal(sysFcntl(task, fd, F_GETFL, 0) & O_NONBLOCK, 0);
    assert.equal(await sysIoctl(task, fd, FIONBIO, 0), -EFAULT);
    sysClose(task, fd);
  });

  test('FIOASYNC: no change is 0; turning FASYNC on a file without ->fasync is ENOTTY (ioctl_fioasync)', async () => {
    const fd = await dmaBuf();
    assert.equal(await sysIoctl(task, fd, FIOASYNC, int(0)), 0);
    assert.equal(await sysIoctl(task, fd, FIOASYNC, int(1)), -ENOTTY);
    assert.equal(sysFcntl(task, fd, F_GETFL, 0) & FASYNC, 0);
    sysClose(task, fd);
  });

  test('FIGETBSZ is the filesystem\'s block size; FIONREAD and FIOQSIZE are for regular files (a dma-buf passes them to its own ioctl: ENOTTY)', async () => {
    const fd = await dmaBuf();
    const out = int(-1);
    assert.equal(await sysIoctl(task, fd, FIGETBSZ, out), 0);
    assert.equal(readInt(out), 4096);
    assert.equal(await sysIoctl(task, fd, FIONREAD, int(0)), -ENOTTY);
    assert.equal(await sysIoctl(task, fd, FIOQSIZE, new Uint8Array(8)), -ENOTTY);
    const m = sysMemfdCreate(task, 'n', 0);
    sysWrite(task, m, new Uint8Array(100));
    sysLseek(task, m, 30, SEEK_SET);
    assert.equal(await sysIoctl(task, m, FIONREAD, out), 0);
    assert.equal(readInt(out), 70, 'i_size - f_pos (file_ioctl)');
    const q = new Uint8Array(8);
    assert.equal(await sysIoctl(task, m, FIOQSIZE, q), 0);
    assert.equal(new DataView(q.buffer).getBigInt64(0, true), 4096n, 'inode_get_bytes(): the page it has');
    // a procfs text: i_size 0, so FIONREAD goes negative once read from; proc's blocks are 1 KiB
    const info = await sysOpen(task, `/proc/self/fdinfo/${fd}`, O_RDONLY);
    await sysRead(task, info, 16);
    assert.equal(await sysIoctl(task, info, FIONREAD, out), 0);
    assert.equal(readInt(out), -16);
    assert.equal(await sysIoctl(task, info, FIGETBSZ, out), 0);
    assert.equal(readInt(out), 1024);
    for (const f of [info, m, fd]) sysClose(task, f);
  });
});

describe('lseek', () => {
  test('a whence past SEEK_MAX is EINVAL before the file is asked (even one that cannot seek: ESPIPE otherwise)', async () => {
    const fd = await dmaBuf();
    const h = await sysOpen(task, '/dev/dma_heap/system', O_RDONLY);
    assert.equal(sysLseek(task, fd, 0, 9), -EINVAL);
    assert.equal(sysLseek(task, h, 0, 9), -EINVAL);
    assert.equal(sysLseek(task, h, 0, SEEK_SET), -ESPIPE);
    sysClose(task, h);
    sysClose(task, fd);
  });

  test('procfs and debugfs texts seek with SEEK_SET and SEEK_CUR only (seq_lseek); a sysfs attribute as a file of a page (kernfs)', async () => {
    const fd = await dmaBuf();
    for (const path of [`/proc/self/fdinfo/${fd}`, '/sys/kernel/debug/dma_buf/bufinfo']) {
      const t = await sysOpen(task, path, O_RDONLY);
      assert.equal(sysLseek(task, t, 0, SEEK_END), -EINVAL, path);
      assert.equal(sysLseek(task, t, 0, SEEK_DATA), -EINVAL, path);
      assert.equal(sysLseek(task, t, 3, SEEK_SET), 3);
      assert.equal(sysLseek(task, t, 2, SEEK_CUR), 5);
      sysClose(task, t);
    }
    const ino = stat.decode(sysFstat(task, fd) as Uint8Array).st_ino;
    const a = await sysOpen(task, `/sys/kernel/dmabuf/buffers/${ino}/size`, O_RDONLY);
    assert.equal(sysLseek(task, a, 0, SEEK_END), 4096);
    assert.equal(sysLseek(task, a, 10, SEEK_DATA), 10);
    assert.equal(sysLseek(task, a, 10, SEEK_HOLE), 4096);
    assert.equal(sysLseek(task, a, 4096, SEEK_DATA), -ENXIO);
    sysClose(task, a);
    sysClose(task, fd);
  });

  test('a memfd: SEEK_DATA and SEEK_HOLE by the pages it has (shmem_file_llseek); ENXIO at or past the end', () => {
    const m = sysMemfdCreate(task, 'holes', 0);
    sysLseek(task, m, 4096, SEEK_SET);
    sysWrite(task, m, new Uint8Array([1]));
    assert.equal(sysLseek(task, m, 3 * 4096 - 1, SEEK_SET), 3 * 4096 - 1);
    sysWrite(task, m, new Uint8Array([2])); // size 3 pages; pages 1 and 2 have data
    assert.equal(sysLseek(task, m, 0, SEEK_DATA), 4096);
    assert.equal(sysLseek(task, m, 0, SEEK_HOLE), 0);
    assert.equal(sysLseek(task, m, 4096, SEEK_HOLE), 3 * 4096, 'the end of the file is a hole');
    assert.equal(sysLseek(task, m, 5000, SEEK_DATA), 5000);
    assert.equal(sysLseek(task, m, 3 * 4096, SEEK_DATA), -ENXIO);
    assert.equal(sysLseek(task, m, -1, SEEK_HOLE), -ENXIO);
    sysClose(task, m);
  });
});

describe('memfd_create and its seals (mm/memfd.c)', () => {
  test('F_SEAL_EXEC on an executable memfd implies the write seals (W^X from the start); on MFD_NOEXEC_SEAL\'s it is set already', () => {
    const m = sysMemfdCreate(task, 'x', MFD_ALLOW_SEALING);
    assert.equal(sysFcntl(task, m, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_EXEC), 0);
    assert.equal(sysFcntl(task, m, F_GET_SEALS, 0), F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_FUTURE_WRITE | F_SEAL_EXEC);
    sysClose(task, m);
    const n = sysMemfdCreate(task, 'nx', MFD_NOEXEC_SEAL);
    assert.equal(sysFcntl(task, n, F_GET_SEALS, 0), F_SEAL_EXEC, 'MFD_NOEXEC_SEAL allows sealing (no F_SEAL_SEAL) and seals exec');
    assert.equal(sysFcntl(task, n, F_ADD_SEALS, F_SEAL_EXEC), 0);
    assert.equal(sysFcntl(task, n, F_GET_SEALS, 0), F_SEAL_EXEC, 'not executable: nothing implied');
    sysClose(task, n);
    const plain = sysMemfdCreate(task, 'plain', 0);
    assert.equal(sysFcntl(task, plain, F_GET_SEALS, 0), F_SEAL_SEAL);
    sysClose(task, plain);
  });

  test('flags: MFD_EXEC with MFD_NOEXEC_SEAL is EINVAL; MFD_HUGETLB (with a size) is ENOSYS without hugetlbfs', () => {
    assert.equal(sysMemfdCreate(task, 'both', MFD_EXEC | MFD_NOEXEC_SEAL), -EINVAL);
    assert.equal(sysMemfdCreate(task, 'huge', MFD_HUGETLB), -ENOSYS);
    assert.equal(sysMemfdCreate(task, 'huge2M', MFD_HUGETLB | (21 << 26)), -ENOSYS, 'MFD_HUGE_2MB');
    assert.equal(sysMemfdCreate(task, 'bits', 21 << 26), -EINVAL, 'a size without MFD_HUGETLB');
    assert.equal(sysFcntl(task, 1000, F_GET_SEALS, 0), -EBADF);
  });
});
