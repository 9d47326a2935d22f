/**
 * What Linux does not fix, replaced by named placeholders.
 *
 * A recording is made of lines whose parts are text and tokens: a token is a
 * value the recorder knows to be arbitrary (an fd number, an inode number,
 * a fence context...), with its raw value. normalize() turns each token into
 * a placeholder numbered by first appearance within one program, per kind:
 * the first fd seen is `fd#1`, the next new one `fd#2`; the same value seen
 * again is the same placeholder. So two recordings compare equal when the
 * same *pattern* of values appears (this dma-buf's inode in fstat is the one
 * in its fdinfo and in bufinfo), whatever the numbers were.
 *
 * A placeholder replaces a value only where Linux leaves the value to
 * chance. The kinds, and why each is arbitrary:
 *
 * - `fd`: a descriptor number. Linux gives the lowest free number, but which
 *   numbers are free is the process's history: the emulator's processes start
 *   at 3, the native backend's fds share Node's table. The recorder gives an
 *   fd an identity when a call returns it; a number closed and handed out
 *   again is a new identity (`fd#3`, not `fd#1` again). A number no call
 *   returned (-1, a huge number) is printed as is.
 * - `ino`: inode numbers (get_next_ino(), the dma-buf inode counter, shmem's):
 *   global counters, so they depend on what the machine did before.
 * - `dev`: st_dev of the pseudo filesystems (anon_inodefs, dmabuffs, shmem:
 *   anonymous block device numbers, get_anon_bdev()) and the dynamically
 *   allocated halves of st_rdev (dma-heap's char region, misc's dynamic minors).
 * - `mnt`: mount ids (fdinfo's mnt_id): allocated at mount time, boot-dependent.
 * - `time`: a nonzero timestamp (CLOCK_MONOTONIC fence timestamps, `@sec.nsec`
 *   in sync/info, inode times). A zero timestamp ("not signalled") is a fact
 *   and is kept. Timestamps are not numbered: two events a few microseconds
 *   apart may or may not share a coarse clock tick, so which timestamps are
 *   equal is timing, not behaviour; the placeholder is just `time`.
 * - `ctx`: a fence context (dma_fence_context_alloc(): a global counter),
 *   also where it is spelled inside a sync_file's generated name
 *   (`driver-timeline<ctx>-<seqno>`). Context 0 is the stub fence's, fixed by
 *   Linux, and is kept. Seqnos are kept: every fence the programs see has a
 *   seqno Linux fixes (vgem's and a merge's are 1, the stub's 0, sw_sync's
 *   the caller's value).
 * - `flink`: DRM flink names (a device-global idr).
 * - `offset`: DRM fake mmap offsets (drm_vma_offset_manager: where the range
 *   allocator found room).
 * - `client`: DRM client ids (drm-client-id in fdinfo: a global counter).
 * - `pid`: process ids.
 *
 * Not tokens: a mapping is named by the ordinal of the mmap call that made it
 * (`map#3`), which the program fixes (its address is never shown).
 */

/** The kinds of arbitrary values (see the file's comment). */
export type TokKind = 'fd' | 'ino' | 'dev' | 'mnt' | 'time' | 'ctx' | 'flink' | 'offset' | 'client' | 'pid';

/** An arbitrary value inside a recorded line. */
export interface Tok {
  readonly kind: TokKind;
  /** the value as recorded (numbers are compared by value: "00000012" and 12 are the same inode) */
  readonly raw: string | number | bigint;
  /** the recorder's identity for the value, when the raw value alone does not name it (an fd number reused) */
  readonly id?: string;
}

/** A recorded line: text and tokens. */
export type Line = readonly (string | Tok)[];

/** A token. */
export function tok(kind: TokKind, raw: string | number | bigint, id?: string): Tok {
  return id === undefined ? { kind, raw } : { kind, raw, id };
}

export function isTok(p: string | Tok): p is Tok {
  return typeof p !== 'string';
}

const PREFIX: Record<TokKind, string> = {
  fd: 'fd', ino: 'ino', dev: 'dev', mnt: 'mnt', time: 'time', ctx: 'ctx', flink: 'flink', offset: 'offset', client: 'client', pid: 'pid',
};

/** Kinds whose placeholder carries no number (see `time`). */
const UNNUMBERED: ReadonlySet<TokKind> = new Set(['time']);

function keyOf(t: Tok): string {
  if (t.id !== undefined) return t.id;
  const raw = typeof t.raw === 'string' && /^\d+$/.test(t.raw) ? BigInt(t.raw) : t.raw;
  return String(raw);
}

/** The lines with every token replaced by its placeholder (`fd#1`), numbered per kind by first appearance. */
export function normalize(lines: readonly Line[]): string[] {
  const seen = new Map<TokKind, Map<string, number>>();
  return lines.map((line) =>
    line
      .map((p) => {
        if (!isTok(p)) return p;
        if (UNNUMBERED.has(p.kind)) return PREFIX[p.kind];
        let m = seen.get(p.kind);
        if (!m) seen.set(p.kind, (m = new Map()));
        const key = keyOf(p);
        let n = m.get(key);
        if (n === undefined) m.set(key, (n = m.size + 1));
        return `${PREFIX[p.kind]}#${n}`;
      })
      .join(''),
  );
}

