/**
 * What fstat, readlink of /proc/<pid>/fd/<n> and fdinfo say of each kind of
 * file, as the differential runner found Linux 6.12 answering
 * (test/differential): generic_fillattr() of the file's inode and
 * superblock (fs/stat.c), d_path() (fs/d_path.c).
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import '../../helpers/harness.js';
import { startKernel } from '../../../src/kernel/init.js';
import { Task } from '../../../src/kernel/fs/task.js';
import { FdTable } from '../../../src/kernel/fs/fdtable.js';
import { sysClose, sysExit, sysFstat, sysMemfdCreate, sysOpen, sysReadFile, sysReadlink, sysWrite } from '../../../src/kernel/fs/syscalls.js';
import { dmaHeapBufferAlloc, dmaHeapFind } from '../../../src/kernel/heaps/dma-heap.js';
import { dmaBufFd } from '../../../src/kernel/buf/dma-buf.js';
import { SyncFile } from '../../../src/kernel/sync/sync-file.js';
import { dmaFenceGetStub } from '../../../src/kernel/fence/dma-fence.js';
import { mkdev } from '../../../src/kernel/fs/super.js';
import { MFD_NOEXEC_SEAL, O_CLOEXEC, O_DIRECTORY, O_RDONLY, O_RDWR } from '../../../src/uapi/fcntl.js';
import { S_IFCHR, S_IFDIR, S_IFMT, S_IFREG, stat, type Stat } from '../../../src/uapi/stat.js';

assert.equal(startKernel(), 0);

let task: Task;
before(() => {
  task = new Task(new FdTable(), 'stat-test');
});
after(() => sysExit(task));

function fstat(fd: number): Stat {
  const b = sysFstat(task, fd);
  assert.ok(b instanceof Uint8Array, `fstat(${fd}): ${b}`);
  return stat.decode(b);
}

async function dmaBuf(len: number): Promise<number> {
  return dmaBufFd(await dmaHeapBufferAlloc(dmaHeapFind('system')!, len, O_RDWR), O_CLOEXEC, task.files);
}

function mntId(fdinfo: string): string {
  return /^mnt_id:\t(\d+)$/m.exec(fdinfo)![1];
}

describe('device nodes (devtmpfs)', () => {
  test('every open of a node is a file of the node\'s inode: S_IFCHR|0600, its device number, its path', async () => {
    const a = await sysOpen(task, '/dev/dri/card0', O_RDWR);
    const b = await sysOpen(task, '/dev/dri/card0', O_RDONLY);
    const render = await sysOpen(task, '/dev/dri/renderD128', O_RDWR);
    const [sa, sb, sr] = [fstat(a), fstat(b), fstat(render)];
    assert.equal(sa.st_mode, S_IFCHR | 0o600);
    assert.equal(sa.st_ino, sb.st_ino, 'one inode, whatever the open');
    assert.notEqual(sa.st_ino, sr.st_ino);
    // DRM_MAJOR 226: the primary node is minor 0, the render node minor 128 (drm_minor_alloc, drivers/gpu/drm/drm_drv.c)
    assert.equal(sa.st_rdev, BigInt(mkdev(226, 0)));
    assert.equal(sr.st_rdev, BigInt(mkdev(226, 128)));
    assert.equal(sysReadlink(task, `/proc/self/fd/${a}`), '/dev/dri/card0');
    assert.equal(sysReadlink(task, `/proc/self/fd/${render}`), '/dev/dri/renderD128');
    for (const fd of [a, b, render]) sysClose(task, fd);
  });

  test('a heap node is S_IFCHR in the heaps\' own char region; a devtmpfs directory counts its entries (shmem: 20 bytes each, "." and ".." too)', async () => {
    const h = await sysOpen(task, '/dev/dma_heap/system', O_RDONLY);
    const s = fstat(h);
    assert.equal(s.st_mode & S_IFMT, S_IFCHR);
    assert.notEqual(s.st_rdev, 0n);
    assert.equal(sysReadlink(task, `/proc/self/fd/${h}`), '/dev/dma_heap/system');
    const dir = await sysOpen(task, '/dev/dma_heap', O_RDONLY | O_DIRECTORY);
    const d = fstat(dir);
    assert.equal(d.st_mode, S_IFDIR | 0o755);
    assert.equal(d.st_size, BigInt((2 + 2) * 20), 'system and reserved');
    assert.equal(d.st_nlink, 2n);
    sysClose(task, dir);
    sysClose(task, h);
  });
});

describe('pseudo filesystems', () => {
  test('a dma-buf: an anon inode of the dmabuf filesystem, 0600 with no file type, its size and bytes (dma_buf_getfile: i_size and inode_set_bytes)', async () => {
    const a = await dmaBuf(3 * 4096);
    const b = await dmaBuf(4096);
    const [sa, sb] = [fstat(a), fstat(b)];
    assert.equal(sa.st_mode, 0o600);
    assert.equal(sa.st_size, 12288n);
    assert.equal(sa.st_blocks, 24n, 'st_blocks is the size in 512-byte units');
    assert.equal(sa.st_nlink, 1n);
    assert.notEqual(sa.st_ino, sb.st_ino);
    assert.equal(sa.st_dev, sb.st_dev, 'one filesystem');
    assert.notEqual(sa.st_dev, 0n);
    assert.ok(sa.st_mtime > 0n, 'alloc_anon_inode() sets the times');
    sysClose(task, a);
    sysClose(task, b);
  });

  test('sync_files share the one anon inode (anon_inode_getfile, fs/anon_inodes.c)', () => {
    const fds = [0, 1].map(() => {
      const sf = SyncFile.create(dmaFenceGetStub())!;
      const fd = task.files.getUnusedFdFlags(O_CLOEXEC);
      task.files.fdInstall(fd, sf.file);
      return fd;
    });
    const [a, b] = fds.map(fstat);
    assert.equal(a.st_ino, b.st_ino);
    assert.equal(a.st_mode, 0o600);
    assert.equal(sysReadlink(task, `/proc/self/fd/${fds[0]}`), 'anon_inode:sync_file');
    for (const fd of fds) sysClose(task, fd);
  });

  test('a memfd: an unlinked shmem file (nlink 0), rwx for all or rw- with MFD_NOEXEC_SEAL, st_blocks its pages', () => {
    const m = sysMemfdCreate(task, 'stat', 0);
    let s = fstat(m);
    assert.equal(s.st_mode, S_IFREG | 0o777);
    assert.equal(s.st_nlink, 0n);
    assert.equal(s.st_blocks, 0n);
    assert.equal(sysWrite(task, m, new Uint8Array(5000)), 5000);
    s = fstat(m);
    assert.equal(s.st_size, 5000n);
    assert.equal(s.st_blocks, 16n, 'two pages written');
    assert.equal(sysReadlink(task, `/proc/self/fd/${m}`), '/memfd:stat (deleted)');
    const noexec = sysMemfdCreate(task, 'noexec', MFD_NOEXEC_SEAL);
    assert.equal(fstat(noexec).st_mode, S_IFREG | 0o666, 'memfd_create(): MFD_NOEXEC_SEAL clears the x bits (mm/memfd.c)');
    assert.notEqual(fstat(m).st_dev, 0n);
    sysClose(task, noexec);
    sysClose(task, m);
  });

  test('text files: debugfs and procfs are S_IFREG of size 0 (procfs with 1 KiB blocks), a sysfs attribute a page (kernfs); each file names its path and its mount', async () => {
    const buf = await dmaBuf(4096);
    const sw = await sysOpen(task, '/sys/kernel/debug/sync/sw_sync', O_RDWR);
    const info = await sysOpen(task, `/proc/self/fdinfo/${buf}`, O_RDONLY);
    const ino = fstat(buf).st_ino;
    const size = await sysOpen(task, `/sys/kernel/dmabuf/buffers/${ino}/size`, O_RDONLY);
    const [ssw, sinfo, ssize] = [fstat(sw), fstat(info), fstat(size)];
    assert.deepEqual([ssw.st_mode, ssw.st_size, ssw.st_blksize], [S_IFREG | 0o644, 0n, 4096n]);
    assert.deepEqual([sinfo.st_mode, sinfo.st_size, sinfo.st_blksize], [S_IFREG | 0o444, 0n, 1024n], 'proc_fill_super(): s_blocksize 1024');
    assert.deepEqual([ssize.st_mode, ssize.st_size], [S_IFREG | 0o444, 4096n]);
    assert.equal(sysReadlink(task, `/proc/self/fd/${sw}`), '/sys/kernel/debug/sync/sw_sync');
    assert.equal(sysReadlink(task, `/proc/self/fd/${info}`), `/proc/${task.pid}/fdinfo/${buf}`, 'self resolved');
    assert.equal(sysReadlink(task, `/proc/self/fd/${size}`), `/sys/kernel/dmabuf/buffers/${ino}/size`);
    // fdinfo's mnt_id is the mount of the file's filesystem: one per filesystem
    const mounts = await Promise.all([buf, sw, info, size].map(async (fd) => mntId((await sysReadFile(task, `/proc/self/fdinfo/${fd}`)) as string)));
    assert.equal(new Set(mounts).size, 4, `mnt_ids ${mounts.join(', ')}`);
    assert.equal(new Set([buf, sw, info, size].map((fd) => fstat(fd).st_dev)).size, 4, 'and a device number each');
    for (const fd of [size, info, sw, buf]) sysClose(task, fd);
  });
});
