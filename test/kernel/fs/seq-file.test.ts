/**
 * Generated texts are made as a seq_file makes them (fs/seq_file.c, Linux
 * 6.12): at the first read, not at open, and again by a seek that moves the
 * position (traverse()), whose error is the seek's answer; and a write of
 * nothing to a sealed memfd (mm/shmem.c shmem_file_write_iter: the write
 * checks end it before the seals are looked at). Found by the differential
 * fuzzer.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import '../../helpers/harness.js';
import { startKernel } from '../../../src/kernel/init.js';
import { Task } from '../../../src/kernel/fs/task.js';
import { FdTable } from '../../../src/kernel/fs/fdtable.js';
import { sysClose, sysExit, sysFcntl, sysFtruncate, sysLseek, sysMemfdCreate, sysOpen, sysRead, sysWrite } from '../../../src/kernel/fs/syscalls.js';
import { dmaHeapBufferAlloc, dmaHeapFind } from '../../../src/kernel/heaps/dma-heap.js';
import { dmaBufFd } from '../../../src/kernel/buf/dma-buf.js';
import { EINVAL, ENOENT, EPERM, ESPIPE } from '../../../src/kernel/lib/errno.js';
import { F_ADD_SEALS, F_SEAL_WRITE, MFD_ALLOW_SEALING, O_CLOEXEC, O_RDONLY, O_RDWR, SEEK_CUR, SEEK_DATA, SEEK_SET } from '../../../src/uapi/fcntl.js';

assert.equal(startKernel(), 0);
let task: Task;
before(() => {
  task = new Task(new FdTable(), 'seq-file');
});
after(() => sysExit(task));

const text = (b: Uint8Array | number): string => (typeof b === 'number' ? `errno ${b}` : new TextDecoder().decode(b));

test('an fdinfo file is shown at its first read: the fd closed after the open is ENOENT then (proc_fdinfo seq_show)', async () => {
  const m = sysMemfdCreate(task, 'gone', 0);
  const info = await sysOpen(task, `/proc/self/fdinfo/${m}`, O_RDONLY);
  assert.ok(info >= 0);
  sysClose(task, m);
  assert.equal(await sysRead(task, info, 100), -ENOENT);
  sysClose(task, info);
});

test('a seek that moves the position shows the text again: its error is the seek\'s answer and the position goes back to 0; a seek to where it is shows nothing', async () => {
  const m = sysMemfdCreate(task, 'seek', 0);
  const info = await sysOpen(task, `/proc/self/fdinfo/${m}`, O_RDONLY);
  assert.equal(sysLseek(task, info, 2 ** 40, SEEK_SET), 2 ** 40, 'past the end of the text: fine');
  sysClose(task, m);
  assert.equal(sysLseek(task, info, 0, SEEK_CUR), 2 ** 40, 'not moved: not shown');
  assert.equal(sysLseek(task, info, 5, SEEK_SET), -ENOENT);
  assert.equal(sysLseek(task, info, 0, SEEK_CUR), 0);
  sysClose(task, info);
});

test('bufinfo opened before a buffer exists shows it at the first read', async () => {
  const info = await sysOpen(task, '/sys/kernel/debug/dma_buf/bufinfo', O_RDONLY);
  const fd = dmaBufFd(await dmaHeapBufferAlloc(dmaHeapFind('system')!, 4096, O_RDWR), O_CLOEXEC, task.files);
  assert.match(text(await sysRead(task, info, 4096)), /Total 1 objects, 4096 bytes/);
  sysClose(task, fd);
  sysClose(task, info);
});

test('a write of nothing to a memfd sealed against writes is 0; of something, EPERM', () => {
  const m = sysMemfdCreate(task, 'sealed', MFD_ALLOW_SEALING);
  assert.equal(sysFtruncate(task, m, 4096), 0);
  assert.equal(sysFcntl(task, m, F_ADD_SEALS, F_SEAL_WRITE), 0);
  assert.equal(sysWrite(task, m, new Uint8Array(0)), 0);
  assert.equal(sysWrite(task, m, new Uint8Array(1)), -EPERM);
  sysClose(task, m);
});

test('/dev/kmsg seeks only to 0: any offset is ESPIPE whatever the whence (kernel/printk/printk.c devkmsg_llseek); SEEK_DATA is the last clear', async () => {
  const k = await sysOpen(task, '/dev/kmsg', O_RDONLY);
  assert.equal(sysLseek(task, k, -1, SEEK_SET), -ESPIPE);
  assert.equal(sysLseek(task, k, 5, SEEK_CUR), -ESPIPE);
  assert.equal(sysLseek(task, k, 0, SEEK_CUR), -EINVAL);
  assert.equal(sysLseek(task, k, 0, SEEK_DATA), 0);
  sysClose(task, k);
});
