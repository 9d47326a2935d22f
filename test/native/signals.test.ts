/**
 * Signals on the native backend: a process blocked in a synchronous call is
 * interrupted by a real signal (tgkill to its thread, a handler installed
 * without SA_RESTART) and the call fails with EINTR; SIGKILL and SIGTERM end
 * the process and release its fds and mappings. Node keeps working
 * throughout.
 */
import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readlinkSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import * as u from '../../src/uapi/index.js';
import type { NativeMachine } from '../../src/native/machine.js';
import { SIGKILL, SIGTERM, SIGUSR1 } from '../../src/uapi/signal.js';
import { nativeSkip, spawnNativeWorker, until, useNativeMachine } from '../helpers/native.js';

const machineOf = useNativeMachine();
let machine: NativeMachine;
before(async () => {
  if (!nativeSkip) machine = await machineOf();
});

const isOpen = (fd: number, prefix: string): boolean => {
  try {
    return readlinkSync(`/proc/self/fd/${fd}`).startsWith(prefix);
  } catch {
    return false;
  }
};
const mapped = (name: string): boolean => readFileSync('/proc/self/maps', 'utf8').includes(`/memfd:${name}`);

/** The thread state of a worker's process: 'S' while it sleeps in the kernel. */
function blockedInKernel(machineTid: () => number | undefined): boolean {
  const tid = machineTid();
  if (!tid) return false;
  try {
    return /^State:\s+S/m.test(readFileSync(`/proc/self/task/${tid}/status`, 'utf8'));
  } catch {
    return false;
  }
}

