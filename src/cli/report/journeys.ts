/**
 * From marks and kernel records to a diagnosis: each stage's handling of
 * each frame (a leg: which buffer, which fence it attached, which fence
 * its wait ended on), each frame's journey through the stages with its
 * latency cut into parts that add up to it, each stage's busy and waiting
 * time, and the latency percentiles.
 *
 * What a wait waited for is read off the kernel's records: the wait
 * [t1, t2] on a buffer ends when the last fence that conflicts with the
 * access (a write conflicts with every fence, a read with the writers)
 * signals, so among the buffer's conflicting fences, attached before the
 * wait ended, the one that signalled last inside it is the one waited
 * for. None signalled inside it: nothing was pending, the wait cost only
 * the syscall.
 */
import type { FrameMark } from './marks.js';
import type { FenceAttach, Journey, LatencyPart, LatencyStats, Leg, StageSummary, TraceModel, WaitCause } from './types.js';

/** The nearest-rank percentile of sorted values (the smallest value with at least p% at or below it). */
export function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return 0;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(sorted.length, rank) - 1];
}

export function latencyStats(values: number[]): LatencyStats | null {
  if (!values.length) return null;
  const s = [...values].sort((a, b) => a - b);
  return { count: s.length, p50: percentile(s, 50), p90: percentile(s, 90), p99: percentile(s, 99), max: s[s.length - 1], mean: s.reduce((a, b) => a + b, 0) / s.length };
}

function groupBy<T, K>(xs: T[], key: (x: T) => K): Map<K, T[]> {
  const m = new Map<K, T[]>();
  for (const x of xs) {
    const k = key(x);
    const l = m.get(k);
    if (l) l.push(x);
    else m.set(k, [x]);
  }
  return m;
}

/** Fill legs, journeys, stages and latency of `m` from the stages' marks. */
export function analyse(m: TraceModel, marks: FrameMark[]): void {
  const attachedBy = groupBy(m.attached, (a) => a.pid);
  const attachedOn = groupBy(m.attached, (a) => a.ino);
  const pollsBy = groupBy(m.waits.map((w, i) => ({ w, i })), (x) => x.w.pid);
  const order = new Map(m.processes.map((p, i) => [p.pid, i]));

  const sorted = [...marks].sort((a, b) => (order.get(a.pid) ?? 0) - (order.get(b.pid) ?? 0) || a.t[0] - b.t[0]);
  for (const mk of sorted) {
    const t = mk.t.map((x) => x - m.origin) as Leg['t'];
    // The stage's own fence for this frame: the one it attached while busy with it, at this seqno.
    const own = (attachedBy.get(mk.pid) ?? []).find((a) => m.fences[a.fence].seqno === mk.seqno && a.at >= t[2] && a.at <= t[3]);
    const leg: Leg = {
      pid: mk.pid, frame: mk.frame, buffer: mk.buffer, ino: own?.ino ?? null, access: own?.usage ?? null, t,
      fence: own?.fence ?? null, waitedFor: null, pending: [], poll: null,
    };
    if (own) {
      const f = m.fences[own.fence];
      if (f.frame === null) f.frame = mk.frame;
      const conflicting = (attachedOn.get(own.ino) ?? []).filter((a: FenceAttach) => a.pid !== mk.pid || a.fence !== own.fence)
        .filter((a) => own.usage === 'write' || a.usage === 'write');
      let best = -1;
      const pending = new Set<number>();
      for (const a of conflicting) {
        const end = m.fences[a.fence].end;
        if (a.at <= t[1] && (end === null || end > t[1])) pending.add(a.fence);
        if (a.at <= t[2] && end !== null && end > t[1] && end <= t[2] && (best < 0 || end > m.fences[best].end!)) best = a.fence;
      }
      leg.waitedFor = best >= 0 ? best : null;
      leg.pending = [...pending];
    }
    const poll = (pollsBy.get(mk.pid) ?? []).find((x) => x.w.start >= t[1] && x.w.start + x.w.dur <= t[2]);
    leg.poll = poll ? poll.i : null;
    m.legs.push(leg);
  }

  // CPU accesses belong to the frame the process was busy with.
  const legsBy = groupBy(m.legs.map((l, i) => ({ l, i })), (x) => x.l.pid);
  for (const a of m.access) {
    const leg = (legsBy.get(a.pid) ?? []).find((x) => a.start >= x.l.t[2] && a.start <= x.l.t[3]);
    if (leg) a.frame = leg.l.frame;
  }

  // Journeys: a frame's legs in pipeline order; its latency runs from the
  // first stage's busy start to the last stage's end, cut at every leg's
  // times, so the parts add up to it exactly.
  const byFrame = groupBy(m.legs.map((l, i) => ({ l, i })), (x) => x.l.frame);
  for (const [frame, xs] of [...byFrame].sort((a, b) => a[0] - b[0])) {
    xs.sort((a, b) => (order.get(a.l.pid) ?? 0) - (order.get(b.l.pid) ?? 0));
    const parts: LatencyPart[] = [];
    xs.forEach(({ l, i }, k) => {
      if (k > 0) {
        parts.push({ what: 'queued', leg: i, dur: l.t[1] - xs[k - 1].l.t[3] });
        parts.push({ what: 'fence', leg: i, dur: l.t[2] - l.t[1] });
      }
      parts.push({ what: 'busy', leg: i, dur: l.t[3] - l.t[2] });
    });
    const start = xs[0].l.t[2];
    const end = xs[xs.length - 1].l.t[3];
    const j: Journey = { frame, legs: xs.map((x) => x.i), start, end, latency: end - start, parts };
    m.journeys.push(j);
  }
  // A frame that did not pass every kind of stage (the run stopped early) has no end-to-end latency.
  const roleOf = new Map(m.processes.map((p) => [p.pid, p.role]));
  const roles = (legs: number[]): string => [...new Set(legs.map((i) => roleOf.get(m.legs[i].pid)))].sort().join();
  const every = roles(m.legs.map((_, i) => i));
  m.latency = latencyStats(m.journeys.filter((j) => roles(j.legs) === every).map((j) => j.latency));

  for (const p of m.processes) {
    const legs = (legsBy.get(p.pid) ?? []).map((x) => x.l).sort((a, b) => a.t[0] - b.t[0]);
    if (!legs.length || p.role === null) continue;
    const start = legs[0].t[0];
    const end = legs[legs.length - 1].t[3];
    const busy = legs.reduce((s, l) => s + l.t[3] - l.t[2], 0);
    const fenceWait = legs.reduce((s, l) => s + l.t[2] - l.t[1], 0);
    const causes = new Map<number | null, WaitCause>();
    for (const l of legs) {
      const owner = l.waitedFor === null ? null : m.fences[l.waitedFor].owner;
      const c = causes.get(owner) ?? { owner, count: 0, dur: 0 };
      c.count++;
      c.dur += l.t[2] - l.t[1];
      causes.set(owner, c);
    }
    const s: StageSummary = {
      pid: p.pid, comm: p.comm, role: p.role, frames: legs.length, start, end, span: end - start,
      busy, fenceWait, inputWait: end - start - busy - fenceWait, causes: [...causes.values()].sort((a, b) => b.dur - a.dur),
    };
    m.stages.push(s);
  }
}
