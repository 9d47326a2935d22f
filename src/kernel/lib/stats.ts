/**
 * Counters of what the kernel holds (live dma-bufs, allocated pages, fds in
 * flight, live fences, taint...), each registered by its subsystem at init:
 * Machine.stats() reports every registered counter, so a subsystem (or a
 * loaded module) adds its own without the machine knowing it. Not a Linux
 * interface: leak checks read it.
 */
import { EEXIST, ENOENT } from './errno.js';

/** The module that registered a counter (a ModuleRef; only its identity matters here, and module.ts needs bug.ts, which registers the taint counter). */
export interface StatsOwner {
  readonly name: string;
}

interface StatProvider {
  read(): number;
  owner: StatsOwner | null;
}

const providers = new Map<string, StatProvider>();

/** Register counter `name`: 0, or -EEXIST for a name in use. */
export function statsRegister(name: string, read: () => number, owner: StatsOwner | null = null): number {
  if (providers.has(name)) return -EEXIST;
  providers.set(name, { read, owner });
  return 0;
}

/** Remove counter `name`: 0, or -ENOENT. */
export function statsUnregister(name: string): number {
  return providers.delete(name) ? 0 : -ENOENT;
}

/** Remove every counter `owner` registered (its module going away). */
export function statsUnregisterOwner(owner: StatsOwner): void {
  for (const [name, p] of providers) if (p.owner === owner) providers.delete(name);
}

/** Every counter's current value, by name (in name order: the order of init is no part of it). */
export function statsRead(): Record<string, number> {
  // fromEntries defines own properties: a counter named like an Object.prototype member is still a counter.
  return Object.fromEntries([...providers].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([name, p]) => [name, p.read()]));
}

/** The names registered. */
export function statsNames(): string[] {
  return [...providers.keys()];
}
