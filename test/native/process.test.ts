/**
 * The native backend's process: the emulator's calls made on the host's
 * real kernel, with Linux's errno, per-process fd ownership over the OS
 * process's shared fd table, fd passing between processes of the machine,
 * and nothing left behind by a process that exits or whose thread dies.
 */
import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readlinkSync } from 'node:fs';
import * as u from '../../src/uapi/index.js';
import type { NativeMachine } from '../../src/native/machine.js';
import { NativeSyscallError } from '../../src/native/errors.js';
import { SyscallError } from '../../src/machine/errors.js';
import { nativeSkip, spawnNativeWorker, until, useNativeMachine } from '../helpers/native.js';

const machineOf = useNativeMachine();
let machine: NativeMachine;
before(async () => {
  if (!nativeSkip) machine = await machineOf();
});

/** What /proc/self/fd says fd `fd` is ('' when it is not open). */
function fdTarget(fd: number): string {
  try {
    return readlinkSync(`/proc/self/fd/${fd}`);
  } catch {
    return '';
  }
}

describe('native process: calls and errors', { skip: nativeSkip }, () => {
  test('errors carry the real errno as a SyscallError, and the path of a path call', () => {
    const p = machine.spawn();
    const e = (() => {
      try {
        p.open('/nonexistent/x');
      } catch (err) {
        return err;
      }
    })() as NativeSyscallError;
    assert.ok(e instanceof SyscallError && e instanceof NativeSyscallError);
    assert.equal(e.code, 'ENOENT');
    assert.equal(e.errno, -2);
    assert.equal(e.syscall, 'open');
    assert.equal(e.path, '/nonexistent/x');
    const fd = p.memfdCreate('errs', u.MFD_ALLOW_SEALING);
    assert.throws(() => p.ioctl(fd, 0xdead), { code: 'ENOTTY', errno: -25, syscall: 'ioctl' }, 'the real kernel: a memfd has no ioctls');
    assert.throws(() => p.lseek(fd, -1, u.SEEK_SET), { code: 'EINVAL', syscall: 'lseek' });
    assert.throws(() => p.mmap(4096, u.PROT_READ, 0, fd, 0), { code: 'EINVAL', syscall: 'mmap' }, 'neither shared nor private');
    assert.throws(() => p.readFile('/proc/self/nonexistent'), { code: 'ENOENT', path: '/proc/self/nonexistent' });
    assert.throws(() => p.readlink('/nonexistent'), { code: 'ENOENT', syscall: 'readlink', path: '/nonexistent' });
    p.ftruncate(fd, 4096);
    p.fcntl(fd, u.F_ADD_SEALS, u.F_SEAL_SHRINK);
    assert.throws(() => p.ftruncate(fd, 0), { code: 'EPERM', syscall: 'ftruncate' }, 'a sealed memfd cannot shrink');
    p.exit();
  });

  test('a process uses only its own fds: another process\'s, or Node\'s, are EBADF', () => {
    const a = machine.spawn();
    const b = machine.spawn();
    const fd = a.memfdCreate('mine');
    assert.throws(() => b.close(fd), { code: 'EBADF', syscall: 'close' });
    assert.throws(() => b.read(fd, 1), { code: 'EBADF' });
    assert.throws(() => b.ioctl(fd, 0), { code: 'EBADF' });
    const pfd: { fd: number; events: number; revents?: number }[] = [{ fd, events: u.POLLIN }];
    assert.equal(b.poll(pfd, 1000), 1, 'not in b\'s table: POLLNVAL at once, without waiting');
    assert.equal(pfd[0].revents, u.POLLNVAL);
    assert.equal(a.fcntl(fd, u.F_GETFD), 0);
    // mmap looks the fd up after the offset check (arch/x86/kernel/sys_x86_64.c, Linux 6.12): the kernel answers.
    assert.throws(() => b.mmap(4096, u.PROT_READ, u.MAP_SHARED, fd, 1), { code: 'EINVAL', syscall: 'mmap' });
    assert.throws(() => b.mmap(4096, u.PROT_READ, u.MAP_SHARED, fd, 0), { code: 'EBADF', syscall: 'mmap' });
    a.exit();
    b.exit();
  });

  test('stdio is the OS process\'s: usable by every process, closed by one only for itself', () => {
    const a = machine.spawn();
    const b = machine.spawn();
    assert.equal(a.write(1, new Uint8Array(0)), 0);
    a.close(1);
    assert.throws(() => a.write(1, new Uint8Array(0)), { code: 'EBADF' });
    assert.equal(b.write(1, new Uint8Array(0)), 0, 'b still has its stdout');
    assert.ok(fdTarget(1) !== '', 'the real fd 1 is open');
    a.exit();
    b.exit();
  });

  test('open, read, write, lseek, dup, fcntl and fstat on real files', () => {
    const p = machine.spawn();
    const fd = p.memfdCreate('rw', u.MFD_CLOEXEC);
    assert.equal(p.fcntl(fd, u.F_GETFD), u.FD_CLOEXEC);
    assert.equal(p.write(fd, new TextEncoder().encode('hello world')), 11);
    assert.equal(p.lseek(fd, 6, u.SEEK_SET), 6);
    assert.equal(new TextDecoder().decode(p.read(fd, 100)), 'world');
    assert.equal(p.read(fd, 10).length, 0, 'end of file');
    const d = p.dup(fd);
    assert.notEqual(d, fd);
    assert.equal(p.lseek(d, 0, u.SEEK_CUR), 11, 'a dup shares the file position');
    const d2 = p.fcntl(fd, u.F_DUPFD_CLOEXEC, 100);
    assert.ok(d2 >= 100);
    p.close(d2);
    const st = p.fstat(fd);
    assert.equal(st.st_size, 11n);
    assert.equal(st.st_mode & 0o170000, 0o100000, 'a memfd is a regular file');
    assert.equal(st.st_ino, p.fstat(d).st_ino);
    assert.match(p.readlink(`/proc/self/fd/${fd}`), /^\/memfd:rw/);
    const nul = p.open('/dev/null', u.O_RDWR);
    assert.equal(p.fstat(nul).st_rdev, BigInt((1 << 8) | 3), '/dev/null is char 1:3');
    assert.match(p.readFile(`/proc/self/fdinfo/${fd}`), /^pos:\t11\n/);
    assert.ok(p.readdir('/proc/self/fd').includes(String(fd)));
    p.exit();
    assert.equal(fdTarget(fd), '', 'exit closed the real fds');
    assert.equal(fdTarget(d), '');
  });

  test('getrlimit/setrlimit (RLIMIT_NOFILE) through prlimit, and EMFILE from the real kernel', () => {
    const RLIMIT_NOFILE = 7;
    const p = machine.spawn();
    const old = p.getrlimit(RLIMIT_NOFILE);
    assert.ok(old.cur > 0 && old.cur <= old.max);
    // RLIMIT_NOFILE bounds fd numbers: with the limit at the lowest free number, no new fd fits.
    const free = p.dup(0); // the kernel hands out the lowest free number
    p.close(free);
    let fd = -1;
    try {
      p.setrlimit(RLIMIT_NOFILE, { cur: free, max: old.max });
      assert.equal(p.getrlimit(RLIMIT_NOFILE).cur, free);
      assert.throws(() => (fd = p.memfdCreate('lim')), { code: 'EMFILE', syscall: 'memfd_create' });
    } finally {
      p.setrlimit(RLIMIT_NOFILE, old);
    }
    assert.equal(fd, -1);
    assert.throws(() => p.setrlimit(RLIMIT_NOFILE, { cur: old.max + 1, max: old.max }), { code: 'EINVAL' }, 'soft above hard');
    p.exit();
  });

  test('ioctl: integer and pointer forms; the argument is updated in place', () => {
    const p = machine.spawn();
    const [a, b] = p.socketpair();
    p.write(b, new Uint8Array(7));
    const FIONREAD = 0x541b;
    const arg = new Uint8Array(4);
    assert.equal(p.ioctl(a, FIONREAD, arg), 0);
    assert.equal(new DataView(arg.buffer).getInt32(0, true), 7, 'FIONREAD wrote the count into the argument');
    const FIONBIO = 0x5421;
    const on = new Uint8Array(4);
    on[0] = 1;
    p.ioctl(a, FIONBIO, on);
    assert.ok(p.fcntl(a, u.F_GETFL) & u.O_NONBLOCK, 'FIONBIO set O_NONBLOCK');
    p.read(a, 7);
    assert.throws(() => p.read(a, 1), { code: 'EAGAIN' });
    assert.throws(() => p.ioctl(a, 0x5401 /* TCGETS */, 0), { code: 'ENOTTY' }, 'integer form reaches the kernel');
    p.exit();
  });

  test('exit() is final: later calls are EBADF', () => {
    const p = machine.spawn();
    p.exit();
    assert.ok(p.exited);
    assert.throws(() => p.memfdCreate('x'), { code: 'EBADF' });
    p.exit();
  });
});

