// Small helpers shared by the test bed's host scripts: logging, running
// commands, hashing, the cache directory and atomic file writes.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

/** Progress goes to stderr so that stdout carries only the guest's output. */
export function log(msg) {
  process.stderr.write(`[vm] ${msg}\n`);
}

/**
 * Runs a command to completion. Throws with its output when it fails.
 * `quiet` captures output (shown only on failure); `capture` returns stdout.
 */
export function run(cmd, args, opts = {}) {
  const capture = opts.capture || opts.quiet;
  const r = spawnSync(cmd, args, {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    stdio: capture ? ['ignore', 'pipe', 'pipe'] : ['ignore', 'inherit', 'inherit'],
    encoding: capture ? 'utf8' : undefined,
    maxBuffer: 256 << 20,
  });
  if (r.error) throw new Error(`${cmd}: ${r.error.message}`);
  if (r.status !== 0 && !opts.allowFail) {
    const out = capture ? `\n${r.stdout ?? ''}${r.stderr ?? ''}`.trimEnd() : '';
    throw new Error(`${cmd} ${args.join(' ')} exited with ${r.status ?? r.signal}${out}`);
  }
  return opts.capture ? r.stdout : r.status;
}

/** Runs a command as root: directly when we are root, through sudo otherwise. */
export function runAsRoot(cmd, args, opts = {}) {
  if (process.getuid?.() === 0) return run(cmd, args, opts);
  return run('sudo', [cmd, ...args], opts);
}

export function sha256(...parts) {
  const h = createHash('sha256');
  for (const p of parts) h.update(typeof p === 'string' ? p : Buffer.from(p));
  return h.digest('hex');
}

/** The cache root: $DMABUF_VM_CACHE, else ~/.cache/dmabuf-vm. */
export function cacheDir(...sub) {
  const root = process.env.DMABUF_VM_CACHE || join(homedir(), '.cache', 'dmabuf-vm');
  const p = join(root, ...sub);
  mkdirSync(p, { recursive: true });
  return p;
}

export function exists(p) {
  try {
    statSync(p);
    return true;
  } catch {
    return false;
  }
}

/** Writes a file through a temporary name and a rename, so a killed run never leaves half a cache entry. */
export function writeAtomic(path, data) {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp${process.pid}`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}

export function readJson(path) {
  return JSON.parse(readFileSync(path, 'utf8'));
}

export function rmrf(p) {
  rmSync(p, { recursive: true, force: true });
}

/** Times a phase and records it under `name` in `timings` (seconds). */
export async function timed(timings, name, fn) {
  const t0 = performance.now();
  try {
    return await fn();
  } finally {
    const s = (performance.now() - t0) / 1000;
    if (timings) timings[name] = (timings[name] ?? 0) + s;
  }
}

/** Debian version comparison, through dpkg itself. */
export function dpkgVersionGt(a, b) {
  return spawnSync('dpkg', ['--compare-versions', a, 'gt', b]).status === 0;
}

/** Removes the entries of a cache directory other than `keep` whose names `match` (stale versions and configs). */
export function pruneSiblings(dir, keep, match = () => true) {
  for (const name of readdirSync(dir)) {
    // Another run's entry in the making (.tmp<pid>, .new<pid>, .work<pid>) is not stale.
    if (name === keep || !match(name) || /\.(tmp|new|work)\d+/.test(name)) continue;
    rmSync(join(dir, name), { recursive: true, force: true });
  }
}
