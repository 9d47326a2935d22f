/**
 * Path lookup, open and readdir through the registry that the initcalls
 * fill: the directories Linux lists, the open rules of each pseudo
 * filesystem (fs/debugfs, fs/kernfs, fs/proc), the nodes Linux 6.x has and
 * those it does not.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import '../../helpers/harness.js';
import { startKernel } from '../../../src/kernel/init.js';
import { Task } from '../../../src/kernel/fs/task.js';
import { FdTable } from '../../../src/kernel/fs/fdtable.js';
import { sysClose, sysExit, sysOpen, sysRead, sysReadFile, sysReaddir, sysWrite } from '../../../src/kernel/fs/syscalls.js';
import { dmaHeapBufferAlloc, dmaHeapFind } from '../../../src/kernel/heaps/dma-heap.js';
import { CMA_HEAP_NAME } from '../../../src/kernel/heaps/cma-heap.js';
import { dmaBufFd, dmaBufPut } from '../../../src/kernel/buf/dma-buf.js';
import { miscDeregister, miscRegister, type MiscDevice } from '../../../src/kernel/fs/miscdevice.js';
import { debugfsCreateDir, debugfsCreateFile, debugfsRemove } from '../../../src/kernel/fs/debugfs.js';
import { kernelKobj, kobjectCreateAndAdd, sysfsCreateFile, sysfsRemove } from '../../../src/kernel/fs/sysfs.js';
import { fileStats, type FileOperations } from '../../../src/kernel/fs/file.js';
import { devtmpfsSb } from '../../../src/kernel/fs/super.js';
import { EACCES, EBADF, EEXIST, EINVAL, EISDIR, ENOENT, ENOTDIR } from '../../../src/kernel/lib/errno.js';
import { O_RDONLY, O_RDWR, O_WRONLY } from '../../../src/uapi/fcntl.js';

assert.equal(startKernel(), 0);

let task: Task;
before(() => {
  task = new Task(new FdTable(), 'vfs-test');
});
after(() => sysExit(task));

const enc = new TextEncoder();
const dec = new TextDecoder();

async function readAll(path: string): Promise<string> {
  const fd = await sysOpen(task, path, O_RDONLY);
  assert.ok(fd >= 0, `open ${path}: ${fd}`);
  const r = await sysRead(task, fd, 1 << 16);
  sysClose(task, fd);
  assert.ok(r instanceof Uint8Array);
  return dec.decode(r);
}

describe('directories list what is registered', () => {
  test('/dev, /dev/dma_heap, debugfs and its sync directory', () => {
    assert.deepEqual(new Set(sysReaddir(task, '/dev') as string[]), new Set(['null', 'kmsg', 'dri', 'dma_heap', 'udmabuf']));
    assert.deepEqual((sysReaddir(task, '/dev/dma_heap') as string[]).sort(), [CMA_HEAP_NAME, 'system'].sort());
    assert.deepEqual(sysReaddir(task, '/dev/dri'), ['card0', 'renderD128']);
    assert.deepEqual(new Set(sysReaddir(task, '/sys/kernel/debug') as string[]), new Set(['dma_buf', 'sync']));
    // drivers/dma-buf/sync_debug.c: sync_debugfs_init creates "info" and "sw_sync" in <debugfs>/sync.
    assert.deepEqual(sysReaddir(task, '/sys/kernel/debug/sync'), ['info', 'sw_sync']);
    assert.deepEqual(sysReaddir(task, '/sys/kernel/debug/dma_buf'), ['bufinfo']);
  });

  test('/sys/kernel/dmabuf/buffers has one directory per live buffer, with exporter_name and size', async () => {
    assert.deepEqual(sysReaddir(task, '/sys/kernel/dmabuf'), ['buffers']);
    const buf = await dmaHeapBufferAlloc(dmaHeapFind('system')!, 8192, O_RDWR, 0);
    const ino = String(buf.ino);
    try {
      assert.ok((sysReaddir(task, '/sys/kernel/dmabuf/buffers') as string[]).includes(ino));
      assert.deepEqual(sysReaddir(task, `/sys/kernel/dmabuf/buffers/${ino}`), ['exporter_name', 'size']);
      assert.equal(await readAll(`/sys/kernel/dmabuf/buffers/${ino}/size`), '8192\n');
      assert.equal(await sysReadFile(task, `/sys/kernel/dmabuf/buffers/${ino}/exporter_name`), 'system\n');
    } finally {
      dmaBufPut(buf);
    }
    assert.ok(!(sysReaddir(task, '/sys/kernel/dmabuf/buffers') as string[]).includes(ino), 'gone with the buffer');
    assert.equal(sysReaddir(task, `/sys/kernel/dmabuf/buffers/${ino}`), -ENOENT);
  });

  test('/proc/self/fdinfo lists the open descriptors; names are canonical decimals (name_to_int)', async () => {
    const fd = await sysOpen(task, '/dev/null', O_RDONLY);
    assert.ok((sysReaddir(task, '/proc/self/fdinfo') as string[]).includes(String(fd)));
    assert.deepEqual(sysReaddir(task, `/proc/${task.pid}/fdinfo`), sysReaddir(task, '/proc/self/fdinfo'));
    // open(2) on a 64-bit kernel adds O_LARGEFILE (force_o_largefile() in fs/open.c): flags 0100000; /dev/null is on devtmpfs' mount.
    assert.match(await sysReadFile(task, `/proc/self/fdinfo/${fd}`) as string, new RegExp(`^pos:\t0\nflags:\t0100000\nmnt_id:\t${devtmpfsSb.mntId}\nino:\t\\d+\n$`));
    assert.equal(await sysReadFile(task, `/proc/self/fdinfo/0${fd}`), -ENOENT);
    assert.equal(await sysReadFile(task, `/proc/0${task.pid}/fdinfo/${fd}`), -ENOENT);
    sysClose(task, fd);
    assert.equal(await sysReadFile(task, `/proc/self/fdinfo/${fd}`), -ENOENT);
  });

  test('errors of readdir: -ENOENT for nothing there, -ENOTDIR for a file, walking through a file, or a relative path', () => {
    assert.equal(sysReaddir(task, '/sys/kernel/nope'), -ENOENT);
    assert.equal(sysReaddir(task, '/dev/udmabuf'), -ENOTDIR);
    assert.equal(sysReaddir(task, '/dev/udmabuf/x'), -ENOTDIR);
    assert.equal(sysReaddir(task, 'dev'), -ENOENT);
    assert.deepEqual(sysReaddir(task, '//dev/./dri/../dri/'), ['card0', 'renderD128'], 'slashes, "." and ".." as path walk does');
  });
});

describe('the nodes of Linux 6.x', () => {
  test('sw_sync is <debugfs>/sync/sw_sync only (drivers/dma-buf/sync_debug.c); the old /sys/kernel/debug/sw_sync is gone', async () => {
    const fd = await sysOpen(task, '/sys/kernel/debug/sync/sw_sync', O_RDWR);
    assert.ok(fd >= 0);
    sysClose(task, fd);
    assert.equal(await sysOpen(task, '/sys/kernel/debug/sw_sync', O_RDWR), -ENOENT);
  });

  test('a directory opens for reading (read is -EISDIR) and not for writing (-EISDIR)', async () => {
    const fd = await sysOpen(task, '/dev/dma_heap', O_RDONLY);
    assert.ok(fd >= 0);
    assert.equal(await sysRead(task, fd, 10), -EISDIR);
    sysClose(task, fd);
    assert.equal(await sysOpen(task, '/dev/dma_heap', O_RDWR), -EISDIR);
    assert.equal(await sysReadFile(task, '/sys/kernel/debug'), -EISDIR);
  });
});

describe('open rules of each filesystem', () => {
  test('debugfs: root opens a 0444 file for writing (CAP_DAC_OVERRIDE, fs/namei.c generic_permission); write is -EINVAL, read -EBADF', async () => {
    const fd = await sysOpen(task, '/sys/kernel/debug/dma_buf/bufinfo', O_WRONLY);
    assert.ok(fd >= 0, `open: ${fd}`);
    assert.equal(sysWrite(task, fd, enc.encode('x')), -EINVAL, 'a show file has no write');
    assert.equal(await sysRead(task, fd, 10), -EBADF, 'not open for reading');
    sysClose(task, fd);
    assert.match(await readAll('/sys/kernel/debug/dma_buf/bufinfo'), /^\nDma-buf Objects:\n/);
  });

  test('procfs: fdinfo (0444) opens for writing too (no permission op of its own, fs/proc/fd.c)', async () => {
    const nul = await sysOpen(task, '/dev/null', O_RDONLY);
    const fd = await sysOpen(task, `/proc/self/fdinfo/${nul}`, O_RDWR);
    assert.ok(fd >= 0, `open: ${fd}`);
    assert.equal(sysWrite(task, fd, enc.encode('x')), -EINVAL);
    sysClose(task, fd);
    sysClose(task, nul);
  });

  test('sysfs: a read-only attribute refuses a write open with -EACCES, even for root (fs/kernfs/file.c kernfs_fop_open)', async () => {
    const buf = await dmaHeapBufferAlloc(dmaHeapFind('system')!, 4096, O_RDWR, 0);
    try {
      const path = `/sys/kernel/dmabuf/buffers/${buf.ino}/size`;
      assert.equal(await sysOpen(task, path, O_WRONLY), -EACCES);
      assert.equal(await sysOpen(task, path, O_RDWR), -EACCES);
      const fd = await sysOpen(task, path, O_RDONLY);
      assert.ok(fd >= 0);
      sysClose(task, fd);
    } finally {
      dmaBufPut(buf);
    }
  });

  test('sysfs: an attribute with a store opens for writing, a write-only one not for reading', async () => {
    const dir = kobjectCreateAndAdd('vfs-test', kernelKobj);
    let value = 'a';
    assert.equal(sysfsCreateFile(dir, { name: 'rw', mode: 0o644, show: () => `${value}\n`, store: (_c, d) => ((value = dec.decode(d)), d.length) }), 0);
    assert.equal(sysfsCreateFile(dir, { name: 'wo', mode: 0o200, store: (_c, d) => d.length }), 0);
    assert.equal(sysfsCreateFile(dir, { name: 'rw', mode: 0o644, show: () => '' }), -EEXIST);
    try {
      const fd = await sysOpen(task, '/sys/kernel/vfs-test/rw', O_RDWR);
      assert.equal(sysWrite(task, fd, enc.encode('b')), 1);
      sysClose(task, fd);
      assert.equal(await sysReadFile(task, '/sys/kernel/vfs-test/rw'), 'b\n');
      assert.equal(await sysOpen(task, '/sys/kernel/vfs-test/wo', O_RDONLY), -EACCES);
      const wo = await sysOpen(task, '/sys/kernel/vfs-test/wo', O_WRONLY);
      assert.ok(wo >= 0);
      sysClose(task, wo);
    } finally {
      sysfsRemove(dir);
    }
    assert.equal(await sysOpen(task, '/sys/kernel/vfs-test/rw', O_RDONLY), -ENOENT);
  });

  test('a device node made from fops: .open runs on the new file; a failed open releases nothing and leaks nothing', async () => {
    let released = 0;
    let fail = true;
    const fops: FileOperations = {
      open: (inode, file) => {
        assert.equal(file.privateData, 'drvdata');
        assert.equal(inode.private, 'drvdata');
        return fail ? -EBADF : 0;
      },
      release: () => void released++,
    };
    const misc: MiscDevice = { name: 'test/fops-node', fops, data: 'drvdata' };
    assert.equal(miscRegister(misc), 0);
    assert.equal(miscRegister({ name: 'test/fops-node', fops }), -EEXIST);
    assert.equal(miscRegister({ name: 'test/neither' }), -EINVAL);
    assert.equal(miscRegister({ name: 'test/../x', fops }), -EINVAL);
    const live = fileStats.live;
    assert.equal(await sysOpen(task, '/dev/test/fops-node', O_RDWR), -EBADF);
    assert.equal(fileStats.live, live);
    assert.equal(released, 0, 'no release for an open that failed');
    fail = false;
    const fd = await sysOpen(task, '/dev/test/fops-node', O_RDWR);
    assert.ok(fd >= 0);
    sysClose(task, fd);
    assert.equal(released, 1);
    assert.equal(miscDeregister(misc), 0);
    assert.equal(miscDeregister(misc), -ENOENT);
    assert.equal(await sysOpen(task, '/dev/test/fops-node', O_RDWR), -ENOENT);
    assert.equal(sysReaddir(task, '/dev/test'), -ENOENT, 'devtmpfs removes the directory left empty');
  });

  test('debugfs files and directories come and go with their driver', async () => {
    const dir = debugfsCreateDir('vfs-test', null);
    debugfsCreateFile('hello', 0o444, dir, null, { show: ({ task: t }) => `hello ${t.comm}\n` });
    assert.throws(() => debugfsCreateFile('hello', 0o444, dir, null, { show: () => '' }), { code: 'EEXIST' });
    assert.throws(() => debugfsCreateFile('empty', 0o444, dir, null, {}), { code: 'EINVAL' });
    assert.equal(await readAll('/sys/kernel/debug/vfs-test/hello'), 'hello vfs-test\n');
    debugfsRemove(dir);
    assert.equal(await sysOpen(task, '/sys/kernel/debug/vfs-test/hello', O_RDONLY), -ENOENT);
  });

  test('a dma-buf fd is no path: /proc/self/fdinfo shows it with the dma-buf lines', async () => {
    const buf = await dmaHeapBufferAlloc(dmaHeapFind('system')!, 4096, O_RDWR, 0);
    const fd = dmaBufFd(buf, 0, task.files);
    assert.match(await sysReadFile(task, `/proc/self/fdinfo/${fd}`) as string, /mnt_id:\t12\n.*size:\t4096\ncount:\t1\nexp_name:\tsystem\n$/s);
    sysClose(task, fd);
  });
});
