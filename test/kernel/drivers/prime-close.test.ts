/**
 * Closing a DRM file that imported a dma-buf drops the import's reference to
 * the buffer before close(2) returns: Linux 6.12 runs the last fput's
 * release (drm_release -> drm_gem_release -> drm_prime_gem_destroy ->
 * dma_buf_put, drivers/gpu/drm/drm_prime.c) as task work before the return
 * to userspace, so the next call sees the buffer's file count back to the
 * caller's own (dma_buf_show_fdinfo's "count:"). The emulator's teardown
 * takes the resv lock asynchronously; close waits for it. Found by the
 * differential fuzzer, where the next call sometimes saw the old count.
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
import { DRM_IOCTL_PRIME_FD_TO_HANDLE, drm_prime_handle } from '../../../src/uapi/drm.js';

assert.equal(startKernel(), 0);
let task: Task;
before(() => {
  task = new Task(new FdTable(), 'prime-close');
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
