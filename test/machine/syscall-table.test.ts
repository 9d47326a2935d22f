/**
 * The syscall table makes both twins of every call: the same program, run
 * once with the synchronous calls and once with the async twins, gives the
 * same results and the same errors (code, errno, syscall, path), call for
 * call, and every syscall method is in it.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { backendSkip, useMachine } from '../helpers/machine.js';
import { SYSCALL_METHODS, type Process } from '../../src/index.js';
import * as u from '../../src/uapi/index.js';
import { RLIMIT_NOFILE } from '../../src/uapi/signal.js';
import { S_IFMT } from '../../src/uapi/stat.js';

type Call = (name: string, ...args: unknown[]) => Promise<unknown>;

/** DMA_HEAP_IOCTL_ALLOC's struct dma_heap_allocation_data { u64 len; u32 fd; u32 fd_flags; u64 heap_flags } */
function allocArg(len: number): Uint8Array {
  const b = new Uint8Array(24);
  const dv = new DataView(b.buffer);
  dv.setBigUint64(0, BigInt(len), true);
  dv.setUint32(12, u.O_RDWR | u.O_CLOEXEC, true);
  return b;
}

/** One program over every syscall; `call` runs one (a twin) and records its outcome. */
async function program(proc: Process, call: Call): Promise<void> {
  const heap = (await call('open', '/dev/dma_heap/system', u.O_RDWR | u.O_CLOEXEC)) as number;
  await call('open', '/dev/does-not-exist', u.O_RDONLY);
  const arg = allocArg(8192);
  await call('ioctl', heap, u.DMA_HEAP_IOCTL_ALLOC, arg);
  const buf = new DataView(arg.buffer).getUint32(8, true);
  await call('ioctl', heap, 0x12345678, 0);
  const d = (await call('dup', buf)) as number;
  await call('close', d);
  await call('close', d);
  await call('fcntl', buf, u.F_GETFL);
  await call('lseek', buf, 0, u.SEEK_END);
  await call('lseek', buf, -1, u.SEEK_SET);
  const view = (await call('mmap', 8192, u.PROT_READ | u.PROT_WRITE, u.MAP_SHARED, buf, 0)) as Uint8Array;
  view.fill(7);
  await call('mmap', 8192, u.PROT_READ, u.MAP_SHARED, buf, 4096n * 5n);
  await call('munmap', view);
  await call('munmap', view);
  await call('poll', [{ fd: buf, events: u.POLLIN | u.POLLOUT }, { fd: 999, events: u.POLLIN }], 0);
  await call('fstat', buf);
  await call('fstat', 999);
  await call('readlink', `/proc/self/fd/${buf}`);
  await call('readlink', '/proc/self/fd/999');
  await call('readFile', `/proc/self/fdinfo/${buf}`);
  await call('readFile', '/proc/self/fdinfo/999');
  await call('readdir', '/dev/dma_heap');
  await call('readdir', '/dev/nothing-here');
  const mfd = (await call('memfdCreate', 'twins', u.MFD_CLOEXEC | u.MFD_ALLOW_SEALING)) as number;
  await call('ftruncate', mfd, 70_000);
  await call('ftruncate', mfd, -1);
  // More than one slot's data: both twins carry it in pieces.
  const bytes = Uint8Array.from({ length: 70_000 }, (_, i) => (i * 31) & 0xff);
  await call('write', mfd, bytes);
  await call('lseek', mfd, 0, u.SEEK_SET);
  await call('read', mfd, 100_000);
  await call('read', 999, 1);
  const token = (await call('sendFd', buf, proc.pid)) as string;
  await call('receiveFd', token);
  await call('receiveFd', token);
  const limit = (await call('getrlimit', RLIMIT_NOFILE)) as { cur: number; max: number };
  await call('setrlimit', RLIMIT_NOFILE, { cur: 2048, max: 4096 });
  await call('setrlimit', RLIMIT_NOFILE, { cur: 5000, max: 4096 });
  await call('getrlimit', RLIMIT_NOFILE);
  // Put it back: on the native backend the limit is the OS process's, which every process of the machine shares.
  await call('setrlimit', RLIMIT_NOFILE, limit);
  await call('kill', proc.pid, 0);
  await call('kill', 1_000_000, 0);
  await call('kill', proc.pid, 99);
  const pair = (await call('socketpair')) as number[];
  await call('sendFdTo', pair[0], mfd);
  await call('receiveFdFrom', pair[1], u.O_CLOEXEC);
  await call('sendFdTo', heap, mfd);
  await call('close', pair[0]);
  await call('receiveFdFrom', pair[1]);
  await call('close', heap);
}

