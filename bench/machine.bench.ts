/**
 * The machine (issue: Linux's userspace ABI on real threads). Every figure
 * is set against baselines measured in the same run:
 * - a real Linux syscall from Node (fs.readSync of 1 byte from /dev/null),
 * - a spin ping-pong on a shared word between two threads (the physical
 *   floor of any round trip between two threads),
 * - an Atomics.wait/notify ping-pong between two threads (blocking floor),
 * - relays over three threads (the wake path's own floor: signaller,
 *   kernel thread, poller), spinning and blocking,
 * - postMessage one-way between the same two threads as a wake-up (what a
 *   user would otherwise use): busy (both threads hot: the receiver's
 *   event loop never sleeps) and idle (2 ms apart, the receiver asleep),
 * - a bare module worker's time to its first message.
 * Measured: the syscall round trip (lseek on a dma-buf fd) with the kernel
 * thread busy (back-to-back calls) and idle (2 ms apart); a fence signalled
 * in one process waking poll() and pollAsync() in another, busy and idle;
 * sharing a buffer with another worker (sendFd + receiveFd + mmap + one
 * read) at 4 KiB and 256 MiB, against postMessage of the same bytes; and
 * a worker's start, from new Worker to an attached process that made a
 * syscall.
 */
import { openSync, closeSync, readSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { boot, type Machine, type Process } from '../src/index.js';
import * as u from '../src/uapi/index.js';
import type { Row } from './harness.js';

export const title = 'machine: syscalls, wake-ups, sharing';

const indexUrl = new URL('../src/index.js', import.meta.url).href;
const uapiUrl = new URL('../src/uapi/index.js', import.meta.url).href;
const nowNs = (): number => Number(process.hrtime.bigint());
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1];

/** block this thread for ms (so the other side parks) */
function pause(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function evalWorker(code: string, workerData: unknown, transferList: never[] = []): Worker {
  return new Worker(code, { eval: true, workerData, transferList } as never);
}

const once = (w: Worker): Promise<unknown> =>
  new Promise((resolve, reject) => {
    w.once('message', resolve);
    w.once('error', reject);
  });

// ---- baselines ----

/** fs.readSync(/dev/null, 1 byte): µs per call */
function realSyscallUs(n = 200_000): number {
  const fd = openSync('/dev/null', 'r');
  const buf = Buffer.alloc(1);
  let best = Infinity;
  for (let r = 0; r < 5; r++) {
    const t0 = nowNs();
    for (let i = 0; i < n; i++) readSync(fd, buf, 0, 1, null);
    best = Math.min(best, (nowNs() - t0) / n / 1000);
  }
  closeSync(fd);
  return best;
}

/** Spin ping-pong round trip between this thread and a worker: µs. */
async function spinPingPongUs(n = 200_000): Promise<number> {
  const sab = new SharedArrayBuffer(4);
  const a = new Int32Array(sab);
  const w = evalWorker(
    `const { workerData, parentPort } = require('node:worker_threads');
     const a = new Int32Array(workerData);
     parentPort.postMessage('up');
     for (;;) { let v; while ((v = Atomics.load(a, 0)) === 0 || v === 2) {} if (v === 3) break; Atomics.store(a, 0, 2); }`,
    sab,
  );
  await once(w);
  let best = Infinity;
  for (let r = 0; r < 5; r++) {
    const t0 = nowNs();
    for (let i = 0; i < n; i++) {
      Atomics.store(a, 0, 1);
      while (Atomics.load(a, 0) !== 2);
    }
    best = Math.min(best, (nowNs() - t0) / n / 1000);
  }
  Atomics.store(a, 0, 3);
  await w.terminate();
  return best;
}

/** Atomics.wait/notify ping-pong round trip: median µs of single round trips. */
async function waitPingPongUs(n = 2000): Promise<number> {
  const sab = new SharedArrayBuffer(4);
  const a = new Int32Array(sab);
  const w = evalWorker(
    `const { workerData, parentPort } = require('node:worker_threads');
     const a = new Int32Array(workerData);
     parentPort.postMessage('up');
     for (;;) { Atomics.wait(a, 0, 0); if (Atomics.load(a, 0) === 2) break; Atomics.store(a, 0, 0); Atomics.notify(a, 0); }`,
    sab,
  );
  await once(w);
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = nowNs();
    Atomics.store(a, 0, 1);
    Atomics.notify(a, 0);
    Atomics.wait(a, 0, 1);
    times.push((nowNs() - t0) / 1000);
  }
  Atomics.store(a, 0, 2);
  Atomics.notify(a, 0);
  await w.terminate();
  return median(times);
}