/** The lines with the raw values, each marked with its kind (for reading a run, never for comparing). */
export function renderRaw(lines: readonly Line[]): string[] {
  return lines.map((line) => line.map((p) => (isTok(p) ? `‹${p.kind} ${String(p.raw)}›` : p)).join(''));
}

/**
 * A text file's rule: for the files whose path matches `path`, the parts of
 * each line that `line` captures in named groups are tokens of the group's
 * kind (a group is named `<kind>` or `<kind>_<n>`). The regexp needs the `d`
 * flag (the groups' positions).
 */
export interface TextRule {
  readonly what: string;
  readonly path: RegExp;
  readonly line: RegExp;
}

/**
 * The texts the programs read, and which of their values are arbitrary.
 * Each rule names the Linux code that prints the line.
 */
export const TEXT_RULES: readonly TextRule[] = [
  // fs/proc/fd.c seq_show(): "pos:\t%lli\nflags:\t0%o\nmnt_id:\t%i\nino:\t%lu\n"
  { what: 'fdinfo mnt_id', path: /^\/proc\/[^/]+\/fdinfo\/\d+$/, line: /^mnt_id:\t(?<mnt>\d+)$/d },
  { what: 'fdinfo ino', path: /^\/proc\/[^/]+\/fdinfo\/\d+$/, line: /^ino:\t(?<ino>\d+)$/d },
  // drivers/gpu/drm/drm_file.c drm_show_fdinfo(): "drm-client-id:\t%llu\n"
  { what: 'drm client id', path: /^\/proc\/[^/]+\/fdinfo\/\d+$/, line: /^drm-client-id:\t(?<client>\d+)$/d },
  // drivers/dma-buf/dma-buf.c dma_buf_debug_show(): "%08zu\t%08x\t%08x\t%08ld\t%s\t%08lu\t%s\n" (the 6th column is the inode)
  { what: 'bufinfo ino', path: /^\/sys\/kernel\/debug\/dma_buf\/bufinfo$/, line: /^\d+\t[0-9a-f]+\t[0-9a-f]+\t\d+\t[^\t]*\t(?<ino>\d+)\t/d },
  // drivers/dma-buf/sync_debug.c sync_print_fence(): "  fence %s@%lld.%09ld" once it has a timestamp
  { what: 'sync/info timestamp', path: /^\/sys\/kernel\/debug\/sync\/info$/, line: /^\s+fence \w+@(?<time>\d+\.\d+)/d },
];

/** A text's lines (the last newline ends the last line), with the arbitrary values as tokens by TEXT_RULES. */
export function tagText(path: string, text: string): Line[] {
  const rules = TEXT_RULES.filter((r) => r.path.test(path));
  const lines = text.endsWith('\n') ? text.slice(0, -1).split('\n') : text.split('\n');
  return lines.map((l) => tagLine(l, rules));
}

function tagLine(text: string, rules: readonly TextRule[]): Line {
  const spans: { start: number; end: number; kind: TokKind; value: string }[] = [];
  for (const r of rules) {
    const m = r.line.exec(text);
    if (!m?.indices?.groups || !m.groups) continue;
    for (const [name, range] of Object.entries(m.indices.groups)) {
      if (!range) continue;
      spans.push({ start: range[0], end: range[1], kind: name.split('_')[0] as TokKind, value: m.groups[name]! });
    }
  }
  if (!spans.length) return [text];
  spans.sort((a, b) => a.start - b.start);
  const out: (string | Tok)[] = [];
  let at = 0;
  for (const s of spans) {
    if (s.start < at) continue;
    if (s.start > at) out.push(text.slice(at, s.start));
    out.push(tok(s.kind, /^\d+$/.test(s.value) ? Number(s.value) : s.value));
    at = s.end;
  }
  if (at < text.length) out.push(text.slice(at));
  return out;
}

/**
 * A sync_file's name as sync_file_get_name() makes it when no merge named
 * it: `<driver>-<timeline><context>-<seqno>` (snprintf "%s-%s%llu-%lld",
 * drivers/dma-buf/sync_file.c), with the context as a token (unless 0, the
 * stub's). The driver and timeline names of the fences here hold no digits
 * ("vgem-unbound", "dma_fence_array-unbound", "stub-stub", "sw_sync-<comm>"),
 * so the context is the first run of digits before "-<seqno>" at the end. A
 * name of another form (a merge's own name, a name cut at 31 bytes) is kept
 * whole.
 */
export function tagFenceName(name: string): Line {
  const m = /^([A-Za-z_]+-[A-Za-z_]*?)(\d+)(-\d+)$/.exec(name);
  if (!m || m[2] === '0') return [name];
  return [m[1], tok('ctx', Number(m[2])), m[3]];
}