/** An outcome that two processes can share: fd numbers match (same program), tokens, inodes and mapping bytes are reduced to their shape. */
function outcome(name: string, r: unknown): unknown {
  if (r instanceof Uint8Array) return { bytes: r.length, sum: r.reduce((a, b) => (a + b) % 65521, 0) };
  if (name === 'sendFd') return typeof r;
  if (name === 'readFile') return String(r).replace(/^ino:\s+\d+$/m, 'ino: N');
  if (name === 'fstat') {
    const s = r as { st_mode: number; st_size: bigint };
    return { type: s.st_mode & S_IFMT, mode: s.st_mode & 0o7777, size: s.st_size };
  }
  return r;
}

async function run(proc: Process, twin: 'sync' | 'async'): Promise<{ log: unknown[]; used: Set<string> }> {
  const log: unknown[] = [];
  const used = new Set<string>();
  const call: Call = async (name, ...args) => {
    used.add(name);
    const target = proc as unknown as Record<string, (...a: unknown[]) => unknown>;
    try {
      const r = twin === 'sync' ? target[name](...args) : await target[`${name}Async`](...args);
      log.push([name, 'ok', outcome(name, r)]);
      return r;
    } catch (e) {
      const err = e as { code?: string; errno?: number; syscall?: string; path?: string; name?: string };
      log.push([name, 'error', err.name, err.code, err.errno, err.syscall, err.path]);
      return undefined;
    }
  };
  await program(proc, call);
  if (twin === 'sync') proc.exit();
  else await proc.exitAsync();
  used.add('exit');
  return { log, used };
}

describe('the syscall table', { skip: backendSkip }, () => {
  const machine = useMachine();

  test('every syscall gives the same results and errors through both twins', async () => {
    const m = await machine();
    const sync = await run(m.spawn('sync'), 'sync');
    const async = await run(m.spawn('async'), 'async');
    assert.deepEqual(async.log, sync.log);
    assert.deepEqual([...sync.used].sort(), [...SYSCALL_METHODS].sort(), 'the program calls every syscall method');
    // Spot checks that the program did what it says (so equal logs are not equally empty).
    const errors = sync.log.filter((l) => (l as unknown[])[1] === 'error').map((l) => (l as unknown[]).slice(0, 1).concat((l as unknown[]).slice(3, 7)));
    assert.deepEqual(errors, [
      ['open', 'ENOENT', -2, 'open', '/dev/does-not-exist'],
      // dma_heap_ioctl(): a command number past the heap's table is -EINVAL (drivers/dma-buf/dma-heap.c)
      ['ioctl', 'EINVAL', -22, 'ioctl', undefined],
      ['close', 'EBADF', -9, 'close', undefined],
      ['lseek', 'EINVAL', -22, 'lseek', undefined],
      ['mmap', 'EINVAL', -22, 'mmap', undefined],
      ['munmap', 'EINVAL', -22, 'munmap', undefined],
      ['fstat', 'EBADF', -9, 'fstat', undefined],
      ['readlink', 'ENOENT', -2, 'readlink', '/proc/self/fd/999'],
      ['readFile', 'ENOENT', -2, 'open', '/proc/self/fdinfo/999'],
      ['readdir', 'ENOENT', -2, 'open', '/dev/nothing-here'],
      ['ftruncate', 'EINVAL', -22, 'ftruncate', undefined],
      ['read', 'EBADF', -9, 'read', undefined],
      ['receiveFd', 'EINVAL', -22, 'recvmsg', undefined],
      ['setrlimit', 'EINVAL', -22, 'prlimit64', undefined],
      ['kill', 'ESRCH', -3, 'kill', undefined],
      ['kill', 'EINVAL', -22, 'kill', undefined],
      ['sendFdTo', 'ENOTSOCK', -88, 'sendmsg', undefined],
      // unix_stream_read_generic(): nothing queued and the peer gone is end-of-stream; no fd came with it.
      ['receiveFdFrom', 'EPIPE', -32, 'recvmsg', undefined],
    ]);
    const read = sync.log.find((l) => (l as unknown[])[0] === 'read' && (l as unknown[])[1] === 'ok') as unknown[];
    const expected = Uint8Array.from({ length: 70_000 }, (_, i) => (i * 31) & 0xff);
    assert.deepEqual(read[2], outcome('read', expected), 'a 70,000-byte write and read cross the 64 KiB slot');
  });

  test('an argument that is not a safe integer is EINVAL, not a RangeError from BigInt', async () => {
    const m = await machine();
    using proc = m.spawn('args');
    const fd = proc.memfdCreate('x');
    assert.throws(() => proc.mmap(4096, u.PROT_READ, u.MAP_SHARED, fd, 1.5), { code: 'EINVAL', syscall: 'mmap' });
    await assert.rejects(proc.mmapAsync(4096, u.PROT_READ, u.MAP_SHARED, fd, Number.NaN), { code: 'EINVAL', syscall: 'mmap' });
    assert.throws(() => proc.read(fd, 2 ** 60), { code: 'EINVAL', syscall: 'read' });
  });
});
