/**
 * Across OS processes: an fd passed to a child Node process with SCM_RIGHTS
 * over an AF_UNIX socket (one end given to the child as its fd 3), mapped
 * there; and an OS process whose worker is blocked in a native call still
 * exits.
 */
import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as u from '../../src/uapi/index.js';
import type { NativeMachine } from '../../src/native/machine.js';
import { nativeSkip, useNativeMachine } from '../helpers/native.js';

const machineOf = useNativeMachine();
let machine: NativeMachine;
before(async () => {
  if (!nativeSkip) machine = await machineOf();
});

const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}.js`, import.meta.url));

function run(args: string[], stdio: (number | 'ignore' | 'pipe')[], timeoutMs = 120_000): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio });
    let out = '';
    let err = '';
    child.stdout!.on('data', (d: Buffer) => (out += d));
    child.stderr!.on('data', (d: Buffer) => (err += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`child did not exit in ${timeoutMs} ms: ${out}${err}`));
    }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      setImmediate(() => resolve({ code, out, err }));
    });
  });
}

describe('native: fds across OS processes', { skip: nativeSkip }, () => {
  test('a memfd written here is received, mapped and answered in a child process', async () => {
    const p = machine.spawn();
    const [mine, theirs] = p.socketpair();
    const fd = p.memfdCreate('across', u.MFD_CLOEXEC);
    p.ftruncate(fd, 8192);
    const view = p.mmap(8192, u.PROT_READ | u.PROT_WRITE, u.MAP_SHARED, fd, 0);
    view.set(new TextEncoder().encode('hello from the parent'));
    const child = run([fixture('fd-receiver')], ['ignore', 'pipe', 'pipe', theirs]);
    p.close(theirs); // the child has its own copy as fd 3
    p.sendFdTo(mine, fd);
    const { code, out, err } = await child;
    assert.equal(code, 0, err);
    const seen = JSON.parse(out) as { text: string; size: number; ino: string; link: string; cloexec: boolean; leaks: Record<string, number> };
    assert.equal(seen.text, 'hello from the parent');
    assert.equal(seen.size, 8192);
    assert.equal(seen.ino, String(p.fstat(fd).st_ino), 'the same file');
    assert.match(seen.link, /^\/memfd:across/);
    assert.equal(seen.cloexec, true, 'received with O_CLOEXEC (MSG_CMSG_CLOEXEC)');
    assert.deepEqual(seen.leaks, { processes: 0, fds: 0, mappings: 0, inFlight: 0, waits: 0 });
    const answer = new TextDecoder().decode(view.subarray(1024, view.indexOf(0, 1024)));
    assert.match(answer, /^child \d+ read: hello from the parent$/, 'the child wrote into the same pages');
    p.munmap(view);
    p.exit();
  });

  test('receiveFdFrom: a message without an fd is EBADMSG; a closed peer is EPIPE', async () => {
    const p = machine.spawn();
    const [a, b] = p.socketpair();
    p.write(a, new Uint8Array([1]));
    assert.throws(() => p.receiveFdFrom(b), { code: 'EBADMSG', syscall: 'recvmsg' });
    p.close(a);
    assert.throws(() => p.receiveFdFrom(b), { code: 'EPIPE' });
    const [c, d] = p.socketpair();
    const sent = p.memfdCreate('loop');
    p.sendFdTo(c, sent);
    const got = await p.receiveFdFromAsync(d);
    assert.notEqual(got, sent);
    assert.equal(p.fstat(got).st_ino, p.fstat(sent).st_ino);
    assert.equal(p.fcntl(got, u.F_GETFD), 0);
    p.exit();
  });

  test('adoptFd takes an fd no process owns, and refuses another process\'s', () => {
    const a = machine.spawn();
    const b = machine.spawn();
    const fd = a.memfdCreate('adopt');
    assert.throws(() => b.adoptFd(fd), { code: 'EPERM' });
    assert.throws(() => b.adoptFd(100000), { code: 'EBADF' });
    a.exit();
    b.exit();
  });

  for (const how of ['ends', 'exit']) {
    test(`an OS process whose worker is blocked in poll(-1) still exits when its main thread ${how === 'exit' ? 'calls process.exit' : 'ends'}`, async () => {
      const { code, out, err } = await run([fixture('blocked-at-exit'), how], ['ignore', 'pipe', 'pipe']);
      assert.equal(code, 0, err);
      assert.match(out, /calling process.exit|main thread ends/);
    });
  }
});
