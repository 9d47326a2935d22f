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
import { parentPort, receiveMessageOnPort, workerData, type MessagePort } from 'node:worker_threads';
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { FdTable } from '../kernel/fs/fdtable.js';
import { devNullOpen } from '../kernel/fs/mem.js';
import { O_RDONLY, O_WRONLY } from '../uapi/fcntl.js';
import { Task, tasks } from '../kernel/fs/task.js';
import { startKernel } from '../kernel/init.js';
import { loadModule, ModuleLoadError, unloadModule } from '../kernel/module-loader.js';
import { statsRead } from '../kernel/lib/stats.js';
import { pr_warn, dmesg } from '../kernel/lib/printk.js';
import { sysExit } from '../kernel/fs/syscalls.js';
import { sendSignal, setSignalSink } from '../kernel/fs/signal.js';
import { ERESTART_RESTARTBLOCK, ERESTARTNOHAND, ERESTARTNOINTR, ERESTARTSYS } from '../kernel/lib/errno.js';
import { EINTR, EINVAL, EIO, ENOSYS, ESRCH } from '../uapi/errno.js';
import { ktimeGet } from '../kernel/lib/time.js';
import { traceAll } from '../kernel/lib/trace.js';
import type { BootOptions, MachineStats } from './boot.js';
import { kconfig } from '../kernel/lib/kconfig.js';
import { lockdepTask } from '../kernel/locking/lockdep.js';
import {
  CANCEL, DOORBELL_AWAKE, DOORBELL_BEAT, DOORBELL_DOWN, DOORBELL_LASTPID, DOORBELL_RING, H_ALIVE, H_EVENTS, H_EXITED, H_KILLED, H_KILLSIG, H_PID, H_SIGPENDING, H_STATE,
  INLEN, OUTLEN, REQ, RESP, SIDE, SLEEPING, SLOTS, Slot, SYSNO, WAITING, type TraceRecord,
} from './protocol.js';
import { packAnswer, slotUnpacker, SYSCALL_BY_NR, type Answer, type SyscallSpec } from './syscalls.js';
import { kernelHandlers } from './kernel-calls.js';

const opts = (workerData?.options ?? {}) as BootOptions;
const doorbell = new Int32Array(workerData.doorbell as SharedArrayBuffer);
const SPIN_NS = opts.spinNs ?? 50_000;
/** one blocking slice while dozing, ms: the most a kernel timer waits (messages ring the doorbell) */
const DOZE_SLICE_MS = opts.dozeSliceMs ?? 1;
/** how long after the last request the thread dozes before parking, ns */
const DOZE_NS = 100_000_000;
// No back-off when the thread finds itself preempted while spinning: tried, it cost the busy
// round trip 10-30 µs on a loaded 2-core machine and gave the pipeline nothing measurable.

startKernel({ kconfig: opts.kconfig, memory: opts.memory });

interface Proc {
  /** the process (its first thread) */
  task: Task;
  /** one thread per slot: a call in progress on each is interrupted on its own */
  threads: Task[];
  slots: Slot[];
  header: Int32Array;
  handled: number[];
  port: MessagePort;
  /** syscalls in progress, per slot */
  busy: boolean[];
  /** when each slot's current call started (a kernel-wide count) */
  started: number[];
  /** the process is dying: no new call starts; it is torn down once its calls have returned */
  dying: boolean;
  /** the slot of the exit() call in progress, -1 if none */
  exitSlot: number;
  /** resolves when the process is gone */
  gone: Promise<void>;
  done: () => void;
}

const procs = new Set<Proc>();
const procByPid = new Map<number, Proc>();

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

function attach(channel: SharedArrayBuffer, port: MessagePort, comm: string, pid: number): void {
  const task = new Task(new FdTable(), comm, pid);
  // New processes start with fds 0, 1 and 2 open, as on Linux (here on /dev/null).
  for (let fd = 0; fd < 3; fd++) {
    const f = task.files.getUnusedFdFlags(0);
    task.files.fdInstall(f, devNullOpen(fd === 0 ? O_RDONLY : O_WRONLY));
  }
  const slots = Array.from({ length: SLOTS }, (_, i) => new Slot(channel, i));
  const header = new Int32Array(channel, 0, 16);
  let done!: () => void;
  const gone = new Promise<void>((r) => (done = r));
  const p: Proc = {
    task, threads: slots.map((_, i) => (i === 0 ? task : task.cloneThread())), slots, header, handled: slots.map(() => 0), port,
    busy: slots.map(() => false), started: slots.map(() => 0), dying: false, exitSlot: -1, gone, done,
  };
  procs.add(p);
  procByPid.set(task.pid, p);
  attachedPid = Math.max(attachedPid, pid);
  setSignalSink(task, {
    pending: (sig) => {
      Atomics.or(header, H_SIGPENDING, 1 << sig);
      bumpEvents(p);
    },
    fatal: (sig) => {
      Atomics.store(header, H_KILLSIG, sig);
      Atomics.store(header, H_STATE, H_KILLED);
      bumpEvents(p);
      void exitProc(p);
    },
  });
  // A thread that exits or is terminated closes its port: its process exits.
  port.on('close', () => void exitProc(p));
  Atomics.store(header, H_PID, task.pid);
  Atomics.notify(header, H_PID);
}

