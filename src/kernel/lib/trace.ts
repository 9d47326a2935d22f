/**
 * Tracepoints (include/trace/events/dma_fence.h and friends). A tracepoint
 * costs one property read when nobody listens; a probe receives the event
 * name, a timestamp (ktime ns) and the fields Linux's event records.
 */
import { ktimeGet } from './time.js';

export type TraceFields = Record<string, string | number | boolean>;
export type TraceProbe = (event: string, ts: number, fields: TraceFields) => void;

export class Tracepoint {
  enabled = false;
  private readonly probes = new Set<TraceProbe>();
  constructor(readonly name: string) {}

  /** Emit (callers check `enabled` first, so building `fields` is free when off). */
  emit(fields: TraceFields): void {
    const ts = ktimeGet();
    for (const p of this.probes) p(this.name, ts, fields);
  }

  /** tracepoint_probe_register() */
  register(p: TraceProbe): void {
    this.probes.add(p);
    this.enabled = true;
  }

  /** tracepoint_probe_unregister() */
  unregister(p: TraceProbe): void {
    this.probes.delete(p);
    this.enabled = this.probes.size > 0;
  }
}

const registry = new Map<string, Tracepoint>();

/** Declare (or find) a tracepoint by its Linux event name. */
export function tracepoint(name: string): Tracepoint {
  let tp = registry.get(name);
  if (!tp) {
    tp = new Tracepoint(name);
    registry.set(name, tp);
  }
  return tp;
}

/** Attach one probe to every tracepoint whose name matches; returns a detach function. */
export function traceAll(probe: TraceProbe, match: (name: string) => boolean = () => true): () => void {
  const attached = [...registry.values()].filter((tp) => match(tp.name));
  for (const tp of attached) tp.register(probe);
  return () => {
    for (const tp of attached) tp.unregister(probe);
  };
}

/** Names of every declared tracepoint. */
export function tracepoints(): string[] {
  return [...registry.keys()];
}
