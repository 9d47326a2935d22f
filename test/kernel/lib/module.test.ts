/**
 * Module references (kernel/module/main.c): an open device file, an open
 * debugfs file and a live dma-buf each hold their owner, so
 * try_stop_module() refuses with -EWOULDBLOCK until they are gone; a
 * going module's nodes no longer open. And the kernel's counters, which
 * modules register like built-in subsystems.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import '../../helpers/harness.js';
import { Module, MODULE_STATE_GOING, MODULE_STATE_LIVE, tryStopModule } from '../../../src/kernel/lib/module.js';
import { statsNames, statsRead, statsRegister, statsUnregister, statsUnregisterOwner } from '../../../src/kernel/lib/stats.js';
import { Task } from '../../../src/kernel/fs/task.js';
import { FdTable } from '../../../src/kernel/fs/fdtable.js';
import { File, Inode } from '../../../src/kernel/fs/file.js';
import { sysClose, sysExit, sysOpen, sysReaddir, sysReadFile } from '../../../src/kernel/fs/syscalls.js';
import { miscDeregister, miscRegister, type MiscDevice } from '../../../src/kernel/fs/miscdevice.js';
import { debugfsCreateDir, debugfsCreateFile } from '../../../src/kernel/fs/debugfs.js';
import { registryRemoveOwner } from '../../../src/kernel/fs/registry.js';
import { dmaBufExport, dmaBufPut } from '../../../src/kernel/buf/dma-buf.js';
import { EEXIST, ENODEV, ENOENT, ENXIO, EWOULDBLOCK } from '../../../src/kernel/lib/errno.js';
import { O_RDONLY, O_RDWR } from '../../../src/uapi/fcntl.js';

let task: Task;
before(() => {
  task = new Task(new FdTable(), 'insmod');
});
after(() => sysExit(task));

const noop = { unlockedIoctl: () => 0 };

describe('a module stays while its files and buffers are alive', () => {
  test('an open device file holds its owner; the module stops only once it is closed, then its node does not open', async () => {
    const mod = new Module('mydev');
    mod.state = MODULE_STATE_LIVE;
    const misc: MiscDevice = { name: 'mydev', owner: mod, open: ({ flags }) => new File(new Inode(), 'mydev', flags, noop) };
    assert.equal(miscRegister(misc), 0);
    const fd = await sysOpen(task, '/dev/mydev', O_RDWR);
    assert.ok(fd >= 0);
    assert.equal(mod.refcount, 1, 'the file holds the module');
    const dup = task.files.dup(fd);
    assert.equal(mod.refcount, 1, 'one file, one reference, however many descriptors');
    assert.equal(tryStopModule(mod), -EWOULDBLOCK);
    sysClose(task, fd);
    assert.equal(tryStopModule(mod), -EWOULDBLOCK, 'the dup still has the file');
    sysClose(task, dup);
    assert.equal(mod.refcount, 0);
    assert.equal(tryStopModule(mod), 0);
    assert.equal(mod.state, MODULE_STATE_GOING);
    // misc_open(): fops_get() of a going module fails: -ENODEV.
    assert.equal(await sysOpen(task, '/dev/mydev', O_RDWR), -ENODEV);
    assert.equal(miscDeregister(misc), 0);
    assert.equal(await sysOpen(task, '/dev/mydev', O_RDWR), -ENOENT);
  });

  test('a driver that sets the file\'s owner itself is not counted twice; a failed or throwing open gives the reference back', async () => {
    const mod = new Module('selfowned');
    let mode: 'own' | 'fail' | 'throw' = 'own';
    const misc: MiscDevice = {
      name: 'selfowned',
      owner: mod,
      open: ({ flags }) => {
        if (mode === 'fail') return -ENXIO;
        if (mode === 'throw') throw new Error('driver bug');
        const f = new File(new Inode(), 'selfowned', flags, noop);
        mod.get();
        f.owner = mod;
        return f;
      },
    };
    assert.equal(miscRegister(misc), 0);
    const fd = await sysOpen(task, '/dev/selfowned', O_RDONLY);
    assert.equal(mod.refcount, 1);
    sysClose(task, fd);
    assert.equal(mod.refcount, 0);
    mode = 'fail';
    assert.equal(await sysOpen(task, '/dev/selfowned', O_RDONLY), -ENXIO);
    assert.equal(mod.refcount, 0);
    mode = 'throw';
    await assert.rejects(sysOpen(task, '/dev/selfowned', O_RDONLY), /driver bug/);
    assert.equal(mod.refcount, 0);
    miscDeregister(misc);
  });

  test('a dma-buf exported by a module holds it until released (dma_buf_export takes exp_info->owner)', () => {
    const mod = new Module('exporter');
    const ops = { mapDmaBuf: () => null, unmapDmaBuf: () => {}, release: () => {} };
    const buf = dmaBufExport({ expName: 'exporter', owner: mod, ops, size: 4096, flags: O_RDWR, priv: {} });
    assert.equal(mod.refcount, 1);
    assert.equal(tryStopModule(mod), -EWOULDBLOCK);
    dmaBufPut(buf);
    assert.equal(tryStopModule(mod), 0);
    assert.throws(() => dmaBufExport({ expName: 'exporter', owner: mod, ops, size: 4096, flags: O_RDWR, priv: {} }), { code: 'ENOENT' });
  });

  test('a debugfs file of a going module does not open (-ENXIO, open_proxy_open); its nodes go with registryRemoveOwner', async () => {
    const mod = new Module('dbg');
    const dir = debugfsCreateDir('dbg', null, mod);
    debugfsCreateFile('state', 0o444, dir, null, { show: () => `refs ${mod.refcount}\n` }, mod);
    assert.equal(await sysReadFile(task, '/sys/kernel/debug/dbg/state'), 'refs 1\n', 'a reader holds the module while show runs');
    assert.equal(mod.refcount, 0);
    assert.equal(tryStopModule(mod), 0);
    assert.equal(await sysOpen(task, '/sys/kernel/debug/dbg/state', O_RDONLY), -ENXIO);
    assert.equal(registryRemoveOwner(mod), 1, 'the directory (and what is in it)');
    assert.equal(sysReaddir(task, '/sys/kernel/debug/dbg'), -ENOENT);
  });
});

describe('the kernel\'s counters', () => {
  test('registered by name, read in name order, removed by name or by owner', () => {
    const mod = new Module('counter');
    let n = 3;
    assert.equal(statsRegister('zz-test', () => n, mod), 0);
    assert.equal(statsRegister('aa-test', () => 1), 0);
    assert.equal(statsRegister('zz-test', () => 0), -EEXIST);
    const names = Object.keys(statsRead());
    assert.deepEqual(names, [...names].sort());
    n = 4;
    assert.equal(statsRead()['zz-test'], 4);
    statsUnregisterOwner(mod);
    assert.ok(!statsNames().includes('zz-test'));
    assert.equal(statsUnregister('aa-test'), 0);
    assert.equal(statsUnregister('aa-test'), -ENOENT);
  });

  test('a counter named like an Object member is a plain counter', () => {
    assert.equal(statsRegister('__proto__', () => 7), 0);
    const s = statsRead();
    assert.ok(Object.hasOwn(s, '__proto__'));
    assert.equal(Object.getPrototypeOf(s), Object.prototype);
    statsUnregister('__proto__');
  });
});