/** Tell the process's thread that something happened (a signal, its end): it may be idle, watching this word. */
function bumpEvents(p: Proc): void {
  Atomics.add(p.header, H_EVENTS, 1);
  Atomics.notify(p.header, H_EVENTS);
}

/**
 * do_exit(): the process dies. Its threads' waits are interrupted; once
 * every call in progress has returned, its mappings go, its descriptors
 * close and descriptors sent to it are dropped (Linux releases files and
 * mm when the last thread exits, never under a running syscall).
 */
function exitProc(p: Proc): Promise<void> {
  if (!p.dying) {
    p.dying = true;
    p.task.kill(p.task.sig.exitSignal);
    finishIfIdle(p);
  }
  return p.gone;
}

function finishIfIdle(p: Proc): void {
  if (!p.dying || !procs.has(p) || p.busy.some((b, i) => b && i !== p.exitSlot)) return;
  procs.delete(p);
  procByPid.delete(p.task.pid);
  sysExit(p.task);
  if (Atomics.load(p.header, H_STATE) === H_ALIVE) Atomics.store(p.header, H_STATE, H_EXITED);
  // A request the process made as it died is answered, so no caller waits for ever.
  for (let i = 0; i < SLOTS; i++) {
    const slot = p.slots[i];
    const req = Atomics.load(slot.ctl, REQ);
    if (req !== Atomics.load(slot.ctl, RESP) && req !== p.handled[i]) answerAbandoned(slot, req, -ESRCH);
  }
  bumpEvents(p);
  p.done();
}

function answerAbandoned(slot: Slot, req: number, err: number): void {
  slot.ctl[OUTLEN] = 0;
  slot.ctl[SIDE] = 0;
  slot.ret[0] = err;
  Atomics.store(slot.ctl, RESP, req);
  Atomics.notify(slot.ctl, RESP);
}

const handlers = kernelHandlers({
  exit: (t) => {
    const p = procByPid.get(t.pid);
    if (!p) return Promise.resolve();
    // The exit call itself is in progress: the process goes once every other call has returned.
    p.exitSlot = p.threads.indexOf(t);
    return exitProc(p);
  },
});

/** The restart codes a handler without SA_RESTART turns into EINTR (arch signal delivery). */
function restartToEintr(ret: number): number {
  return ret === -ERESTARTSYS || ret === -ERESTARTNOINTR || ret === -ERESTARTNOHAND || ret === -ERESTART_RESTARTBLOCK ? -EINTR : ret;
}

/** Each syscall's unpacker and handler, by number, made once from the table. */
const UNPACK = SYSCALL_BY_NR.map((s) => (s ? slotUnpacker(s) : null));
const HANDLER = SYSCALL_BY_NR.map((s) => (s ? (handlers[s.key] as (t: Task, ...a: unknown[]) => unknown) : null));

/**
 * One syscall: the table's entry for the request, its handler, the answer.
 * A handler that answers at once (most do) is answered in the same turn,
 * with no promise in between; one that returns a promise is answered when
 * it settles.
 */
function run(p: Proc, slot: Slot, index: number, seq: number): void {
  const t = p.threads[index];
  t.beginCall();
  // A signal whose handler has not run yet interrupts the call at once, as a pending signal does in Linux.
  if (Atomics.load(p.header, H_SIGPENDING)) t.interrupt();
  const nr = slot.ctl[SYSNO];
  const s = SYSCALL_BY_NR[nr];
  if (!s) {
    reply(p, slot, index, seq, { ret: -ENOSYS, out: null, side: null });
    return;
  }
  let args: unknown[];
  let r: unknown;
  let t0 = 0;
  try {
    args = UNPACK[nr]!(slot, slot.ctl[INLEN]);
    t0 = trace.on && s.key === 'poll' ? ktimeGet() : 0;
    r = HANDLER[nr]!(t, ...args);
  } catch (e) {
    reply(p, slot, index, seq, kernelBug(s, t, e));
    return;
  }
  if (r instanceof Promise) {
    r.then(
      (v) => reply(p, slot, index, seq, answerOf(s, t, v, args, t0)),
      (e) => reply(p, slot, index, seq, kernelBug(s, t, e)),
    );
    return;
  }
  reply(p, slot, index, seq, answerOf(s, t, r, args, t0));
}