describe('native signals', { skip: nativeSkip }, () => {
  test('a worker blocked in poll(-1) gets EINTR for each signal, and goes on', async () => {
    const rounds = 5;
    const w = spawnNativeWorker<string[]>(machine, `
      const [a, b] = proc.socketpair();
      const out = [];
      proc.onSignal(u.SIGUSR1, (sig) => out.push('handler ' + sig));
      send({ tid: (await import('node:fs')).readFileSync('/proc/thread-self/stat', 'utf8').split(' ')[0] });
      for (let i = 0; i < ${rounds}; i++) {
        send('blocking');
        try {
          proc.poll([{ fd: a, events: u.POLLIN }], -1);
          out.push('returned');
        } catch (e) {
          out.push(e.code);
        }
      }
      proc.exit();
      return out;
    `);
    const { tid } = (await w.next()) as { tid: string };
    for (let i = 0; i < rounds; i++) {
      assert.equal(await w.next(), 'blocking');
      await until('the worker to sleep in poll', () => blockedInKernel(() => Number(tid)));
      await machine.kill(w.pid, SIGUSR1);
    }
    assert.deepEqual(await w.result, Array(rounds).fill(['handler 10', 'EINTR']).flat());
    assert.match(await readFile('/proc/self/status', 'utf8'), /^Name:/, 'Node works');
  });

  test('a blocked read(2) on a pipe-like socket is interrupted too (no SA_RESTART)', async () => {
    const w = spawnNativeWorker<string>(machine, `
      const [a] = proc.socketpair();
      proc.onSignal(u.SIGUSR1, () => {});
      send({ tid: (await import('node:fs')).readFileSync('/proc/thread-self/stat', 'utf8').split(' ')[0] });
      try {
        proc.read(a, 1);
        return 'returned';
      } catch (e) {
        return e.code;
      } finally {
        proc.exit();
      }
    `);
    const { tid } = (await w.next()) as { tid: string };
    await until('the worker to sleep in read', () => blockedInKernel(() => Number(tid)));
    await machine.kill(w.pid, SIGUSR1);
    assert.equal(await w.result, 'EINTR');
  });

  test('SIGKILL ends a worker blocked in poll: its thread exits, its fds and mappings are released', async () => {
    const w = spawnNativeWorker(machine, `
      const fd = proc.memfdCreate('killed-blocked');
      proc.ftruncate(fd, 8192);
      const v = proc.mmap(8192, u.PROT_READ | u.PROT_WRITE, u.MAP_SHARED, fd, 0);
      v[0] = 1;
      const [a] = proc.socketpair();
      send({ fd, tid: (await import('node:fs')).readFileSync('/proc/thread-self/stat', 'utf8').split(' ')[0] });
      proc.poll([{ fd: a, events: u.POLLIN }], -1);
      return 'poll returned';
    `);
    const { fd, tid } = (await w.next()) as { fd: number; tid: string };
    assert.ok(isOpen(fd, '/memfd:killed-blocked') && mapped('killed-blocked'));
    await until('the worker to sleep in poll', () => blockedInKernel(() => Number(tid)));
    await machine.kill(w.pid, SIGKILL);
    assert.equal(await w.exited, 128 + SIGKILL, 'the thread ended as killed');
    await until('the release', () => !isOpen(fd, '/memfd:killed-blocked') && !mapped('killed-blocked'));
    await assert.rejects(machine.kill(w.pid, 0), { code: 'ESRCH' });
    const s = await machine.stats();
    assert.deepEqual([s.fds, s.mappings], [0, 0]);
    assert.match(await readFile('/proc/self/status', 'utf8'), /^Name:/, 'Node works');
  });

  test('SIGTERM ends an idle worker (waiting in its event loop) the same way', async () => {
    const w = spawnNativeWorker(machine, `
      const fd = proc.memfdCreate('killed-idle');
      proc.ftruncate(fd, 4096);
      const v = proc.mmap(4096, u.PROT_READ, u.MAP_SHARED, fd, 0);
      send({ fd });
      await recv();
      return v.length;
    `);
    const { fd } = (await w.next()) as { fd: number };
    assert.ok(isOpen(fd, '/memfd:killed-idle'));
    await machine.kill(w.pid, 0);
    await machine.kill(w.pid, SIGTERM);
    assert.equal(isOpen(fd, '/memfd:killed-idle'), false, 'the fd is closed at once');
    assert.equal(await w.exited, 128 + SIGTERM);
    await until('the release', () => !mapped('killed-idle'));
  });

  test('a killed main-thread process: its views detach, its next call fails, then it is exited', () => {
    const killer = machine.spawn();
    const p = machine.spawn();
    const fd = p.memfdCreate('killed-main');
    p.ftruncate(fd, 4096);
    const v = p.mmap(4096, u.PROT_READ | u.PROT_WRITE, u.MAP_SHARED, fd, 0);
    v[0] = 3;
    killer.kill(p.pid, SIGKILL);
    assert.ok(p.exited);
    assert.equal(v[0], 0, 'the mapping was replaced by zero pages: readable, no longer the file');
    assert.throws(() => p.memfdCreate('after'), { code: 'ESRCH', message: /killed by SIGKILL/ });
    assert.equal(v.length, 0, 'its own thread detached and unmapped');
    assert.ok(!mapped('killed-main'));
    assert.throws(() => p.memfdCreate('after'), { code: 'EBADF' });
    assert.throws(() => killer.kill(p.pid, SIGKILL), { code: 'ESRCH' });
    assert.throws(() => killer.kill(killer.pid, 99), { code: 'EINVAL' });
    killer.exit();
  });
});

describe('native shutdown', { skip: nativeSkip }, () => {
  test('shutdown reports what a live worker still holds, releases it, and the worker\'s next call is EIO', async () => {
    const { bootNative } = await import('../../src/native/machine.js');
    const m = await bootNative();
    const w = spawnNativeWorker(m, `
      const fd = proc.memfdCreate('at-shutdown');
      proc.ftruncate(fd, 4096);
      const v = proc.mmap(4096, u.PROT_READ | u.PROT_WRITE, u.MAP_SHARED, fd, 0);
      v[0] = 1;
      send({ fd });
      await recv();
      let code;
      try { proc.memfdCreate('after'); } catch (e) { code = e.code; }
      return { code, length: v.length, exited: proc.exited };
    `);
    const { fd } = (await w.next()) as { fd: number };
    const peer = m.spawn();
    peer.sendFd(peer.memfdCreate('in-flight'), w.pid);
    const leaks = await m.shutdown();
    assert.deepEqual(leaks, { processes: 2, fds: 2, mappings: 1, inFlight: 1, waits: 0 });
    assert.equal(isOpen(fd, '/memfd:at-shutdown'), false, 'closed by the shutdown');
    await until('the worker to unmap', () => !mapped('at-shutdown'));
    w.post('go');
    assert.deepEqual(await w.result, { code: 'EIO', length: 0, exited: true }, 'as on the emulator: EIO after the shutdown');
    assert.throws(() => m.channel(), /shut down/);
  });
});
