/**
 * mmap on the native backend: a zero-copy view over the real mapped pages,
 * detached before munmap, exit or teardown, so that a stale view reads as
 * empty instead of faulting (a read of unmapped pages would kill the OS
 * process with SIGSEGV, and this test with it).
 */
import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as u from '../../src/uapi/index.js';
import type { NativeMachine } from '../../src/native/machine.js';
import { detach, isDetached } from '../../src/native/detach.js';
import { loadLibc } from '../../src/native/libc.js';
import { nativeSkip, spawnNativeWorker, useNativeMachine } from '../helpers/native.js';

const machineOf = useNativeMachine();
let machine: NativeMachine;
before(async () => {
  if (!nativeSkip) machine = await machineOf();
});

const mapped = (name: string): boolean => readFileSync('/proc/self/maps', 'utf8').includes(`/memfd:${name}`);

describe('native mmap', { skip: nativeSkip }, () => {
  test('detach() empties an external (koffi) ArrayBuffer without touching its memory', () => {
    const libc = loadLibc();
    const mem = libc.malloc(64);
    try {
      const ab = libc.view(mem, 64);
      const v = new Uint8Array(ab);
      v[3] = 9;
      assert.equal(isDetached(ab), false);
      detach(ab);
      assert.equal(isDetached(ab), true);
      assert.equal(ab.byteLength, 0);
      assert.equal(v.length, 0);
      assert.equal(v[3], undefined);
      detach(ab); // twice is harmless
    } finally {
      libc.free(mem);
    }
  });

  test('a view is the file: writes through it are read back with read(2), and the other way', () => {
    const p = machine.spawn();
    const fd = p.memfdCreate('view');
    p.ftruncate(fd, 10000);
    const v = p.mmap(10000, u.PROT_READ | u.PROT_WRITE, u.MAP_SHARED, fd, 0);
    assert.equal(v.length, 12288, 'page-rounded');
    assert.ok(!(v.buffer instanceof SharedArrayBuffer), 'an ArrayBuffer, not a SharedArrayBuffer');
    v[4096] = 0xab;
    p.lseek(fd, 4096, u.SEEK_SET);
    assert.equal(p.read(fd, 1)[0], 0xab);
    p.lseek(fd, 7, u.SEEK_SET);
    p.write(fd, new Uint8Array([0x5a]));
    assert.equal(v[7], 0x5a);
    const second = p.mmap(4096, u.PROT_READ, u.MAP_SHARED, fd, 4096);
    assert.equal(second[0], 0xab, 'a second mapping at an offset sees the same pages');
    p.munmap(second);
    p.munmap(v);
    p.exit();
  });

  test('munmap detaches every view first: a stale view has length 0 and reads undefined, no crash', () => {
    const p = machine.spawn();
    const fd = p.memfdCreate('stale');
    p.ftruncate(fd, 8192);
    const v = p.mmap(8192, u.PROT_READ | u.PROT_WRITE, u.MAP_SHARED, fd, 0);
    v.fill(7);
    const sub = v.subarray(100, 200);
    const words = new Uint32Array(v.buffer);
    assert.ok(mapped('stale'));
    p.munmap(v);
    assert.ok(!mapped('stale'), 'the pages are unmapped for real');
    assert.equal(v.length, 0);
    assert.equal(sub.length, 0);
    assert.equal(words.length, 0);
    assert.equal(v[0], undefined);
    assert.equal(words[5], undefined);
    assert.throws(() => p.munmap(v), { code: 'EINVAL', syscall: 'munmap' }, 'unmapped already');
    p.lseek(fd, 0, u.SEEK_SET);
    assert.equal(p.read(fd, 1)[0], 7, 'the data stayed in the file');
    p.exit();
  });

  test('exit unmaps and detaches what is still mapped', () => {
    const p = machine.spawn();
    const fd = p.memfdCreate('at-exit');
    p.ftruncate(fd, 4096);
    const v = p.mmap(4096, u.PROT_READ | u.PROT_WRITE, u.MAP_SHARED, fd, 0);
    v[0] = 1;
    p.exit();
    assert.equal(v.length, 0);
    assert.ok(!mapped('at-exit'));
  });

  test('munmap of something that is not a mapping is EINVAL; MAP_FIXED is refused; mmap errors are the kernel\'s', () => {
    const p = machine.spawn();
    assert.throws(() => p.munmap(new Uint8Array(4096)), { code: 'EINVAL' });
    const fd = p.memfdCreate('bad');
    p.ftruncate(fd, 4096);
    assert.throws(() => p.mmap(4096, u.PROT_READ, u.MAP_SHARED | u.MAP_FIXED, fd, 0), { code: 'EINVAL' });
    assert.throws(() => p.mmap(4096, u.PROT_READ, u.MAP_SHARED, fd, 100), { code: 'EINVAL', syscall: 'mmap' }, 'unaligned offset');
    assert.throws(() => p.mmap(0, u.PROT_READ, u.MAP_SHARED, fd, 0), { code: 'EINVAL' }, 'zero length');
    const ro = p.open(`/proc/self/fd/${fd}`, u.O_RDONLY);
    assert.throws(() => p.mmap(4096, u.PROT_READ | u.PROT_WRITE, u.MAP_SHARED, ro, 0), { code: 'EACCES' }, 'writable shared mapping of a read-only fd');
    const none = p.mmap(4096, u.PROT_NONE, u.MAP_SHARED, fd, 0);
    assert.equal(none.length, 0, 'PROT_NONE gives an empty view: any access would fault');
    p.munmap(none);
    p.exit();
  });

  test('a worker maps the same fd for itself; the data is shared through the file, not the buffer', async () => {
    const p = machine.spawn();
    const fd = p.memfdCreate('shared-by-fd');
    p.ftruncate(fd, 4096);
    const v = p.mmap(4096, u.PROT_READ | u.PROT_WRITE, u.MAP_SHARED, fd, 0);
    v[1] = 41;
    const w = spawnNativeWorker<number>(machine, `
      const { token } = await recv();
      const fd = proc.receiveFd(token);
      const v = proc.mmap(4096, u.PROT_READ | u.PROT_WRITE, u.MAP_SHARED, fd, 0);
      v[1] += 1;
      const seen = v[1];
      proc.exit();
      return seen + (v.length === 0 ? 1000 : 0);
    `);
    w.post({ token: p.sendFd(fd, w.pid) });
    assert.equal(await w.result, 1042, 'the worker saw 41, wrote 42, and its view was detached by its exit');
    assert.equal(v[1], 42, 'our view sees the worker\'s write');
    p.munmap(v);
    p.exit();
  });
});
