/**
 * The userspace-ABI fuzzer's driver: a machine, `processes` agent workers
 * (test/fuzz/agent.ts) running seeded fast-check operation streams at
 * once, fds passed between them (the driver routes the tokens), agents
 * that exit on their own or are killed at random (crashes) or when stuck
 * (a wait no one will end, as SIGKILL ends it), and replacements until
 * the syscall budget is spent. Then every process exits and the machine
 * must hold nothing: no dma-buf, page, fence, fd in flight; no taint, no
 * WARN in the kernel log.
 */
import { MessageChannel, Worker } from 'node:worker_threads';
import { boot, type Machine, type MachineStats } from '../../src/machine/boot.js';
import type { AgentData, AgentReport } from './agent.js';

export interface FuzzOptions {
  processes: number;
  syscalls: number;
  seed: number;
  /** chance per second that a random agent is terminated mid-run */
  killsPerSecond?: number;
  /** an agent that makes no progress this long is killed (it waits for something no one will do) */
  stuckMs?: number;
  /** operations an agent makes before it exits and is replaced */
  perAgent?: number;
  log?: (s: string) => void;
  /** fuzz this machine (left running; `left` is then its stats after the run) instead of booting one */
  machine?: Machine;
}

export interface FuzzResult {
  syscalls: number;
  agents: number;
  exits: number;
  kills: number;
  stuck: number;
  errnos: Record<string, number>;
  findings: string[];
  warnings: string[];
  left: MachineStats;
  seconds: number;
}

const SLOTS = 64;