/** A kernel exception is a kernel bug: log it; the caller sees -EIO. */
function kernelBug(s: SyscallSpec, t: Task, e: unknown): Answer {
  process.stderr.write(`dmabuf kernel: syscall ${s.name} of pid ${t.pid}: ${(e as Error)?.stack ?? e}\n`);
  return { ret: -EIO, out: null, side: null };
}

function answerOf(s: SyscallSpec & { key: string }, t: Task, r: unknown, args: unknown[], t0: number): Answer {
  let answer: Answer;
  try {
    answer = packAnswer(s, r, args);
  } catch (e) {
    return kernelBug(s, t, e);
  }
  if (t0) {
    const fds = args[0] as { fd: number; events: number }[];
    const what = fds.map((f) => `${f.fd}:0x${f.events.toString(16)}`).join(' ');
    traceRecord('sys_poll', t0, { pid: t.pid, comm: t.comm, dur: ktimeGet() - t0, fds: what, timeout: args[1] as number, ret: answer.ret });
  }
  return answer;
}

/** Write the answer into the slot and wake the caller. */
function reply(p: Proc, slot: Slot, index: number, seq: number, answer: Answer): void {
  answer.ret = restartToEintr(answer.ret);
  p.busy[index] = false;
  running--;
  // After shutdown every pending call was answered (-EIO): a call that
  // finishes later (interrupted by the exit) must not overwrite that answer.
  if (!Atomics.load(doorbell, DOORBELL_DOWN)) {
    const { out, side } = answer;
    if (out) {
      slot.data.set(out.subarray(0, slot.data.length));
      slot.ctl[OUTLEN] = Math.min(out.length, slot.data.length);
    } else {
      slot.ctl[OUTLEN] = 0;
    }
    slot.ctl[SIDE] = side ? 1 : 0;
    if (side) p.port.postMessage({ ...side, slot: index, seq });
    slot.ret[0] = answer.ret;
    Atomics.store(slot.ctl, RESP, seq);
    if (Atomics.load(slot.ctl, WAITING)) wakeCaller(slot, p.started[index]);
  }
  finishIfIdle(p);
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

/** Every call still in progress once the kernel has run all it could is asleep: its caller should not spin (SLEEPING). */
function markSleepers(): void {
  if (running === 0) return;
  for (const p of procs) {
    for (let i = 0; i < SLOTS; i++) {
      if (p.busy[i] && p.slots[i].ctl[SLEEPING] !== p.handled[i]) Atomics.store(p.slots[i].ctl, SLEEPING, p.handled[i]);
    }
  }
}

/** Start every request that is waiting, and interrupt the calls their callers cancelled; true if there was work. */
function scan(): boolean {
  takeAttachMessages();
  let any = false;
  for (const p of procs) {
    for (let i = 0; i < SLOTS; i++) {
      const slot = p.slots[i];
      const req = Atomics.load(slot.ctl, REQ);
      if (p.busy[i]) {
        // An aborted async twin: interrupt just that call (its waiters go, it answers -EINTR).
        if (Atomics.load(slot.ctl, CANCEL) === p.handled[i] && !p.threads[i].signal.aborted) p.threads[i].interrupt();
        continue;
      }
      if (req === p.handled[i]) continue;
      p.handled[i] = req;
      any = true;
      if (p.dying) {
        answerAbandoned(slot, req, -EINTR);
        continue;
      }
      p.busy[i] = true;
      p.started[i] = ++startCount;
      running++;
      // Under CONFIG_PROVE_LOCKING each syscall is a task of its own to lockdep.
      if (kconfig.PROVE_LOCKING) lockdepTask(() => run(p, slot, i, req));
      else run(p, slot, i, req);
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
  // True once the microtask queue was seen empty after the last work (see below).
  let drained = false;
  // The clock is read once after a burst of work, not after each call: it costs as much as a call's own work.
  let stamp = false;
  while (!stopping) {
    // Read before the scan: a request the scan misses rang after this.
    const ring = Atomics.load(doorbell, DOORBELL_RING);
    Atomics.store(doorbell, DOORBELL_BEAT, ++beat);
    if (scan()) {
      stamp = true;
      drained = false;
      await spinTurn();
      continue;
    }
    const now = ktimeGet();
    if (stamp) {
      lastWork = now;
      stamp = false;
    }
    if (now - lastWork < SPIN_NS) {
      if (!drained && (running > 0 || toWake.length > 0)) {
        // Calls in progress (a poll a fence just woke, say): let every continuation the last
        // calls set going run to its end before spinning (process.nextTick runs after them).
        await new Promise((resolve) => process.nextTick(resolve));
        drained = !toWake.length;
        if (drained) markSleepers();
        continue;
      }
      // Watch only the doorbell until it rings: a request is seen in nanoseconds, where a
      // turn of this loop (scan, clock, await) takes hundreds. A yield now and then lets
      // whatever kernel continuation is left (work that is not a call) go on.
      for (let i = 1; Atomics.load(doorbell, DOORBELL_RING) === ring; i++) {
        if ((i & 255) !== 0) continue;
        Atomics.store(doorbell, DOORBELL_BEAT, ++beat);
        if (ktimeGet() - lastWork >= SPIN_NS) break;
        await null;
      }
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
      markSleepers();
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

/** A message from the machine (boot.ts): `id` pairs it with its answer. */
interface MachineMessage {
  type: string;
  id?: number;
  channel?: SharedArrayBuffer;
  port?: MessagePort;
  comm?: string;
  pid?: number;
  sig?: number;
  url?: string;
  name?: string;
}

/** How long shutdown waits for interrupted calls to return before tearing their processes down regardless, ms. */
const SHUTDOWN_GRACE_MS = 2000;

async function shutdown(): Promise<MachineStats> {
  // No syscall will be answered again: callers blocked in one (a poll
  // without a timeout, say) get -EIO now instead of waiting for ever.
  Atomics.store(doorbell, DOORBELL_DOWN, 1);
  for (const p of procs) {
    for (const slot of p.slots) {
      const req = Atomics.load(slot.ctl, REQ);
      if (req !== Atomics.load(slot.ctl, RESP)) answerAbandoned(slot, req, -EIO);
    }
  }
  const all = [...procs];
  let timer: ReturnType<typeof setTimeout> | undefined;
  const grace = new Promise<void>((r) => (timer = setTimeout(r, SHUTDOWN_GRACE_MS)));
  await Promise.race([Promise.all(all.map((p) => exitProc(p))), grace]);
  clearTimeout(timer);
  // A call that did not return (stuck in an uninterruptible wait) is abandoned: its process goes anyway.
  for (const p of all) {
    if (!procs.has(p)) continue;
    pr_warn(`dmabuf: pid ${p.task.pid} still in a syscall at shutdown`);
    p.busy.fill(false);
    finishIfIdle(p);
  }
  stopping = true;
  Atomics.add(doorbell, DOORBELL_RING, 1);
  Atomics.notify(doorbell, DOORBELL_RING);
  // What is still held after every process exited (0 dma-bufs, 0 pages unless something leaked).
  await new Promise(setImmediate);
  return stats();
}

async function answer(msg: MachineMessage): Promise<unknown> {
  switch (msg.type) {
    case 'stats':
      return stats();
    case 'trace-start':
      traceStart();
      return {};
    case 'trace-stop':
      return traceStop();
    case 'heap':
      // The kernel thread's own JavaScript heap after a full collection (for soak runs).
      setFlagsFromString('--expose-gc');
      (runInNewContext('gc') as () => void)();
      return { bytes: getHeapStatistics().used_heap_size };
    case 'dmesg':
      return { text: dmesg() };
    case 'kill': {
      const target = tasks.get(msg.pid!);
      if (!target || target.exited) return { ret: -ESRCH };
      return { ret: sendSignal(target, msg.sig!) };
    }
    case 'insmod':
      try {
        return { ret: 0, name: await loadModule(msg.url!) };
      } catch (e) {
        return { ret: e instanceof ModuleLoadError ? e.errno : -EINVAL, error: (e as Error).message };
      }
    case 'rmmod':
      return { ret: await unloadModule(msg.name!) };
    case 'shutdown':
      return shutdown();
    default:
      return { ret: -ENOSYS };
  }
}

function onMessage(msg: MachineMessage): void {
  if (msg.type === 'attach') {
    attach(msg.channel!, msg.port!, msg.comm ?? 'node', msg.pid!);
    return;
  }
  void answer(msg).then((body) => parentPort!.postMessage({ id: msg.id, body }));
}

parentPort!.on('message', onMessage);

/**
 * The highest pid attached. The machine takes a pid before it posts the
 * attach message, so a pid above this one belongs to a process whose
 * channel exists: its message is taken now, before any syscall that may
 * name it (a descriptor sent to it the moment its channel was made).
 */
let attachedPid = 0;

function takeAttachMessages(): void {
  if (Atomics.load(doorbell, DOORBELL_LASTPID) === attachedPid) return;
  for (let m = receiveMessageOnPort(parentPort!); m; m = receiveMessageOnPort(parentPort!)) onMessage(m.message as MachineMessage);
}

parentPort!.postMessage({ type: 'ready' });
void loop();
