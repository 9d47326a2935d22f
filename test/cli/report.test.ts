/**
 * `dmabuf demo --trace --report`: the model (each stage's handling of each
 * frame, what each wait waited for, the frames' journeys and latency, the
 * stages' busy and waiting time) on a hand-made trace with known answers;
 * then a real run, whose trace JSON must keep the Trace Event Format's
 * rules (trace-event-format.ts) and whose report page, drawn by a real
 * browser (Debian's chromium, headless; .ci/run installs it), must show a
 * journey per frame, frame numbers on the bars, latency percentiles and
 * per-stage times that match the trace JSON, a legend, and tick labels
 * that follow the zoom given in the URL. A screenshot is taken
 * (DMABUF_KEEP_REPORT=1 keeps the run's files and prints where).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromeTrace, traceModel, type ChromeEvent } from '../../src/cli/trace.js';
import { percentile } from '../../src/cli/report/journeys.js';
import { reportHtml } from '../../src/cli/report.js';
import type { FrameMark } from '../../src/cli/report/marks.js';
import type { TraceRecord } from '../../src/machine/protocol.js';
import { checkTraceEvents } from './trace-event-format.js';
import { Browser } from './cdp.js';

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
    { timeline: 'sw_sync:cam', context: 3, seqno: 1, start: 1000, end: 2500, owner: null, frame: null },
    { timeline: 'sw_sync:', context: 3, seqno: 2, start: 1500, end: null, owner: null, frame: null },
  ]);
  assert.deepEqual(m.buffers, [{ ino: 7, name: '</script><b>x', exporter: 'system', size: 4096, start: 0, end: 8000 }]);
  assert.deepEqual(m.waits, [{ pid: 5, comm: 'reader', start: 1600, dur: 900, fds: '4:0x1', ret: 1 }]);
  assert.deepEqual(m.processes, [{ pid: 5, comm: 'reader', role: null }]);
  assert.deepEqual([m.legs, m.journeys, m.stages, m.latency], [[], [], [], null], 'no marks, no journeys');
  const ct = chromeTrace(m);
  const fenceEnds = ct.traceEvents.filter((e) => e.cat === 'dma_fence' && e.ph === 'e');
  assert.deepEqual(fenceEnds.map((e) => [e.id, e.ts, e.args?.signalled]), [['fence:3:1', 2.5, true], ['fence:3:2', 8, false]]);
  assert.deepEqual(checkTraceEvents(ct), []);
  const html = reportHtml(m, 'a <title>');
  assert.ok(!html.includes('</script><b>'), 'a name cannot close the data script');
  assert.match(html, /<title>a &#60;title&#62;<\/title>/);
  assert.ok(!/\b(src|href)=["']?https?:/.test(html), 'self-contained: nothing fetched');
});

/**
 * Two frames through a producer (pid 1) and a consumer (pid 2) sharing
 * buffer 7; absolute ns, the origin is 1000. The producer's second frame
 * finds the consumer's read fence of frame 0 pending and waits for it;
 * the consumer never finds the producer's fence pending.
 */
