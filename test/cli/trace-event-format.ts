/**
 * A checker for the Trace Event Format (the JSON that chrome://tracing
 * and Perfetto UI read: "Trace Event Format", the Google document of the
 * Catapult project, and Perfetto's JSON importer). It returns every rule
 * a trace breaks, one message each:
 *
 * - the trace is { traceEvents: [...] } (or a bare array); displayTimeUnit, if given, is 'ms' or 'ns';
 * - every event has a known ph, a numeric ts >= 0 (microseconds), integer pid and tid, and a
 *   name (which only 'E' may leave out);
 * - 'X' has a numeric dur >= 0, and complete/duration slices on one thread nest (a slice that
 *   starts inside another ends inside it); 'B'/'E' pair up per thread, in order;
 * - async 'b'/'e' carry cat and id; each 'e' closes the innermost open 'b' of the same cat and id,
 *   with the same name, at or after it; every 'b' is closed;
 * - 'M' metadata events are process_name/thread_name (args.name a string) or
 *   process_sort_index/thread_sort_index (args.sort_index an integer); every pid used is named by
 *   process_name, and every (pid, tid) by thread_name;
 * - flow v1 ('s', 't', 'f') share cat, id and name, run 's' .. 't'* .. 'f' in time order, and bind
 *   to an existing slice on their thread ('s', 't' and 'f' with bp 'e': one enclosing ts; 'f'
 *   without: one starting at or after ts);
 * - flow v2 (bind_id on a slice, with flow_out/flow_in): per bind_id one start (out only), one end
 *   (in only), steps with both, in time order.
 * `maxSpanUs`, if given, bounds the trace's length in microseconds (a test knows how long the run
 * took, so ts in ns or in ms shows).
 */

export interface CheckOptions {
  /** the run took at most this long (µs): the events' span must fit in it */
  maxSpanUs?: number;
  /** and at least this long (µs) */
  minSpanUs?: number;
}

type Ev = Record<string, unknown> & { ph: string; ts: number; pid: number; tid: number; name?: string; cat?: string; id?: unknown; dur?: number };

const PHASES = new Set(['B', 'E', 'X', 'i', 'I', 'C', 'b', 'n', 'e', 'S', 'T', 'p', 'F', 's', 't', 'f', 'P', 'N', 'O', 'D', 'M', 'V', 'v', 'R', 'c', '(', ')']);
const METADATA = new Set(['process_name', 'thread_name', 'process_sort_index', 'thread_sort_index', 'process_labels']);
/** phases bound to a thread (named by thread_name); async and metadata events are process-scoped */
const THREAD_BOUND = new Set(['B', 'E', 'X', 'i', 'I', 's', 't', 'f']);
const EPS = 1e-6;

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);
const num = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const what = (e: Record<string, unknown>, i: number): string => `event ${i} (ph ${JSON.stringify(e.ph)}, name ${JSON.stringify(e.name)})`;

interface Span {
  start: number;
  end: number;
  i: number;
}

