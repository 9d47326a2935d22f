/**
 * What importing 'dmabuf' (src/index.ts) costs a worker: no kernel code,
 * and the native backend's process module only where a native handle may
 * be attached (the main thread, DMABUF_BACKEND=linux, or a worker handed
 * one in its workerData); elsewhere a native handle is refused with a
 * message that says what to do.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { staticGraph } from '../helpers/static-graph.js';

const dist = fileURLToPath(new URL('../../src/', import.meta.url));
const indexUrl = new URL('../../src/index.js', import.meta.url).href;

test("the package's entry statically loads neither kernel nor native backend files", () => {
  const files = [...staticGraph(resolve(dist, 'index.js'))].map((f) => relative(dist, f));
  assert.ok(files.includes('machine/process.js'), files.join(', '));
  assert.deepEqual(files.filter((f) => f.startsWith('kernel/') || f.startsWith('native/')), []);
});

/** In a fresh worker with `workerData`: import the entry, report whether the native process class loaded, and try to attach `attachThis`. */
function probe(workerData: unknown, env: NodeJS.ProcessEnv = process.env): Promise<{ native: boolean; error: { code?: string; message: string } | null }> {
  const w = new Worker(
    `const { attach } = await import(${JSON.stringify(indexUrl)});
     const { workerData, parentPort } = await import('node:worker_threads');
     const native = globalThis[Symbol.for('dmabuf.NativeProcess')] !== undefined;
     let error = null;
     try { attach({ backend: 'linux', sab: null, index: 0, pid: 1, comm: 'x', port: null }); } catch (e) { error = { code: e.code, message: e.message }; }
     parentPort.postMessage({ native, error });`,
    { eval: true, workerData, env } as never,
  );
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the worker did not answer')), 20_000);
    w.once('message', (m) => {
      clearTimeout(timer);
      void w.terminate().then(() => resolve(m));
    });
    w.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

test('a worker of the emulated machine does not load the native process module; a native handle is refused with EINVAL and what to do', async () => {
  const env = { ...process.env };
  delete env.DMABUF_BACKEND;
  const r = await probe({ handle: { channel: null } }, env);
  assert.equal(r.native, false);
  assert.equal(r.error?.code, 'EINVAL');
  assert.match(r.error!.message, /import 'dmabuf\/native'/);
});

test('a worker handed a native handle in its workerData loads the native process module', async () => {
  const env = { ...process.env };
  delete env.DMABUF_BACKEND;
  const r = await probe({ handle: { backend: 'linux' } }, env);
  assert.equal(r.native, true);
  assert.doesNotMatch(r.error?.message ?? '', /import 'dmabuf\/native'/, 'the class is there: whatever attach says now comes from the native backend');
});
