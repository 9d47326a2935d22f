/**
 * The `dmabuf` command as a user meets it: the main job (README's first
 * command) runs and says what it did; --json is for scripts; bufinfo is
 * summarised; --help and --version answer; exit codes are 0 (success),
 * 1 (failure) and 2 (usage error, one line on stderr, nothing run); a
 * reader that goes away ends the run quietly.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { summarizeBufinfo, type DemoSummary } from '../../src/cli/demo-pipeline.js';

const main = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const root = fileURLToPath(new URL('../../../', import.meta.url));
const SMALL = ['--frames', '24', '--width', '320', '--height', '240', '--ring', '3'];

function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [main, ...args], { timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

test('dmabuf demo: frames go producer -> processor -> consumer through a ring of dma-bufs, checked, nothing copied or leaked', async () => {
  const r = await run(['demo', ...SMALL]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, '');
  assert.match(r.stdout, /24 frames of 320x240 RGBA through a ring of 3 system-heap buffers/);
  assert.match(r.stdout, /frames: 24 in [\d.]+ s = [\d.]+ frames\/s/);
  assert.match(r.stdout, /frame bytes copied between threads: 0 \(messages carried \d+ bytes/);
  assert.match(r.stdout, /every frame checked/);
  // bufinfo mid-run: the three named buffers, imported by vgem, with fences in their reservation objects
  for (const i of [0, 1, 2]) assert.match(r.stdout, new RegExp(`00000002\t00080007\t[0-9a-f]{8}\tsystem\t[0-9a-f]{8}\tframe-${i}\n`));
  assert.match(r.stdout, /Attached Devices:\n\tvgem/);
  assert.match(r.stdout, /Total 3 objects, 921600 bytes/);
  assert.doesNotMatch(r.stdout, /more buffers/, 'a ring of 3 is shown whole');
  assert.match(r.stdout, /after shutdown: dma-bufs 0, pages 0, fds in flight 0, fences 0, taint 0/);
  // Piped output is the results only: no progress line, no terminal control.
  assert.doesNotMatch(r.stdout, /[\r\x1b]/);
  assert.doesNotMatch(r.stdout, /frames\/s +[\d.]+ s left/);
});

test('dmabuf demo --json: one JSON object on stdout and nothing else, with the run summary', async () => {
  const r = await run(['demo', '--json', '--frames=24', '--width=320', '--height=240', '--ring=3', '--workers=2']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, '');
  assert.match(r.stdout, /^\{.*\}\n$/, 'one line');
  const s = JSON.parse(r.stdout) as DemoSummary;
  assert.deepEqual(Object.keys(s).sort(), ['afterShutdown', 'bufinfo', 'bytesCopied', 'bytesTouched', 'fenceWaits', 'fps', 'frameBytes', 'frames', 'height', 'leaked', 'report', 'ring', 'seconds', 'trace', 'width', 'work', 'workers'].sort());
  assert.deepEqual([s.frames, s.width, s.height, s.ring, s.workers, s.work], [24, 320, 240, 3, 2, 'cpu']);
  assert.equal(s.frameBytes, 24 * 320 * 240 * 4);
  assert.equal(s.bytesTouched, 4 * s.frameBytes);
  assert.ok(s.seconds > 0 && s.fps > 0);
  assert.ok(s.bytesCopied > 0 && s.bytesCopied < 320 * 240 * 4, 'messages only: less than one frame in all');
  for (const role of ['producer', 'processor', 'consumer'] as const) assert.equal(s.fenceWaits[role].count, 24, role);
  assert.deepEqual(s.bufinfo, { objects: 3, bytes: 3 * 320 * 240 * 4 });
  assert.deepEqual(s.afterShutdown, { dmabufs: 0, fences: 0, inFlight: 0, pages: 0, processes: 0, taint: 0, waiters: 0 });
  assert.equal(s.leaked, false);
  assert.deepEqual([s.trace, s.report], [null, null]);
});

test('bufinfo is summarised (header, four buffers, how many more, totals); --bufinfo full and none', async () => {
  const args = ['demo', '--frames', '12', '--width', '64', '--height', '48', '--ring', '6'];
  const summary = await run(args);
  assert.equal(summary.code, 0, summary.stderr);
  const names = (out: string): string[] => [...out.matchAll(/\tsystem\t[0-9a-f]{8}\t(frame-\d+)\n/g)].map((m) => m[1]);
  assert.equal(names(summary.stdout).length, 4);
  assert.match(summary.stdout, /Dma-buf Objects:\nsize {4}\tflags/);
  assert.match(summary.stdout, /\n\u2026 2 more buffers \(use --bufinfo full\)\n\nTotal 6 objects, 73728 bytes\n/);
  const full = await run([...args, '--bufinfo', 'full']);
  assert.equal(full.code, 0, full.stderr);
  assert.deepEqual(names(full.stdout).sort(), ['frame-0', 'frame-1', 'frame-2', 'frame-3', 'frame-4', 'frame-5']);
  assert.doesNotMatch(full.stdout, /more buffers/);
  const none = await run([...args, '--bufinfo=none']);
  assert.equal(none.code, 0, none.stderr);
  assert.doesNotMatch(none.stdout, /bufinfo|Dma-buf Objects/);
});

test('summarizeBufinfo keeps the header, the first buffers whole and the totals', () => {
  const entry = (i: number): string => `00004096\t00000002\t00080007\t00000003\tsystem\t0000000${i}\tb-${i}\n\tExclusive fence: x\n\tAttached Devices:\nTotal 0 devices attached\n\n`;
  const text = `\nDma-buf Objects:\nsize    \tflags   \tmode    \tcount   \texp_name\tino     \tname\n${[1, 2, 3, 4, 5, 6, 7].map(entry).join('')}\nTotal 7 objects, 28672 bytes\n`;
  const s = summarizeBufinfo(text, 2);
  assert.equal(s, `\nDma-buf Objects:\nsize    \tflags   \tmode    \tcount   \texp_name\tino     \tname\n${entry(1)}${entry(2)}\u2026 5 more buffers (use --bufinfo full)\n\nTotal 7 objects, 28672 bytes`);
  assert.equal(summarizeBufinfo(text, 7), text.trimEnd(), 'nothing to cut');
  assert.equal(summarizeBufinfo('\nDma-buf Objects:\nsize\n\nTotal 0 objects, 0 bytes\n'), '\nDma-buf Objects:\nsize\n\nTotal 0 objects, 0 bytes');
});

test('usage errors: exit code 2, one line on stderr naming the problem and where help is, nothing run', async () => {
  const cases: [string[], string][] = [
    [['demo', '--frames', '1e3'], "dmabuf demo: --frames needs an integer >= 1, not '1e3'; see 'dmabuf demo --help'"],
    [['demo', '--frames=0x10'], "dmabuf demo: --frames needs an integer >= 1, not '0x10'; see 'dmabuf demo --help'"],
    [['demo', '--ring', '12345678901234567890'], "dmabuf demo: --ring needs an integer from 2 to 4096, not '12345678901234567890'; see 'dmabuf demo --help'"],
    [['demo', '--frames', 'lots'], "dmabuf demo: --frames needs an integer >= 1, not 'lots'; see 'dmabuf demo --help'"],
    [['demo', '--fps', '3'], "dmabuf demo: unknown option '--fps'; see 'dmabuf demo --help'"],
    [['demo', '--width'], "dmabuf demo: --width needs a value: an integer from 1 to 16384; see 'dmabuf demo --help'"],
    [['demo', '--work', 'gpu'], "dmabuf demo: --work is one of cpu, device, not 'gpu'; see 'dmabuf demo --help'"],
    [['demo', 'now'], "dmabuf demo: unexpected argument 'now'; see 'dmabuf demo --help'"],
    [['fences', '--fast'], "dmabuf fences: unknown option '--fast'; see 'dmabuf fences --help'"],
    [['nonsense'], "dmabuf: unknown command 'nonsense'; see 'dmabuf --help'"],
    [['--frames', '3'], "dmabuf: unknown option '--frames'; see 'dmabuf --help'"],
    [['help', 'nonsense'], "dmabuf: no command 'nonsense' to help with; see 'dmabuf --help'"],
  ];
  for (const [args, message] of cases) {
    const r = await run(args);
    assert.equal(r.code, 2, args.join(' '));
    assert.equal(r.stderr, message + '\n');
    assert.equal(r.stdout, '', 'nothing ran');
  }
  // No command at all: the help, on stderr.
  const none = await run([]);
  assert.equal(none.code, 2);
  assert.equal(none.stdout, '');
  assert.match(none.stderr, /^usage: dmabuf <command>/);
});

test('--trace and --report are checked before the run: a missing directory, a directory, the same file twice', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dmabuf-cli-'));
  try {
    const missing = join(dir, 'no-such-dir', 'run.json');
    const cases: [string[], RegExp][] = [
      [['--trace', missing], new RegExp(`^dmabuf demo: --trace ${missing}: no directory ${join(dir, 'no-such-dir')}; see`)],
      [['--report', dir], new RegExp(`^dmabuf demo: --report ${dir}: is a directory; see`)],
      [['--trace', join(dir, 'a'), '--report', join(dir, '.', 'a')], /^dmabuf demo: --trace and --report name the same file/],
    ];
    for (const [args, message] of cases) {
      const r = await run(['demo', ...SMALL, ...args]);
      assert.equal(r.code, 2, args.join(' '));
      assert.match(r.stderr, message);
      assert.equal(r.stderr.split('\n').length, 2, 'one line');
      assert.equal(r.stdout, '', 'checked before the run');
    }
    // A good path: written after the run.
    const trace = join(dir, 'run.json');
    const ok = await run(['demo', ...SMALL, '--trace', trace, '--bufinfo', 'none']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /trace: .*run\.json \(72 fences, 3 buffers/);
    assert.ok(Array.isArray((JSON.parse(readFileSync(trace, 'utf8')) as { traceEvents: unknown[] }).traceEvents));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a failure is exit code 1 with one line saying what failed (a trace that cannot be written: /dev/full)', { skip: existsSync('/dev/full') ? false : 'no /dev/full' }, async () => {
  const r = await run(['demo', ...SMALL, '--trace', '/dev/full', '--json']);
  assert.equal(r.code, 1);
  assert.equal(r.stderr, 'dmabuf demo: cannot write --trace /dev/full: ENOSPC: no space left on device, write\n');
  assert.equal(r.stdout, '', '--json prints nothing for a failed run');
});

test('a reader that goes away (dmabuf demo | head -1) ends the run quietly: exit code 0, no EPIPE trace', async () => {
  // The results come after the run, into a pipe whose reader has gone by then.
  const child = spawn(process.execPath, [main, 'demo', ...SMALL], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d));
  const first = await new Promise<string>((resolve) => child.stdout.once('data', (d: Buffer) => resolve(String(d))));
  child.stdout.destroy(); // as head does after its line
  const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  clearTimeout(killer);
  assert.match(first, /^dmabuf demo: 24 frames/);
  assert.equal(stderr, '');
  assert.equal(code, 0);
});

test('--help and help for every command, -h too; --version is the package version', async () => {
  for (const args of [['--help'], ['-h'], ['help']]) {
    const h = await run(args);
    assert.equal(h.code, 0);
    assert.equal(h.stderr, '');
    assert.match(h.stdout, /^usage: dmabuf <command> \[options\]/);
    assert.match(h.stdout, /\n {2}demo {6}\S/);
    assert.match(h.stdout, /\n {2}fences {4}\S/);
    assert.match(h.stdout, /-V, --version/);
    assert.match(h.stdout, /exit codes: 0 success, 1 failure, 2 usage error/);
  }
  for (const args of [['demo', '--help'], ['demo', '-h'], ['help', 'demo'], ['demo', '--frames', 'x', '--help']]) {
    const h = await run(args);
    assert.equal(h.code, 0, args.join(' '));
    assert.match(h.stdout, /^usage: dmabuf demo \[options\]/);
    for (const o of ['--frames N', '--width W', '--height H', '--ring R', '--workers P', '--work cpu|device', '--trace FILE', '--report FILE', '--bufinfo MODE', '--json']) {
      assert.ok(h.stdout.includes(o), `${o} in demo --help`);
    }
  }
  const f = await run(['fences', '--help']);
  assert.equal(f.code, 0);
  assert.match(f.stdout, /^usage: dmabuf fences\n/);
  assert.doesNotMatch(f.stdout, /kernel log:/, 'the help, not the run');
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
  for (const flag of ['--version', '-V']) {
    const v = await run([flag]);
    assert.equal(v.code, 0);
    assert.equal(v.stdout, `${pkg.version}\n`);
  }
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
