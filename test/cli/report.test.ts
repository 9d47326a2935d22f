/**
 * `dmabuf demo --trace FILE --report FILE.html`: the trace is Chrome
 * trace-event JSON with one async slice per fence (init to signal) and per
 * buffer (export to release); the report is one self-contained page whose
 * own script draws the timeline, checked in a real browser (Debian's
 * chromium, headless; .ci/run installs it): the rendered DOM holds a bar
 * for every fence and every buffer, and a screenshot is taken.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromeTrace, traceModel } from '../../src/cli/trace.js';
import { reportHtml } from '../../src/cli/report.js';
import type { TraceRecord } from '../../src/machine/protocol.js';

const main = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const CHROMIUM = '/usr/bin/chromium';
const haveBrowser = existsSync(CHROMIUM);
// CI installs chromium (.ci/run) and sets this, so there the browser test cannot be skipped.
const browserSkip = haveBrowser || process.env.DMABUF_REQUIRE_BROWSER ? false : `no ${CHROMIUM} (apt-get install chromium; .ci/run does)`;

function exec(file: string, args: string[], timeout = 90_000): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { timeout, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

/** The flags a headless chromium needs on a closed, sandbox-less machine. */
function chromiumArgs(profile: string): string[] {
  return ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', `--user-data-dir=${profile}`];
}

test('trace model: fences from init to signal, buffers from export to release, waits; names escaped in the page', () => {
  const recs: TraceRecord[] = [
    { event: 'dma_buf_export', ts: 1000, fields: { exp_name: 'system', size: 4096, ino: 7 } },
    { event: 'dma_fence_init', ts: 2000, fields: { driver: 'sw_sync', timeline: '', context: 3, seqno: 1 } },
    { event: 'dma_fence_init', ts: 2500, fields: { driver: 'sw_sync', timeline: '', context: 3, seqno: 2 } },
    { event: 'sys_poll', ts: 2600, fields: { pid: 5, comm: 'reader', dur: 900, fds: '4:0x1', timeout: -1, ret: 1 } },
    { event: 'dma_fence_signaled', ts: 3500, fields: { driver: 'sw_sync', timeline: 'cam', context: 3, seqno: 1 } },
    { event: 'dma_buf_release', ts: 9000, fields: { exp_name: 'system', ino: 7, size: 4096, name: '</script><b>x' } },
  ];
  const m = traceModel(recs);
  assert.equal(m.length, 8000);
  assert.deepEqual(m.fences, [
    { timeline: 'sw_sync:cam', context: 3, seqno: 1, start: 1000, end: 2500 },
    { timeline: 'sw_sync:', context: 3, seqno: 2, start: 1500, end: null },
  ]);
  assert.deepEqual(m.buffers, [{ ino: 7, name: '</script><b>x', exporter: 'system', size: 4096, start: 0, end: 8000 }]);
  assert.deepEqual(m.waits, [{ pid: 5, comm: 'reader', start: 1600, dur: 900, fds: '4:0x1', ret: 1 }]);
  const ct = chromeTrace(m);
  const fenceEnds = ct.traceEvents.filter((e) => e.cat === 'dma_fence' && e.ph === 'e');
  assert.deepEqual(fenceEnds.map((e) => [e.id, e.ts, e.args?.signalled]), [['fence:3:1', 2.5, true], ['fence:3:2', 8, false]]);
  const html = reportHtml(m, 'a <title>');
  assert.ok(!html.includes('</script><b>'), 'a name cannot close the data script');
  assert.match(html, /<title>a &#60;title&#62;<\/title>/);
  assert.ok(!/\b(src|href)=["']?https?:/.test(html), 'self-contained: nothing fetched');
});

test('dmabuf demo --trace --report: Chrome trace JSON, and a page a real browser draws', { skip: browserSkip }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dmabuf-report-'));
  try {
    const tracePath = join(dir, 'run.json');
    const reportPath = join(dir, 'run.html');
    const frames = 12;
    const r = await exec(process.execPath, [main, 'demo', '--frames', String(frames), '--width', '160', '--height', '120', '--ring', '3', '--workers', '2', '--trace', tracePath, '--report', reportPath]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`trace: .*run\\.json \\(${frames * 3} fences, 3 buffers`));

    // Every fence (producer, processor, consumer: 3 a frame) begins and ends; every buffer too.
    const trace = JSON.parse(readFileSync(tracePath, 'utf8')) as { traceEvents: { ph: string; cat?: string; id?: string; name: string }[] };
    const pairs = (cat: string, ph: string): string[] => trace.traceEvents.filter((e) => e.cat === cat && e.ph === ph).map((e) => e.id!).sort();
    assert.equal(pairs('dma_fence', 'b').length, frames * 3);
    assert.deepEqual(pairs('dma_fence', 'b'), pairs('dma_fence', 'e'));
    assert.equal(pairs('dma_buf', 'b').length, 3);
    assert.deepEqual(pairs('dma_buf', 'b'), pairs('dma_buf', 'e'));
    const timelines = new Set(trace.traceEvents.filter((e) => e.cat === 'dma_fence').map((e) => e.name));
    assert.deepEqual([...timelines].sort(), ['sw_sync:consumer', 'sw_sync:processor0', 'sw_sync:processor1', 'sw_sync:producer']);

    const profile = join(dir, 'profile');
    const dom = await exec(CHROMIUM, [...chromiumArgs(profile), '--dump-dom', pathToFileURL(reportPath).href]);
    assert.equal(dom.code, 0, dom.stderr);
    assert.match(dom.stdout, /<body[^>]*data-drawn="true"/, 'the page script ran');
    const count = (cls: string): number => (dom.stdout.match(new RegExp(`<rect [^>]*class="${cls}[ "]`, 'g')) ?? []).length;
    assert.equal(count('fence'), frames * 3, 'a bar per fence');
    assert.equal(count('buffer'), 3, 'a bar per buffer');
    assert.ok(count('wait') > 0, 'the poll waits');
    for (const i of [0, 1, 2]) assert.match(dom.stdout, new RegExp(`>frame-${i} \\[system, 77824 B\\]<`));
    assert.match(dom.stdout, new RegExp(`${frames * 3} fences on 4 timelines \\(0 never signalled\\), 3 buffers \\(0 alive at the end\\)`));

    const shot = join(dir, 'shot.png');
    const s = await exec(CHROMIUM, [...chromiumArgs(profile), `--screenshot=${shot}`, '--window-size=1400,900', pathToFileURL(reportPath).href]);
    assert.equal(s.code, 0, s.stderr);
    assert.ok(statSync(shot).size > 5000, 'a screenshot with something drawn');
    assert.deepEqual([...readFileSync(shot).subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'a PNG');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
