/**
 * The report page's own script (plain browser JavaScript, runs offline):
 * it reads the embedded model and builds the latency, stage and
 * slowest-frame tables, the legend and the SVG timeline, with zoom and
 * pan (wheel, drag, buttons, keys, and the URL: #from=MS&to=MS, #zoom=F
 * &at=MS, #frame=N). The tick labels are recomputed for the visible
 * range at every redraw. Written without template literals, so it can
 * live in a String.raw.
 */
export const PAGE_SCRIPT = String.raw`
(function () {
  'use strict';
  var m = JSON.parse(document.getElementById('trace-data').textContent);
  var NS = 'http://www.w3.org/2000/svg';
  var LABEL = 200, AXIS = 34, PAD = 8;
  var H = { header: 22, stage: 26, proc: 20, timeline: 18, buffer: 44 };

  function el(name, attrs, parent, text) {
    var e = document.createElementNS(NS, name);
    for (var k in attrs) if (attrs[k] !== undefined && attrs[k] !== null) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    if (parent) parent.appendChild(e);
    return e;
  }
  function html(name, attrs, parent, text) {
    var e = document.createElement(name);
    for (var k in attrs) if (attrs[k] !== undefined && attrs[k] !== null) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    if (parent) parent.appendChild(e);
    return e;
  }
  function ms(ns) { return (ns / 1e6).toFixed(3); }
  function msu(ns) { return ms(ns) + ' ms'; }
  function at(ns) { return '@' + ms(ns) + ' ms'; }

  // ---- processes, colours, names
  var STAGE_COLORS = { producer: ['#4e79a7'], processor: ['#f28e2b', '#b07aa1', '#edc948', '#ff9da7', '#9c755f'], consumer: ['#59a14f'] };
  var OTHER = ['#76b7b2', '#bab0ac', '#8cd17d'];
  var procs = {}, used = { producer: 0, processor: 0, consumer: 0, other: 0 };
  m.processes.forEach(function (p, i) {
    var list = STAGE_COLORS[p.role] || OTHER, key = p.role || 'other';
    procs[p.pid] = { p: p, order: i, color: list[used[key]++ % list.length] };
  });
  function pname(pid) { return procs[pid] ? procs[pid].p.comm + ' (pid ' + pid + ')' : 'pid ' + pid; }
  function pcolor(pid) { return procs[pid] ? procs[pid].color : '#999'; }
  function shortTl(f) { return f.timeline.replace(/^sw_sync:/, ''); }
  function fenceName(i) { var f = m.fences[i]; return shortTl(f) + '#' + f.seqno + (f.frame !== null ? ' (frame ' + f.frame + ')' : ''); }
  function fenceBy(i) {
    var f = m.fences[i];
    return f.owner !== null ? 'signalled by ' + pname(f.owner) : 'on timeline ' + f.timeline;
  }
  var bufByIno = {};
  m.buffers.forEach(function (b) { bufByIno[b.ino] = b; });
  function bname(ino) {
    var b = bufByIno[ino];
    return 'dma-buf ' + ino + (b && b.name ? " '" + b.name + "'" : '');
  }
  var legOfFence = {};
  m.legs.forEach(function (l, i) { if (l.fence !== null) legOfFence[l.fence] = i; });
  var journeyOf = {};
  m.journeys.forEach(function (j, i) { journeyOf[j.frame] = i; });
  var accessOf = {}, attachedOf = {};
  function push(map, k, v) { (map[k] = map[k] || []).push(v); }
  m.access.forEach(function (a) { if (a.frame !== null) push(accessOf, a.pid + ':' + a.frame, a); });
  m.attached.forEach(function (a) { var f = m.fences[a.fence].frame; if (f !== null) push(attachedOf, f, a); });
  function waitText(l) {
    var d = l.t[2] - l.t[1];
    if (l.waitedFor === null) return 'waited ' + msu(d) + ' with no fence pending (the poll() itself: kernel and scheduling latency)';
    var f = m.fences[l.waitedFor];
    return 'waited ' + msu(d) + ' for fence ' + fenceName(l.waitedFor) + ', ' + fenceBy(l.waitedFor) + ' ' + at(f.end);
  }
  function inputText(l) {
    var p = procs[l.pid] && procs[l.pid].p;
    return (p && p.role === 'producer' ? 'waited for the ring buffer to come back ' : 'waited for its input ') + msu(l.t[1] - l.t[0]);
  }

  // ---- summary
  var unsignalled = m.fences.filter(function (f) { return f.end === null; }).length;
  var alive = m.buffers.filter(function (b) { return b.end === null; }).length;
  var timelines = {};
  m.fences.forEach(function (f) { timelines[f.context] = true; });
  document.getElementById('summary').textContent = m.fences.length + ' fences on ' + Object.keys(timelines).length + ' timelines (' + unsignalled + ' never signalled), '
    + m.buffers.length + ' buffers (' + alive + ' alive at the end), ' + m.waits.length + ' poll waits, ' + m.journeys.length + ' frame journeys over ' + msu(m.length)
    + (m.lost ? '; ' + m.lost + ' records lost' : '');

  // ---- latency table
  var lat = document.getElementById('latency');
  if (m.latency) {
    var hr = html('tr', {}, lat);
    var br = html('tr', {}, lat);
    [['count', 'frames'], ['p50', 'p50'], ['p90', 'p90'], ['p99', 'p99'], ['max', 'max'], ['mean', 'mean']].forEach(function (c) {
      html('th', {}, hr, c[1]);
      html('td', { 'data-stat': c[0] }, br, c[0] === 'count' ? String(m.latency.count) : ms(m.latency[c[0]]));
    });
  } else {
    html('caption', {}, lat, 'no frame marks in this trace');
  }

  // ---- stages table: busy vs waiting, and what the waits were for
  var st = document.getElementById('stages');
  var head = html('tr', {}, st);
  ['stage', 'frames', 'span (ms)', 'busy (ms)', 'fence wait (ms)', 'input wait (ms)', 'share', 'fence waits ended on'].forEach(function (h) { html('th', {}, head, h); });
  m.stages.forEach(function (s) {
    var tr = html('tr', { 'data-pid': s.pid }, st);
    var th = html('th', {}, tr);
    html('span', { class: 'swatch', style: 'background:' + pcolor(s.pid) }, th);
    th.appendChild(document.createTextNode(pname(s.pid)));
    html('td', { 'data-col': 'frames' }, tr, String(s.frames));
    html('td', { 'data-col': 'span' }, tr, ms(s.span));
    html('td', { 'data-col': 'busy' }, tr, ms(s.busy));
    html('td', { 'data-col': 'fence' }, tr, ms(s.fenceWait));
    html('td', { 'data-col': 'input' }, tr, ms(s.inputWait));
    var share = html('td', { class: 'share' }, tr);
    var bar = html('div', { class: 'sharebar', title: 'busy / fence wait / input wait' }, share);
    [['busy', s.busy], ['fence', s.fenceWait], ['input', s.inputWait]].forEach(function (x) {
      html('div', { class: 'part ' + x[0], style: 'width:' + (s.span > 0 ? (100 * x[1] / s.span).toFixed(2) : 0) + '%;' + (x[0] === 'busy' ? 'background:' + pcolor(s.pid) : '') }, bar);
    });
    html('span', { class: 'pct' }, share, (s.span > 0 ? Math.round(100 * s.busy / s.span) : 0) + '% busy');
    html('td', { class: 'causes' }, tr, s.causes.map(function (c) {
      return (c.owner === null ? 'nothing pending' : pname(c.owner) + "'s fences") + ': ' + c.count + ' waits, ' + ms(c.dur) + ' ms';
    }).join('; '));
  });

  // ---- the slowest frames, their latency cut into parts
  var PART = { busy: 'busy', queued: 'queued', fence: 'fence wait' };
  function partText(p) {
    var l = m.legs[p.leg];
    var s = procs[l.pid].p.comm + ' ' + PART[p.what] + ' ' + ms(p.dur);
    if (p.what === 'fence' && l.waitedFor !== null) s += ' (on ' + fenceName(l.waitedFor) + ')';
    if (p.what === 'queued') s += ' (behind earlier frames / the message)';
    return s;
  }
  var slow = document.getElementById('slowest');
  var sh = html('tr', {}, slow);
  ['frame', 'latency (ms)', 'where the time went (stage order)', 'largest part'].forEach(function (h) { html('th', {}, sh, h); });
  m.journeys.slice().sort(function (a, b) { return b.latency - a.latency; }).slice(0, 5).forEach(function (j) {
    var tr = html('tr', { 'data-frame': j.frame }, slow);
    var a = html('a', { href: '#frame=' + j.frame }, html('td', {}, tr), 'frame ' + j.frame);
    a.addEventListener('click', function (ev) { ev.preventDefault(); select(j.frame, true); });
    html('td', { 'data-col': 'latency' }, tr, ms(j.latency));
    var bar = html('div', { class: 'partsbar' }, html('td', {}, tr));
    j.parts.forEach(function (p) {
      var l = m.legs[p.leg];
      html('div', { class: 'part ' + p.what, title: partText(p), style: 'width:' + (j.latency > 0 ? (100 * Math.max(0, p.dur) / j.latency).toFixed(2) : 0) + '%;' + (p.what === 'busy' ? 'background:' + pcolor(l.pid) : '') }, bar);
    });
    var big = j.parts.slice().sort(function (a, b) { return b.dur - a.dur; })[0];
    html('td', { class: 'largest' }, tr, big ? partText(big) : '');
  });

  // ---- legend
  var legend = document.getElementById('legend');
  function legendItem(kind, text, draw) {
    var item = html('span', { class: 'item', 'data-kind': kind }, legend);
    var s = el('svg', { width: 30, height: 14 }, item);
    draw(s);
    item.appendChild(document.createTextNode(text));
  }
  legendItem('busy', 'busy on a frame (colour: stage; number: frame)', function (s) { el('rect', { x: 1, y: 2, width: 28, height: 10, class: 'busy', fill: '#4e79a7' }, s); });
  legendItem('fencewait', 'waiting for a buffer\u2019s fences (poll)', function (s) { el('rect', { x: 1, y: 2, width: 28, height: 10, class: 'fencewait' }, s); });
  legendItem('nothing', 'a poll wait with no fence pending (kernel / scheduling latency)', function (s) { el('rect', { x: 1, y: 2, width: 28, height: 10, class: 'fencewait nothing' }, s); });
  legendItem('input', 'waiting for input / the ring buffer', function (s) { el('rect', { x: 1, y: 2, width: 28, height: 10, class: 'input' }, s); });
  legendItem('poll', 'the poll() syscall in the kernel', function (s) { el('line', { x1: 1, x2: 29, y1: 12, y2: 12, class: 'poll' }, s); });
  legendItem('waitfor', 'waits for: fence signalled \u2192 the wait it ended', function (s) { el('line', { x1: 2, x2: 26, y1: 12, y2: 3, class: 'waitfor', 'marker-end': 'url(#arrow)' }, s); });
  legendItem('hop', 'a frame\u2019s hop to the next stage', function (s) { el('line', { x1: 2, x2: 28, y1: 3, y2: 12, class: 'hop' }, s); });
  legendItem('fence', 'fence: created \u2192 signalled (colour: the stage that attached it)', function (s) { el('rect', { x: 1, y: 3, width: 28, height: 8, class: 'fence', fill: '#f28e2b' }, s); });
  legendItem('unsignalled', 'fence never signalled', function (s) { el('rect', { x: 1, y: 3, width: 28, height: 8, class: 'fence unsignalled' }, s); });
  legendItem('cpu', 'CPU access (DMA_BUF_IOCTL_SYNC start \u2192 end)', function (s) { el('rect', { x: 1, y: 3, width: 28, height: 8, class: 'cpu', fill: '#59a14f' }, s); });
  legendItem('attach', 'fence on a buffer: attached \u2192 signalled', function (s) { el('rect', { x: 1, y: 3, width: 28, height: 8, class: 'attach', fill: '#f28e2b' }, s); });
  legendItem('buffer', 'buffer: export \u2192 release', function (s) { el('rect', { x: 1, y: 3, width: 28, height: 8, class: 'buffer' }, s); });

  // ---- rows, in pipeline order: stages, other processes, fence timelines, buffers
  var rows = [];
  var rowOfStage = {}, rowOfProc = {}, rowOfCtx = {}, rowOfBuf = {};
  var stagePids = {};
  m.stages.forEach(function (s) { stagePids[s.pid] = true; });
  rows.push({ kind: 'header', label: 'Stages, in pipeline order' });
  m.processes.forEach(function (p) {
    if (!stagePids[p.pid]) return;
    rowOfStage[p.pid] = rows.length;
    rows.push({ kind: 'stage', pid: p.pid, label: pname(p.pid) });
  });
  var others = m.processes.filter(function (p) { return !stagePids[p.pid]; });
  if (others.length) {
    rows.push({ kind: 'header', label: 'Other processes (poll waits, CPU access)' });
    others.forEach(function (p) { rowOfProc[p.pid] = rows.length; rows.push({ kind: 'proc', pid: p.pid, label: pname(p.pid) }); });
  }
  var ctxs = [];
  m.fences.forEach(function (f) {
    if (rowOfCtx[f.context] !== undefined) return;
    rowOfCtx[f.context] = -1;
    ctxs.push({ context: f.context, timeline: f.timeline, owner: f.owner });
  });
  m.fences.forEach(function (f) { ctxs.forEach(function (c) { if (c.context === f.context) { c.timeline = f.timeline; if (c.owner === null) c.owner = f.owner; } }); });
  ctxs.sort(function (a, b) {
    var oa = a.owner !== null && procs[a.owner] ? procs[a.owner].order : 1e9, ob = b.owner !== null && procs[b.owner] ? procs[b.owner].order : 1e9;
    return oa - ob || a.context - b.context;
  });
  rows.push({ kind: 'header', label: 'Fence timelines (created \u2192 signalled)' });
  ctxs.forEach(function (c) { rowOfCtx[c.context] = rows.length; rows.push({ kind: 'timeline', context: c.context, owner: c.owner, label: c.timeline + ' (ctx ' + c.context + ')' }); });
  rows.push({ kind: 'header', label: 'Buffers (CPU access \u00b7 fences on it \u00b7 waits on it)' });
  m.buffers.forEach(function (b) {
    rowOfBuf[b.ino] = rows.length;
    rows.push({ kind: 'buffer', ino: b.ino, label: b.name || 'dma-buf ' + b.ino, sub: 'ino ' + b.ino + ', ' + b.exporter + ', ' + b.size + ' B' });
  });
  var y = AXIS;
  rows.forEach(function (r) { r.y = y; r.h = H[r.kind]; y += r.h; });
  var HEIGHT = y + PAD;
  function mid(r) { return rows[r].y + rows[r].h / 2; }

  // ---- the view: [v0, v1] ns from the origin
  var MIN_SPAN = 2000;
  var view = { v0: 0, v1: Math.max(1, m.length) };
  var selected = null;
  function clampView(a, b) {
    var span = Math.max(MIN_SPAN, b - a), lo = -m.length * 0.05, hi = m.length * 1.05;
    if (span > hi - lo) span = hi - lo;
    if (a < lo) a = lo;
    if (a + span > hi) a = hi - span;
    return { v0: a, v1: a + span };
  }
  function setView(a, b, fromHash) {
    view = clampView(a, b);
    draw();
    if (!fromHash && history.replaceState) history.replaceState(null, '', '#from=' + ms(view.v0) + '&to=' + ms(view.v1) + (selected !== null ? '&frame=' + selected : ''));
  }
  function zoomBy(f, center) {
    var c = center === undefined ? (view.v0 + view.v1) / 2 : center;
    setView(c - (c - view.v0) / f, c + (view.v1 - c) / f);
  }
  function panBy(frac) { var d = (view.v1 - view.v0) * frac; setView(view.v0 + d, view.v1 + d); }
  function journeyRange(j) {
    var a = j.start, b = j.end;
    j.legs.forEach(function (li) { a = Math.min(a, m.legs[li].t[0]); });
    return [a, b];
  }

  // A round step for about n ticks, and the unit and decimals its labels need.
  function ticks(a, b, n) {
    var raw = (b - a) / Math.max(1, n);
    var p = Math.pow(10, Math.floor(Math.log10(raw)));
    var step = p * ([1, 2, 5, 10].find(function (k) { return p * k >= raw; }));
    var unit = step >= 1e9 ? 1e9 : 1e6, uname = step >= 1e9 ? 's' : 'ms';
    var dec = Math.max(0, -Math.floor(Math.log10(step / unit) + 1e-9));
    var out = [];
    for (var t = Math.ceil(a / step) * step; t <= b + 1e-6; t += step) out.push({ t: t, label: (t / unit).toFixed(dec) + ' ' + uname });
    return out;
  }

  var svg = document.getElementById('timeline');
  var chart = document.getElementById('chart');
  var rangeText = document.getElementById('range');

  function draw() {
    var W = Math.max(700, chart.clientWidth || 1200);
    var PW = W - LABEL - PAD;
    var v0 = view.v0, v1 = view.v1, k = PW / (v1 - v0);
    function x(t) { return LABEL + (t - v0) * k; }
    function visible(a, b) { return b >= v0 && a <= v1; }
    // a bar clipped to the plot: its drawn x and width, and where a label fits
    function bar(parent, a, b, yy, hh, attrs, label, title) {
      if (!visible(a, b)) return null;
      var xa = Math.max(LABEL - 2, x(a)), xb = Math.min(LABEL + PW + 2, x(b));
      attrs.x = xa; attrs.y = yy; attrs.width = Math.max(1, xb - xa); attrs.height = hh;
      var r = el('rect', attrs, parent);
      if (title) el('title', {}, r, title);
      if (label !== undefined && xb - xa >= 7 * String(label).length + 6)
        el('text', { x: (xa + xb) / 2, y: yy + hh / 2 + 4, class: 'barlabel framelabel', 'data-frame': attrs['data-frame'] }, parent, String(label));
      return r;
    }
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    svg.setAttribute('width', W);
    svg.setAttribute('height', HEIGHT);
    svg.setAttribute('class', selected !== null ? 'has-selection' : '');
    var defs = el('defs', {}, svg);
    el('rect', { x: LABEL, y: 0, width: PW, height: HEIGHT }, el('clipPath', { id: 'plot' }, defs));
    var mk = el('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' }, defs);
    el('path', { d: 'M0,0 L10,5 L0,10 z', class: 'arrowhead' }, mk);
    var hatch = el('pattern', { id: 'hatch', width: 6, height: 6, patternUnits: 'userSpaceOnUse', patternTransform: 'rotate(45)' }, defs);
    el('rect', { width: 6, height: 6, fill: '#fde0dd' }, hatch);
    el('line', { x1: 0, y1: 0, x2: 0, y2: 6, stroke: '#e15759', 'stroke-width': 3 }, hatch);

    // rows: backgrounds and labels
    var gr = el('g', { class: 'rows' }, svg);
    rows.forEach(function (r, i) {
      var g = el('g', { class: 'row ' + r.kind, 'data-kind': r.kind }, gr);
      if (r.kind === 'header') {
        el('text', { x: 4, y: r.y + 15, class: 'section' }, g, r.label);
        return;
      }
      el('rect', { x: 0, y: r.y, width: W, height: r.h, class: 'rowbg' + (i % 2 ? ' odd' : '') }, g);
      if (r.pid !== undefined || r.owner !== undefined && r.owner !== null) {
        el('rect', { x: 0, y: r.y + 2, width: 4, height: r.h - 4, fill: pcolor(r.pid !== undefined ? r.pid : r.owner) }, g);
      }
      var max = r.kind === 'buffer' ? 18 : 27;
      var label = r.label.length > max ? r.label.slice(0, max - 1) + '\u2026' : r.label;
      el('text', { x: 8, y: r.y + (r.kind === 'buffer' ? 15 : r.h / 2 + 4), class: 'label' }, g, label);
      if (r.kind === 'buffer') {
        el('text', { x: 8, y: r.y + 31, class: 'sublabel' }, g, r.sub);
        ['cpu', 'fences', 'waits'].forEach(function (lane, n) { el('text', { x: LABEL - 4, y: r.y + 11 + n * 13, class: 'lane' }, g, lane); });
      }
    });

    // time axis: ticks for the visible range
    var axis = el('g', { class: 'axis' }, svg);
    ticks(v0, v1, Math.max(2, Math.floor(PW / 110))).forEach(function (tk) {
      var xx = x(tk.t);
      el('line', { x1: xx, x2: xx, y1: AXIS - 6, y2: HEIGHT - PAD, class: 'tick' }, axis);
      el('text', { x: xx, y: AXIS - 10, class: 'ticklabel' }, axis, tk.label);
    });
    rangeText.textContent = 'showing ' + msu(Math.max(0, v0)) + ' \u2013 ' + msu(Math.min(m.length, v1)) + ' (' + msu(v1 - v0) + ' of ' + msu(m.length) + ')';

    var plot = el('g', { 'clip-path': 'url(#plot)', class: 'plot' }, svg);

    // what belongs to no frame: buffer lives, fences of no frame, polls and CPU accesses outside any leg
    var base = el('g', { class: 'base' }, plot);
    m.buffers.forEach(function (b) {
      var r = rows[rowOfBuf[b.ino]];
      bar(base, b.start, b.end === null ? m.length : b.end, r.y + 1, r.h - 2, { class: 'buffer' + (b.end === null ? ' alive' : '') }, undefined,
        bname(b.ino) + ' [' + b.exporter + ', ' + b.size + ' B]: exported ' + at(b.start) + (b.end === null ? ', still alive' : ', released ' + at(b.end)));
    });
    m.fences.forEach(function (f, i) {
      if (f.frame !== null) return;
      drawFence(base, i);
    });
    var legPolls = {};
    m.legs.forEach(function (l) { if (l.poll !== null) legPolls[l.poll] = true; });
    m.waits.forEach(function (w, i) {
      if (legPolls[i]) return;
      var r = rowOfStage[w.pid] !== undefined ? rowOfStage[w.pid] : rowOfProc[w.pid];
      if (r === undefined) return;
      bar(base, w.start, w.start + w.dur, rows[r].y + rows[r].h - 6, 3, { class: 'wait poll' }, undefined, pname(w.pid) + ': poll(' + w.fds + ') = ' + w.ret + ', ' + msu(w.dur) + ' ' + at(w.start));
    });
    m.access.forEach(function (a) { if (a.frame === null) drawAccess(base, a); });
    m.attached.forEach(function (a) { if (m.fences[a.fence].frame === null) drawAttach(base, a); });

    function drawFence(g, i) {
      var f = m.fences[i], r = rows[rowOfCtx[f.context]];
      var end = f.end === null ? m.length : f.end;
      return bar(g, f.start, end, r.y + 3, r.h - 6, { class: 'fence' + (f.end === null ? ' unsignalled' : ''), fill: f.owner !== null ? pcolor(f.owner) : '#888', 'data-seqno': f.seqno, 'data-frame': f.frame === null ? undefined : f.frame },
        f.frame === null ? undefined : f.frame,
        'fence ' + fenceName(i) + ': created ' + at(f.start) + (f.end === null ? ', never signalled' : ', signalled ' + at(f.end) + ' (' + msu(f.end - f.start) + ')') + (f.owner !== null ? '; attached by ' + pname(f.owner) : ''));
    }
    function drawAccess(g, a) {
      var r = rows[rowOfBuf[a.ino]];
      if (!r) return;
      bar(g, a.start, a.end === null ? m.length : a.end, r.y + 3, 10, { class: 'cpu', fill: pcolor(a.pid), 'data-frame': a.frame === null ? undefined : a.frame }, a.frame === null ? undefined : a.frame,
        pname(a.pid) + ' CPU ' + a.dir + ' access to ' + bname(a.ino) + (a.frame !== null ? ' (frame ' + a.frame + ')' : '') + ': ' + at(a.start) + ' for ' + msu((a.end === null ? m.length : a.end) - a.start) + '; SYNC_START took ' + msu(a.wait));
    }
    function drawAttach(g, a) {
      var r = rows[rowOfBuf[a.ino]], f = m.fences[a.fence];
      if (!r) return;
      bar(g, a.at, f.end === null ? m.length : f.end, r.y + 16, 10, { class: 'attach ' + a.usage + (f.end === null ? ' unsignalled' : ''), fill: pcolor(a.pid) }, undefined,
        pname(a.pid) + ' put fence ' + fenceName(a.fence) + ' (' + a.usage + ') on ' + bname(a.ino) + ' ' + at(a.at) + (f.end === null ? ', never signalled' : ', signalled ' + at(f.end)));
    }

    // the frames' journeys: one group per frame
    var gj = el('g', { class: 'journeys' }, plot);
    m.journeys.forEach(function (j) {
      var g = el('g', { class: 'journey' + (selected === j.frame ? ' selected' : ''), 'data-frame': j.frame, 'data-latency': ms(j.latency) }, gj);
      g.addEventListener('click', function (ev) { if (!dragged) { ev.stopPropagation(); select(j.frame, false); } });
      var prev = null;
      j.legs.forEach(function (li) {
        var l = m.legs[li], r = rows[rowOfStage[l.pid]];
        if (!r) return;
        var yy = r.y + 4, hh = r.h - 8, who = pname(l.pid) + ', frame ' + l.frame + ': ';
        bar(g, l.t[0], l.t[1], yy + 3, hh - 6, { class: 'input', 'data-frame': l.frame }, undefined, who + inputText(l));
        bar(g, l.t[1], l.t[2], yy, hh, { class: 'fencewait' + (l.waitedFor === null ? ' nothing' : ''), 'data-frame': l.frame }, undefined, who + waitText(l));
        bar(g, l.t[2], l.t[3], yy, hh, { class: 'busy', fill: pcolor(l.pid), 'data-frame': l.frame }, l.frame,
          who + 'busy ' + msu(l.t[3] - l.t[2]) + ' ' + at(l.t[2]) + (l.ino !== null ? ' on ' + bname(l.ino) : '') + (l.fence !== null ? '; its fence ' + fenceName(l.fence) : ''));
        if (l.poll !== null) {
          var w = m.waits[l.poll];
          bar(g, w.start, w.start + w.dur, r.y + r.h - 4, 2, { class: 'poll' }, undefined, pname(w.pid) + ': poll(' + w.fds + ') = ' + w.ret + ' in the kernel, ' + msu(w.dur));
        }
        if (l.fence !== null) drawFence(g, l.fence);
        if (l.ino !== null && rowOfBuf[l.ino] !== undefined) {
          var rb = rows[rowOfBuf[l.ino]];
          bar(g, l.t[1], l.t[2], rb.y + 29, 10, { class: 'bufwait', fill: pcolor(l.pid), 'data-frame': l.frame }, undefined, who + waitText(l));
        }
        // waits for: from the signal of the fence the wait ended on to the end of the wait
        if (l.waitedFor !== null) {
          var f = m.fences[l.waitedFor], src = f.owner !== null && rowOfStage[f.owner] !== undefined ? rowOfStage[f.owner] : rowOfCtx[f.context];
          // in an overview only the waits wide enough to see get an arrow (all of them for the selected frame)
          if (visible(Math.min(f.end, l.t[2]), Math.max(f.end, l.t[2])) && ((l.t[2] - l.t[1]) * k >= 2 || selected === j.frame))
            el('title', {}, el('line', { x1: x(f.end), y1: mid(src), x2: x(l.t[2]), y2: yy + hh / 2, class: 'waitfor', 'marker-end': 'url(#arrow)' }, g), who + waitText(l));
        }
        if (prev && visible(prev.t[3], l.t[2])) {
          var pr = rows[rowOfStage[prev.pid]];
          el('line', { x1: x(prev.t[3]), y1: pr.y + pr.h - 4, x2: x(l.t[2]), y2: yy, class: 'hop' }, g);
        }
        prev = l;
      });
      j.legs.forEach(function (li) { (accessOf[m.legs[li].pid + ':' + j.frame] || []).forEach(function (a) { drawAccess(g, a); }); });
      (attachedOf[j.frame] || []).forEach(function (a) { drawAttach(g, a); });
    });
    document.body.setAttribute('data-view', Math.round(v0) + ',' + Math.round(v1));
  }

  // ---- the selected frame's journey, told in a table
  function select(frame, zoom) {
    var ji = journeyOf[frame];
    if (ji === undefined) return;
    selected = frame;
    var j = m.journeys[ji];
    var d = document.getElementById('details');
    d.textContent = '';
    html('h3', {}, d, 'Frame ' + frame + ': latency ' + msu(j.latency) + ' (' + at(j.start) + ' \u2192 ' + at(j.end) + ')');
    var t = html('table', { id: 'journey', 'data-frame': frame }, d);
    var h = html('tr', {}, t);
    ['stage', 'buffer', 'input', 'fence wait', 'waited for', 'busy', 'its fence', 'CPU access'].forEach(function (x) { html('th', {}, h, x); });
    j.legs.forEach(function (li) {
      var l = m.legs[li], tr = html('tr', { 'data-pid': l.pid }, t);
      html('th', {}, tr, pname(l.pid));
      html('td', {}, tr, l.ino !== null ? bname(l.ino) : 'ring ' + l.buffer);
      html('td', {}, tr, ms(l.t[1] - l.t[0]));
      html('td', {}, tr, ms(l.t[2] - l.t[1]));
      html('td', {}, tr, l.waitedFor === null ? 'nothing pending' : fenceName(l.waitedFor) + ', ' + fenceBy(l.waitedFor) + ' ' + at(m.fences[l.waitedFor].end));
      html('td', {}, tr, ms(l.t[3] - l.t[2]));
      html('td', {}, tr, l.fence === null ? '' : fenceName(l.fence) + (m.fences[l.fence].end !== null ? ', signalled ' + at(m.fences[l.fence].end) : ', never signalled'));
      html('td', {}, tr, (accessOf[l.pid + ':' + l.frame] || []).map(function (a) {
        return a.dir + ' ' + ms((a.end === null ? m.length : a.end) - a.start) + ' ms';
      }).join(', '));
    });
    html('p', {}, d, 'Latency, part by part: ' + j.parts.map(partText).join(' \u2192 '));
    if (zoom) {
      var r = journeyRange(j), pad = (r[1] - r[0]) * 0.1 + MIN_SPAN;
      setView(r[0] - pad, r[1] + pad, false);
    } else {
      draw();
    }
  }

  // ---- interaction: wheel zooms around the pointer, drag pans, buttons, keys, the URL
  var dragged = false;
  function timeAt(clientX) {
    var rect = svg.getBoundingClientRect(), W = rect.width, PW = W - LABEL - PAD;
    return view.v0 + (clientX - rect.left - LABEL) * (view.v1 - view.v0) / PW;
  }
  svg.addEventListener('wheel', function (ev) {
    ev.preventDefault();
    if (ev.shiftKey || Math.abs(ev.deltaX) > Math.abs(ev.deltaY)) panBy((ev.deltaX || ev.deltaY) / 1000);
    else zoomBy(Math.exp(-ev.deltaY * 0.002), timeAt(ev.clientX));
  }, { passive: false });
  svg.addEventListener('mousedown', function (ev) {
    var x0 = ev.clientX, a = view.v0, b = view.v1;
    dragged = false;
    function move(e) {
      var PW = svg.getBoundingClientRect().width - LABEL - PAD, dt = (e.clientX - x0) * (b - a) / PW;
      if (Math.abs(e.clientX - x0) > 3) dragged = true;
      if (dragged) setView(a - dt, b - dt);
    }
    function up() { window.removeEventListener('mousemove', move); window.removeEventListener('mouseup', up); setTimeout(function () { dragged = false; }, 0); }
    window.addEventListener('mousemove', move);
    window.addEventListener('mouseup', up);
  });
  function button(id, fn) { document.getElementById(id).addEventListener('click', fn); }
  button('zoom-in', function () { zoomBy(2); });
  button('zoom-out', function () { zoomBy(0.5); });
  button('pan-left', function () { panBy(-0.25); });
  button('pan-right', function () { panBy(0.25); });
  button('fit', function () { setView(0, m.length); });
  button('fit-frames', function () {
    if (!m.journeys.length) return;
    var a = Infinity, b = -Infinity;
    m.journeys.forEach(function (j) { var r = journeyRange(j); a = Math.min(a, r[0]); b = Math.max(b, r[1]); });
    setView(a, b);
  });
  document.addEventListener('keydown', function (ev) {
    if (ev.target && ev.target.tagName === 'INPUT') return;
    if (ev.key === '+' || ev.key === '=') zoomBy(2);
    else if (ev.key === '-') zoomBy(0.5);
    else if (ev.key === 'ArrowLeft') panBy(-0.25);
    else if (ev.key === 'ArrowRight') panBy(0.25);
    else if (ev.key === '0') setView(0, m.length);
  });
  function fromHash() {
    var q = {};
    location.hash.replace(/^#/, '').split('&').forEach(function (kv) { var p = kv.split('='); if (p[0]) q[p[0]] = decodeURIComponent(p[1] || ''); });
    var num = function (s) { var v = parseFloat(s); return isFinite(v) ? v : null; };
    var from = num(q.from), to = num(q.to), zoom = num(q.zoom), atMs = num(q.at), frame = num(q.frame);
    if (frame !== null && journeyOf[frame] !== undefined && from === null && zoom === null) { select(frame, true); return; }
    if (frame !== null && journeyOf[frame] !== undefined) selected = frame;
    if (from !== null && to !== null && to > from) setView(from * 1e6, to * 1e6, true);
    else if (zoom !== null && zoom > 0) {
      var c = atMs !== null ? atMs * 1e6 : m.length / 2, span = m.length / zoom;
      setView(c - span / 2, c + span / 2, true);
    } else setView(0, m.length, true);
    if (selected !== null) select(selected, false);
  }
  window.addEventListener('hashchange', fromHash);
  var lastW = 0;
  window.addEventListener('resize', function () { if (chart.clientWidth !== lastW) { lastW = chart.clientWidth; draw(); } });
  fromHash();
  document.body.setAttribute('data-drawn', 'true');
})();
`;
