/**
 * The trace model: the kernel's records (dma_fence and dma_buf
 * tracepoints, the project's own CPU-access and sync-file-import events,
 * poll syscalls) folded into spans, joined with the stages' frame marks
 * into each frame's journey (journeys.ts). Times are ns from the trace's
 * origin. Everything the Chrome trace and the HTML report show comes from
 * here, so the two agree.
 */
import type { TraceRecord } from '../../machine/protocol.js';
import type { FrameMark, StageRole } from './marks.js';
import { analyse } from './journeys.js';
import type { BufferSpan, CpuAccessSpan, FenceAttach, FenceSpan, ProcessInfo, TraceModel, WaitSpan } from './types.js';

export type * from './types.js';

const ROLE_RANK: Record<string, number> = { producer: 0, processor: 1, consumer: 2 };
const natural = new Intl.Collator('en', { numeric: true });

/** Fold the raw records (and the stages' marks) into the model. */
export function traceModel(records: TraceRecord[], lost = 0, marks: FrameMark[] = []): TraceModel {
  let origin = records.length ? records[0].ts : Infinity;
  for (const mk of marks) origin = Math.min(origin, mk.t[0]);
  if (origin === Infinity) origin = 0;
  const fences: FenceSpan[] = [];
  const fenceByKey = new Map<string, number>();
  const buffers = new Map<number, BufferSpan>();
  const waits: WaitSpan[] = [];
  const access: CpuAccessSpan[] = [];
  const openAccess = new Map<string, CpuAccessSpan[]>();
  const attached: FenceAttach[] = [];
  const comms = new Map<number, string>();
  let last = 0;
  for (const r of records) {
    const t = r.ts - origin;
    const f = r.fields;
    last = Math.max(last, t + (r.event === 'sys_poll' ? Number(f.dur) : 0));
    if (f.pid !== undefined && f.comm !== undefined) comms.set(Number(f.pid), String(f.comm));
    switch (r.event) {
      case 'dma_fence_init':
        fenceByKey.set(`${f.context}:${f.seqno}`, fences.length);
        fences.push({ timeline: `${f.driver}:${f.timeline}`, context: Number(f.context), seqno: Number(f.seqno), start: t, end: null, owner: null, frame: null });
        break;
      case 'dma_fence_signaled': {
        const s = fences[fenceByKey.get(`${f.context}:${f.seqno}`) ?? -1];
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
      case 'dma_buf_cpu_access': {
        if (Number(f.ret) !== 0) break;
        const key = `${f.pid}:${f.ino}`;
        const open = openAccess.get(key) ?? [];
        openAccess.set(key, open);
        if (f.phase === 'begin') {
          const span: CpuAccessSpan = { ino: Number(f.ino), pid: Number(f.pid), dir: String(f.dir), start: t, end: null, wait: Number(f.dur), frame: null };
          open.push(span);
          access.push(span);
        } else {
          const span = open.pop();
          if (span) span.end = t;
        }
        break;
      }
      case 'dma_buf_import_sync_file': {
        const idx = fenceByKey.get(`${f.context}:${f.seqno}`);
        if (idx === undefined) break;
        attached.push({ ino: Number(f.ino), pid: Number(f.pid), fence: idx, usage: f.usage === 'write' ? 'write' : 'read', at: t });
        if (fences[idx].owner === null) fences[idx].owner = Number(f.pid);
        break;
      }
      case 'sys_poll':
        waits.push({ pid: Number(f.pid), comm: String(f.comm), start: t, dur: Number(f.dur), fds: String(f.fds), ret: Number(f.ret) });
        break;
    }
  }
  for (const mk of marks) last = Math.max(last, mk.t[3] - origin);

  const roles = new Map<number, StageRole>();
  for (const mk of marks) roles.set(mk.pid, mk.role);
  const pids = new Set<number>([...comms.keys(), ...roles.keys()]);
  const processes: ProcessInfo[] = [...pids].map((pid) => ({ pid, comm: comms.get(pid) ?? roles.get(pid) ?? `pid ${pid}`, role: roles.get(pid) ?? null }));
  processes.sort((a, b) => (ROLE_RANK[a.role ?? ''] ?? 3) - (ROLE_RANK[b.role ?? ''] ?? 3) || natural.compare(a.comm, b.comm) || a.pid - b.pid);

  const m: TraceModel = {
    origin, length: last, lost, processes, fences, buffers: [...buffers.values()], waits, access, attached,
    legs: [], journeys: [], stages: [], latency: null,
  };
  analyse(m, marks);
  return m;
}