function twoFrames(): { records: TraceRecord[]; marks: FrameMark[] } {
  const fence = (event: string, ts: number, timeline: string, context: number, seqno: number): TraceRecord =>
    ({ event, ts, fields: { driver: 'sw_sync', timeline, context, seqno } });
  const imp = (ts: number, pid: number, comm: string, context: number, seqno: number, usage: string): TraceRecord =>
    ({ event: 'dma_buf_import_sync_file', ts, fields: { ino: 7, pid, comm, context, seqno, usage } });
  const cpu = (ts: number, pid: number, comm: string, phase: string, dir: string, dur = 10): TraceRecord =>
    ({ event: 'dma_buf_cpu_access', ts, fields: { ino: 7, pid, comm, phase, dir, dur, ret: 0 } });
  const poll = (ts: number, pid: number, comm: string, dur: number): TraceRecord =>
    ({ event: 'sys_poll', ts, fields: { pid, comm, dur, fds: '5:0x4', timeout: 10000, ret: 1 } });
  const records: TraceRecord[] = [
    { event: 'dma_buf_export', ts: 1000, fields: { exp_name: 'system', size: 4096, ino: 7 } },
    cpu(1220, 1, 'producer', 'begin', 'write'),
    fence('dma_fence_init', 1250, 'producer', 5, 1),
    imp(1300, 1, 'producer', 5, 1, 'write'),
    cpu(1900, 1, 'producer', 'end', 'write'),
    fence('dma_fence_signaled', 1950, 'producer', 5, 1),
    poll(2010, 2, 'consumer', 80),
    cpu(2120, 2, 'consumer', 'begin', 'read'),
    fence('dma_fence_init', 2150, 'consumer', 6, 1),
    imp(2160, 2, 'consumer', 6, 1, 'read'),
    poll(2210, 1, 'producer', 800),
    cpu(2900, 2, 'consumer', 'end', 'read'),
    fence('dma_fence_signaled', 2950, 'consumer', 6, 1),
    cpu(3120, 1, 'producer', 'begin', 'write'),
    fence('dma_fence_init', 3150, 'producer', 5, 2),
    imp(3160, 1, 'producer', 5, 2, 'write'),
    cpu(3900, 1, 'producer', 'end', 'write'),
    fence('dma_fence_signaled', 3950, 'producer', 5, 2),
    cpu(4120, 2, 'consumer', 'begin', 'read'),
    fence('dma_fence_init', 4150, 'consumer', 6, 2),
    imp(4160, 2, 'consumer', 6, 2, 'read'),
    cpu(4900, 2, 'consumer', 'end', 'read'),
    fence('dma_fence_signaled', 4950, 'consumer', 6, 2),
    { event: 'dma_buf_release', ts: 5100, fields: { exp_name: 'system', ino: 7, size: 4096, name: 'frame-0' } },
  ];
  const mark = (pid: number, role: FrameMark['role'], frame: number, t: FrameMark['t']): FrameMark => ({ pid, role, frame, buffer: 0, seqno: frame + 1, t });
  const marks = [
    mark(2, 'consumer', 1, [3000, 4000, 4100, 5000]),
    mark(1, 'producer', 0, [1000, 1100, 1200, 2000]),
    mark(2, 'consumer', 0, [1000, 2000, 2100, 3000]),
    mark(1, 'producer', 1, [2000, 2200, 3100, 4000]),
  ];
  return { records, marks };
}

