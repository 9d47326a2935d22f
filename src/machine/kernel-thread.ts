/**
 * The kernel thread: boots the kernel and serves every process's syscall
 * slots. After work it spins briefly for the next request (so a busy
 * machine answers in microseconds). Then, for a while, it dozes: it blocks
 * on the doorbell with Atomics.wait in short slices, going back to its
 * event loop between slices for timers and messages (a blocked thread
 * wakes in tens of microseconds; Atomics.waitAsync costs an event-loop
 * turn more). Only when no request came for a longer time does it park on
 * the doorbell with Atomics.waitAsync, leaving the event loop entirely free.
 * Kernel code itself never blocks: the thread only waits with no work.
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { FdTable } from '../kernel/fs/fdtable.js';
import { devNullOpen } from '../kernel/fs/vfs.js';
import { O_RDONLY, O_WRONLY } from '../uapi/fcntl.js';
import { Task } from '../kernel/fs/task.js';
import type { MemoryConfig } from '../kernel/mm/page-alloc.js';
import { startKernel } from '../kernel/init.js';
import { statsRead } from '../kernel/lib/stats.js';
import { dmesg } from '../kernel/lib/printk.js';
import { sysClose, sysDup, sysExit, sysFcntl, sysFtruncate, sysIoctl, sysLseek, sysMemfdCreate, sysMmap, sysMunmap, sysOpen, sysPoll, sysRead, sysReadFile, sysReaddir, sysReceiveFd, sysSendFd, sysWrite, vmaId, type PollFd } from '../kernel/fs/syscalls.js';
import { ktimeGet } from '../kernel/lib/time.js';
import { traceAll } from '../kernel/lib/trace.js';
import type { MachineStats } from './boot.js';
import { kconfig } from '../kernel/lib/kconfig.js';
import { lockdepTask } from '../kernel/locking/lockdep.js';
import { DOORBELL_AWAKE, DOORBELL_BEAT, DOORBELL_DOWN, DOORBELL_RING, H_PID, INLEN, OUTLEN, REQ, RESP, SIDE, SLOTS, Slot, Sys, SYSNO, WAITING, type SideBody, type SideMessage, type TraceRecord } from './protocol.js';

export interface KernelBootOptions {
  /** build-time switches (kconfig) to set before the kernel boots */
  kconfig?: Partial<typeof kconfig>;
  memory?: MemoryConfig;
  /** how long the kernel keeps spinning for the next request after one, ns */
  spinNs?: number;
  /** one blocking slice while dozing, ms */
  dozeSliceMs?: number;
}

const opts = (workerData?.options ?? {}) as KernelBootOptions;
const doorbell = new Int32Array(workerData.doorbell as SharedArrayBuffer);
const SPIN_NS = opts.spinNs ?? 50_000;
/** one blocking slice while dozing, ms: the most a kernel timer waits (messages ring the doorbell) */
const DOZE_SLICE_MS = opts.dozeSliceMs ?? 1;
/** how long after the last request the thread dozes before parking, ns */
const DOZE_NS = 100_000_000;

startKernel({ kconfig: opts.kconfig, memory: opts.memory });

interface Proc {
  task: Task;
  slots: Slot[];
  handled: number[];
  port: MessagePort;
  /** syscalls in progress, per slot */
  busy: boolean[];
  /** when each slot's current call started (a kernel-wide count) */
  started: number[];
}

const procs = new Set<Proc>();

/** Records kept at most (then recording stops, and `lost` counts the rest) */
const TRACE_MAX = 1_000_000;
const trace = { on: false, records: [] as TraceRecord[], lost: 0, detach: null as (() => void) | null };

function traceRecord(event: string, ts: number, fields: TraceRecord['fields']): void {
  if (trace.records.length < TRACE_MAX) trace.records.push({ event, ts, fields });
  else trace.lost++;
}

/** Start recording the dma_fence and dma_buf tracepoints and the poll syscalls. */
function traceStart(): void {
  if (trace.on) return;
  trace.on = true;
  trace.detach = traceAll(traceRecord, (name) => /^dma_(fence|buf)_/.test(name));
}

/** Stop, and hand over what was recorded. */
function traceStop(): { records: TraceRecord[]; lost: number } {
  trace.detach?.();
  const out = { records: trace.records, lost: trace.lost };
  Object.assign(trace, { on: false, records: [], lost: 0, detach: null });
  return out;
}
let stopping = false;
const dec = new TextDecoder();
const enc = new TextEncoder();