describe('native process: fds between processes', { skip: nativeSkip }, () => {
  test('sendFd gives a one-use token; the receiver gets an fd of its own', () => {
    const a = machine.spawn();
    const b = machine.spawn();
    const fd = a.memfdCreate('sent');
    a.write(fd, new Uint8Array([5, 6, 7]));
    const token = a.sendFd(fd, b.pid);
    assert.throws(() => a.receiveFd(token), { code: 'EPERM', syscall: 'recvmsg' }, 'sent to b');
    const got = b.receiveFd(token);
    assert.notEqual(got, fd);
    assert.throws(() => b.receiveFd(token), { code: 'EINVAL' }, 'one use');
    assert.throws(() => b.receiveFd('not-a-token'), { code: 'EINVAL' });
    assert.throws(() => a.sendFd(fd, 999999), { code: 'ESRCH' });
    a.close(fd);
    b.lseek(got, 0, u.SEEK_SET);
    assert.deepEqual([...b.read(got, 3)], [5, 6, 7], 'closing the sender\'s fd left the receiver\'s open');
    assert.equal(b.fcntl(got, u.F_GETFD), 0, 'no O_CLOEXEC asked: none set');
    const again = b.receiveFd(b.sendFd(got, b.pid), u.O_CLOEXEC);
    assert.equal(b.fcntl(again, u.F_GETFD), u.FD_CLOEXEC);
    a.exit();
    b.exit();
  });

  test('an fd in flight is dropped when its receiver exits, and counted until then', async () => {
    const a = machine.spawn();
    const b = machine.spawn();
    const fd = a.memfdCreate('flight');
    a.sendFd(fd, b.pid);
    assert.equal((await machine.stats()).inFlight, 1);
    b.exit();
    assert.equal((await machine.stats()).inFlight, 0);
    a.exit();
  });

  test('tokens work across worker threads', async () => {
    const main = machine.spawn();
    const w = spawnNativeWorker<number[]>(machine, `
      const { token } = await recv();
      const fd = proc.receiveFd(token);
      proc.lseek(fd, 0, u.SEEK_SET);
      const bytes = [...proc.read(fd, 4)];
      proc.exit();
      return bytes;
    `);
    const fd = main.memfdCreate('to-worker');
    main.write(fd, new Uint8Array([1, 2, 3, 4]));
    w.post({ token: main.sendFd(fd, w.pid) });
    assert.deepEqual(await w.result, [1, 2, 3, 4]);
    main.exit();
  });

  test('a worker terminated without exit leaks nothing: the machine closes its fds and unmaps its mappings', async () => {
    const w = spawnNativeWorker(machine, `
      const fd = proc.memfdCreate('orphan');
      proc.ftruncate(fd, 65536);
      const v = proc.mmap(65536, u.PROT_READ | u.PROT_WRITE, u.MAP_SHARED, fd, 0);
      v[0] = 1;
      send({ fd });
      await new Promise(() => {});
    `);
    const { fd } = (await w.next()) as { fd: number };
    assert.match(fdTarget(fd), /^\/memfd:orphan/);
    const mapped = (): boolean => /memfd:orphan/.test(readFileSync('/proc/self/maps', 'utf8'));
    assert.ok(mapped());
    await w.worker.terminate();
    await until('the machine to reap the worker\'s process', () => !mapped() && !/^\/memfd:orphan/.test(fdTarget(fd)));
    const s = await machine.stats();
    assert.equal(s.fds, 0);
    assert.equal(s.mappings, 0);
  });
});


