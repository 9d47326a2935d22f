/**
 * The machine's trace records as Chrome trace-event JSON (what Perfetto UI
 * and chrome://tracing open): every fence as an async slice from init to
 * signal on its timeline's track, every buffer's life from export to
 * release, and every poll wait as a slice on the waiting process's track.
 * Also the model both this file and the HTML report draw from.
 */
import type { TraceRecord } from '../machine/protocol.js';

export interface FenceSpan {
  timeline: string;
  context: number;
  seqno: number;
  /** ns from the trace's start */
  start: number;
  /** when it signalled, or null if it never did within the trace */
  end: number | null;
}

export interface BufferSpan {
  ino: number;
  name: string;
  exporter: string;
  size: number;
  start: number;
  end: number | null;
}

export interface WaitSpan {
  pid: number;
  comm: string;
  start: number;
  dur: number;
  fds: string;
  ret: number;
}

export interface TraceModel {
  /** ns: the first record's time (0 in the spans) */
  origin: number;
  /** ns: the last record, from the origin */
  length: number;
  fences: FenceSpan[];
  buffers: BufferSpan[];
  waits: WaitSpan[];
  lost: number;
}

/** Fold the raw records into spans (a fence's init and signal, a buffer's export and release). */
export function traceModel(records: TraceRecord[], lost = 0): TraceModel {
  const origin = records.length ? records[0].ts : 0;
  const fences = new Map<string, FenceSpan>();
  const buffers = new Map<number, BufferSpan>();
  const waits: WaitSpan[] = [];
  let last = 0;
  for (const r of records) {
    const t = r.ts - origin;
    const f = r.fields;
    last = Math.max(last, t + (r.event === 'sys_poll' ? Number(f.dur) : 0));
    switch (r.event) {
      case 'dma_fence_init':
        fences.set(`${f.context}:${f.seqno}`, { timeline: `${f.driver}:${f.timeline}`, context: Number(f.context), seqno: Number(f.seqno), start: t, end: null });
        break;
      case 'dma_fence_signaled': {
        const s = fences.get(`${f.context}:${f.seqno}`);
        if (s && s.end === null) {
          s.end = t;
          // init may have fired before the driver's fence type could name its timeline
          s.timeline = `${f.driver}:${f.timeline}`;
        }
        break;
      }
      case 'dma_buf_export':
        buffers.set(Number(f.ino), { ino: Number(f.ino), name: '', exporter: String(f.exp_name), size: Number(f.size), start: t, end: null });
        break;
      case 'dma_buf_release': {
        const b = buffers.get(Number(f.ino));
        if (b) {
          b.end = t;
          b.name = String(f.name);
        }
        break;
      }
      case 'sys_poll':
        waits.push({ pid: Number(f.pid), comm: String(f.comm), start: t, dur: Number(f.dur), fds: String(f.fds), ret: Number(f.ret) });
        break;
    }
  }
  return { origin, length: last, fences: [...fences.values()], buffers: [...buffers.values()], waits, lost };
}

interface ChromeEvent {
  name: string;
  ph: string;
  ts: number;
  pid: number;
  tid?: number;
  cat?: string;
  id?: string;
  dur?: number;
  s?: string;
  args?: Record<string, unknown>;
}

const us = (ns: number): number => Math.round(ns / 10) / 100;

/** Chrome trace-event JSON: { traceEvents, displayTimeUnit }. pid 0 is the kernel; processes keep their pids. */
export function chromeTrace(m: TraceModel): { traceEvents: ChromeEvent[]; displayTimeUnit: string; otherData: Record<string, unknown> } {
  const ev: ChromeEvent[] = [{ name: 'process_name', ph: 'M', ts: 0, pid: 0, args: { name: 'kernel: fences and buffers' } }];
  for (const f of m.fences) {
    const id = `fence:${f.context}:${f.seqno}`;
    ev.push({ name: f.timeline, cat: 'dma_fence', ph: 'b', id, ts: us(f.start), pid: 0, args: { context: f.context, seqno: f.seqno } });
    ev.push({ name: f.timeline, cat: 'dma_fence', ph: 'e', id, ts: us(f.end ?? m.length), pid: 0, args: { signalled: f.end !== null } });
  }
  for (const b of m.buffers) {
    const name = `dma-buf ${b.ino}${b.name ? ` '${b.name}'` : ''}`;
    const id = `buf:${b.ino}`;
    ev.push({ name, cat: 'dma_buf', ph: 'b', id, ts: us(b.start), pid: 0, args: { exporter: b.exporter, size: b.size } });
    ev.push({ name, cat: 'dma_buf', ph: 'e', id, ts: us(b.end ?? m.length), pid: 0, args: { released: b.end !== null } });
  }
  const named = new Set<number>();
  for (const w of m.waits) {
    if (!named.has(w.pid)) {
      named.add(w.pid);
      ev.push({ name: 'process_name', ph: 'M', ts: 0, pid: w.pid, args: { name: `${w.comm} (pid ${w.pid})` } });
      ev.push({ name: 'thread_name', ph: 'M', ts: 0, pid: w.pid, tid: w.pid, args: { name: w.comm } });
    }
    ev.push({ name: 'poll', cat: 'wait', ph: 'X', ts: us(w.start), dur: us(w.dur), pid: w.pid, tid: w.pid, args: { fds: w.fds, ret: w.ret } });
  }
  return { traceEvents: ev, displayTimeUnit: 'ms', otherData: { source: 'dmabuf', lostRecords: m.lost } };
}
