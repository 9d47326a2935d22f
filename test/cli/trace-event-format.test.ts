/**
 * The Trace Event Format checker (trace-event-format.ts) on a small trace
 * that keeps every rule, then on copies of it that each break one: the
 * checker must name that rule, so the demo's trace passing it means
 * something.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkTraceEvents } from './trace-event-format.js';

type E = Record<string, unknown>;

function sample(): { traceEvents: E[]; displayTimeUnit: string } {
  return {
    displayTimeUnit: 'ms',
    traceEvents: [
      { name: 'process_name', ph: 'M', ts: 0, pid: 1, tid: 1, args: { name: 'producer' } },
      { name: 'process_sort_index', ph: 'M', ts: 0, pid: 1, tid: 1, args: { sort_index: 0 } },
      { name: 'thread_name', ph: 'M', ts: 0, pid: 1, tid: 1, args: { name: 'producer' } },
      { name: 'process_name', ph: 'M', ts: 0, pid: 2, tid: 2, args: { name: 'consumer' } },
      { name: 'thread_name', ph: 'M', ts: 0, pid: 2, tid: 2, args: { name: 'consumer' } },
      { name: 'frame 0', cat: 'stage', ph: 'X', ts: 10, dur: 20, pid: 1, tid: 1, bind_id: 1, flow_out: true },
      { name: 'cpu access', cat: 'cpu', ph: 'X', ts: 12, dur: 5, pid: 1, tid: 1 },
      { name: 'frame 0', cat: 'stage', ph: 'X', ts: 40, dur: 10, pid: 2, tid: 2, bind_id: 1, flow_in: true },
      { name: 'wait', cat: 'stage', ph: 'X', ts: 31, dur: 8, pid: 2, tid: 2 },
      { name: 'B slice', ph: 'B', ts: 60, pid: 2, tid: 2 },
      { ph: 'E', ts: 70, pid: 2, tid: 2 },
      { name: 'waits for', cat: 'fence_wait', ph: 's', id: 7, ts: 25, pid: 1, tid: 1 },
      { name: 'waits for', cat: 'fence_wait', ph: 'f', bp: 'e', id: 7, ts: 35, pid: 2, tid: 2 },
      { name: 'frame 0', cat: 'frame', ph: 'b', id: 'frame:0', ts: 10, pid: 1, tid: 1 },
      { name: 'frame 0', cat: 'frame', ph: 'e', id: 'frame:0', ts: 50, pid: 1, tid: 1 },
    ],
  };
}

/** Copies of the sample, each breaking one rule, and words the checker's complaint must contain. */
const broken: [string, (t: { traceEvents: E[] }) => void, RegExp][] = [
  ['no ph', (t) => delete t.traceEvents[5].ph, /unknown or missing ph/],
  ['an unknown ph', (t) => (t.traceEvents[5].ph = 'Q'), /unknown or missing ph/],
  ['no ts', (t) => delete t.traceEvents[6].ts, /ts must be/],
  ['a negative ts', (t) => (t.traceEvents[6].ts = -1), /ts must be/],
  ['no pid', (t) => delete t.traceEvents[6].pid, /pid must be an integer/],
  ['no tid', (t) => delete t.traceEvents[6].tid, /tid must be an integer/],
  ['a string tid', (t) => (t.traceEvents[6].tid = '1'), /tid must be an integer/],
  ['no name', (t) => delete t.traceEvents[6].name, /no name/],
  ['X without dur', (t) => delete t.traceEvents[6].dur, /needs dur >= 0/],
  ['X with dur < 0', (t) => (t.traceEvents[6].dur = -2), /needs dur >= 0/],
  ['slices overlapping without nesting', (t) => (t.traceEvents[6].dur = 30), /overlaps .* without nesting/],
  ['E without B', (t) => t.traceEvents.splice(9, 1), /'E' with no open 'B'/],
  ['B never closed', (t) => t.traceEvents.splice(10, 1), /'B' never closed/],
  ['b without e', (t) => t.traceEvents.pop(), /'b' with no 'e'/],
  ['e before its b', (t) => (t.traceEvents[14].ts = 5), /'e' with no open 'b'/],
  ['e with another name', (t) => (t.traceEvents[14].name = 'frame 1'), /closes 'b'/],
  ['e with another id', (t) => (t.traceEvents[14].id = 'frame:1'), /'e' with no open 'b'/],
  ['e with another cat', (t) => (t.traceEvents[14].cat = 'other'), /'e' with no open 'b'/],
  ['async without id', (t) => delete t.traceEvents[13].id, /need cat and id/],
  ['a process with no process_name', (t) => t.traceEvents.splice(3, 1), /pid 2 has events but no process_name/],
  ['a thread with no thread_name', (t) => t.traceEvents.splice(2, 1), /thread 1\/1 .* no thread_name/],
  ['thread_name without args.name', (t) => (t.traceEvents[2].args = {}), /args.name must be a string/],
  ['sort index not an integer', (t) => (t.traceEvents[1].args = { sort_index: 'first' }), /sort_index must be an integer/],
  ['unknown metadata', (t) => (t.traceEvents[1].name = 'process_colour'), /unknown metadata event/],
  ['flow start outside any slice', (t) => (t.traceEvents[11].ts = 35), /binds to no slice/],
  ['flow end outside any slice', (t) => (t.traceEvents[12].ts = 55), /binds to no slice/],
  ['flow without its end', (t) => t.traceEvents.splice(12, 1), /runs s, not s, t\.\.\., f/],
  ['flow end before its start', (t) => (t.traceEvents[12].ts = 20, t.traceEvents[12].pid = 1, t.traceEvents[12].tid = 1), /runs fs/],
  ['bind_id without a direction', (t) => delete t.traceEvents[7].flow_in, /without flow_in or flow_out/],
  ['bind_id with two starts', (t) => (t.traceEvents[7].flow_in = false, t.traceEvents[7].flow_out = true), /bind_id 1 runs ss/],
  ['bind_id on an instant', (t) => t.traceEvents.push({ name: 'i', ph: 'i', ts: 1, pid: 1, tid: 1, bind_id: 9, flow_out: true }), /not a slice/],
  ['a bad displayTimeUnit', (t) => ((t as { displayTimeUnit?: string }).displayTimeUnit = 'us'), /displayTimeUnit/],
];

test('trace event format: the sample keeps every rule', () => {
  assert.deepEqual(checkTraceEvents(sample()), []);
  assert.deepEqual(checkTraceEvents(sample().traceEvents), [], 'the bare-array form');
  assert.deepEqual(checkTraceEvents(sample(), { minSpanUs: 50, maxSpanUs: 100 }), [], 'its span, 60 µs, fits');
});

for (const [what, breakIt, complaint] of broken) {
  test(`trace event format: the checker catches ${what}`, () => {
    const t = sample();
    breakIt(t);
    const errs = checkTraceEvents(t);
    assert.ok(errs.some((e) => complaint.test(e)), `expected ${complaint} among:\n${errs.join('\n')}`);
  });
}

test('trace event format: ts in nanoseconds or milliseconds does not fit the run', () => {
  const ns = sample();
  for (const e of ns.traceEvents) if (e.ph !== 'M') (e.ts as number) *= 1000;
  assert.match(checkTraceEvents(ns, { maxSpanUs: 100 }).join('\n'), /not in microseconds/);
  assert.match(checkTraceEvents(sample(), { minSpanUs: 1000 }).join('\n'), /not in microseconds/);
  assert.match(checkTraceEvents({ events: [] }).join('\n'), /neither an array/);
});