test('trace model: legs, what each wait waited for, journeys whose parts add up, stage times, latency percentiles', () => {
  const { records, marks } = twoFrames();
  const m = traceModel(records, 0, marks);
  assert.equal(m.origin, 1000);
  assert.deepEqual(m.processes, [{ pid: 1, comm: 'producer', role: 'producer' }, { pid: 2, comm: 'consumer', role: 'consumer' }]);
  const fence = (tl: string, seqno: number): number => m.fences.findIndex((f) => f.timeline === `sw_sync:${tl}` && f.seqno === seqno);
  assert.deepEqual(m.fences.map((f) => [f.timeline, f.seqno, f.owner, f.frame]), [
    ['sw_sync:producer', 1, 1, 0], ['sw_sync:consumer', 1, 2, 0], ['sw_sync:producer', 2, 1, 1], ['sw_sync:consumer', 2, 2, 1],
  ]);
  // Legs in pipeline order, then time.
  assert.deepEqual(m.legs.map((l) => [l.pid, l.frame, l.ino, l.access, l.t, l.fence, l.waitedFor, l.pending, l.poll]), [
    [1, 0, 7, 'write', [0, 100, 200, 1000], fence('producer', 1), null, [], null],
    // the consumer's read fence of frame 0 was on the buffer when the wait began, and signalled inside it
    [1, 1, 7, 'write', [1000, 1200, 2100, 3000], fence('producer', 2), fence('consumer', 1), [fence('consumer', 1)], 1],
    // the producer's fence had signalled (at 950) before the consumer's wait began (at 1000): nothing was pending
    [2, 0, 7, 'read', [0, 1000, 1100, 2000], fence('consumer', 1), null, [], 0],
    [2, 1, 7, 'read', [2000, 3000, 3100, 4000], fence('consumer', 2), null, [], null],
  ]);
  assert.deepEqual(m.access.map((a) => [a.pid, a.dir, a.start, a.end, a.frame]), [[1, 'write', 220, 900, 0], [2, 'read', 1120, 1900, 0], [1, 'write', 2120, 2900, 1], [2, 'read', 3120, 3900, 1]]);
  // Latency: the producer's busy start to the consumer's end, cut into parts that add up to it.
  assert.deepEqual(m.journeys.map((j) => [j.frame, j.legs, j.start, j.end, j.latency]), [[0, [0, 2], 200, 2000, 1800], [1, [1, 3], 2100, 4000, 1900]]);
  assert.deepEqual(m.journeys[1].parts, [{ what: 'busy', leg: 1, dur: 900 }, { what: 'queued', leg: 3, dur: 0 }, { what: 'fence', leg: 3, dur: 100 }, { what: 'busy', leg: 3, dur: 900 }]);
  for (const j of m.journeys) assert.equal(j.parts.reduce((s, p) => s + p.dur, 0), j.latency);
  assert.deepEqual(m.latency, { count: 2, p50: 1800, p90: 1900, p99: 1900, max: 1900, mean: 1850 });
  // Each stage's span is busy + fence wait + input wait; the producer's long wait was for the consumer's fence.
  assert.deepEqual(m.stages.map((s) => [s.comm, s.frames, s.span, s.busy, s.fenceWait, s.inputWait]), [['producer', 2, 3000, 1700, 1000, 300], ['consumer', 2, 4000, 1800, 200, 2000]]);
  assert.deepEqual(m.stages[0].causes, [{ owner: 2, count: 1, dur: 900 }, { owner: null, count: 1, dur: 100 }]);

  // The Chrome trace: valid, and the producer's wait is linked from the consumer's slice that signalled its fence.
  const ct = chromeTrace(m);
  assert.deepEqual(checkTraceEvents(ct, { maxSpanUs: 5, minSpanUs: 3 }), []);
  const byName = (ph: string, name: string): ChromeEvent[] => ct.traceEvents.filter((e) => e.ph === ph && e.name === name);
  assert.deepEqual(byName('X', 'wait: fence sw_sync:consumer#1 (frame 0)').map((e) => [e.pid, e.ts, e.dur, e.args?.signalled_by]), [[1, 1.2, 0.9, 'consumer (pid 2)']]);
  const [s, f] = [byName('s', 'waits for'), byName('f', 'waits for')];
  assert.deepEqual([s.map((e) => [e.pid, e.ts]), f.map((e) => [e.pid, e.bp])], [[[2, 1.95]], [[1, 'e']]]);
  assert.deepEqual(ct.traceEvents.filter((e) => e.bind_id !== undefined).map((e) => [e.name, e.pid, e.bind_id, e.flow_in, e.flow_out]), [
    ['frame 0', 1, 1, false, true], ['frame 1', 1, 2, false, true], ['frame 0', 2, 1, true, false], ['frame 1', 2, 2, true, false],
  ]);
  assert.deepEqual(byName('b', 'frame 1').map((e) => [e.cat, e.ts, e.args?.latency_us]), [['frame', 2.1, 1.9]]);
});

test('percentile: nearest rank', () => {
  const xs = Array.from({ length: 10 }, (_, i) => i + 1);
  assert.deepEqual([50, 90, 99, 100, 1].map((p) => percentile(xs, p)), [5, 9, 10, 10, 1]);
  assert.equal(percentile([], 50), 0);
});

/** The text of every element matching `re` (its first group). */
const all = (html: string, re: RegExp): string[] => [...html.matchAll(re)].map((x) => x[1]);
const num = (s: string | undefined): number => {
  assert.ok(s !== undefined, 'a number in the page');
  return Number(s);
};
/** A tick label in ms. */
const tickMs = (label: string): number => Number(label.replace(/ ms$/, '')) * (label.endsWith(' s') ? 1000 : 1);

