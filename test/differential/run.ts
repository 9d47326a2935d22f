/**
 * Running the programs: each in a new process of the machine, through a
 * Recorder; what it left open is closed afterwards (unrecorded), so the
 * next program finds the machine as the last one did.
 */
import type { MachineLike } from '../../src/machine/process-api.js';
import { normalize, type Line } from './normalize.js';
import { Recorder, Skip } from './recorder.js';
import type { Env } from './env.js';
import { PROGRAMS, type ProgramEntry } from './programs/index.js';

export interface ProgramRun {
  id: string;
  /** why it did not run here, or null */
  skipped: string | null;
  lines: Line[];
}

/** The longest a program may take (a program that hangs is recorded as such, and the run goes on). */
const PROGRAM_TIMEOUT_MS = 60_000;

/** Run one program on `machine` as a process named `env.comm`. */
export async function runProgram(machine: MachineLike, entry: ProgramEntry, env: Env): Promise<ProgramRun> {
  const proc = machine.spawn(env.comm);
  const r = new Recorder(proc, machine.backend);
  let skipped: string | null = null;
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([
      Promise.resolve().then(() => entry.fn(r, env)),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`did not finish in ${PROGRAM_TIMEOUT_MS / 1000} s`)), PROGRAM_TIMEOUT_MS);
      }),
    ]);
  } catch (e) {
    if (e instanceof Skip) skipped = e.reason;
    else r.lines.push([`!! the program failed: ${(e as Error).name}: ${(e as Error).message}`]);
  } finally {
    clearTimeout(timer);
  }
  r.finish();
  proc.exit();
  return { id: entry.id, skipped, lines: r.lines };
}

/** The programs whose id matches `pattern` (a regexp; all when null). */
export function selectPrograms(pattern: string | null): ProgramEntry[] {
  const re = pattern ? new RegExp(pattern) : null;
  return PROGRAMS.filter((p) => !re || re.test(p.id));
}

/** A run's normalised text (what --record writes and the repository keeps). */
export function recordingText(run: ProgramRun): string {
  if (run.skipped) return `# skipped: ${run.skipped}\n`;
  return normalize(run.lines).join('\n') + '\n';
}

/** The lines of a recording's text ('# skipped: ...' gives the reason instead). */
export function parseRecording(text: string): { skipped: string | null; lines: string[] } {
  const m = /^# skipped: (.*)\n?$/.exec(text);
  if (m) return { skipped: m[1], lines: [] };
  const lines = text.endsWith('\n') ? text.slice(0, -1).split('\n') : text.split('\n');
  return { skipped: null, lines };
}
