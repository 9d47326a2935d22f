/** udmabuf (drivers/dma-buf/udmabuf.c) over memfds (mm/memfd.c). */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import '../../helpers/harness.js';
import { udmabufCreate, udmabufCreateBuf, udmabufOpen, udmabufParams, UDMABUF_FLAGS_CLOEXEC } from '../../../src/kernel/drivers/udmabuf.js';
import { UDMABUF_CREATE, UDMABUF_CREATE_LIST, udmabuf_create, udmabuf_create_list } from '../../../src/uapi/udmabuf.js';
import { Task } from '../../../src/kernel/fs/task.js';
import { memfdAddSeals, memfdCreate, memfdGetSeals, shmemInfo, shmemTruncate } from '../../../src/kernel/fs/memfd.js';
import { FdTable } from '../../../src/kernel/fs/fdtable.js';
import { fput, type File } from '../../../src/kernel/fs/file.js';
import { dmaBufGet, dmaBufPut } from '../../../src/kernel/buf/dma-buf.js';
import { dmaBufVmapUnlocked, dmaBufVunmapUnlocked, dmaBufBeginCpuAccess, dmaBufEndCpuAccess } from '../../../src/kernel/buf/cpu-access.js';
import { dmaBufAttach, dmaBufDetach, dmaBufMapAttachmentUnlocked, dmaBufUnmapAttachmentUnlocked } from '../../../src/kernel/buf/attachment.js';
import { Device } from '../../../src/kernel/mm/device.js';
import { DMA_BIDIRECTIONAL, DMA_TO_DEVICE } from '../../../src/kernel/mm/dma-mapping.js';
import { IosysMap } from '../../../src/kernel/mm/iosys-map.js';
import { PAGE_SIZE } from '../../../src/kernel/mm/page.js';
import { Vma, VM_READ, VM_SHARED, VM_WRITE } from '../../../src/kernel/mm/vma.js';
import { EBADFD, EBUSY, EINVAL, EPERM } from '../../../src/kernel/lib/errno.js';
import { F_SEAL_GROW, F_SEAL_SEAL, F_SEAL_SHRINK, F_SEAL_WRITE, MFD_ALLOW_SEALING, MFD_CLOEXEC, O_RDWR } from '../../../src/uapi/fcntl.js';

function memfd(files: FdTable, pages: number, seals = F_SEAL_SHRINK): { fd: number; file: File } {
  const file = memfdCreate('udmabuf-test', MFD_ALLOW_SEALING) as File;
  assert.equal(shmemTruncate(file, pages * PAGE_SIZE), 0);
  if (seals) assert.equal(memfdAddSeals(file, seals), 0);
  const fd = files.getUnusedFdFlags(0);
  files.fdInstall(fd, file);
  return { fd, file };
}

describe('memfd', () => {
  test('seals: only with MFD_ALLOW_SEALING; SHRINK/GROW refuse truncation; SEAL_SEAL freezes; unknown flags -EINVAL', () => {
    const unsealable = memfdCreate('x', MFD_CLOEXEC) as File;
    assert.equal(memfdGetSeals(unsealable), F_SEAL_SEAL);
    assert.equal(memfdAddSeals(unsealable, F_SEAL_SHRINK), -EPERM);
    const f = memfdCreate('y', MFD_ALLOW_SEALING) as File;
    assert.equal(shmemTruncate(f, 8192), 0);
    assert.equal(memfdAddSeals(f, F_SEAL_SHRINK | F_SEAL_GROW), 0);
    assert.equal(shmemTruncate(f, 4096), -EPERM);
    assert.equal(shmemTruncate(f, 16384), -EPERM);
    assert.equal(memfdAddSeals(f, 0x1000), -EINVAL);
    assert.equal(memfdAddSeals(f, F_SEAL_SEAL), 0);
    assert.equal(memfdAddSeals(f, F_SEAL_WRITE), -EPERM);
    assert.equal(memfdCreate('z', 0x100), -EINVAL);
    assert.equal(memfdCreate('n'.repeat(250), 0), -EINVAL);
    for (const x of [unsealable, f]) fput(x);
  });
});

