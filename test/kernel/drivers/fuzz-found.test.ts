/**
 * What the differential fuzzer found in the DRM driver and around it:
 *
 * - Closing a DRM file that imported a dma-buf drops the import's reference
 *   before close(2) returns: Linux 6.12 runs the last fput's release
 *   (drm_release -> drm_gem_release -> drm_prime_gem_destroy -> dma_buf_put,
 *   drivers/gpu/drm/drm_prime.c) as task work before the return to
 *   userspace, so the next call sees the buffer's file count back to the
 *   caller's own (dma_buf_show_fdinfo's "count:"). The emulator's teardown
 *   takes the resv lock asynchronously; close waits for it.
 * - DRM_IOCTL_MODE_CREATE_DUMB's overflow checks.
 * - An executable mapping of a procfs file.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import '../../helpers/harness.js';
import { startKernel } from '../../../src/kernel/init.js';
import { Task } from '../../../src/kernel/fs/task.js';
import { FdTable } from '../../../src/kernel/fs/fdtable.js';
import { sysClose, sysExit, sysIoctl, sysOpen } from '../../../src/kernel/fs/syscalls.js';
import { dmaHeapBufferAlloc, dmaHeapFind } from '../../../src/kernel/heaps/dma-heap.js';
import { dmaBufFd } from '../../../src/kernel/buf/dma-buf.js';
import { fdinfo } from '../../../src/kernel/fs/procfs.js';
import { O_CLOEXEC, O_RDWR } from '../../../src/uapi/fcntl.js';
import { EINVAL, ENODEV, EPERM } from '../../../src/kernel/lib/errno.js';
import { DRM_IOCTL_PRIME_FD_TO_HANDLE, drm_prime_handle } from '../../../src/uapi/drm.js';

assert.equal(startKernel(), 0);
let task: Task;
before(() => {
  task = new Task(new FdTable(), 'fuzz-found');
});
after(() => sysExit(task));

const count = (fd: number): string => /^count:\t(\d+)$/m.exec(fdinfo(task, fd) as string)![1];

test('close of a DRM file that imported a dma-buf returns once the import\'s reference is gone', async () => {
  const buf = dmaBufFd(await dmaHeapBufferAlloc(dmaHeapFind('system')!, 4096, O_RDWR), O_CLOEXEC, task.files);
  const card = await sysOpen(task, '/dev/dri/card0', O_RDWR);
  assert.equal(count(buf), '1');
  assert.equal(await sysIoctl(task, card, DRM_IOCTL_PRIME_FD_TO_HANDLE, drm_prime_handle.encode({ fd: buf })), 0);
  assert.ok(Number(count(buf)) > 1, 'the import holds the buffer');
  const closing = sysClose(task, card);
  assert.ok(closing instanceof Promise, 'the close has release work to wait for');
  assert.equal(await closing, 0);
  assert.equal(count(buf), '1', 'the import is gone when close returns');
  assert.equal(sysClose(task, buf), 0, 'nothing to wait for: an answer at once');
});

// Found by the differential fuzzer's long run: drivers/gpu/drm/drm_dumb_buffers.c (Linux 6.12) drm_mode_create_dumb()
// checks in u32 arithmetic with integer divisions: stride = cpp * width, height <= U32_MAX / stride.
test('DRM_IOCTL_MODE_CREATE_DUMB: the overflow checks are u32 integer divisions on cpp * width (EINVAL, not an attempt to back 4 GiB)', async () => {
  const { DRM_IOCTL_MODE_CREATE_DUMB, drm_mode_create_dumb } = await import('../../../src/uapi/drm.js');
  const card = await sysOpen(task, '/dev/dri/card0', O_RDWR);
  const create = (width: number, height: number, bpp: number): Promise<number> =>
    sysIoctl(task, card, DRM_IOCTL_MODE_CREATE_DUMB, drm_mode_create_dumb.encode({ width, height, bpp }));
  assert.equal(await create(2 ** 29, 8, 7), -EINVAL, 'stride 2^29 (cpp 1): height 8 > U32_MAX / stride = 7');
  assert.equal(await create(1, 1, 0xffffffff), -EINVAL, 'bpp > U32_MAX - 8');
  assert.equal(await create(0xfffff001, 1, 8), -EINVAL, 'the size page-aligns past 32 bits (to 0)');
  assert.equal(await create(64, 64, 7), 0, 'bpp 7: cpp 1');
  assert.equal(await sysClose(task, card), 0);
});

// fs/proc/root.c proc_fill_super() sets SB_I_NOEXEC; mm/mmap.c do_mmap() checks path_noexec() before ->mmap.
test('an executable mapping of a procfs file is EPERM (SB_I_NOEXEC), before ENODEV', async () => {
  const { sysMmap, sysMemfdCreate } = await import('../../../src/kernel/fs/syscalls.js');
  const { MAP_SHARED, PROT_EXEC, PROT_READ } = await import('../../../src/uapi/mman.js');
  const m = sysMemfdCreate(task, 'x', 0);
  const info = await sysOpen(task, `/proc/self/fdinfo/${m}`, 0);
  assert.equal(await sysMmap(task, 1, PROT_EXEC, MAP_SHARED, info, 0n), -EPERM);
  assert.equal(await sysMmap(task, 1, PROT_READ, MAP_SHARED, info, 0n), -ENODEV);
  sysClose(task, info);
  sysClose(task, m);
});