export async function runFuzz(o: FuzzOptions): Promise<FuzzResult> {
  const log = o.log ?? (() => {});
  // The kernel runs with lockdep and CONFIG_DMABUF_DEBUG, so the fuzz also checks lock order and that no importer follows page links.
  const machine = o.machine ?? (await boot({ kconfig: { PROVE_LOCKING: true, DMABUF_DEBUG: true } }));
  const shared = new SharedArrayBuffer(4 * (1 + SLOTS + 1 + SLOTS));
  const sh = new Int32Array(shared);
  const agentUrl = new URL('./agent.js', import.meta.url);
  const res: FuzzResult = { syscalls: 0, agents: 0, exits: 0, kills: 0, stuck: 0, errnos: {}, findings: [], warnings: [], left: null as never, seconds: 0 };
  const t0 = performance.now();
  let seed = o.seed;
  let started = 0;
  const perAgent = o.perAgent ?? 20_000;

  interface Live {
    worker: Worker;
    slot: number;
    pid: number;
    tokens: MessageChannel['port1'];
    lastProgress: number;
    lastChange: number;
    done: Promise<void>;
  }
  const live = new Map<number, Live>();
  let finishedOps = 0; // syscalls of agents that are gone
  const freeSlots = Array.from({ length: SLOTS }, (_, i) => i);

  const publishPids = (): void => {
    const pids = [...live.values()].map((a) => a.pid).filter((p) => p > 0);
    Atomics.store(sh, 1 + SLOTS, pids.length);
    pids.forEach((p, i) => Atomics.store(sh, 1 + SLOTS + 1 + i, p));
  };

  const merge = (r: AgentReport): void => {
    for (const [k, v] of Object.entries(r.errnos)) res.errnos[k] = (res.errnos[k] ?? 0) + v;
    res.findings.push(...r.findings.slice(0, 20));
  };

  const spawn = (): void => {
    const slot = freeSlots.pop()!;
    Atomics.store(sh, 1 + slot, 0);
    const handle = machine.channel(`fuzz${slot}`);
    const ch = new MessageChannel();
    const data: AgentData = { handle, seed: seed++ * 7919, budget: perAgent, shared, slot, tokens: ch.port2 };
    const worker = new Worker(agentUrl, { workerData: data, transferList: [handle.port, ch.port2] as never });
    started++;
    const a: Live = { worker, slot, pid: 0, tokens: ch.port1, lastProgress: 0, lastChange: performance.now(), done: null as never };
    a.done = new Promise<void>((resolve) => {
      worker.on('message', (m: { report?: AgentReport; token?: string; to?: number }) => {
        if (m.report) {
          merge(m.report);
          res.exits++;
        } else if (m.token) {
          // route a sent fd's token to the process it was sent to (if still alive)
          for (const b of live.values()) if (b.pid === m.to) b.tokens.postMessage(m.token);
        }
      });
      worker.on('error', (e) => {
        res.findings.push(`agent ${slot}: worker error ${e.stack ?? e}`);
      });
      worker.on('exit', () => {
        if (a.lastChange !== Infinity) finishedOps += Atomics.load(sh, 1 + slot); // killed ones were counted when killed
        live.delete(slot);
        freeSlots.push(slot);
        ch.port1.close();
        publishPids();
        resolve();
      });
    });
    live.set(slot, a);
    // The pid: the kernel writes it into the channel header when it makes the process.
    const header = new Int32Array(handle.channel, 0, 4);
    const waitPid = (): void => {
      const pid = Atomics.load(header, 0);
      if (pid) {
        a.pid = pid;
        publishPids();
      } else setTimeout(waitPid, 1);
    };
    waitPid();
  };

  const progress = (): number => {
    let n = 0;
    // Killed agents were counted when killed (they stay in `live` until their thread is gone).
    for (const a of live.values()) if (a.lastChange !== Infinity) n += Atomics.load(sh, 1 + a.slot);
    return n;
  };

  try {
    for (let i = 0; i < o.processes; i++) spawn();
    let lastLog = performance.now();
    while (finishedOps + progress() < o.syscalls) {
      if (res.findings.filter((f) => f.includes('worker error')).length > 3) throw new Error(`agents keep failing: ${res.findings[0]}`);
      await new Promise((r) => setTimeout(r, 20));
      const now = performance.now();
      for (const a of [...live.values()]) {
        const p = Atomics.load(sh, 1 + a.slot);
        if (p !== a.lastProgress) {
          a.lastProgress = p;
          a.lastChange = now;
        } else if (now - a.lastChange > (o.stuckMs ?? 2000)) {
          // Blocked in a wait nobody will end (a fence of its own it imported, say): kill it, as SIGKILL would.
          res.stuck++;
          a.lastChange = Infinity;
          finishedOps += p;
          void a.worker.terminate();
        }
      }
      if (o.killsPerSecond && Math.random() < (o.killsPerSecond * 20) / 1000 && live.size) {
        const victims = [...live.values()].filter((a) => a.lastChange !== Infinity);
        const a = victims[Math.floor(Math.random() * victims.length)];
        if (a) {
          res.kills++;
          a.lastChange = Infinity;
          finishedOps += Atomics.load(sh, 1 + a.slot);
          void a.worker.terminate();
        }
      }
      // Replace the agents that finished or died.
      while (live.size < o.processes && finishedOps + progress() < o.syscalls) {
        spawn();
      }
      if (now - lastLog > 5000) {
        lastLog = now;
        log(`  ${finishedOps + progress()} syscalls, ${started} processes so far, ${res.kills} killed, ${res.stuck} stuck`);
      }
    }
  } finally {
    Atomics.store(sh, 0, 1);
    const all = [...live.values()];
    const deadline = setTimeout(() => all.forEach((a) => void a.worker.terminate()), 10_000);
    await Promise.all(all.map((a) => a.done));
    clearTimeout(deadline);
    res.warnings = (await machine.dmesg()).split('\n').filter((l) => /WARNING|BUG|refcount|underflow/i.test(l));
    res.left = o.machine ? await machine.stats() : await machine.shutdown();
  }
  res.syscalls = finishedOps + progress();
  res.agents = started;
  res.seconds = (performance.now() - t0) / 1000;
  return res;
}
