/**
 * The two sides of a differential run: a machine that gives a fresh process
 * per sequence, recorded, and checks after each that the process left
 * nothing behind (so the next sequence starts where this one did).
 *
 * The emulator's machine is booted to look like the kernel it is compared
 * with (its CMA area's size, whether it has sw_sync and the sysfs stats) and
 * is rebooted every `recycle` sequences; between boots, a fresh process on a
 * machine that holds nothing starts where a fresh machine would, up to the
 * counters that normalising hides (inode numbers, fence contexts). Booting
 * costs about 2 s in the VM's guest (TCG), a sequence about a tenth of it.
 * The native machine is booted once: the real kernel is never fresh either.
 */
import { existsSync, readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { boot as bootEmulator } from '../../../src/machine/boot.js';
import type { MachineLike, MachineStats, ProcessLike } from '../../../src/machine/process-api.js';
import { Recorder } from '../../differential/recorder.js';
import { detectFeatures, emulatorBootOptions, type Features } from '../../differential/env.js';
import type { Line } from '../../differential/normalize.js';
import { Executor } from './executor.js';
import type { DiffOp } from './vocabulary.js';

/** The emulator's own features (everything built in, its default CMA area): for a run of the emulator against itself. */
export const EMULATOR_FEATURES: Features = {
  swSync: true, cmaHeap: 'reserved', cmaBytes: 64 * 2 ** 20, sysfsStats: true, udmabuf: true,
  vgemCard: '/dev/dri/card0', vgemRender: '/dev/dri/renderD128', comm: 'node',
};

/** Paths of the vocabulary that name nothing on a kernel with `f` (opened without O_CREAT: see ExecutorOptions.absent). */
export function absentPaths(f: Features): string[] {
  return ['/dev/dma_heap/nope', '/dev/dma_heap/__proto__', ...(f.cmaHeap === 'reserved' ? [] : ['/dev/dma_heap/reserved']), ...(f.swSync ? [] : ['/sys/kernel/debug/sync/sw_sync'])];
}

/** The vocabulary's paths (the emulator's) -> this kernel's: the vgem nodes, found by driver name. */
function pathsOf(f: Features): Record<string, string> {
  const paths: Record<string, string> = {};
  if (f.vgemCard) paths['/dev/dri/card0'] = f.vgemCard;
  if (f.vgemRender) paths['/dev/dri/renderD128'] = f.vgemRender;
  return paths;
}

/** What a side recorded for a sequence, and the program its run wrote. */
export interface SequenceResult {
  lines: Line[];
  code: string[];
}

/** How a side runs a sequence. */
export interface RunOptions {
  /** write the program's source too */
  emit?: boolean;
  /** paths that name nothing on the compared kernel (ExecutorOptions.absent) */
  absent?: readonly string[];
}

/** A side: a machine that runs sequences, each on a fresh process. */
export interface Side {
  readonly name: string;
  readonly backend: 'emulator' | 'linux';
  /** Run a sequence on a fresh process; rejects if the machine then holds anything. */
  run(ops: readonly DiffOp[], opts?: RunOptions): Promise<SequenceResult>;
  /** Shut the machine down: what it still held (all zero), and kernel warnings. */
  close(): Promise<{ left: MachineStats; warnings: string[] }>;
}

/** One sequence on a process, through a recorder: the lines and the program. */
function runOn(r: Recorder, ops: readonly DiffOp[], opts: RunOptions, paths: Readonly<Record<string, string>>): SequenceResult {
  const ex = new Executor(r, { paths, emit: opts.emit, absent: opts.absent });
  try {
    ex.run(ops);
  } finally {
    r.finish();
  }
  return { lines: r.lines, code: ex.code };
}

/** Wrap each process a side makes (tests inject faults with it). */
export type ProcessWrapper = (proc: ProcessLike) => ProcessLike;

const WARN = /WARNING:|BUG:|Oops|refcount_t|underflow|use-after-free|Kernel panic/;

/** Wait until `stats()` says nothing is held (a deferred fput may trail an exit): null, or the last stats. */
async function drained(stats: () => Promise<MachineStats>, ignore: readonly string[] = []): Promise<MachineStats | null> {
  const end = Date.now() + 2000;
  for (;;) {
    const s = await stats();
    if (Object.entries(s).every(([k, v]) => v === 0 || ignore.includes(k))) return null;
    if (Date.now() > end) return s;
    await new Promise((r) => setTimeout(r, 2));
  }
}

function describe(s: MachineStats): string {
  return Object.entries(s).filter(([, v]) => v !== 0).map(([k, v]) => `${k} ${v}`).join(', ');
}

/** The emulator, booted like a kernel with `features`, rebooted every `recycle` sequences; in the calling thread. */
export function emulatorSide(features: Features, opts: { recycle?: number; wrap?: ProcessWrapper; name?: string } = {}): Side {
  const recycle = opts.recycle ?? 100;
  let machine: MachineLike | null = null;
  let used = 0;
  const warnings: string[] = [];
  const options = emulatorBootOptions(features);
  const bootOne = (): Promise<MachineLike> => bootEmulator({ ...options, kconfig: { ...options.kconfig, SW_SYNC: features.swSync } });
  const paths = pathsOf(EMULATOR_FEATURES);
  const retire = async (m: MachineLike): Promise<MachineStats> => {
    warnings.push(...(await m.dmesg()).split('\n').filter((l) => WARN.test(l)));
    return m.shutdown();
  };
  return {
    name: opts.name ?? 'emulator',
    backend: 'emulator',
    async run(ops, runOpts = {}) {
      if (machine && used >= recycle) {
        const left = await retire(machine);
        machine = null;
        if (Object.values(left).some((v) => v !== 0)) throw new Error(`the emulator held ${describe(left)} at its shutdown`);
      }
      if (!machine) {
        machine = await bootOne();
        used = 0;
      }
      used++;
      const m = machine;
      const spawned = m.spawn(features.comm);
      const proc = opts.wrap ? opts.wrap(spawned) : spawned;
      try {
        return runOn(new Recorder(proc, 'emulator'), ops, runOpts, paths);
      } finally {
        spawned.exit();
        const left = await drained(() => m.stats());
        if (left) throw new Error(`after the sequence the emulator still holds ${describe(left)}`);
      }
    },
    async close() {
      const left = machine ? await retire(machine) : {};
      machine = null;
      return { left, warnings };
    },
  };
}

/**
 * The emulator in a worker thread of its own (side-worker.ts), so that its
 * sequence runs while the other side's runs in this thread: the two sides'
 * recordings are independent, and in the VM's guest a sequence's time is
 * then the slower side's instead of the sum.
 */
export function emulatorWorkerSide(features: Features, opts: { recycle?: number; name?: string } = {}): Side {
  const worker = new Worker(new URL('./side-worker.js', import.meta.url), { workerData: { features, recycle: opts.recycle } });
  let next = 1;
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let dead: Error | null = null;
  worker.on('message', (m: { id: number; result?: unknown; error?: string }) => {
    const p = pending.get(m.id);
    if (!p) return;
    pending.delete(m.id);
    if (m.error !== undefined) p.reject(new Error(m.error));
    else p.resolve(m.result);
  });
  const fail = (e: Error): void => {
    dead = e;
    for (const p of pending.values()) p.reject(e);
    pending.clear();
  };
  worker.on('error', fail);
  worker.on('exit', (code) => fail(new Error(`the emulator's worker exited (${code})`)));
  const call = <T>(msg: Record<string, unknown>): Promise<T> => {
    if (dead) return Promise.reject(dead);
    const id = next++;
    return new Promise<T>((resolve, reject) => {
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      worker.postMessage({ id, ...msg });
    });
  };
  return {
    name: opts.name ?? 'emulator',
    backend: 'emulator',
    run: (ops, runOpts = {}) => call<SequenceResult>({ kind: 'run', ops, runOpts }),
    async close() {
      const r = await call<{ left: MachineStats; warnings: string[] }>({ kind: 'close' });
      worker.removeAllListeners('exit');
      await worker.terminate();
      return r;
    },
  };
}

/**
 * The host's kernel through the native backend, one machine for the run,
 * and what that kernel has (asked through a process, unrecorded).
 */
export async function nativeSide(): Promise<{ side: Side; features: Features }> {
  const { bootNative } = await import('../../../src/native/machine.js');
  const machine = await bootNative();
  const probe = machine.spawn();
  let features: Features;
  try {
    features = detectFeatures(probe);
  } finally {
    probe.exit();
  }
  const paths = pathsOf(features);
  const bufinfo = '/sys/kernel/debug/dma_buf/bufinfo';
  const buffersLeft = (): number => {
    // "Total N objects, M bytes" (dma_buf_debug_show): other processes' buffers count too, and should be none.
    if (!existsSync(bufinfo)) return 0;
    const m = /Total (\d+) objects/.exec(readFileSync(bufinfo, 'utf8'));
    return m ? Number(m[1]) : 0;
  };
  let runs = 0;
  const side: Side = {
    name: 'linux',
    backend: 'linux',
    async run(ops, runOpts = {}) {
      const proc = machine.spawn(features.comm);
      try {
        return runOn(new Recorder(proc, 'linux'), ops, runOpts, paths);
      } finally {
        proc.exit();
        // bufinfo (every dma-buf of the kernel) after each sequence; the machine's own tables (a scan of
        // /proc/self/fd: 10-30 ms in the VM's guest) every tenth, and where there is no debugfs.
        const full = ++runs % 10 === 0 || !existsSync(bufinfo);
        const left = await drained(async () => (full ? { ...(await machine.stats()), bufinfo: buffersLeft() } : { bufinfo: buffersLeft() }));
        if (left) throw new Error(`after the sequence the native machine still holds ${describe(left)}`);
      }
    },
    async close() {
      let warnings: string[] = [];
      try {
        warnings = (await machine.dmesg()).split('\n').filter((l) => WARN.test(l));
      } catch {
        // dmesg_restrict without CAP_SYSLOG: the VM test bed checks the guest's log itself
      }
      return { left: await machine.shutdown(), warnings };
    },
  };
  return { side, features };
}