describe('native machine: the emulator\'s machine-only features', { skip: nativeSkip }, () => {
  test('stats counts what processes hold, and reads the real taint', async () => {
    const p = machine.spawn();
    const fd = p.memfdCreate('stats');
    p.ftruncate(fd, 4096);
    const v = p.mmap(4096, u.PROT_READ, u.MAP_SHARED, fd, 0);
    const s = await machine.stats();
    assert.equal(s.fds, 1);
    assert.equal(s.mappings, 1);
    assert.ok(s.processes >= 1);
    assert.equal(typeof s.taint, 'number');
    p.munmap(v);
    p.exit();
  });

  test('traceStart and kernelHeap fail with a documented error, never a silent no-op', async () => {
    await assert.rejects(machine.traceStart(), { code: 'ERR_NATIVE_UNSUPPORTED', message: /tracefs/ });
    await assert.rejects(machine.traceStop(), { code: 'ERR_NATIVE_UNSUPPORTED' });
    await assert.rejects(machine.kernelHeap(), { code: 'ERR_NATIVE_UNSUPPORTED' });
  });

  test('dmesg reads /dev/kmsg, or surfaces why it cannot', async (t) => {
    let text: string;
    try {
      text = await machine.dmesg();
    } catch (e) {
      const err = e as NativeSyscallError;
      assert.ok(err instanceof NativeSyscallError);
      assert.equal(err.path, '/dev/kmsg');
      t.diagnostic(`dmesg: ${err.message}`);
      return;
    }
    assert.equal(typeof text, 'string');
    for (const line of text.split('\n').filter(Boolean).slice(0, 20)) assert.match(line, /^\[\s*\d+\.\d{6}\] /);
  });
});