function attach(channel: SharedArrayBuffer, port: MessagePort, comm: string): void {
  const task = new Task(new FdTable(), comm);
  // New processes start with fds 0, 1 and 2 open, as on Linux (here on /dev/null).
  for (let fd = 0; fd < 3; fd++) {
    const f = task.files.getUnusedFdFlags(0);
    task.files.fdInstall(f, devNullOpen(fd === 0 ? O_RDONLY : O_WRONLY));
  }
  const slots = Array.from({ length: SLOTS }, (_, i) => new Slot(channel, i));
  const p: Proc = { task, slots, handled: slots.map(() => 0), port, busy: slots.map(() => false), started: slots.map(() => 0) };
  procs.add(p);
  // A thread that exits or is terminated closes its port: its process exits.
  port.on('close', () => exitProc(p));
  const header = new Int32Array(channel, 0, 4);
  Atomics.store(header, H_PID, task.pid);
  Atomics.notify(header, H_PID);
}

function exitProc(p: Proc): void {
  if (!procs.has(p)) return;
  procs.delete(p);
  sysExit(p.task);
}

function argBytes(slot: Slot): Uint8Array {
  return slot.data.slice(0, slot.ctl[INLEN]);
}

/** One syscall: the kernel's answer, and optionally a side message. */
async function run(p: Proc, slot: Slot, index: number, seq: number): Promise<void> {
  const t = p.task;
  const a = slot.args;
  let ret = 0;
  let out: Uint8Array | null = null;
  let side: SideBody | null = null;
  try {
    switch (slot.ctl[SYSNO] as Sys) {
      case Sys.open:
        ret = await sysOpen(t, dec.decode(argBytes(slot)), a[0]);
        break;
      case Sys.close:
        ret = sysClose(t, a[0]);
        break;
      case Sys.dup:
        ret = sysDup(t, a[0]);
        break;
      case Sys.ioctl: {
        const arg = a[2] ? argBytes(slot) : a[3];
        ret = await sysIoctl(t, a[0], a[1], arg);
        if (arg instanceof Uint8Array) out = arg;
        break;
      }
      case Sys.mmap: {
        const offset = (BigInt(a[4] >>> 0) << 32n) | BigInt(a[5] >>> 0);
        const r = await sysMmap(t, a[0], a[1], a[2], a[3], offset);
        if (typeof r === 'number') ret = r;
        else {
          ret = vmaId(r);
          side = { kind: 'map', sab: r.view!.buffer as SharedArrayBuffer, byteOffset: r.view!.byteOffset, byteLength: r.view!.byteLength };
        }
        break;
      }
      case Sys.munmap:
        ret = sysMunmap(t, a[0]);
        break;
      case Sys.lseek:
        ret = sysLseek(t, a[0], a[1], a[2]);
        break;
      case Sys.poll: {
        const n = a[0];
        const raw = new Int32Array(argBytes(slot).buffer);
        const fds: PollFd[] = Array.from({ length: n }, (_, i) => ({ fd: raw[i * 2], events: raw[i * 2 + 1], revents: 0 }));
        const t0 = trace.on ? ktimeGet() : 0;
        ret = await sysPoll(t, fds, a[1]);
        if (trace.on) {
          const what = fds.map((f) => `${f.fd}:0x${f.events.toString(16)}`).join(' ');
          traceRecord('sys_poll', t0, { pid: t.pid, comm: t.comm, dur: ktimeGet() - t0, fds: what, timeout: a[1], ret });
        }
        const res = new Int32Array(n);
        fds.forEach((f, i) => (res[i] = f.revents));
        out = new Uint8Array(res.buffer);
        break;
      }
      case Sys.readFile: {
        const r = await sysReadFile(t, dec.decode(argBytes(slot)));
        if (typeof r === 'number') ret = r;
        else side = { kind: 'text', text: r };
        break;
      }
      case Sys.memfdCreate:
        ret = sysMemfdCreate(t, dec.decode(argBytes(slot)), a[0]);
        break;
      case Sys.ftruncate:
        ret = sysFtruncate(t, a[0], a[1]);
        break;
      case Sys.fcntl:
        ret = sysFcntl(t, a[0], a[1], a[2]);
        break;
      case Sys.read: {
        const r = sysRead(t, a[0], Math.min(a[1], slot.data.length));
        if (typeof r === 'number') ret = r;
        else {
          ret = r.length;
          out = r;
        }
        break;
      }
      case Sys.write:
        ret = sysWrite(t, a[0], argBytes(slot));
        break;
      case Sys.sendFd: {
        const r = sysSendFd(t, a[0], a[1]);
        if (typeof r === 'number') ret = r;
        else out = enc.encode(r); // the token comes back in the slot: no message needed
        break;
      }
      case Sys.receiveFd:
        ret = sysReceiveFd(t, dec.decode(argBytes(slot)), a[0]);
        break;
      case Sys.exit:
        exitProc(p);
        break;
      case Sys.readdir: {
        const r = sysReaddir(t, dec.decode(argBytes(slot)));
        if (typeof r === 'number') ret = r;
        else side = { kind: 'text', text: r.join('\n') };
        break;
      }
      default:
        ret = -38; // -ENOSYS
    }
  } catch (e) {
    // A kernel exception is a kernel bug: log it; the caller sees -EIO.
    process.stderr.write(`dmabuf kernel: syscall ${slot.ctl[SYSNO]} of pid ${t.pid}: ${(e as Error).stack ?? e}\n`);
    ret = -5;
  }
  // After shutdown every pending call was answered (-EIO): a call that
  // finishes later (interrupted by the exit) must not overwrite that answer.
  if (Atomics.load(doorbell, DOORBELL_DOWN)) return;
  if (out) {
    slot.data.set(out.subarray(0, slot.data.length));
    slot.ctl[OUTLEN] = Math.min(out.length, slot.data.length);
  } else {
    slot.ctl[OUTLEN] = 0;
  }
  slot.ctl[SIDE] = side ? 1 : 0;
  if (side) p.port.postMessage({ ...side, slot: index, seq } as SideMessage);
  slot.ret[0] = ret;
  p.busy[index] = false;
  running--;
  Atomics.store(slot.ctl, RESP, seq);
  if (Atomics.load(slot.ctl, WAITING)) wakeCaller(slot, p.started[index]);
}

