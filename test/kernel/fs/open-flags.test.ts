/**
 * What open(2)'s flags do before and around a file's own open, as the
 * differential fuzzer found Linux 6.12 answering (fs/open.c
 * build_open_how/build_open_flags/do_dentry_open, fs/namei.c
 * path_openat/do_open/may_open), O_PATH files (fs/file.c __fget with
 * FMODE_PATH, fs/fcntl.c check_fcntl_cmd), DRM's refusal of O_EXCL
 * (drivers/gpu/drm/drm_file.c drm_open_helper), the order of F_ADD_SEALS'
 * checks (mm/memfd.c memfd_add_seals), of mmap's (arch/x86/kernel/sys_x86_64.c,
 * mm/mmap.c ksys_mmap_pgoff and do_mmap) and FIBMAP (fs/ioctl.c file_ioctl,
 * ioctl_fibmap).
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import '../../helpers/harness.js';
import { startKernel } from '../../../src/kernel/init.js';
import { Task } from '../../../src/kernel/fs/task.js';
import { FdTable } from '../../../src/kernel/fs/fdtable.js';
import { fileStats } from '../../../src/kernel/fs/file.js';
import { sysClose, sysDup, sysExit, sysFcntl, sysFstat, sysIoctl, sysLseek, sysMemfdCreate, sysMmap, sysOpen, sysPoll, sysRead } from '../../../src/kernel/fs/syscalls.js';
import { EBADF, EBUSY, EEXIST, EFAULT, EINVAL, EISDIR, ENOENT, ENOMEM, ENOTDIR, EPERM } from '../../../src/kernel/lib/errno.js';
import {
  F_ADD_SEALS, F_DUPFD, F_GETFD, F_GETFL, F_SETFD, F_SETFL, F_SEAL_SHRINK, O_APPEND, O_CLOEXEC, O_CREAT, O_DIRECT, O_DIRECTORY, O_DSYNC, O_EXCL,
  O_LARGEFILE, O_NOCTTY, O_NOFOLLOW, O_NONBLOCK, O_PATH, O_RDONLY, O_RDWR, O_TMPFILE, O_TRUNC, O_WRONLY, SEEK_SET, __O_SYNC, __O_TMPFILE,
} from '../../../src/uapi/fcntl.js';
import { MAP_ANONYMOUS, MAP_SHARED, MAP_SHARED_VALIDATE, PROT_READ } from '../../../src/uapi/mman.js';
import { POLLIN, POLLNVAL } from '../../../src/uapi/poll.js';
import { FIBMAP } from '../../../src/uapi/ioctls.js';
import { DMA_HEAP_IOCTL_ALLOC, dma_heap_allocation_data } from '../../../src/uapi/dma-heap.js';

assert.equal(startKernel(), 0);

let task: Task;
before(() => {
  task = new Task(new FdTable(), 'open-flags');
});
after(() => sysExit(task));

const int = (v: number): Uint8Array => new Uint8Array(new Int32Array([v]).buffer);

describe('open(2) flags', () => {
  test('build_open_flags() refuses before the path is looked at: O_DIRECTORY|O_CREAT, __O_TMPFILE without O_DIRECTORY or write access (EINVAL, even for a path that does not exist)', async () => {
    assert.equal(await sysOpen(task, '/dev/null', O_DIRECTORY | O_CREAT), -EINVAL);
    assert.equal(await sysOpen(task, '/nope', O_RDWR | __O_TMPFILE), -EINVAL);
    assert.equal(await sysOpen(task, '/nope', O_RDONLY | O_TMPFILE), -EINVAL);
    assert.equal(await sysOpen(task, '', O_RDWR | __O_TMPFILE), -EINVAL, 'before getname() of an empty path');
    assert.equal(await sysOpen(task, '/nope', O_RDWR | O_TMPFILE), -ENOENT);
    assert.equal(await sysOpen(task, '/dev/null', O_RDWR | O_TMPFILE), -ENOTDIR, 'O_TMPFILE needs a directory');
    assert.equal(await sysOpen(task, '', O_RDONLY), -ENOENT);
  });

  test('do_open(): O_CREAT|O_EXCL of what exists is EEXIST, O_CREAT alone opens it; O_DIRECTORY of a file is ENOTDIR; a directory for writing or O_TRUNC is EISDIR', async () => {
    assert.equal(await sysOpen(task, '/dev/null', O_RDWR | O_CREAT | O_EXCL), -EEXIST);
    assert.equal(await sysOpen(task, '/dev/dma_heap/system', O_RDONLY | O_CREAT | O_EXCL | O_DIRECT), -EEXIST, 'before O_DIRECT');
    const fd = await sysOpen(task, '/dev/null', O_RDWR | O_CREAT);
    assert.ok(fd >= 0);
    sysClose(task, fd);
    assert.equal(await sysOpen(task, '/dev/kmsg', O_RDONLY | O_DIRECTORY), -ENOTDIR);
    assert.equal(await sysOpen(task, '/dev/dma_heap', O_RDONLY | O_CREAT), -EISDIR);
    assert.equal(await sysOpen(task, '/dev/dma_heap', O_RDONLY | O_TRUNC), -EISDIR);
    const dir = await sysOpen(task, '/dev/dma_heap', O_RDONLY | O_DIRECTORY);
    assert.ok(dir >= 0);
    sysClose(task, dir);
  });

  test('O_DIRECT: the file is opened, then refused (EINVAL: no file here can do direct I/O) and released', async () => {
    const live = fileStats.live;
    assert.equal(await sysOpen(task, '/dev/dri/card0', O_RDWR | O_DIRECT), -EINVAL);
    assert.equal(await sysOpen(task, '/dev/null', O_RDONLY | O_DIRECT), -EINVAL);
    assert.equal(fileStats.live, live, 'nothing stays open');
  });

  test('the file keeps its flags without O_CREAT, O_EXCL, O_NOCTTY, O_TRUNC and O_CLOEXEC; O_LARGEFILE always; O_SYNC brings O_DSYNC', async () => {
    const fd = await sysOpen(task, '/dev/null', O_WRONLY | O_CREAT | O_NOCTTY | O_TRUNC | O_APPEND | O_CLOEXEC | __O_SYNC);
    assert.equal(sysFcntl(task, fd, F_GETFL, 0), O_WRONLY | O_APPEND | O_LARGEFILE | __O_SYNC | O_DSYNC);
    sysClose(task, fd);
  });

  test('DRM refuses exclusive opens (EBUSY), on both nodes', async () => {
    assert.equal(await sysOpen(task, '/dev/dri/card0', O_RDWR | O_EXCL), -EBUSY);
    assert.equal(await sysOpen(task, '/dev/dri/renderD128', O_RDWR | O_EXCL), -EBUSY);
  });
});

describe('O_PATH', () => {
  test('an O_PATH open keeps only O_DIRECTORY, O_NOFOLLOW and O_CLOEXEC of the other flags and opens nothing: O_CREAT|O_EXCL and O_DIRECT are dropped', async () => {
    const live = fileStats.live;
    const fd = await sysOpen(task, '/dev/dri/card0', O_PATH | O_RDWR | O_CREAT | O_EXCL | O_DIRECT | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    assert.ok(fd >= 0);
    assert.equal(sysFcntl(task, fd, F_GETFL, 0), O_PATH | O_NOFOLLOW, 'no O_LARGEFILE, no O_NONBLOCK');
    assert.equal(fileStats.live, live + 1);
    sysClose(task, fd);
    assert.equal(await sysOpen(task, '/dev/null', O_PATH | O_DIRECTORY), -ENOTDIR);
  });

  test('its fd names the file for fstat, dup, close and fcntl\'s F_DUPFD/F_GETFD/F_SETFD/F_GETFL; everything else is EBADF (fget() passes O_PATH files over), poll says POLLNVAL', async () => {
    const fd = await sysOpen(task, '/dev/dma_heap/system', O_PATH);
    assert.ok(sysFstat(task, fd) instanceof Uint8Array);
    const d = sysDup(task, fd);
    assert.ok(d >= 0);
    sysClose(task, d);
    const d2 = sysFcntl(task, fd, F_DUPFD, 0);
    assert.ok(d2 >= 0);
    sysClose(task, d2);
    assert.equal(sysFcntl(task, fd, F_SETFD, 1), 0);
    assert.equal(sysFcntl(task, fd, F_GETFD, 0), 1);
    assert.equal(sysFcntl(task, fd, F_SETFL, O_NONBLOCK), -EBADF);
    assert.equal(sysFcntl(task, fd, F_ADD_SEALS, 0), -EBADF);
    const arg = dma_heap_allocation_data.encode({ len: 4096n, fd_flags: O_RDWR });
    assert.equal(await sysIoctl(task, fd, DMA_HEAP_IOCTL_ALLOC, arg), -EBADF);
    assert.equal(await sysRead(task, fd, 8), -EBADF);
    assert.equal(sysLseek(task, fd, 0, SEEK_SET), -EBADF);
    assert.equal(await sysMmap(task, 4096, PROT_READ, MAP_SHARED, fd, 0n), -EBADF);
    const p = [{ fd, events: POLLIN, revents: 0 }];
    assert.equal(await sysPoll(task, p, 0), 1);
    assert.equal(p[0].revents, POLLNVAL);
    sysClose(task, fd);
  });
});

describe('the order of other checks', () => {
  test('F_ADD_SEALS on any file: its mode (EPERM) before the seal bits (EINVAL) before whether it is a memfd (EINVAL)', async () => {
    const ro = await sysOpen(task, '/dev/null', O_RDONLY);
    assert.equal(sysFcntl(task, ro, F_ADD_SEALS, 0x40000000), -EPERM);
    const rw = await sysOpen(task, '/dev/null', O_RDWR);
    assert.equal(sysFcntl(task, rw, F_ADD_SEALS, F_SEAL_SHRINK), -EINVAL);
    const m = sysMemfdCreate(task, 'seals', 0);
    assert.equal(sysFcntl(task, m, F_ADD_SEALS, 0x40000000), -EINVAL, 'unknown bits before F_SEAL_SEAL');
    assert.equal(sysFcntl(task, m, F_ADD_SEALS, F_SEAL_SHRINK), -EPERM, 'no MFD_ALLOW_SEALING: F_SEAL_SEAL is set');
    for (const fd of [ro, rw, m]) sysClose(task, fd);
  });

  test('mmap: an unaligned offset, then the fd (EBADF), then the length (0 is EINVAL; one that page-aligns to 0 ENOMEM), then the map type; an anonymous mapping is never MAP_SHARED_VALIDATE', async () => {
    assert.equal(await sysMmap(task, 0, PROT_READ, 0, 1000, 1n), -EINVAL);
    assert.equal(await sysMmap(task, 0, PROT_READ, 0, 1000, 0n), -EBADF);
    const m = sysMemfdCreate(task, 'map', 0);
    assert.equal(await sysMmap(task, 0, PROT_READ, 0, m, 0n), -EINVAL);
    assert.equal(await sysMmap(task, -1, PROT_READ, 0, m, 0n), -ENOMEM);
    assert.equal(await sysMmap(task, 4096, PROT_READ, 0, m, 0n), -EINVAL);
    assert.equal(await sysMmap(task, 4096, PROT_READ, MAP_SHARED_VALIDATE | MAP_ANONYMOUS, -1, 0n), -EINVAL);
    assert.equal(await sysMmap(task, 4096, PROT_READ, MAP_SHARED | MAP_ANONYMOUS, -1, 4097n), -EINVAL);
    sysClose(task, m);
  });

  test('FIBMAP on a regular file (root): reads the block number (EFAULT without one), then bmap() of a file without ->bmap is EINVAL with 0 written back', async () => {
    const m = sysMemfdCreate(task, 'bmap', 0);
    assert.equal(await sysIoctl(task, m, FIBMAP, 0), -EFAULT);
    const arg = int(7);
    assert.equal(await sysIoctl(task, m, FIBMAP, arg), -EINVAL);
    assert.deepEqual(arg, int(0));
    assert.equal(await sysIoctl(task, m, FIBMAP, int(-1)), -EINVAL);
    sysClose(task, m);
  });
});
