/**
 * The model as Chrome trace-event JSON (the Trace Event Format that
 * Perfetto UI and chrome://tracing open): ts and dur in microseconds from
 * the trace's origin, every event with pid and tid, processes and threads
 * named by metadata events.
 *
 * - pid 0 is the kernel (Linux's pid 0): every fence an async slice from
 *   init to signal on its timeline's track, every buffer one from export
 *   to release;
 * - each process keeps its pid, in pipeline order (process_sort_index):
 *   per frame a slice for its input wait, its fence wait (named after
 *   the fence it waited for) and its busy time ('frame N'), with the
 *   poll() and CPU-access brackets the kernel saw nested inside;
 * - each frame is an async slice 'frame N' (first stage's busy start to
 *   last stage's end) on the first stage's process, and its busy slices
 *   are linked stage to stage by flow events (bind_id, flow v2);
 * - each fence wait is linked from the slice that signalled the fence it
 *   waited for (flow v1: 's' there, 'f' with bp 'e' in the wait).
 * Slices that would overlap without nesting on one thread go to another
 * track of the same process (a thread named '... (overlapping)').
 */
import type { TraceModel } from './types.js';

export interface ChromeEvent {
  name?: string;
  ph: string;
  ts: number;
  pid: number;
  tid: number;
  cat?: string;
  id?: string | number;
  dur?: number;
  bp?: string;
  bind_id?: number;
  flow_in?: boolean;
  flow_out?: boolean;
  args?: Record<string, unknown>;
}

export interface ChromeTrace {
  traceEvents: ChromeEvent[];
  displayTimeUnit: string;
  otherData: Record<string, unknown>;
}

/** The kernel's pid (Linux's pid 0: the idle task, the kernel itself). */
export const KERNEL_PID = 0;
/** v1 flow ids start here, apart from the v2 bind_ids (frame + 1). */
const WAIT_FLOW_BASE = 1_000_000;

/** ns to ticks of 10 ns, so every ts and dur is an exact multiple of 0.01 µs and rounding keeps nesting. */
const tick = (ns: number): number => Math.round(ns / 10);
const us = (ticks: number): number => ticks / 100;

interface Slice {
  name: string;
  cat: string;
  pid: number;
  start: number;
  end: number;
  args: Record<string, unknown>;
  tid?: number;
  flow?: { bind_id: number; flow_in: boolean; flow_out: boolean };
}

/**
 * Put each process's slices on threads where they nest: a slice goes on
 * the first lane whose innermost open slice encloses it (or that has
 * none open). Lane 0 is tid = pid.
 */
function assignLanes(slices: Slice[]): Map<number, number> {
  const lanesOf = new Map<number, Slice[][]>();
  const extra = new Map<number, number>();
  const sorted = [...slices].sort((a, b) => a.pid - b.pid || a.start - b.start || b.end - a.end);
  for (const s of sorted) {
    const lanes = lanesOf.get(s.pid) ?? [];
    lanesOf.set(s.pid, lanes);
    let k = 0;
    for (; k < lanes.length; k++) {
      const stack = lanes[k];
      while (stack.length && stack[stack.length - 1].end <= s.start) stack.pop();
      if (!stack.length || stack[stack.length - 1].end >= s.end) break;
    }
    if (k === lanes.length) lanes.push([]);
    lanes[k].push(s);
    s.tid = k === 0 ? s.pid : s.pid * 1000 + k;
    extra.set(s.pid, Math.max(extra.get(s.pid) ?? 0, k));
  }
  return extra;
}

