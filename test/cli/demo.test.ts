/** The main job (README's first command) runs and says what it did. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const main = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [main, ...args], { timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

test('dmabuf demo: frames go producer -> processor -> consumer through a ring of dma-bufs, checked, nothing copied or leaked', async () => {
  const r = await run(['demo', '--frames', '24', '--width', '320', '--height', '240', '--ring', '3']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /24 frames of 320x240 RGBA through a ring of 3 system-heap buffers/);
  assert.match(r.stdout, /frames: 24 in [\d.]+ s = [\d.]+ frames\/s/);
  assert.match(r.stdout, /frame bytes copied between threads: 0 \(messages carried \d+ bytes/);
  assert.match(r.stdout, /every frame checked/);
  // bufinfo mid-run: the three named buffers, imported by vgem, with fences in their reservation objects
  for (const i of [0, 1, 2]) assert.match(r.stdout, new RegExp(`00000002\t00080007\t[0-9a-f]{8}\tsystem\t[0-9a-f]{8}\tframe-${i}\n`));
  assert.match(r.stdout, /Attached Devices:\n\tvgem/);
  assert.match(r.stdout, /Total 3 objects, 921600 bytes/);
  assert.match(r.stdout, /after shutdown: dma-bufs 0, pages 0, fds in flight 0, taint 0/);
});

test('dmabuf demo: a bad option is a clear error and exit code 1', async () => {
  const r = await run(['demo', '--frames', 'lots']);
  assert.equal(r.code, 1);
  assert.equal(r.stderr, "dmabuf: --frames needs a positive integer, not 'lots'\n");
  const s = await run(['demo', '--fps', '3']);
  assert.equal(s.stderr, "dmabuf: unknown option '--fps'\n");
});

test('dmabuf fences: the merged sync file signals when both timelines reach their points', async () => {
  const r = await run(['fences']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /merged sync file: name="frame\+render" status=active num_fences=2/);
  assert.match(r.stdout, /merged sync file: name="frame\+render" status=signaled num_fences=2/);
  assert.match(r.stdout, /camera: 1\n/);
  assert.match(r.stdout, /gpu: 2\n/);
  assert.match(r.stdout, /fences still alive: 0/);
  assert.match(r.stdout, /kernel log:\n\[ +\d+\.\d{6}\] demo: merged sw_sync-camera\d+-1 and sw_sync-gpu\d+-2/);
});

test('dmabuf --help lists the commands; an unknown command exits 2', async () => {
  const h = await run(['--help']);
  assert.equal(h.code, 0);
  assert.match(h.stdout, /demo/);
  assert.match(h.stdout, /fences/);
  assert.match(h.stdout, /--frames N/);
  const u = await run(['nonsense']);
  assert.equal(u.code, 2);
  assert.match(u.stderr, /unknown command 'nonsense'/);
});