/**
 * The fence-wake path has three threads: the signalling process, the
 * kernel thread and the polling process. Its floor is a relay over the
 * same three: this thread stores a word, a middle thread passes it on, a
 * last thread stamps the time it saw it; this thread then blocks for the
 * ack, as the signaller blocks in its ioctl. 'spin': both relays spin (on
 * two cores one of the three threads is always off-CPU, which sets the
 * busy floor); 'wait': both block in Atomics.wait, gapMs apart (two
 * futex wake-ups, the idle floor). Median µs.
 */
async function relayUs(mode: 'spin' | 'wait', n: number, gapMs: number): Promise<number> {
  const sab = new SharedArrayBuffer(64);
  const a = new Int32Array(sab, 0, 8); // 0: to middle, 1: to last, 2: ack, 3: stop
  const seen = new Float64Array(sab, 32, 1);
  const relay = (from: number, last: boolean): Worker => evalWorker(
    `const { workerData: sab, parentPort } = require('node:worker_threads');
     const a = new Int32Array(sab, 0, 8);
     const seen = new Float64Array(sab, 32, 1);
     parentPort.postMessage('up');
     for (let i = 1; ; i++) {
       ${mode === 'spin' ? `while (Atomics.load(a, ${from}) < i) {}` : `while (Atomics.load(a, ${from}) < i) Atomics.wait(a, ${from}, i - 1);`}
       if (Atomics.load(a, 3)) break;
       ${last ? `seen[0] = Number(process.hrtime.bigint()); Atomics.store(a, 2, i); Atomics.notify(a, 2);` : `Atomics.store(a, 1, i); Atomics.notify(a, 1);`}
     }`,
    sab,
  );
  const ws = [relay(0, false), relay(1, true)];
  await Promise.all(ws.map(once));
  const lat: number[] = [];
  for (let i = 1; i <= n; i++) {
    if (gapMs) pause(gapMs);
    const t0 = nowNs();
    Atomics.store(a, 0, i);
    Atomics.notify(a, 0);
    while (Atomics.load(a, 2) < i) Atomics.wait(a, 2, i - 1, 1000);
    lat.push((seen[0] - t0) / 1000);
  }
  Atomics.store(a, 3, 1);
  for (const word of [0, 1]) {
    Atomics.store(a, word, 0x7fffffff);
    Atomics.notify(a, word);
  }
  await Promise.all(ws.map((w) => w.terminate()));
  return median(lat);
}

/**
 * postMessage one-way latency from this thread to a worker: median µs
 * from just before postMessage to the worker's 'message' listener. Busy:
 * both threads hot (the worker's event loop turns without sleeping, this
 * thread spins for the ack); idle: messages 2 ms apart, the worker asleep
 * in its event loop. The baseline a user would otherwise use to wake
 * another thread.
 */
async function postMessageOneWayUs(n: number, gapMs: number): Promise<number> {
  const sab = new SharedArrayBuffer(16);
  const ack = new Int32Array(sab, 0, 1);
  const seen = new Float64Array(sab, 8, 1);
  const w = evalWorker(
    `const { workerData: sab, parentPort } = require('node:worker_threads');
     const ack = new Int32Array(sab, 0, 1);
     const seen = new Float64Array(sab, 8, 1);
     let stop = false;
     parentPort.on('message', (i) => {
       seen[0] = Number(process.hrtime.bigint());
       Atomics.store(ack, 0, i);
       Atomics.notify(ack, 0);
       if (i < 0) { stop = true; parentPort.close(); }
     });
     ${gapMs ? '' : 'const hot = () => { if (!stop) setImmediate(hot); }; hot();'}
     parentPort.postMessage('up');`,
    sab,
  );
  await once(w);
  const lat: number[] = [];
  for (let i = 1; i <= n; i++) {
    if (gapMs) pause(gapMs);
    const t0 = nowNs();
    w.postMessage(i);
    if (gapMs) while (Atomics.load(ack, 0) !== i) Atomics.wait(ack, 0, i - 1, 1000);
    else while (Atomics.load(ack, 0) !== i);
    lat.push((seen[0] - t0) / 1000);
  }
  w.postMessage(-1);
  await w.terminate();
  return median(lat);
}