test('dmabuf demo --trace --report: Trace Event Format JSON, and a diagnostic page a real browser draws', { skip: browserSkip }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dmabuf-report-'));
  const keep = process.env.DMABUF_KEEP_REPORT === '1';
  try {
    const tracePath = join(dir, 'run.json');
    const reportPath = join(dir, 'run.html');
    const frames = 12;
    const t0 = performance.now();
    const r = await exec(process.execPath, [main, 'demo', '--frames', String(frames), '--width', '160', '--height', '120', '--ring', '3', '--workers', '2', '--trace', tracePath, '--report', reportPath]);
    const wallUs = (performance.now() - t0) * 1000;
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`trace: .*run\\.json \\(${frames * 3} fences, 3 buffers`));
    const framesSecs = Number(/frames: \d+ in ([\d.]+) s/.exec(r.stdout)?.[1]);

    // The JSON keeps the format's rules. Its span, in µs, fits in the whole run and is more than a
    // tenth of the frames' time (which also counts the workers' start): ts in ms or ns would miss by 1000x.
    const trace = JSON.parse(readFileSync(tracePath, 'utf8')) as { traceEvents: ChromeEvent[] };
    assert.deepEqual(checkTraceEvents(trace, { maxSpanUs: wallUs, minSpanUs: framesSecs * 1e6 / 10 }), []);
    const ev = trace.traceEvents;
    const pairs = (cat: string, ph: string): string[] => ev.filter((e) => e.cat === cat && e.ph === ph).map((e) => String(e.id)).sort();
    assert.equal(pairs('dma_fence', 'b').length, frames * 3, 'producer, processor, consumer: a fence each per frame');
    assert.equal(pairs('dma_buf', 'b').length, 3);
    assert.equal(pairs('frame', 'b').length, frames);
    const timelines = new Set(ev.filter((e) => e.cat === 'dma_fence').map((e) => e.name));
    assert.deepEqual([...timelines].sort(), ['sw_sync:consumer', 'sw_sync:processor0', 'sw_sync:processor1', 'sw_sync:producer']);
    assert.equal(ev.filter((e) => e.cat === 'dma_buf_cpu_access').length, frames * 3, 'every stage brackets its CPU access');
    const procName = new Map(ev.filter((e) => e.name === 'process_name').map((e) => [e.pid, String(e.args?.name)]));
    const sortIndex = ev.filter((e) => e.name === 'process_sort_index' && e.pid !== 0).sort((a, b) => Number(a.args?.sort_index) - Number(b.args?.sort_index));
    assert.deepEqual(sortIndex.map((e) => procName.get(e.pid)!.split(' ')[0]), ['producer', 'processor0', 'processor1', 'consumer'], 'pipeline order');

    // What the page must show, computed here from the JSON alone.
    const begins = new Map(ev.filter((e) => e.cat === 'frame' && e.ph === 'b').map((e) => [e.id, e.ts]));
    const latencies = ev.filter((e) => e.cat === 'frame' && e.ph === 'e').map((e) => (e.ts - begins.get(e.id)!) / 1000).sort((a, b) => a - b);
    const want = { p50: percentile(latencies, 50), p90: percentile(latencies, 90), p99: percentile(latencies, 99), max: latencies[latencies.length - 1] };
    const stageTimes = new Map<number, { busy: number; fence: number; input: number; lo: number; hi: number }>();
    for (const e of ev.filter((x) => x.ph === 'X' && x.cat === 'stage')) {
      const s = stageTimes.get(e.pid) ?? { busy: 0, fence: 0, input: 0, lo: Infinity, hi: -Infinity };
      const kind = e.name!.startsWith('frame ') ? 'busy' : /^wait: (fence|no fence)/.test(e.name!) ? 'fence' : 'input';
      s[kind] += e.dur! / 1000;
      s.lo = Math.min(s.lo, e.ts / 1000);
      s.hi = Math.max(s.hi, (e.ts + e.dur!) / 1000);
      stageTimes.set(e.pid, s);
    }

    const profile = join(dir, 'profile');
    const url = pathToFileURL(reportPath).href;
    const dump = async (hash: string): Promise<string> => {
      const d = await exec(CHROMIUM, [...chromiumArgs(profile), '--window-size=1400,900', '--dump-dom', url + hash]);
      assert.equal(d.code, 0, d.stderr);
      assert.match(d.stdout, /<body[^>]*data-drawn="true"/, 'the page script ran');
      return d.stdout;
    };
    const dom = await dump('');

    // One journey per frame, with its bars in the stage rows; a bar per fence and per buffer.
    assert.deepEqual(all(dom, /<g class="journey[^"]*" data-frame="(\d+)"/g).map(Number), Array.from({ length: frames }, (_, i) => i));
    const svg = dom.slice(dom.indexOf('<svg id="timeline"'));
    const count = (cls: string): number => (svg.match(new RegExp(`<rect [^>]*class="${cls}[ "]`, 'g')) ?? []).length;
    assert.equal(count('busy'), frames * 3, 'producer, one processor and the consumer busy on every frame');
    assert.equal(count('fence'), frames * 3, 'a bar per fence');
    assert.equal(count('buffer'), 3, 'a bar per buffer');
    assert.equal(count('cpu'), frames * 3, 'a bar per CPU access');
    for (const i of [0, 1, 2]) assert.match(dom, new RegExp(`>frame-${i}<`));
    assert.match(dom, new RegExp(`${frames * 3} fences on 4 timelines \\(0 never signalled\\), 3 buffers \\(0 alive at the end\\)`));
    // Rows in pipeline order, then timelines, then buffers.
    const labels = all(dom, /<text [^>]*class="(?:label|section)">([^<]+)</g);
    const at = (s: string): number => labels.findIndex((l) => l.startsWith(s));
    const order = ['producer', 'processor0', 'processor1', 'consumer', 'Fence timelines', 'sw_sync:producer', 'Buffers', 'frame-0'].map(at);
    assert.ok(order.every((x, i) => x >= 0 && (i === 0 || x > order[i - 1])), `row order: ${labels.join(' | ')}`);

    // The latency table matches the trace's frame slices (µs rounding: ±0.001 ms).
    for (const [k, v] of Object.entries(want)) {
      const shown = num(new RegExp(`<td data-stat="${k}">([\\d.]+)<`).exec(dom)?.[1]);
      assert.ok(Math.abs(shown - v) <= 0.0011, `${k}: the page shows ${shown}, the trace gives ${v}`);
    }
    assert.equal(num(/<td data-stat="count">(\d+)</.exec(dom)?.[1]), frames);

    // Per stage: busy + fence wait + input wait = span, each as the trace's slices add up.
    const rows = dom.split('<tr data-pid="').slice(1);
    assert.equal(rows.length, 4);
    for (const row of rows) {
      const pid = Number(row.slice(0, row.indexOf('"')));
      const cell = (c: string): number => num(new RegExp(`data-col="${c}">([\\d.]+)<`).exec(row)?.[1]);
      const [span, busy, fence, input] = ['span', 'busy', 'fence', 'input'].map(cell);
      assert.ok(Math.abs(busy + fence + input - span) <= 0.002, `pid ${pid}: ${busy} + ${fence} + ${input} != ${span}`);
      const s = stageTimes.get(pid)!;
      assert.ok(Math.abs(busy - s.busy) <= 0.002 && Math.abs(fence - s.fence) <= 0.002 && Math.abs(input - s.input) <= 0.002, `pid ${pid} vs the trace: ${JSON.stringify(s)}`);
      assert.ok(Math.abs(span - (s.hi - s.lo)) <= 0.002);
      assert.equal(cell('frames'), procName.get(pid)!.startsWith('processor') ? frames / 2 : frames, 'frame n goes to processor n % 2');
      assert.match(row, /class="causes">[^<]*(nothing pending|'s fences): \d+ waits/);
    }
    // The slowest frames, largest first, each with what its time went on.
    const slow = all(dom, /<tr data-frame="\d+"><td><a[^>]*>frame \d+<\/a><\/td><td data-col="latency">([\d.]+)</g).map(Number);
    assert.equal(slow.length, 5);
    assert.deepEqual(slow, [...slow].sort((a, b) => b - a));
    assert.ok(Math.abs(slow[0] - want.max) <= 0.0011);

    // The legend names every mark.
    const kinds = all(dom, /<span class="item" data-kind="([a-z]+)"/g);
    for (const k of ['busy', 'fencewait', 'input', 'poll', 'waitfor', 'hop', 'fence', 'unsignalled', 'cpu', 'attach', 'buffer']) assert.ok(kinds.includes(k), `legend: ${k}`);

    // Zoom through the URL: the axis is re-labelled for the visible range.
    const ticksOf = (html: string): string[] => all(html, /class="ticklabel">([^<]+)</g);
    const full = ticksOf(dom);
    const j = ev.find((e) => e.cat === 'frame' && e.ph === 'b' && e.id === 'frame:6')!;
    const from = Math.floor(j.ts / 10) / 100;
    const to = from + 0.5;
    const zoomed = await dump(`#from=${from.toFixed(3)}&to=${to.toFixed(3)}`);
    const zt = ticksOf(zoomed);
    assert.ok(zt.length >= 3, zt.join());
    assert.notDeepEqual(zt, full);
    for (const label of zt) assert.ok(tickMs(label) >= from - 1e-9 && tickMs(label) <= to + 1e-9, `${label} outside ${from}..${to}`);
    assert.ok(zt.every((l) => /\.\d{2} ms$/.test(l)), `0.5 ms in view: ticks at 0.05 ms, two decimals: ${zt.join()}`);
    const zoomBy = await dump(`#zoom=4&at=${from.toFixed(3)}`);
    assert.notDeepEqual(ticksOf(zoomBy), full);
    assert.notDeepEqual(ticksOf(zoomBy), zt);

    // A frame chosen in the URL: zoomed to its journey, the number on its bars, its journey told stage by stage.
    const f5 = await dump('#frame=5');
    assert.match(f5, /<g class="journey selected" data-frame="5"/);
    assert.ok((f5.match(/<text [^>]*class="barlabel framelabel" data-frame="5">5</g) ?? []).length >= 4, 'frame 5 written on its bars');
    const journey = f5.slice(f5.indexOf('<table id="journey" data-frame="5">'));
    assert.equal((journey.slice(0, journey.indexOf('</table>')).match(/<tr data-pid=/g) ?? []).length, 3, 'producer, its processor, consumer');
    assert.match(f5, /Frame 5: latency [\d.]+ ms/);

    const shot = join(dir, 'frame5.png');
    const s = await exec(CHROMIUM, [...chromiumArgs(profile), `--screenshot=${shot}`, '--window-size=1400,1500', url + '#frame=5']);
    assert.equal(s.code, 0, s.stderr);
    assert.ok(statSync(shot).size > 5000, 'a screenshot with something drawn');
    assert.deepEqual([...readFileSync(shot).subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'a PNG');
    if (keep) process.stderr.write(`report test files kept in ${dir}\n`);
  } finally {
    if (!keep) rmSync(dir, { recursive: true, force: true });
  }
});

test('report page: the wheel zooms at the pointer, a drag pans, buttons and keys zoom, a click picks a frame', { skip: browserSkip }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dmabuf-report-ui-'));
  try {
    const reportPath = join(dir, 'run.html');
    const r = await exec(process.execPath, [main, 'demo', '--frames', '8', '--width', '160', '--height', '120', '--ring', '3', '--report', reportPath]);
    assert.equal(r.code, 0, r.stderr);
    const b = Browser.launch(CHROMIUM, chromiumArgs(join(dir, 'profile')), 1400, 1000);
    try {
      await b.open(pathToFileURL(reportPath).href, "document.body && document.body.dataset.drawn === 'true'");
      type State = { v0: number; v1: number; ticks: string[]; length: number };
      const state = (): Promise<State> => b.eval<State>(`(() => {
        const [v0, v1] = document.body.dataset.view.split(',').map(Number);
        const ticks = [...document.querySelectorAll('#timeline .ticklabel')].map((e) => e.textContent);
        return { v0, v1, ticks, length: JSON.parse(document.getElementById('trace-data').textContent).length };
      })()`);
      await b.eval("document.getElementById('chart').scrollIntoView()");
      const box = await b.eval<{ x: number; y: number; w: number }>("(() => { const r = document.getElementById('timeline').getBoundingClientRect(); return { x: r.left, y: r.top, w: r.width }; })()");
      const LABEL = 200;
      const PW = box.w - LABEL - 8;
      const timeAt = (s: State, px: number): number => s.v0 + ((px - box.x - LABEL) * (s.v1 - s.v0)) / PW;
      const s0 = await state();
      assert.deepEqual([s0.v0, s0.v1], [0, Math.round(s0.length)], 'the whole trace at first');

      // Wheel up at a third of the plot: zoomed in, the time under the pointer stays put, the axis re-labelled.
      const px = box.x + LABEL + PW / 3;
      const py = box.y + 80;
      await b.mouse('mouseWheel', px, py, { deltaX: 0, deltaY: -500 });
      const s1 = await state();
      assert.ok(s1.v1 - s1.v0 < (s0.v1 - s0.v0) / 2, `zoomed in: ${JSON.stringify([s0, s1])}`);
      assert.ok(Math.abs(timeAt(s1, px) - timeAt(s0, px)) < (s0.v1 - s0.v0) * 0.01, 'zoomed at the pointer');
      assert.notDeepEqual(s1.ticks, s0.ticks);

      // Drag right by 300 px: the view moves back in time by 300 px worth.
      await b.mouse('mousePressed', px, py, { button: 'left', clickCount: 1 });
      await b.mouse('mouseMoved', px + 150, py, { button: 'left' });
      await b.mouse('mouseMoved', px + 300, py, { button: 'left' });
      await b.mouse('mouseReleased', px + 300, py, { button: 'left', clickCount: 1 });
      const s2 = await state();
      const shift = (300 * (s1.v1 - s1.v0)) / PW;
      assert.ok(Math.abs(s1.v0 - s2.v0 - shift) < shift * 0.05, `panned: ${s1.v0} -> ${s2.v0}, expected ${shift} earlier`);
      assert.ok(Math.abs(s2.v1 - s2.v0 - (s1.v1 - s1.v0)) < 2, 'the same zoom');

      // Buttons and keys.
      await b.eval("document.getElementById('zoom-out').click()");
      const s3 = await state();
      assert.ok(Math.abs((s3.v1 - s3.v0) / (s2.v1 - s2.v0) - 2) < 0.01, 'the zoom-out button doubles the span');
      await b.send('Input.dispatchKeyEvent', { type: 'keyDown', key: '+', text: '+' });
      await b.send('Input.dispatchKeyEvent', { type: 'keyUp', key: '+' });
      const s4 = await state();
      assert.ok(Math.abs((s4.v1 - s4.v0) / (s3.v1 - s3.v0) - 0.5) < 0.01, "the '+' key halves it");
      assert.match(await b.eval<string>('location.hash'), /^#from=[\d.-]+&to=[\d.]+$/, 'the URL keeps the view');
      await b.eval("document.getElementById('fit-frames').click()");

      // A click on a busy bar of frame 3 picks that frame: its journey table, the others dimmed.
      const bar = await b.eval<{ x: number; y: number } | null>(`(() => {
        const r = [...document.querySelectorAll('#timeline rect.busy[data-frame="3"]')].map((e) => e.getBoundingClientRect()).sort((a, b) => b.width - a.width)[0];
        return r ? { x: r.left + r.width / 2, y: r.top + r.height / 2 } : null;
      })()`);
      assert.ok(bar, 'frame 3 is drawn');
      await b.mouse('mousePressed', bar.x, bar.y, { button: 'left', clickCount: 1 });
      await b.mouse('mouseReleased', bar.x, bar.y, { button: 'left', clickCount: 1 });
      assert.equal(await b.eval<string>("document.querySelector('#journey') && document.querySelector('#journey').dataset.frame"), '3');
      assert.equal(await b.eval<string>("document.getElementById('timeline').getAttribute('class')"), 'has-selection');
      assert.equal(await b.eval<number>("document.querySelectorAll('#timeline g.journey.selected').length"), 1);
    } finally {
      await b.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
