/**
 * Async waits on the native backend hold no libuv pool thread: every
 * pending wait is registered with the machine's one waiter thread (an
 * epoll instance), and an abort removes its registration.
 */
import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import * as u from '../../src/uapi/index.js';
import type { NativeMachine } from '../../src/native/machine.js';
import type { PollFdEntry } from '../../src/native/process.js';
import { nativeSkip, spawnNativeWorker, until, useNativeMachine } from '../helpers/native.js';

const machineOf = useNativeMachine();
let machine: NativeMachine;
before(async () => {
  if (!nativeSkip) machine = await machineOf();
});

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout>;
  return Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} did not settle in ${ms} ms`)), ms)))]).finally(() => clearTimeout(timer));
}

describe('native async waits', { skip: nativeSkip }, () => {
  test('64 pending pollAsync calls leave the thread pool free (fs.promises.readFile works); aborting one removes its registration', async () => {
    const p = machine.spawn();
    const pairs = Array.from({ length: 64 }, () => p.socketpair());
    const controllers = pairs.map(() => new AbortController());
    const polls = pairs.map(([a], i) => p.pollAsync([{ fd: a, events: u.POLLIN }], -1, { signal: controllers[i].signal }));
    const settled = polls.map((x) => x.then(() => 'resolved', (e: Error) => e.name));
    await until('64 registrations', () => machine.waiterState().registered === 64);
    assert.deepEqual(machine.waiterState(), { registered: 64, epollEntries: 64 }, 'the kernel lists 64 waits in the master epoll instance');
    // Four pool threads serve fs by default: with them held, this would never settle.
    const text = await withTimeout(Promise.all(Array.from({ length: 8 }, () => readFile('/proc/self/status', 'utf8'))), 60_000, 'readFile');
    assert.match(text[0], /^Name:/);
    controllers[5].abort();
    assert.equal(await settled[5], 'AbortError');
    assert.deepEqual(machine.waiterState(), { registered: 63, epollEntries: 63 }, 'the aborted wait is gone from the waiter');
    // A ready fd resolves: data on pair 9.
    p.write(pairs[9][1], new Uint8Array([1]));
    assert.equal(await withTimeout(polls[9], 60_000, 'the ready poll'), 1);
    assert.equal(await settled[9], 'resolved');
    for (const c of controllers) c.abort();
    await Promise.all(settled);
    assert.deepEqual(machine.waiterState(), { registered: 0, epollEntries: 0 });
    p.exit();
  });

  test('pollAsync fills in revents, returns 0 at its timeout, and answers at once when an fd is ready', async () => {
    const p = machine.spawn();
    const [a, b] = p.socketpair();
    const fds: PollFdEntry[] = [{ fd: a, events: u.POLLIN }];
    assert.equal(await p.pollAsync(fds, 20), 0);
    assert.equal(fds[0].revents, 0);
    assert.equal(machine.waiterState().registered, 0, 'a timed-out wait unregisters');
    const pending = p.pollAsync(fds, -1);
    await until('the registration', () => machine.waiterState().registered === 1);
    p.write(b, new Uint8Array([1, 2]));
    assert.equal(await withTimeout(pending, 60_000, 'pollAsync'), 1);
    assert.equal(fds[0].revents, u.POLLIN);
    const out: PollFdEntry[] = [{ fd: b, events: u.POLLOUT }];
    assert.equal(await p.pollAsync(out, -1), 1, 'already writable: no wait');
    p.close(b);
    const hup: PollFdEntry[] = [{ fd: a, events: 0 }];
    p.read(a, 2);
    assert.equal(await p.pollAsync(hup, -1), 1);
    assert.ok(hup[0].revents! & u.POLLHUP, 'the peer closed: POLLHUP without asking');
    p.exit();
  });

  test('readAsync and writeAsync wait for the fd; an abort before the data rejects', async () => {
    const p = machine.spawn();
    const [a, b] = p.socketpair();
    const reading = p.readAsync(a, 10);
    await until('the registration', () => machine.waiterState().registered === 1);
    p.write(b, new TextEncoder().encode('late'));
    assert.equal(new TextDecoder().decode(await withTimeout(reading, 60_000, 'readAsync')), 'late');
    assert.equal(await p.writeAsync(b, new Uint8Array(3)), 3);
    // Data already there is read in the same turn as the poll that saw it: nothing of this thread can take it in between.
    const now = p.readAsync(a, 10);
    assert.equal(p.poll([{ fd: a, events: u.POLLIN }], 0), 0, 'readAsync took the data synchronously');
    assert.equal((await now).length, 3);
    const ac = new AbortController();
    const reading2 = p.readAsync(a, 10, { signal: ac.signal });
    await until('the registration', () => machine.waiterState().registered === 1);
    ac.abort();
    await assert.rejects(reading2, { name: 'AbortError' });
    assert.equal(machine.waiterState().registered, 0);
    p.exit();
  });

  test('exit cancels the process\'s pending waits', async () => {
    const p = machine.spawn();
    const [a] = p.socketpair();
    const pending = p.pollAsync([{ fd: a, events: u.POLLIN }], -1);
    await until('the registration', () => machine.waiterState().registered === 1);
    p.exit();
    await assert.rejects(pending, { code: 'EBADF' });
    assert.equal(machine.waiterState().registered, 0);
  });

  test('a worker\'s pollAsync is woken by the waiter thread', async () => {
    const p = machine.spawn();
    const [a, b] = p.socketpair();
    const w = spawnNativeWorker<number>(machine, `
      const { token } = await recv();
      const fd = proc.receiveFd(token);
      const fds = [{ fd, events: u.POLLIN }];
      send('waiting');
      const n = await proc.pollAsync(fds, -1);
      proc.exit();
      return fds[0].revents;
    `);
    w.post({ token: p.sendFd(a, w.pid) });
    assert.equal(await w.next(), 'waiting');
    await until('the worker\'s registration', () => machine.waiterState().registered === 1);
    p.write(b, new Uint8Array([1]));
    assert.equal(await w.result, u.POLLIN);
    p.exit();
  });
});