/**
 * Answers whose callers are asleep, with when each call started. A caller
 * that spins sees its answer the moment RESP is stored and needs nothing
 * more; waking one that blocked is a futex wake costing the kernel thread
 * ~10-20 µs here, so the order matters. Wake-ups wait until the kernel has
 * run everything its last calls set going (the microtask queue has
 * drained) and then go out oldest call first: a fence signalled by
 * SW_SYNC_IOC_INC wakes the poll() that waited for it before the INC
 * returns, as dma_fence_signal's wake_up runs inside the signalling ioctl
 * in Linux.
 */
const toWake: { slot: Slot; started: number }[] = [];
let startCount = 0;
/** calls started and not yet answered (the busy slots of every process, counted) */
let running = 0;

function wakeCaller(slot: Slot, started: number): void {
  toWake.push({ slot, started });
  // With no other call in progress nothing can be woken after this one: at once.
  if (running === 0) wakeCallers();
  else if (toWake.length === 1) process.nextTick(wakeCallers);
}

function wakeCallers(): void {
  toWake.sort((a, b) => a.started - b.started);
  for (const w of toWake) Atomics.notify(w.slot.ctl, RESP);
  toWake.length = 0;
}

/**
 * One turn of the spinning loop: a bare await, or with sleeping callers to
 * wake, a wait until the microtask queue has drained (process.nextTick runs
 * after it), so the calls run as far as they can and wakeCallers runs
 * before the next look at the slots.
 */
function spinTurn(): Promise<void> | null {
  return toWake.length ? new Promise((resolve) => process.nextTick(resolve)) : null;
}

/** Start every request that is waiting; true if there was one. */
function scan(): boolean {
  let any = false;
  for (const p of procs) {
    for (let i = 0; i < SLOTS; i++) {
      const slot = p.slots[i];
      const req = Atomics.load(slot.ctl, REQ);
      if (req !== p.handled[i] && !p.busy[i]) {
        p.handled[i] = req;
        p.busy[i] = true;
        p.started[i] = ++startCount;
        running++;
        any = true;
        // Under CONFIG_PROVE_LOCKING each syscall is a task of its own to lockdep.
        if (kconfig.PROVE_LOCKING) void lockdepTask(() => run(p, slot, i, req));
        else void run(p, slot, i, req);
      }
    }
  }
  return any;
}