export function chromeTrace(m: TraceModel): ChromeTrace {
  const ev: ChromeEvent[] = [
    { name: 'process_name', ph: 'M', ts: 0, pid: KERNEL_PID, tid: KERNEL_PID, args: { name: 'kernel: fences and buffers' } },
    { name: 'process_sort_index', ph: 'M', ts: 0, pid: KERNEL_PID, tid: KERNEL_PID, args: { sort_index: m.processes.length } },
    { name: 'thread_name', ph: 'M', ts: 0, pid: KERNEL_PID, tid: KERNEL_PID, args: { name: 'dma_fence / dma_buf' } },
  ];
  const comm = new Map(m.processes.map((p) => [p.pid, p.comm]));
  const fenceName = (i: number): string => {
    const f = m.fences[i];
    return `${f.timeline}#${f.seqno}${f.frame !== null ? ` (frame ${f.frame})` : ''}`;
  };

  for (const f of m.fences) {
    const id = `fence:${f.context}:${f.seqno}`;
    const args = { context: f.context, seqno: f.seqno, frame: f.frame, owner: f.owner };
    ev.push({ name: f.timeline, cat: 'dma_fence', ph: 'b', id, ts: us(tick(f.start)), pid: KERNEL_PID, tid: KERNEL_PID, args });
    ev.push({ name: f.timeline, cat: 'dma_fence', ph: 'e', id, ts: us(tick(f.end ?? m.length)), pid: KERNEL_PID, tid: KERNEL_PID, args: { signalled: f.end !== null } });
  }
  for (const b of m.buffers) {
    const name = `dma-buf ${b.ino}${b.name ? ` '${b.name}'` : ''}`;
    const id = `buf:${b.ino}`;
    ev.push({ name, cat: 'dma_buf', ph: 'b', id, ts: us(tick(b.start)), pid: KERNEL_PID, tid: KERNEL_PID, args: { exporter: b.exporter, size: b.size } });
    ev.push({ name, cat: 'dma_buf', ph: 'e', id, ts: us(tick(b.end ?? m.length)), pid: KERNEL_PID, tid: KERNEL_PID, args: { released: b.end !== null } });
  }

  // The processes' slices: each leg's three parts, the polls and the CPU accesses.
  const slices: Slice[] = [];
  const busyOf: Slice[] = [];
  const waitOf: Slice[] = [];
  m.legs.forEach((l, i) => {
    const role = m.processes.find((p) => p.pid === l.pid)?.role;
    const t = l.t.map(tick);
    const input: Slice = { name: role === 'producer' ? 'wait: ring buffer back' : 'wait: input', cat: 'stage', pid: l.pid, start: t[0], end: t[1], args: { frame: l.frame } };
    const waited = l.waitedFor === null ? null : m.fences[l.waitedFor];
    const wait: Slice = {
      name: waited ? `wait: fence ${fenceName(l.waitedFor!)}` : 'wait: no fence pending', cat: 'stage', pid: l.pid, start: t[1], end: t[2],
      args: { frame: l.frame, ino: l.ino, waited_for: waited ? fenceName(l.waitedFor!) : null, signalled_by: waited?.owner != null ? `${comm.get(waited.owner)} (pid ${waited.owner})` : null, pending: l.pending.map(fenceName) },
    };
    const busy: Slice = { name: `frame ${l.frame}`, cat: 'stage', pid: l.pid, start: t[2], end: t[3], args: { frame: l.frame, buffer: l.buffer, ino: l.ino, fence: l.fence === null ? null : fenceName(l.fence) } };
    slices.push(input, wait, busy);
    busyOf[i] = busy;
    waitOf[i] = wait;
  });
  const pollSlices = m.waits.map((w): Slice => ({ name: 'poll', cat: 'syscall', pid: w.pid, start: tick(w.start), end: tick(w.start + w.dur), args: { fds: w.fds, ret: w.ret } }));
  slices.push(...pollSlices);
  for (const a of m.access)
    slices.push({ name: `cpu access ${a.dir}`, cat: 'dma_buf_cpu_access', pid: a.pid, start: tick(a.start), end: tick(a.end ?? m.length), args: { ino: a.ino, frame: a.frame, start_wait_us: us(tick(a.wait)) } });

  // Journeys: the frame's busy slices linked stage to stage (flow v2), and its latency as an async slice.
  for (const j of m.journeys) {
    j.legs.forEach((li, k) => {
      if (j.legs.length > 1) busyOf[li].flow = { bind_id: j.frame + 1, flow_in: k > 0, flow_out: k < j.legs.length - 1 };
    });
    const first = m.legs[j.legs[0]];
    const id = `frame:${j.frame}`;
    const name = `frame ${j.frame}`;
    const parts = j.parts.map((p) => `${comm.get(m.legs[p.leg].pid)} ${p.what} ${us(tick(p.dur))}`);
    ev.push({ name, cat: 'frame', ph: 'b', id, ts: us(tick(j.start)), pid: first.pid, tid: first.pid, args: { frame: j.frame, latency_us: us(tick(j.end) - tick(j.start)), parts } });
    ev.push({ name, cat: 'frame', ph: 'e', id, ts: us(tick(j.end)), pid: first.pid, tid: first.pid });
  }

  const extra = assignLanes(slices);
  for (const p of m.processes) {
    ev.push({ name: 'process_name', ph: 'M', ts: 0, pid: p.pid, tid: p.pid, args: { name: `${p.comm} (pid ${p.pid})` } });
    ev.push({ name: 'process_sort_index', ph: 'M', ts: 0, pid: p.pid, tid: p.pid, args: { sort_index: m.processes.indexOf(p) } });
    ev.push({ name: 'thread_name', ph: 'M', ts: 0, pid: p.pid, tid: p.pid, args: { name: p.comm } });
    for (let k = 1; k <= (extra.get(p.pid) ?? 0); k++)
      ev.push({ name: 'thread_name', ph: 'M', ts: 0, pid: p.pid, tid: p.pid * 1000 + k, args: { name: `${p.comm} (overlapping ${k})` } });
  }
  for (const s of slices) {
    const e: ChromeEvent = { name: s.name, cat: s.cat, ph: 'X', ts: us(s.start), dur: us(s.end - s.start), pid: s.pid, tid: s.tid!, args: s.args };
    if (s.flow) Object.assign(e, s.flow);
    ev.push(e);
  }

  // Each wait linked from what it waited for: 's' in the slice that signalled the fence, 'f' inside the wait.
  let flowId = WAIT_FLOW_BASE;
  const legOfFence = new Map(m.legs.map((l, i) => [l.fence, i]));
  m.legs.forEach((l, i) => {
    if (l.waitedFor === null) return;
    const from = legOfFence.get(l.waitedFor);
    const signalled = m.fences[l.waitedFor].end;
    if (from === undefined || signalled === null) return;
    const src = busyOf[from];
    const at = tick(signalled);
    if (at < src.start || at > src.end) return;
    const wait = waitOf[i];
    const poll = l.poll === null ? null : pollSlices[l.poll];
    // Inside the wait and after its poll(), so the wait itself is the innermost slice there.
    const lo = poll && poll.tid === wait.tid ? poll.end : wait.start;
    const to = Math.floor((lo + wait.end) / 2);
    const name = 'waits for';
    const id = flowId++;
    ev.push({ name, cat: 'fence_wait', ph: 's', id, ts: us(at), pid: src.pid, tid: src.tid!, args: { fence: fenceName(l.waitedFor) } });
    ev.push({ name, cat: 'fence_wait', ph: 'f', bp: 'e', id, ts: us(to), pid: wait.pid, tid: wait.tid! });
  });

  return {
    traceEvents: ev,
    displayTimeUnit: 'ms',
    otherData: { source: 'dmabuf', clock: 'ktime (CLOCK_MONOTONIC), from the first record', lostRecords: m.lost, latency_us: m.latency && Object.fromEntries(Object.entries(m.latency).map(([k, v]) => [k, k === 'count' ? v : us(tick(v))])) },
  };
}