export function checkTraceEvents(trace: unknown, opts: CheckOptions = {}): string[] {
  const out: string[] = [];
  let events: unknown[];
  if (Array.isArray(trace)) events = trace;
  else if (trace && typeof trace === 'object' && Array.isArray((trace as { traceEvents?: unknown }).traceEvents)) {
    events = (trace as { traceEvents: unknown[] }).traceEvents;
    const unit = (trace as { displayTimeUnit?: unknown }).displayTimeUnit;
    if (unit !== undefined && unit !== 'ms' && unit !== 'ns') out.push(`displayTimeUnit is ${JSON.stringify(unit)}, not 'ms' or 'ns'`);
  } else return ['the trace is neither an array of events nor an object with a traceEvents array'];

  // Fields every event has.
  const good: { e: Ev; i: number }[] = [];
  events.forEach((raw, i) => {
    if (!raw || typeof raw !== 'object') {
      out.push(`event ${i} is not an object`);
      return;
    }
    const e = raw as Record<string, unknown>;
    const errs: string[] = [];
    if (typeof e.ph !== 'string' || !PHASES.has(e.ph)) errs.push(`${what(e, i)}: unknown or missing ph`);
    if (!num(e.ts) || e.ts < 0) errs.push(`${what(e, i)}: ts must be a number of microseconds >= 0`);
    if (!isInt(e.pid)) errs.push(`${what(e, i)}: pid must be an integer`);
    if (!isInt(e.tid)) errs.push(`${what(e, i)}: tid must be an integer`);
    if (e.ph !== 'E' && (typeof e.name !== 'string' || e.name === '')) errs.push(`${what(e, i)}: no name`);
    if (e.ph === 'X' && (!num(e.dur) || e.dur < 0)) errs.push(`${what(e, i)}: 'X' needs dur >= 0`);
    out.push(...errs);
    if (!errs.length) good.push({ e: e as Ev, i });
  });

  // Time order, stable: events at one ts keep their file order.
  const timed = [...good].sort((a, b) => a.e.ts - b.e.ts || a.i - b.i);

  // Units: the whole trace fits the run's duration.
  const nonMeta = good.filter((x) => x.e.ph !== 'M');
  if (nonMeta.length && (opts.maxSpanUs !== undefined || opts.minSpanUs !== undefined)) {
    const lo = Math.min(...nonMeta.map((x) => x.e.ts));
    const hi = Math.max(...nonMeta.map((x) => x.e.ts + (x.e.ph === 'X' ? (x.e.dur as number) : 0)));
    if (opts.maxSpanUs !== undefined && hi - lo > opts.maxSpanUs) out.push(`the events span ${hi - lo} µs, more than the run's ${opts.maxSpanUs} µs: ts is not in microseconds`);
    if (opts.minSpanUs !== undefined && hi - lo < opts.minSpanUs) out.push(`the events span ${hi - lo} µs, less than the run's ${opts.minSpanUs} µs: ts is not in microseconds`);
  }

  // Metadata, and the names every process and thread needs.
  const procNamed = new Set<number>();
  const threadNamed = new Set<string>();
  for (const { e, i } of good) {
    if (e.ph !== 'M') continue;
    const args = e.args as Record<string, unknown> | undefined;
    if (!METADATA.has(e.name ?? '')) out.push(`${what(e, i)}: unknown metadata event`);
    else if (e.name!.endsWith('_name') && typeof args?.name !== 'string') out.push(`${what(e, i)}: args.name must be a string`);
    else if (e.name!.endsWith('_sort_index') && !isInt(args?.sort_index)) out.push(`${what(e, i)}: args.sort_index must be an integer`);
    if (e.name === 'process_name') procNamed.add(e.pid);
    if (e.name === 'thread_name') threadNamed.add(`${e.pid}/${e.tid}`);
  }
  const unnamedP = new Set<number>();
  const unnamedT = new Set<string>();
  for (const { e } of nonMeta) {
    if (!procNamed.has(e.pid)) unnamedP.add(e.pid);
    if (THREAD_BOUND.has(e.ph) && !threadNamed.has(`${e.pid}/${e.tid}`)) unnamedT.add(`${e.pid}/${e.tid}`);
  }
  for (const p of unnamedP) out.push(`pid ${p} has events but no process_name metadata`);
  for (const t of unnamedT) out.push(`thread ${t} (pid/tid) has events but no thread_name metadata`);

  // Slices per thread: 'X' and 'B'/'E' pairs; they must nest.
  const slices = new Map<string, Span[]>();
  const open = new Map<string, { e: Ev; i: number }[]>();
  const addSlice = (key: string, s: Span): void => {
    const l = slices.get(key);
    if (l) l.push(s);
    else slices.set(key, [s]);
  };
  for (const { e, i } of timed) {
    const key = `${e.pid}/${e.tid}`;
    if (e.ph === 'X') addSlice(key, { start: e.ts, end: e.ts + (e.dur as number), i });
    else if (e.ph === 'B') {
      const st = open.get(key) ?? [];
      st.push({ e, i });
      open.set(key, st);
    } else if (e.ph === 'E') {
      const b = open.get(key)?.pop();
      if (!b) out.push(`${what(e, i)}: 'E' with no open 'B' on thread ${key}`);
      else if (e.name !== undefined && e.name !== b.e.name) out.push(`${what(e, i)}: 'E' named ${JSON.stringify(e.name)} closes 'B' ${JSON.stringify(b.e.name)}`);
      else addSlice(key, { start: b.e.ts, end: e.ts, i: b.i });
    }
  }
  for (const [key, st] of open) for (const b of st) out.push(`${what(b.e, b.i)}: 'B' never closed on thread ${key}`);
  for (const [key, list] of slices) {
    list.sort((a, b) => a.start - b.start || b.end - a.end);
    const stack: Span[] = [];
    for (const s of list) {
      while (stack.length && stack[stack.length - 1].end <= s.start + EPS) stack.pop();
      const top = stack[stack.length - 1];
      if (top && s.end > top.end + EPS) out.push(`event ${s.i}: the slice [${s.start}, ${s.end}] on thread ${key} overlaps event ${top.i} [${top.start}, ${top.end}] without nesting`);
      stack.push(s);
    }
  }

  // Async begin/end: per cat and id, ends close the innermost begin, with its name.
  const asyncOpen = new Map<string, { e: Ev; i: number }[]>();
  for (const { e, i } of timed) {
    if (e.ph !== 'b' && e.ph !== 'e') continue;
    if (typeof e.cat !== 'string' || e.id === undefined) {
      out.push(`${what(e, i)}: async events need cat and id`);
      continue;
    }
    const key = `${e.cat}\u0000${String(e.id)}`;
    const st = asyncOpen.get(key) ?? [];
    asyncOpen.set(key, st);
    if (e.ph === 'b') st.push({ e, i });
    else {
      const b = st.pop();
      if (!b) out.push(`${what(e, i)}: 'e' with no open 'b' of cat ${e.cat} and id ${String(e.id)}`);
      else if (b.e.name !== e.name) out.push(`${what(e, i)}: 'e' named ${JSON.stringify(e.name)} closes 'b' ${JSON.stringify(b.e.name)} (cat ${e.cat}, id ${String(e.id)})`);
    }
  }
  for (const st of asyncOpen.values()) for (const b of st) out.push(`${what(b.e, b.i)}: 'b' with no 'e' after it (cat ${b.e.cat}, id ${String(b.e.id)})`);

  // Flow v1: s, t*, f per (cat, id, name), each bound to a slice of its thread.
  const flows = new Map<string, { e: Ev; i: number }[]>();
  for (const x of timed) {
    const { e, i } = x;
    if (e.ph !== 's' && e.ph !== 't' && e.ph !== 'f') continue;
    if (e.id === undefined || typeof e.cat !== 'string') {
      out.push(`${what(e, i)}: flow events need cat and id`);
      continue;
    }
    const key = `${e.cat}\u0000${String(e.id)}\u0000${e.name}`;
    const l = flows.get(key) ?? [];
    l.push(x);
    flows.set(key, l);
    const mine = slices.get(`${e.pid}/${e.tid}`) ?? [];
    const enclosing = e.ph !== 'f' || e.bp === 'e';
    const bound = enclosing ? mine.some((s) => s.start <= e.ts + EPS && e.ts <= s.end + EPS) : mine.some((s) => s.start >= e.ts - EPS);
    if (!bound) out.push(`${what(e, i)}: flow event binds to no slice on thread ${e.pid}/${e.tid} at ${e.ts}`);
  }
  for (const l of flows.values()) {
    const phs = l.map((x) => x.e.ph).join('');
    if (!/^st*f$/.test(phs)) out.push(`${what(l[0].e, l[0].i)}: flow ${String(l[0].e.id)} runs ${phs}, not s, t..., f in time order`);
  }

  // Flow v2: bind_id on slices.
  const v2 = new Map<string, { e: Ev; i: number }[]>();
  for (const x of timed) {
    if (x.e.bind_id === undefined) continue;
    if (x.e.ph !== 'X' && x.e.ph !== 'B') out.push(`${what(x.e, x.i)}: bind_id on an event that is not a slice`);
    if (!x.e.flow_in && !x.e.flow_out) out.push(`${what(x.e, x.i)}: bind_id without flow_in or flow_out`);
    const key = String(x.e.bind_id);
    const l = v2.get(key) ?? [];
    l.push(x);
    v2.set(key, l);
  }
  for (const [id, l] of v2) {
    const kind = l.map((x) => (x.e.flow_in && x.e.flow_out ? 't' : x.e.flow_out ? 's' : 'f')).join('');
    if (!/^st*f$/.test(kind)) out.push(`flow bind_id ${id} runs ${kind} (s: flow_out, t: both, f: flow_in), not a start, steps and an end in time order`);
  }
  return out;
}