async function loop(): Promise<void> {
  let lastWork = 0;
  // The doorbell's value when the event loop last had a turn. A ring after
  // it may be a message (from the machine) or work finishing in promise
  // continuations: the thread must give the event loop a turn before it
  // blocks, or that would wait for the slice to run out.
  let ringAtTurn = Atomics.load(doorbell, DOORBELL_RING);
  const turn = async (): Promise<void> => {
    ringAtTurn = Atomics.load(doorbell, DOORBELL_RING);
    await new Promise(setImmediate);
  };
  Atomics.store(doorbell, DOORBELL_AWAKE, 1);
  let beat = 0;
  while (!stopping) {
    Atomics.store(doorbell, DOORBELL_BEAT, ++beat);
    if (scan()) {
      lastWork = ktimeGet();
      await spinTurn();
      continue;
    }
    if (ktimeGet() - lastWork < SPIN_NS) {
      await spinTurn();
      continue;
    }
    Atomics.store(doorbell, DOORBELL_AWAKE, 0);
    const seen = Atomics.load(doorbell, DOORBELL_RING);
    if (scan()) {
      Atomics.store(doorbell, DOORBELL_AWAKE, 1);
      continue;
    }
    if (ktimeGet() - lastWork < DOZE_NS) {
      if (seen !== ringAtTurn) {
        Atomics.store(doorbell, DOORBELL_AWAKE, 1);
        await turn();
        continue;
      }
      wakeCallers();
      const r = Atomics.wait(doorbell, DOORBELL_RING, seen, DOZE_SLICE_MS);
      Atomics.store(doorbell, DOORBELL_AWAKE, 1);
      // A slice that ran out: timers are due. A ring: requests are served at
      // the top of the loop, and the turn is taken before the next sleep.
      if (r === 'timed-out') await turn();
      continue;
    }
    const w = Atomics.waitAsync(doorbell, DOORBELL_RING, seen);
    if (w.async) await w.value;
    Atomics.store(doorbell, DOORBELL_AWAKE, 1);
  }
}

/** What the kernel holds (Machine.stats()): every counter its subsystems registered at init. */
function stats(): MachineStats {
  return statsRead() as unknown as MachineStats;
}

parentPort!.on('message', (msg: { type: string; channel?: SharedArrayBuffer; port?: MessagePort; comm?: string }) => {
  if (msg.type === 'attach') attach(msg.channel!, msg.port!, msg.comm ?? 'node');
  else if (msg.type === 'stats') {
    parentPort!.postMessage({ type: 'stats', ...stats() });
  } else if (msg.type === 'trace-start') {
    traceStart();
    parentPort!.postMessage({ type: 'trace-start' });
  } else if (msg.type === 'trace-stop') {
    parentPort!.postMessage({ type: 'trace-stop', ...traceStop() });
  } else if (msg.type === 'heap') {
    // The kernel thread's own JavaScript heap after a full collection (for soak runs).
    setFlagsFromString('--expose-gc');
    (runInNewContext('gc') as () => void)();
    parentPort!.postMessage({ type: 'heap', bytes: getHeapStatistics().used_heap_size });
  } else if (msg.type === 'dmesg') {
    parentPort!.postMessage({ type: 'dmesg', text: dmesg() });
  } else if (msg.type === 'shutdown') {
    // No syscall will be answered again: callers blocked in one (a poll
    // without a timeout, say) get -EIO now instead of waiting for ever.
    Atomics.store(doorbell, DOORBELL_DOWN, 1);
    for (const p of procs) {
      for (const slot of p.slots) {
        const req = Atomics.load(slot.ctl, REQ);
        if (req === Atomics.load(slot.ctl, RESP)) continue;
        slot.ctl[OUTLEN] = 0;
        slot.ctl[SIDE] = 0;
        slot.ret[0] = -5; // -EIO
        Atomics.store(slot.ctl, RESP, req);
        Atomics.notify(slot.ctl, RESP);
      }
    }
    for (const p of [...procs]) exitProc(p);
    stopping = true;
    Atomics.add(doorbell, DOORBELL_RING, 1);
    Atomics.notify(doorbell, DOORBELL_RING);
    // What is still held after every process exited (0 dma-bufs, 0 pages unless something leaked).
    setImmediate(() => parentPort!.postMessage({ type: 'shutdown', ...stats() }));
  }
});

parentPort!.postMessage({ type: 'ready' });
void loop();
