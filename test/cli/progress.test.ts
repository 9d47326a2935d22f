/**
 * The progress line: on a terminal, one line rewritten in place (frames
 * done, frames/s, time left) and erased before the results; on a pipe or a
 * file, nothing. Checked with an injected terminal and a fake clock, with
 * the demo given a terminal, and through a real pseudo-terminal (`script`).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ProgressLine, type Terminal } from '../../src/cli/progress.js';
import { demoPipeline } from '../../src/cli/demo-pipeline.js';
import { parseArgs } from '../../src/cli/args.js';
import { DEMO_OPTIONS } from '../../src/cli/demo-pipeline.js';

const main = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

function recorder(isTTY: boolean, columns?: number): Terminal & { text: string } {
  const t = { text: '', isTTY, columns, write: (s: string) => void (t.text += s) };
  return t;
}

test('on a terminal: drawn at once, then at most every 100 ms, with frames/s and the time left; erased by clear()', () => {
  let now = 1000;
  const term = recorder(true);
  const p = new ProgressLine(term, 10, 'frames', () => now);
  p.update(1);
  assert.equal(term.text, '\r[##..................] 1/10 frames\x1b[K', 'the first frame: no rate yet');
  now += 50;
  p.update(2);
  assert.equal(term.text.split('\r').length, 2, 'not redrawn within 100 ms');
  now += 150; // 2 more frames in 200 ms since the first: 10 frames/s, 7 to go
  p.update(3);
  assert.ok(term.text.endsWith('\r[######..............] 3/10 frames  10.0 frames/s  0.7 s left\x1b[K'), JSON.stringify(term.text));
  now += 500;
  p.update(10);
  assert.ok(!term.text.includes('10/10'), 'the last frame is not drawn: the results follow');
  p.clear();
  assert.ok(term.text.endsWith('\r\x1b[K'));
  const len = term.text.length;
  p.clear();
  assert.equal(term.text.length, len, 'clear() once');
});

test('cut to the terminal width; on a pipe or a file, nothing at all', () => {
  let now = 0;
  const narrow = recorder(true, 20);
  const p = new ProgressLine(narrow, 1000, 'frames', () => now);
  p.update(1);
  now += 1000;
  p.update(500);
  for (const line of narrow.text.split('\r').slice(1)) assert.ok(line.replace('\x1b[K', '').length < 20, JSON.stringify(line));
  const pipe = recorder(false);
  const q = new ProgressLine(pipe, 10, 'frames', () => now);
  for (let i = 1; i < 10; i++) {
    now += 500;
    q.update(i);
  }
  q.clear();
  assert.equal(pipe.text, '');
});

const SMALL = ['--frames', '24', '--width', '160', '--height', '120', '--ring', '3', '--bufinfo', 'none'];

test('the demo draws its progress on a terminal and erases it before the results; --json never does', async () => {
  const tty = recorder(true, 100);
  assert.equal(await demoPipeline(parseArgs(SMALL, DEMO_OPTIONS).options, tty), 0);
  const at = tty.text.indexOf('\r[');
  assert.ok(at > 0, 'a progress line');
  assert.match(tty.text.slice(at), /^\r\[[#.]{20}\] \d+\/24 frames/);
  const results = tty.text.indexOf('frames: 24 in');
  assert.ok(results > at);
  assert.equal(tty.text.slice(results - 4, results), '\r\x1b[K', 'erased just before the results');
  assert.equal(tty.text.slice(results).match(/[\r\x1b]/), null, 'the results are plain lines');

  const json = recorder(true, 100);
  assert.equal(await demoPipeline(parseArgs([...SMALL, '--json'], DEMO_OPTIONS).options, json), 0);
  assert.match(json.text, /^\{.*\}\n$/);
});

const haveScript = existsSync('/usr/bin/script');
test('through a real pseudo-terminal (script -qec): the progress line is there, erased', { skip: haveScript ? false : 'no /usr/bin/script (util-linux)' }, async () => {
  const cmd = [process.execPath, main, 'demo', ...SMALL].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const out = await new Promise<string>((resolve, reject) => {
    execFile('/usr/bin/script', ['-qec', cmd, '/dev/null'], { timeout: 60_000 }, (err, stdout) => (err ? reject(err) : resolve(stdout)));
  });
  assert.match(out, /\r\[[#.]{20}\] \d+\/24 frames/);
  assert.match(out, /\r\x1b\[Kframes: 24 in [\d.]+ s/);
});
