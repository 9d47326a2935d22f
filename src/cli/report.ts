/**
 * `--report FILE.html`: one self-contained page (no network, no files
 * beside it) that answers "why is this frame late?": frame latency
 * percentiles, each stage's busy and waiting time and what its waits
 * were for, the slowest frames with their latency cut into parts, and a
 * zoomable timeline of every stage (in pipeline order), fence timeline
 * and buffer, each frame's journey linked across them. The model is
 * embedded as JSON and drawn by the page's own script
 * (report/page-script.ts), so what a browser shows is what it computed
 * from the data (the tests check the rendered DOM).
 */
import type { TraceModel } from './trace.js';
import { PAGE_SCRIPT } from './report/page-script.js';

/** JSON safe inside a <script> element. */
function embed(data: unknown): string {
  return JSON.stringify(data).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const STYLE = `
  body { font: 13px system-ui, sans-serif; margin: 16px; color: #222; }
  h1 { font-size: 18px; margin: 0 0 4px; }
  h2 { font-size: 15px; margin: 18px 0 6px; }
  h3 { font-size: 14px; margin: 8px 0 4px; }
  table { border-collapse: collapse; }
  th, td { padding: 3px 8px; border-bottom: 1px solid #e4e4e4; text-align: left; vertical-align: top; }
  td[data-col], td[data-stat] { text-align: right; font-variant-numeric: tabular-nums; }
  .cards { display: flex; gap: 32px; flex-wrap: wrap; align-items: flex-start; }
  .note { color: #666; font-size: 12px; margin: 2px 0 6px; max-width: 1100px; }
  .swatch { display: inline-block; width: 10px; height: 10px; margin-right: 6px; border-radius: 2px; }
  .sharebar, .partsbar { display: flex; width: 220px; height: 12px; border: 1px solid #ccc; background: #fafafa; }
  .partsbar { width: 360px; }
  .part.fence { background: repeating-linear-gradient(45deg, #e15759 0 2px, #fde0dd 2px 5px); }
  .part.input, .part.queued { background: #e3e3e3; }
  .pct { font-size: 11px; color: #555; }
  .causes, .largest { font-size: 12px; color: #444; max-width: 420px; }
  #controls { margin: 10px 0 4px; display: flex; gap: 6px; align-items: center; flex-wrap: wrap; }
  #controls button { font: inherit; padding: 1px 8px; }
  #range { color: #555; margin-left: 8px; font-variant-numeric: tabular-nums; }
  #legend { display: flex; flex-wrap: wrap; gap: 4px 16px; font-size: 12px; margin: 4px 0 8px; }
  #legend .item { display: inline-flex; align-items: center; gap: 4px; }
  #chart { border: 1px solid #ddd; overflow: hidden; user-select: none; cursor: grab; }
  #details { margin-top: 8px; }
  #details p { max-width: 1100px; }
  .label { font: 12px ui-monospace, monospace; fill: #333; }
  .sublabel { font: 10px ui-monospace, monospace; fill: #777; }
  .lane { font-size: 9px; fill: #999; text-anchor: end; }
  .section { font-weight: bold; fill: #000; }
  .rowbg { fill: #fff; }
  .rowbg.odd { fill: #f7f7f7; }
  .ticklabel { font-size: 10px; fill: #666; text-anchor: middle; }
  .tick { stroke: #e6e6e6; }
  .barlabel { font: bold 9px system-ui, sans-serif; fill: #fff; text-anchor: middle; pointer-events: none; paint-order: stroke; stroke: #0007; stroke-width: 2px; }
  rect.busy { stroke: #0006; stroke-width: 0.5; }
  rect.fencewait { fill: url(#hatch); stroke: #e15759; stroke-width: 0.5; }
  rect.fencewait.nothing { fill: #d4d4d4; stroke: #999; }
  rect.input { fill: #ececec; stroke: #d0d0d0; stroke-width: 0.5; }
  rect.poll, rect.wait { fill: #333; }
  line.poll { stroke: #333; stroke-width: 2; }
  line.waitfor { stroke: #e15759; stroke-width: 1.2; }
  .arrowhead { fill: #e15759; }
  line.hop { stroke: #555; stroke-width: 1; stroke-dasharray: 3 2; }
  rect.fence { stroke: #0004; stroke-width: 0.5; }
  rect.fence.unsignalled, rect.attach.unsignalled { fill: #d62728; }
  rect.buffer { fill: #eef5fb; stroke: #9ecae1; }
  rect.buffer.alive { fill: #fdebd3; stroke: #fdae6b; }
  rect.cpu { stroke: #0006; stroke-width: 0.5; }
  rect.attach { fill-opacity: 0.8; stroke: #0004; stroke-width: 0.5; }
  rect.attach.read { fill-opacity: 0.45; }
  rect.bufwait { fill-opacity: 0.35; stroke: #e15759; stroke-width: 0.5; }
  .journey { cursor: pointer; }
  .journey:hover rect { stroke: #000; stroke-width: 1; }
  svg.has-selection .journey:not(.selected) { opacity: 0.22; }
`;

/** The report page for one run. */
export function reportHtml(m: TraceModel, title: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<h1>${escapeHtml(title)}</h1>
<div id="summary">(this page's script draws the report)</div>

<div class="cards">
<section>
<h2>Frame latency (ms)</h2>
<div class="note">From the first stage starting on a frame to the last stage done with it.</div>
<table id="latency"></table>
</section>
<section>
<h2>Stages: busy and waiting (ms)</h2>
<div class="note">Each stage's span (first frame begun to last frame done) is busy + fence wait (poll on the buffer until its fences signal) + input wait (for the previous stage's message; for the producer, the ring buffer's return). The last column says whose fences the waits ended on.</div>
<table id="stages"></table>
</section>
</div>

<h2>Slowest frames</h2>
<div class="note">Each frame's latency cut into parts that add up to it, in stage order: busy (colour of the stage), queued (done upstream, not yet taken: the stage was busy with earlier frames), fence wait (hatched). Click a frame to zoom to its journey.</div>
<table id="slowest"></table>

<h2>Timeline</h2>
<div id="controls">
<button id="zoom-out" title="zoom out (-)">\u2212</button><button id="zoom-in" title="zoom in (+)">+</button>
<button id="pan-left" title="pan left (\u2190)">\u2190</button><button id="pan-right" title="pan right (\u2192)">\u2192</button>
<button id="fit" title="the whole trace (0)">whole trace</button><button id="fit-frames">all frames</button>
<span id="range"></span>
<span class="note">wheel: zoom at the pointer \u00b7 drag: pan \u00b7 click a frame: its journey \u00b7 hover: times \u00b7 the URL keeps the view (#from=ms&amp;to=ms, #frame=N)</span>
</div>
<div id="legend"></div>
<div id="chart"><svg id="timeline" xmlns="http://www.w3.org/2000/svg"></svg></div>
<div id="details" class="note">Click a frame's bar to see its journey.</div>
<script type="application/json" id="trace-data">${embed(m)}</script>
<script>${PAGE_SCRIPT}</script>
</body>
</html>
`;
}