/**
 * A worker's start: from new Worker to its first message, for a bare
 * module worker and for one that imports the package, attaches to a
 * machine and makes a syscall (bench/start-*-worker.ts); median ms of
 * `rounds` interleaved starts.
 */
async function workerStartMs(machine: Machine, rounds: number): Promise<{ bare: number; attached: number }> {
  const start = async (file: string, workerData: unknown, transferList: never[]): Promise<number> => {
    const t0 = nowNs();
    const w = new Worker(new URL(file, import.meta.url), { workerData, transferList });
    const t1 = (await once(w)) as number;
    await w.terminate();
    return (t1 - t0) / 1e6;
  };
  const bare: number[] = [];
  const attached: number[] = [];
  for (let r = 0; r < rounds; r++) {
    bare.push(await start('./start-bare-worker.js', null, []));
    const handle = machine.channel('start');
    attached.push(await start('./start-attach-worker.js', { handle }, [handle.port as never]));
  }
  return { bare: median(bare), attached: median(attached) };
}

// ---- the machine ----

function allocate(proc: Process, len: number): number {
  const heap = proc.open('/dev/dma_heap/system', u.O_RDWR);
  const arg = u.dma_heap_allocation_data.encode({ len, fd_flags: u.O_RDWR | u.O_CLOEXEC });
  proc.ioctl(heap, u.DMA_HEAP_IOCTL_ALLOC, arg);
  proc.close(heap);
  return u.dma_heap_allocation_data.get(arg, 'fd');
}

/** lseek round trips: back to back (µs per call, best of 5) and 2 ms apart (median µs). */
function syscallRoundTrip(proc: Process, fd: number): { busy: number; idle: number } {
  let busy = Infinity;
  const n = 50_000;
  for (let r = 0; r < 5; r++) {
    const t0 = nowNs();
    for (let i = 0; i < n; i++) proc.lseek(fd, 0, u.SEEK_SET);
    busy = Math.min(busy, (nowNs() - t0) / n / 1000);
  }
  const idle: number[] = [];
  for (let i = 0; i < 200; i++) {
    pause(2);
    const t0 = nowNs();
    proc.lseek(fd, 0, u.SEEK_END);
    idle.push((nowNs() - t0) / 1000);
  }
  return { busy, idle: median(idle) };
}

/** A worker process: `body` runs with proc, u, data, and the message port helpers. */
function machineWorker(machine: Machine, body: string, data: unknown): Worker {
  const handle = machine.channel('bench');
  return evalWorker(
    `const { attach } = await import(${JSON.stringify(indexUrl)});
     const u = await import(${JSON.stringify(uapiUrl)});
     const { workerData, parentPort } = await import('node:worker_threads');
     const proc = attach(workerData.handle);
     const data = workerData.data;
     const nowNs = () => Number(process.hrtime.bigint());
     ${body}`,
    { handle, data },
    [handle.port as never],
  );
}

/**
 * Fence signal -> poll wake: a worker process creates fence i on a shared
 * sw_sync timeline, says so, and polls it; this process increments the
 * timeline (at once, or after 2 ms so both sides have parked). The time
 * from just before SW_SYNC_IOC_INC to poll() returning in the worker.
 */
