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

test('dmabuf demo: the merged sync file signals when both timelines reach their points', async () => {
  const r = await run(['demo']);
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
  const u = await run(['nonsense']);
  assert.equal(u.code, 2);
  assert.match(u.stderr, /unknown command 'nonsense'/);
});
