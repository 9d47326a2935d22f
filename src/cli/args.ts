/**
 * The command line's options: each command declares its options once (the
 * parser and the help text are both made from the declaration, so they
 * cannot disagree). `--key value` and `--key=value`; integers are plain
 * decimal digits and safe (no `1e3`, `0x10` or 20 digits: Number() would
 * take the first two and round the third); anything wrong is a UsageError,
 * which the command turns into one line on stderr and exit code 2.
 */

/** Bad usage: an unknown option, a missing or malformed value. Exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

interface Common {
  /** the option's name without the dashes */
  name: string;
  /** one line of help */
  help: string;
}
export interface IntOption extends Common {
  kind: 'int';
  /** the placeholder in the help text: `--frames N` */
  arg: string;
  default: number;
  min: number;
  max: number;
}
export interface ChoiceOption<T extends string = string> extends Common {
  kind: 'choice';
  /** the placeholder in the help text (default: the choices, `cpu|device`) */
  arg?: string;
  choices: readonly T[];
  default: T;
}
export interface PathOption extends Common {
  kind: 'path';
  arg: string;
}
export interface FlagOption extends Common {
  kind: 'flag';
}
export type OptionSpec = IntOption | ChoiceOption | PathOption | FlagOption;

/** What a list of option declarations parses to. */
export type Parsed<S extends readonly OptionSpec[]> = {
  [O in S[number] as O['name']]: O extends IntOption
    ? number
    : O extends ChoiceOption<infer T>
      ? T
      : O extends PathOption
        ? string | undefined
        : boolean;
};

/** The digits of a decimal integer, nothing else (Number() also takes '', ' 1', '1e3', '0x10', '1.0'). */
const DECIMAL = /^[0-9]+$/;

/** Parse `text` as the value of an integer option, or throw a UsageError saying what it needs. */
export function parseInteger(o: IntOption, text: string): number {
  const v = DECIMAL.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(v) || v < o.min || v > o.max) throw new UsageError(`--${o.name} needs ${intRange(o)}, not '${text}'`);
  return v;
}

/** Levenshtein distance, for "did you mean". */
function distance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) next[j] = Math.min(row[j] + 1, next[j - 1] + 1, row[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    row = next;
  }
  return row[b.length];
}

function unknown(arg: string, specs: readonly OptionSpec[]): UsageError {
  const name = arg.replace(/^-+/, '').split('=')[0];
  // The nearest name, if one is clearly nearest: a name it begins, or a typo or two away.
  const scored = specs.map((s) => ({ n: s.name, d: s.name.startsWith(name) ? 0 : distance(name, s.name) })).filter((x) => name.length > 1 && x.d <= 2);
  const best = Math.min(...scored.map((x) => x.d));
  const near = scored.filter((x) => x.d === best);
  return new UsageError(`unknown option '${arg.split('=')[0]}'${near.length === 1 ? ` (did you mean --${near[0].n}?)` : ''}`);
}

/**
 * Parse `args` against `specs`. `--help`/`-h` anywhere makes `help` true
 * and skips every other check (a user asking for help gets it). A later
 * occurrence of an option overrides an earlier one.
 */
export function parseArgs<const S extends readonly OptionSpec[]>(args: readonly string[], specs: S): { options: Parsed<S>; help: boolean } {
  if (args.some((a) => a === '--help' || a === '-h')) return { options: defaults(specs), help: true };
  const out: Record<string, unknown> = defaults(specs);
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (!arg.startsWith('--') || arg === '--') {
      throw new UsageError(arg.startsWith('-') && arg !== '-' && arg !== '--' ? unknown(arg, specs).message : `unexpected argument '${arg}'`);
    }
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    const spec = specs.find((s) => s.name === name);
    if (!spec) throw unknown(arg, specs);
    if (spec.kind === 'flag') {
      if (eq >= 0) throw new UsageError(`--${name} takes no value`);
      out[name] = true;
      continue;
    }
    let value: string;
    if (eq >= 0) value = arg.slice(eq + 1);
    else {
      // `--trace --json` is a forgotten value, not a file named --json.
      if (i + 1 >= args.length || args[i + 1].startsWith('--')) throw new UsageError(`--${name} needs a value: ${describe(spec)}`);
      value = args[++i];
    }
    if (spec.kind === 'int') out[name] = parseInteger(spec, value);
    else if (spec.kind === 'choice') {
      if (!spec.choices.includes(value)) throw new UsageError(`--${name} is one of ${spec.choices.join(', ')}, not '${value}'`);
      out[name] = value;
    } else {
      if (value === '') throw new UsageError(`--${name} needs a file name`);
      out[name] = value;
    }
  }
  return { options: out as Parsed<S>, help: false };
}

function defaults<S extends readonly OptionSpec[]>(specs: S): Parsed<S> {
  const out: Record<string, unknown> = {};
  for (const s of specs) out[s.name] = s.kind === 'int' || s.kind === 'choice' ? s.default : s.kind === 'flag' ? false : undefined;
  return out as Parsed<S>;
}

function describe(s: OptionSpec): string {
  return s.kind === 'int' ? intRange(s) : s.kind === 'choice' ? `one of ${s.choices.join(', ')}` : s.kind === 'path' ? 'a file name' : '';
}

function intRange(o: IntOption): string {
  return o.max === Number.MAX_SAFE_INTEGER ? `an integer >= ${o.min}` : `an integer from ${o.min} to ${o.max}`;
}

/** The options part of a command's help text: one option a line, help aligned and wrapped to 80 columns. */
export function optionsHelp(specs: readonly OptionSpec[]): string {
  const left = (s: OptionSpec): string =>
    `--${s.name}${s.kind === 'int' || s.kind === 'path' ? ` ${s.arg}` : s.kind === 'choice' ? ` ${s.arg ?? s.choices.join('|')}` : ''}`;
  const all = [...specs.map((s) => [left(s), s.help + (s.kind === 'int' || s.kind === 'choice' ? ` (default ${s.default})` : '')]), ['-h, --help', 'this help']];
  const w = Math.max(...all.map(([l]) => l.length)) + 4;
  return all.map(([l, h]) => `  ${l.padEnd(w)}${wrap(h, 78 - w).join(`\n  ${' '.repeat(w)}`)}`).join('\n');
}

/** Words into lines of at most `width` characters (a longer word gets a line of its own). */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  return [...lines, line];
}