async function fenceWake(machine: Machine, proc: Process, n: number, idleMs: number, useAsync = false): Promise<number> {
  const timeline = proc.open('/sys/kernel/debug/sync/sw_sync', u.O_RDWR);
  const sab = new SharedArrayBuffer(8 + 8 * (n + 1));
  const flag = new Int32Array(sab, 0, 1);
  const woke = new Float64Array(sab, 8);
  const w = machineWorker(
    machine,
    `const flag = new Int32Array(data.sab, 0, 1);
     const woke = new Float64Array(data.sab, 8);
     parentPort.postMessage(proc.pid);
     const token = await new Promise((r) => parentPort.once('message', r));
     const timeline = proc.receiveFd(token);
     for (let i = 1; i <= data.n; i++) {
       const arg = u.sw_sync_create_fence_data.encode({ value: i, name: u.cbytes('wake', 32) });
       proc.ioctl(timeline, u.SW_SYNC_IOC_CREATE_FENCE, arg);
       const fence = u.sw_sync_create_fence_data.get(arg, 'fence');
       Atomics.store(flag, 0, i);
       Atomics.notify(flag, 0);
       const fds = [{ fd: fence, events: u.POLLIN, revents: 0 }];
       if ((${useAsync ? 'await proc.pollAsync(fds, 5000)' : 'proc.poll(fds, 5000)'}) !== 1) throw new Error('poll timed out');
       woke[i] = nowNs();
       proc.close(fence);
     }
     proc.close(timeline);
     proc.exit();
     parentPort.postMessage('done');`,
    { sab, n },
  );
  w.setMaxListeners(0);
  const pid = (await once(w)) as number;
  w.postMessage(proc.sendFd(timeline, pid));
  const signalled: number[] = [];
  for (let i = 1; i <= n; i++) {
    while (Atomics.load(flag, 0) !== i) Atomics.wait(flag, 0, i - 1, 1000);
    if (idleMs) pause(idleMs);
    signalled[i] = nowNs();
    proc.ioctl(timeline, u.SW_SYNC_IOC_INC, u.__u32.encode(1));
  }
  await once(w);
  await w.terminate();
  proc.close(timeline);
  const lat: number[] = [];
  for (let i = 1; i <= n; i++) lat.push((woke[i] - signalled[i]) / 1000);
  return median(lat);
}

/**
 * Share buffers with a worker: sendFd, the token over the port, receiveFd
 * + mmap + a read of the last byte there, an ack back. One worker, the
 * sizes interleaved round by round after a warm-up; median ms per size.
 * Each buffer is allocated, and mapped here, once before the clock starts:
 * allocation is not sharing.
 */
async function shareDmaBuf(machine: Machine, proc: Process, lens: number[], rounds: number): Promise<number[]> {
  const w = machineWorker(
    machine,
    `parentPort.postMessage(proc.pid);
     parentPort.on('message', (m) => {
       if (m === 'exit') { proc.exit(); parentPort.postMessage('bye'); return; }
       const fd = proc.receiveFd(m.token);
       const view = proc.mmap(m.len, u.PROT_READ | u.PROT_WRITE, u.MAP_SHARED, fd, 0);
       const last = view[m.len - 1];
       proc.munmap(view);
       proc.close(fd);
       parentPort.postMessage(last);
     });`,
    null,
  );
  w.setMaxListeners(0);
  const pid = (await once(w)) as number;
  const bufs = lens.map((len) => {
    const fd = allocate(proc, len);
    return { len, fd, view: proc.mmap(len, u.PROT_READ | u.PROT_WRITE, u.MAP_SHARED, fd, 0), times: [] as number[] };
  });
  const warmUp = 10;
  for (let r = 0; r < warmUp + rounds; r++) {
    for (const b of bufs) {
      const mark = (r % 250) + 1;
      b.view[b.len - 1] = mark;
      const t0 = nowNs();
      w.postMessage({ token: proc.sendFd(b.fd, pid), len: b.len });
      const last = await once(w);
      if (r >= warmUp) b.times.push((nowNs() - t0) / 1e6);
      if (last !== mark) throw new Error(`the worker read ${String(last)}, not ${mark}: not the same bytes`);
    }
  }
  for (const b of bufs) {
    proc.munmap(b.view);
    proc.close(b.fd);
  }
  w.postMessage('exit');
  await once(w);
  await w.terminate();
  return bufs.map((b) => median(b.times));
}

/** postMessage of len bytes to a worker that reads the last byte and acks: median ms, cloned or transferred. */
async function postMessageShare(len: number, transfer: boolean, rounds: number): Promise<number> {
  const w = evalWorker(
    `const { parentPort } = require('node:worker_threads');
     parentPort.postMessage('up');
     parentPort.on('message', (b) => parentPort.postMessage(new Uint8Array(b)[b.byteLength - 1]));`,
    null,
  );
  await once(w);
  const times: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const buf = new ArrayBuffer(len);
    new Uint8Array(buf)[len - 1] = r + 1;
    const t0 = nowNs();
    w.postMessage(buf, transfer ? [buf] : []);
    const last = await once(w);
    times.push((nowNs() - t0) / 1e6);
    if (last !== r + 1) throw new Error('postMessage baseline lost the bytes');
  }
  await w.terminate();
  return median(times);
}