describe('udmabuf', () => {
  test('a sealed memfd range becomes a dma-buf that shares its bytes', async () => {
    const files = new FdTable();
    const m = memfd(files, 4);
    const fd = udmabufCreate(UDMABUF_FLAGS_CLOEXEC, [{ memfd: m.fd, offset: 0, size: 4 * PAGE_SIZE }], files);
    assert.ok(fd >= 0);
    assert.ok(files.isCloexec(fd));
    const d = dmaBufGet(fd, files);
    assert.equal(d.expName, 'udmabuf');
    assert.equal(d.size, 4 * PAGE_SIZE);
    // Writes through the memfd mapping show through the udmabuf mapping.
    const memView = new Vma(0, 4 * PAGE_SIZE, 0, VM_READ | VM_WRITE | VM_SHARED);
    assert.equal(await m.file.fOp.mmap!(m.file, memView), 0);
    const bufView = new Vma(0, 4 * PAGE_SIZE, 0, VM_READ | VM_WRITE | VM_SHARED);
    assert.equal(await d.file.fOp.mmap!(d.file, bufView), 0);
    memView.view![3 * PAGE_SIZE + 1] = 0x5a;
    assert.equal(bufView.view![3 * PAGE_SIZE + 1], 0x5a);
    assert.equal(await d.file.fOp.mmap!(d.file, new Vma(0, PAGE_SIZE, 0, VM_READ)), -EINVAL, 'private mappings are refused');
    const map = new IosysMap();
    assert.equal(await dmaBufVmapUnlocked(d, map), 0);
    assert.equal(map.rd(3 * PAGE_SIZE + 1, 'u8'), 0x5a);
    await dmaBufVunmapUnlocked(d, map);
    // The pinned pages make F_SEAL_WRITE impossible.
    memView.close?.();
    assert.equal(memfdAddSeals(m.file, F_SEAL_WRITE), -EBUSY);
    dmaBufPut(d);
    files.closeAll();
  });

  test('creation errors in Linux\'s order', () => {
    const files = new FdTable();
    const m = memfd(files, 4);
    const unsealed = memfd(files, 4, 0);
    const writeSealed = memfd(files, 4, F_SEAL_SHRINK | F_SEAL_WRITE);
    const code = (items: Parameters<typeof udmabufCreate>[1]): number => udmabufCreate(0, items, files);
    assert.equal(code([{ memfd: m.fd, offset: PAGE_SIZE / 2, size: PAGE_SIZE }]), -EINVAL, 'offset not page aligned');
    assert.equal(code([{ memfd: m.fd, offset: 0, size: PAGE_SIZE / 2 }]), -EINVAL, 'size not page aligned');
    assert.equal(code([{ memfd: 99, offset: 0, size: PAGE_SIZE }]), -EBADFD, 'not an open fd');
    assert.equal(code([{ memfd: unsealed.fd, offset: 0, size: PAGE_SIZE }]), -EINVAL, 'not sealed against shrinking');
    assert.equal(code([{ memfd: writeSealed.fd, offset: 0, size: PAGE_SIZE }]), -EINVAL, 'sealed against writing');
    assert.equal(code([{ memfd: m.fd, offset: 0, size: 8 * PAGE_SIZE }]), -EINVAL, 'past the end of the memfd');
    assert.equal(code([]), -EINVAL, 'empty');
    const big = (udmabufParams.sizeLimitMb << 20) + PAGE_SIZE;
    assert.equal(code([{ memfd: m.fd, offset: 0, size: big }]), -EINVAL, 'over size_limit_mb');
    // A dma-buf fd is not a memfd: -EBADFD.
    const ok = code([{ memfd: m.fd, offset: 0, size: PAGE_SIZE }]);
    assert.equal(code([{ memfd: ok, offset: 0, size: PAGE_SIZE }]), -EBADFD);
    files.closeAll();
  });

  test('a list of ranges: DMA sees every page; the CPU bracket needs a begin before an end', async () => {
    const files = new FdTable();
    const a = memfd(files, 2);
    const b = memfd(files, 2);
    const d = udmabufCreateBuf([{ memfd: a.fd, offset: 0, size: 2 * PAGE_SIZE }, { memfd: b.fd, offset: PAGE_SIZE, size: PAGE_SIZE }], files);
    assert.equal(d.size, 3 * PAGE_SIZE);
    assert.equal(await dmaBufEndCpuAccess(d, DMA_TO_DEVICE), -EINVAL, 'end without begin');
    assert.equal(await dmaBufBeginCpuAccess(d, DMA_TO_DEVICE), 0);
    assert.equal(await dmaBufEndCpuAccess(d, DMA_TO_DEVICE), 0);
    const at = await dmaBufAttach(d, new Device({ name: 'dev' }));
    const sgt = await dmaBufMapAttachmentUnlocked(at, DMA_BIDIRECTIONAL);
    assert.equal(sgt.nents, 3);
    await dmaBufUnmapAttachmentUnlocked(at, sgt, DMA_BIDIRECTIONAL);
    await dmaBufDetach(d, at);
    // Two stores cannot be one CPU view: mmap and vmap of such a list fail.
    assert.equal(await d.file.fOp.mmap!(d.file, new Vma(0, 3 * PAGE_SIZE, 0, VM_READ | VM_SHARED)), -EINVAL);
    dmaBufPut(d);
    files.closeAll();
  });
});

