/**
 * `--report FILE.html`: one self-contained page (no network, no files
 * beside it) with a timeline of every fence per timeline, every buffer's
 * lifetime and every process's poll waits. The trace model is embedded as
 * JSON and drawn as SVG by the page's own script, so what a browser shows
 * is what it computed from the data (the test checks the rendered DOM).
 */
import type { TraceModel } from './trace.js';

/** JSON safe inside a <script> element. */
function embed(data: unknown): string {
  return JSON.stringify(data).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The page's drawing code (plain browser JavaScript, runs offline). */
const DRAW = String.raw`
(function () {
  const m = JSON.parse(document.getElementById('trace-data').textContent);
  const NS = 'http://www.w3.org/2000/svg';
  const LABEL = 220, ROW = 22, BAR = 14, TOP = 30;
  const el = (name, attrs, parent, text) => {
    const e = document.createElementNS(NS, name);
    for (const k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    if (parent) parent.appendChild(e);
    return e;
  };
  const ms = (ns) => (ns / 1e6).toFixed(3) + ' ms';
  const palette = ['#4e79a7', '#f28e2b', '#59a14f', '#b07aa1', '#76b7b2', '#edc948', '#ff9da7', '#9c755f'];

  // Rows: one per fence timeline, one per buffer, one per waiting process.
  const rows = [];
  const timelines = new Map();
  for (const f of m.fences) {
    const key = f.context;
    if (!timelines.has(key)) timelines.set(key, { label: f.timeline + ' (ctx ' + f.context + ')', kind: 'fence', items: [] });
    timelines.get(key).items.push(f);
  }
  rows.push({ header: 'Fences, per timeline (init to signal)' }, ...timelines.values());
  rows.push({ header: 'Buffers (export to release)' });
  for (const b of m.buffers) rows.push({ label: (b.name || 'dma-buf ' + b.ino) + ' [' + b.exporter + ', ' + b.size + ' B]', kind: 'buffer', items: [b] });
  const procs = new Map();
  for (const w of m.waits) {
    if (!procs.has(w.pid)) procs.set(w.pid, { label: w.comm + ' (pid ' + w.pid + ')', kind: 'wait', items: [] });
    procs.get(w.pid).items.push(w);
  }
  rows.push({ header: 'Poll waits, per process' }, ...procs.values());

  const svg = document.getElementById('timeline');
  const draw = () => {
    const zoom = Number(document.getElementById('zoom').value);
    const width = Math.max(600, (document.body.clientWidth - LABEL - 40) * zoom);
    const scale = width / Math.max(1, m.length);
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    svg.setAttribute('width', LABEL + width + 20);
    svg.setAttribute('height', TOP + rows.length * ROW + 10);
    // Time axis: about ten ticks at a round step.
    const raw = m.length / 10;
    const step = raw > 0 ? Math.pow(10, Math.floor(Math.log10(raw))) * [1, 2, 5, 10].find((k) => Math.pow(10, Math.floor(Math.log10(raw))) * k >= raw) : 1;
    const axis = el('g', { class: 'axis' }, svg);
    for (let t = 0; t <= m.length; t += step) {
      const x = LABEL + t * scale;
      el('line', { x1: x, x2: x, y1: TOP - 6, y2: TOP + rows.length * ROW, class: 'tick' }, axis);
      el('text', { x: x + 2, y: TOP - 10, class: 'ticklabel' }, axis, (t / 1e6).toFixed(t < 1e6 ? 3 : 1) + ' ms');
    }
    rows.forEach((r, i) => {
      const y = TOP + i * ROW;
      const g = el('g', { class: 'row' + (r.header ? ' header' : ''), 'data-kind': r.kind || 'header' }, svg);
      if (r.header) {
        el('text', { x: 4, y: y + 15, class: 'section' }, g, r.header);
        return;
      }
      el('text', { x: 4, y: y + 15, class: 'label' }, g, r.label.length > 34 ? r.label.slice(0, 33) + '…' : r.label);
      r.items.forEach((it, k) => {
        const end = r.kind === 'wait' ? it.start + it.dur : it.end === null ? m.length : it.end;
        const attrs = { x: LABEL + it.start * scale, y: y + (ROW - BAR) / 2, width: Math.max(1, (end - it.start) * scale), height: BAR, class: r.kind };
        if (r.kind === 'fence') {
          attrs.fill = palette[it.context % palette.length];
          attrs['data-seqno'] = it.seqno;
          if (it.end === null) attrs.class += ' unsignalled';
        }
        if (r.kind === 'buffer' && it.end === null) attrs.class += ' alive';
        const rect = el('rect', attrs, g);
        const what = r.kind === 'fence' ? 'fence ' + it.timeline + ' #' + it.seqno + (it.end === null ? ' (never signalled)' : '')
          : r.kind === 'buffer' ? r.label + (it.end === null ? ' (still alive)' : '')
          : 'poll ' + it.fds + ' -> ' + it.ret;
        el('title', {}, rect, what + ': ' + ms(it.start) + ' + ' + ms(end - it.start));
      });
    });
  };
  document.getElementById('zoom').addEventListener('change', draw);
  draw();
  const unsignalled = m.fences.filter((f) => f.end === null).length;
  const alive = m.buffers.filter((b) => b.end === null).length;
  document.getElementById('summary').textContent = m.fences.length + ' fences on ' + timelines.size + ' timelines (' + unsignalled + ' never signalled), '
    + m.buffers.length + ' buffers (' + alive + ' alive at the end), ' + m.waits.length + ' poll waits over ' + ms(m.length)
    + (m.lost ? '; ' + m.lost + ' records lost' : '');
  document.body.setAttribute('data-drawn', 'true');
})();
`;

/** The report page for one run. */
export function reportHtml(m: TraceModel, title: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeHtml(title)}</title>
<style>
  body { font: 13px system-ui, sans-serif; margin: 16px; color: #222; }
  h1 { font-size: 18px; margin: 0 0 4px; }
  #controls { margin: 8px 0; }
  #scroll { overflow-x: auto; border: 1px solid #ddd; }
  .label { font: 12px ui-monospace, monospace; fill: #333; }
  .section { font-weight: bold; fill: #000; }
  .ticklabel { font-size: 10px; fill: #777; }
  .tick { stroke: #eee; }
  rect.fence { stroke: #0003; }
  rect.fence.unsignalled { fill: #d62728 !important; }
  rect.buffer { fill: #9ecae1; stroke: #3182bd; }
  rect.buffer.alive { fill: #fdae6b; }
  rect.wait { fill: #bbb; stroke: #777; }
</style>
</head>
<body>
<h1>${escapeHtml(title)}</h1>
<div id="summary">(the timeline is drawn by this page's script)</div>
<div id="controls">zoom <select id="zoom"><option>1</option><option>4</option><option>16</option><option>64</option></select>
 — hover a bar for its times. Fences: init to signal, coloured per timeline (red: never signalled). Buffers: export to release (orange: alive at the end). Waits: time a process spent blocked in poll().</div>
<div id="scroll"><svg id="timeline" xmlns="http://www.w3.org/2000/svg"></svg></div>
<script type="application/json" id="trace-data">${embed(m)}</script>
<script>${DRAW}</script>
</body>
</html>
`;
}