export async function run(): Promise<Row[]> {
  const rows: Row[] = [];
  const real = realSyscallUs();
  const spin = await spinPingPongUs();
  const block = await waitPingPongUs();
  rows.push({ name: 'baseline: real syscall (readSync 1 B /dev/null)', value: real, unit: 'µs' });
  rows.push({ name: 'baseline: spin ping-pong round trip (hardware floor)', value: spin, unit: 'µs' });
  rows.push({ name: 'baseline: Atomics.wait/notify round trip (blocking floor)', value: block, unit: 'µs' });
  const relaySpin = await relayUs('spin', 2000, 0);
  const relayWait = await relayUs('wait', 200, 2);
  rows.push({ name: 'baseline: 3-thread relay, spinning (floor of a wake via the kernel thread, busy)', value: relaySpin, unit: 'µs' });
  rows.push({ name: 'baseline: 3-thread relay, blocking, 2 ms apart (floor of a wake via the kernel thread, idle)', value: relayWait, unit: 'µs' });
  const pmBusy = await postMessageOneWayUs(2000, 0);
  const pmIdle = await postMessageOneWayUs(200, 2);
  rows.push({ name: 'baseline: postMessage one-way, busy (both threads hot)', value: pmBusy, unit: 'µs' });
  rows.push({ name: 'baseline: postMessage one-way, idle (2 ms apart)', value: pmIdle, unit: 'µs' });

  const machine = await boot();
  const proc = machine.spawn('bench');
  try {
    const fd = allocate(proc, 4096);
    const rt = syscallRoundTrip(proc, fd);
    proc.close(fd);
    rows.push({
      name: 'lseek(dma-buf) round trip, kernel busy', value: rt.busy, unit: 'µs', baseline: { name: 'spin ping-pong', value: spin },
      ratio: rt.busy / spin, target: '≤ 1.5x spin ping-pong', pass: rt.busy <= 1.5 * spin, note: `${(rt.busy / real).toFixed(2)}x a real syscall`,
    });
    rows.push({
      name: 'lseek(dma-buf) round trip, kernel idle (2 ms apart)', value: rt.idle, unit: 'µs', baseline: { name: 'blocking floor', value: block },
      ratio: rt.idle / block,
    });

    for (const useAsync of [false, true]) {
      const call = useAsync ? 'pollAsync' : 'poll';
      const busy = await fenceWake(machine, proc, 2000, 0, useAsync);
      const idle = await fenceWake(machine, proc, 200, 2, useAsync);
      rows.push({
        name: `sw_sync inc -> ${call}() wake in another process, busy`, value: busy, unit: 'µs', baseline: { name: 'postMessage one-way, busy', value: pmBusy },
        ratio: busy / pmBusy, target: '≤ postMessage', pass: busy <= pmBusy, note: `${(busy / relaySpin).toFixed(2)}x the spinning relay`,
      });
      rows.push({
        name: `sw_sync inc -> ${call}() wake in another process, idle`, value: idle, unit: 'µs', baseline: { name: '3-thread blocking relay', value: relayWait },
        ratio: idle / relayWait, target: '≤ 1.5x blocking relay', pass: idle <= 1.5 * relayWait, note: `${(idle / pmIdle).toFixed(2)}x postMessage idle`,
      });
    }

    const [small, big] = await shareDmaBuf(machine, proc, [4096, 256 << 20], 301);
    rows.push({ name: 'share 4 KiB: sendFd + receiveFd + mmap + read', value: small, unit: 'ms' });
    rows.push({
      name: 'share 256 MiB: sendFd + receiveFd + mmap + read', value: big, unit: 'ms', baseline: { name: '4 KiB', value: small },
      ratio: big / small, target: '≤ 1.5x the 4 KiB cost', pass: big <= 1.5 * small,
    });

    const start = await workerStartMs(machine, 15);
    rows.push({
      name: 'worker start: new Worker -> attached process made a syscall', value: start.attached, unit: 'ms', baseline: { name: 'bare module worker, first message', value: start.bare },
      ratio: start.attached / start.bare, target: '≤ 1.5x', pass: start.attached <= 1.5 * start.bare,
    });
  } finally {
    proc.exit();
    await machine.shutdown();
  }
  const clone = await postMessageShare(256 << 20, false, 3);
  const transfer = await postMessageShare(256 << 20, true, 5);
  rows.push({ name: 'baseline: postMessage 256 MiB, structured clone', value: clone, unit: 'ms' });
  rows.push({ name: 'baseline: postMessage 256 MiB, transfer', value: transfer, unit: 'ms' });
  return rows;
}
