/**
 * Imported by every test file. After each test it fails the test if the
 * kernel was tainted by a BUG, if a WARN fired that the test did not expect
 * (wrap expected ones in expectWarn), or if fences were leaked.
 */
import { afterEach, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { getTaint, TAINT_DIE, warnings } from '../../src/kernel/lib/bug.js';
import { logRecords, logNextSeq, formatRecord, KERN_WARNING } from '../../src/kernel/lib/printk.js';
import { dmaFenceStats } from '../../src/kernel/fence/dma-fence.js';
import { dmaResvStats } from '../../src/kernel/resv/dma-resv.js';
import { fileStats } from '../../src/kernel/fs/file.js';
import { dmaBufStats } from '../../src/kernel/buf/dma-buf.js';
import { pagesAllocated } from '../../src/kernel/mm/page-alloc.js';

let acknowledged = warnings();
let logStart = logNextSeq();
let liveFences = dmaFenceStats.live;
let leakCheck = true;

/** Live-object counters that must come back to their start value by the end of each test. */
const counters = new Map<string, () => number>([
  ['reservation objects', () => dmaResvStats.live],
  ['open files', () => fileStats.live],
  ['dma-bufs', () => dmaBufStats.live],
  ['pages', () => pagesAllocated()],
]);
const counterStart = new Map<string, number>([...counters].map(([k, read]) => [k, read()]));

/** Register another live-object counter that must come back to its start value by the end of each test. */
export function registerLeakCounter(name: string, read: () => number): void {
  counters.set(name, read);
  counterStart.set(name, read());
}

beforeEach(() => {
  acknowledged = warnings();
  logStart = logNextSeq();
  liveFences = dmaFenceStats.live;
  leakCheck = true;
  for (const [name, read] of counters) counterStart.set(name, read());
});

afterEach(() => {
  assert.equal(getTaint() & (1 << TAINT_DIE), 0, 'kernel tainted by BUG');
  const unexpected = warnings() - acknowledged;
  if (unexpected !== 0) {
    const log = logRecords(logStart).filter((r) => r.level <= KERN_WARNING).map(formatRecord).join('\n');
    acknowledged = warnings();
    assert.fail(`${unexpected} unexpected WARN(s):\n${log}`);
  }
  if (leakCheck) {
    assert.equal(dmaFenceStats.live - liveFences, 0, 'fences leaked (initialised but never released)');
    for (const [name, read] of counters) assert.equal(read() - counterStart.get(name)!, 0, `${name} leaked`);
  }
});

/**
 * Run `fn` expecting it to WARN (`count` times, or at least once when
 * omitted); the warnings are then acknowledged. Returns fn's result.
 */
export async function expectWarn<T>(fn: () => T | Promise<T>, count?: number): Promise<T> {
  const before = warnings();
  const ret = await fn();
  const fired = warnings() - before;
  if (count === undefined) assert.ok(fired > 0, 'expected a WARN');
  else assert.equal(fired, count, `expected ${count} WARN(s), got ${fired}`);
  acknowledged += fired;
  return ret;
}

/** Synchronous form of expectWarn. */
export function expectWarnSync<T>(fn: () => T, count?: number): T {
  const before = warnings();
  const ret = fn();
  const fired = warnings() - before;
  if (count === undefined) assert.ok(fired > 0, 'expected a WARN');
  else assert.equal(fired, count, `expected ${count} WARN(s), got ${fired}`);
  acknowledged += fired;
  return ret;
}

/** This test deliberately keeps objects alive past its end. */
export function skipLeakCheck(): void {
  leakCheck = false;
}

/** Give other async tasks a turn (a random mix of microtask and macrotask yields). */
export function yieldNow(): Promise<void> {
  return Math.random() < 0.5 ? new Promise((r) => setImmediate(r)) : Promise.resolve();
}

/** Sleep ms milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * Run `body` (the text of an async function body) in a fresh kernel: a
 * worker thread with its own module state, so a BUG that taints the kernel
 * for good does not taint this one. `k` is the kernel face
 * (src/kernel/index.js); `getTaint`/`TAINT_DIE` are in it. The value the
 * body returns comes back (structured-cloned).
 */
export async function inFreshKernel<T = unknown>(body: string): Promise<T> {
  const { Worker } = await import('node:worker_threads');
  const kernelUrl = new URL('../../src/kernel/index.js', import.meta.url).href;
  const code = `
    const k = await import(${JSON.stringify(kernelUrl)});
    const { parentPort } = await import('node:worker_threads');
    const result = await (async () => { ${body} })();
    parentPort.postMessage(result);
  `;
  const w = new Worker(code, { eval: true, type: 'module' } as never);
  try {
    return await new Promise<T>((resolve, reject) => {
      w.once('message', resolve);
      w.once('error', reject);
    });
  } finally {
    await w.terminate();
  }
}