describe('u64 offsets and sizes (found by the soak run)', () => {
  test('an offset or size of 2^31 and beyond is past the end of a small memfd: -EINVAL, nothing pinned', () => {
    const files = new FdTable();
    const { fd, file } = memfd(files, 2);
    for (const [offset, size] of [[2 ** 31, PAGE_SIZE], [2 ** 32, PAGE_SIZE], [0, 2 ** 31], [2 ** 63, PAGE_SIZE]]) {
      assert.throws(() => udmabufCreateBuf([{ memfd: fd, offset, size }], files), { code: 'EINVAL' }, `offset ${offset} size ${size}`);
    }
    assert.equal(shmemInfoPages(file), 0, 'no page was given to the memfd');
    files.close(fd);
  });

  test('PAGE_ALIGNED() and the page count are exact over the whole u64 (drivers/dma-buf/udmabuf.c udmabuf_create)', () => {
    const files = new FdTable();
    const { fd, file } = memfd(files, 2);
    // 2^64 - 1 and 2^63 + 1 round to aligned doubles: only an exact test sees the low bits.
    assert.throws(() => udmabufCreateBuf([{ memfd: fd, offset: 2n ** 64n - 1n, size: PAGE_SIZE }], files), { code: 'EINVAL', message: /offset not page aligned/ });
    assert.throws(() => udmabufCreateBuf([{ memfd: fd, offset: 0, size: 2n ** 63n + 1n }], files), { code: 'EINVAL', message: /size not page aligned/ });
    assert.throws(() => udmabufCreateBuf([{ memfd: fd, offset: 0, size: 2n ** 64n - BigInt(PAGE_SIZE) }], files), { code: 'EINVAL', message: /size_limit_mb/ });
    // Through the ioctl: the struct's u64s reach those checks unrounded.
    const dev = udmabufOpen(O_RDWR);
    const task = new Task(files);
    const create = (offset: bigint, size: bigint): number => dev.fOp.unlockedIoctl!(dev, UDMABUF_CREATE, udmabuf_create.encode({ memfd: fd, offset, size }), task) as number;
    assert.equal(create(2n ** 64n - 1n, BigInt(PAGE_SIZE)), -EINVAL);
    assert.equal(create(0n, 2n ** 63n + 1n), -EINVAL);
    const buf = create(0n, 2n * BigInt(PAGE_SIZE));
    assert.ok(buf >= 0);
    const list = udmabuf_create_list.encode({ list: [{ memfd: fd, offset: PAGE_SIZE, size: PAGE_SIZE }, { memfd: fd, offset: 0n, size: 2n ** 64n - 1n }] });
    assert.equal(dev.fOp.unlockedIoctl!(dev, UDMABUF_CREATE_LIST, list, task), -EINVAL, 'the second item is checked as exactly');
    assert.equal(shmemInfoPages(file), 2);
    fput(dev);
    files.closeAll();
  });
});

function shmemInfoPages(file: File): number {
  return shmemInfo(file).pages.size;
}
