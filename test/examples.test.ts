/**
 * Every program in examples/ runs as a user would run it (`node
 * examples/<name>.mjs` from the repository, importing the package by its
 * name) and prints what it says it does, ending with nothing left in the
 * kernel.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const CLEAN = '{"dmabufs":0,"fences":0,"inFlight":0,"pages":0,"processes":0,"taint":0,"waiters":0}';

function example(name: string, args: string[] = []): Promise<{ code: number; lines: string[]; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join('examples', name), ...args], { cwd: root, timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, lines: stdout.trimEnd().split('\n'), stderr });
    });
  });
}

test('examples/README.md lists every example, and every example it lists exists', () => {
  const readme = readFileSync(join(root, 'examples', 'README.md'), 'utf8');
  const files = readdirSync(join(root, 'examples')).filter((f) => f.endsWith('.mjs'));
  for (const f of files) assert.ok(readme.includes(`(${f})`), `${f} is in examples/README.md`);
  for (const [, f] of readme.matchAll(/\]\(([^)]+\.mjs)\)/g)) assert.ok(existsSync(join(root, 'examples', f)), `${f} exists`);
});

test('share-buffer: the consumer worker reads what the producer wrote, after its fence', async () => {
  const r = await example('share-buffer.mjs');
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.lines, [
    "producer: wrote 'hello' into frame-0 (1048576 bytes), then signalled its fence",
    'consumer: frame-0: hello',
    `after shutdown: ${CLEAN}`,
  ]);
});

test('buffer-pool: a timed-out acquire names the holders, an aborted one ends, six jobs share two buffers', async () => {
  const r = await example('buffer-pool.mjs');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.lines.length, 5, r.lines.join('\n'));
  assert.equal(r.lines[0], '2 of 2 buffers held: frames-0 by encoder, frames-1 by display');
  assert.match(r.lines[1], /^thumbnailer: buffer pool 'frames' exhausted: all 2 buffers held after waiting \d+ ms — frames-0 by encoder for \d+ ms, frames-1 by display for \d+ ms$/);
  assert.equal(r.lines[2], 'preview: gave up waiting (the preview window closed)');
  assert.equal(r.lines[3], '6 jobs done on 2 buffers (frames-0, frames-1); 2 free');
  assert.equal(r.lines[4], `after shutdown: ${CLEAN}`);
});

test('fence-timeline: the merged sync file signals when both timelines arrive; the trace is Chrome trace JSON with a slice per fence', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dmabuf-example-'));
  try {
    const out = join(dir, 'timeline.trace.json');
    const r = await example('fence-timeline.mjs', [out]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.lines, [
      "merged: 'frame+render' active [sw_sync/camera: active, sw_sync/gpu: active]",
      "camera at 1, gpu at 1: 'frame+render' active [sw_sync/camera: signalled, sw_sync/gpu: active]",
      "gpu at 2: 'frame+render' signalled [sw_sync/camera: signalled, sw_sync/gpu: signalled]",
      `trace: ${out} (3 fences, 3 signalled, 1 poll waits, 0 lost)`,
      `after shutdown: ${CLEAN}`,
    ]);
    const trace = JSON.parse(readFileSync(out, 'utf8')) as { traceEvents: { ph: string; cat: string; id?: string; name: string; ts: number }[] };
    const slices = (ph: string): string[] => trace.traceEvents.filter((e) => e.cat === 'dma_fence' && e.ph === ph).map((e) => e.id!).sort();
    assert.equal(slices('b').length, 3);
    assert.deepEqual(slices('b'), slices('e'), 'every fence begins and ends');
    const names = new Set(trace.traceEvents.filter((e) => e.ph === 'b').map((e) => e.name));
    assert.ok(names.has('sw_sync:camera') && names.has('sw_sync:gpu'), [...names].join(', '));
    assert.ok(trace.traceEvents.some((e) => e.cat === 'syscall' && e.ph === 'X'), 'the poll wait');
    assert.ok(trace.traceEvents.every((e) => e.ts >= 0));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
