// The built kernel: Debian's linux-source-6.12, `make tinyconfig` plus the
// fragment scripts/vm/kernel.config, `make bzImage`. It has what Debian's
// kernel lacks (sw_sync, the CMA heap, sysfs stats) and needs no modules.
// Cached under <cache>/built/<key>/ where the key hashes the source package
// version, the fragment and the compiler, so a change to any rebuilds.
import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, readdirSync, readFileSync, renameSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { aptUpdateOnce } from './deps.mjs';
import { parseConfig } from './stock.mjs';
import { cacheDir, exists, log, pruneSiblings, readJson, rmrf, run, sha256, writeAtomic } from './util.mjs';

const SOURCE_PKG = 'linux-source-6.12';
export const FRAGMENT = fileURLToPath(new URL('../kernel.config', import.meta.url));
/** Bumped when the recipe below changes in a way the key would not see. */
const RECIPE = 'tinyconfig+fragment/olddefconfig/bzImage v1';

/** The fragment as [name, value] pairs, value being 'y', 'n', a number or a quoted string. */
export function readFragment(path = FRAGMENT) {
  const out = [];
  for (const raw of readFileSync(path, 'utf8').split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const m = /^(CONFIG_\w+)=(.+)$/.exec(line);
    if (!m) throw new Error(`${path}: cannot read line: ${raw}`);
    out.push([m[1], m[2]]);
  }
  return out;
}

function candidateVersion() {
  const show = () => run('apt-cache', ['policy', SOURCE_PKG], { capture: true, allowFail: true }) ?? '';
  let m = /Candidate:\s*(\S+)/.exec(show());
  if (!m || m[1] === '(none)') {
    aptUpdateOnce();
    m = /Candidate:\s*(\S+)/.exec(show());
  }
  if (!m || m[1] === '(none)') throw new Error(`apt knows no ${SOURCE_PKG}`);
  return m[1];
}

/** Runs a command asynchronously with its output appended to a log file; rejects with the log's tail. */
function runLogged(cmd, args, cwd, logPath) {
  return new Promise((resolve, reject) => {
    const out = createWriteStream(logPath, { flags: 'a' });
    out.write(`\n$ ${cmd} ${args.join(' ')}\n`);
    const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.pipe(out, { end: false });
    child.stderr.pipe(out, { end: false });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      out.end(() => {
        if (code === 0) return resolve();
        const tail = readFileSync(logPath, 'utf8').split('\n').slice(-60).join('\n');
        reject(new Error(`${cmd} ${args.join(' ')} failed (${code ?? signal}); the end of ${logPath}:\n${tail}`));
      });
    });
  });
}

/**
 * Returns the built kernel, building it on a cache miss:
 * { kind, release, vmlinuz, config (Map), modules: [] }.
 */
export async function builtKernel(timings) {
  const version = candidateVersion();
  // The key sees the options, not the fragment's comments.
  const options = readFragment().map(([n, v]) => `${n}=${v}`).join('\n');
  const gcc = run('gcc', ['-dumpfullversion'], { capture: true }).trim();
  const key = sha256(SOURCE_PKG, version, options, gcc, RECIPE).slice(0, 16);
  const dir = join(cacheDir('built'), key);
  if (!exists(join(dir, 'kernel.json'))) await build(version, key, dir, timings);
  else log(`built kernel from ${SOURCE_PKG} ${version}, fragment ${key} (cached)`);
  const meta = readJson(join(dir, 'kernel.json'));
  return {
    kind: 'built',
    release: meta.release,
    pkg: `${SOURCE_PKG} ${meta.sourceVersion}`,
    vmlinuz: join(dir, 'bzImage'),
    config: parseConfig(readFileSync(join(dir, 'config'), 'utf8')),
    modulesDir: null,
    modules: [],
  };
}

async function build(version, key, dir, timings) {
  // Per process, so that two runs building at once do not share a tree.
  const work = join(cacheDir('build'), `${key}.work${process.pid}`);
  const logPath = join(cacheDir('build'), `${key}.log`);
  rmrf(work);
  rmrf(logPath);
  mkdirSync(work, { recursive: true });
  try {
    let t0 = performance.now();
    log(`downloading ${SOURCE_PKG} ${version}`);
    const dl = () => run('apt-get', ['download', '-qq', `${SOURCE_PKG}=${version}`], { cwd: work, quiet: true, allowFail: true });
    if (dl() !== 0) {
      aptUpdateOnce();
      run('apt-get', ['download', '-qq', `${SOURCE_PKG}=${version}`], { cwd: work, quiet: true });
    }
    const deb = readdirSync(work).find((f) => f.endsWith('.deb'));
    if (!deb) throw new Error(`apt-get download ${SOURCE_PKG} left no .deb`);
    if (timings) timings['built kernel download'] = (performance.now() - t0) / 1000;

    t0 = performance.now();
    log(`unpacking ${deb}`);
    // The .deb holds usr/src/linux-source-6.12.tar.xz: stream it straight into tar.
    run('sh', ['-c', `dpkg-deb --fsys-tarfile "$1" | tar -xO ./usr/src/${SOURCE_PKG}.tar.xz | xz -dc | tar -x`, 'sh', deb], { cwd: work });
    rmrf(join(work, deb));
    const src = join(work, SOURCE_PKG);
    if (!exists(join(src, 'Makefile'))) throw new Error(`${deb} did not unpack to ${SOURCE_PKG}/`);
    if (timings) timings['built kernel unpack'] = (performance.now() - t0) / 1000;

    t0 = performance.now();
    const make = (...args) => runLogged('make', ['ARCH=x86_64', ...args], src, logPath);
    await make('tinyconfig');
    const fragment = readFragment();
    const cfgArgs = ['--file', '.config'];
    for (const [name, value] of fragment) {
      const opt = name.slice('CONFIG_'.length);
      if (value === 'y') cfgArgs.push('--enable', opt);
      else if (value === 'n') cfgArgs.push('--disable', opt);
      else if (value === 'm') cfgArgs.push('--module', opt);
      else if (value.startsWith('"')) cfgArgs.push('--set-str', opt, JSON.parse(value));
      else cfgArgs.push('--set-val', opt, value);
    }
    await runLogged(join(src, 'scripts', 'config'), cfgArgs, src, logPath);
    await make('olddefconfig');
    const config = parseConfig(readFileSync(join(src, '.config'), 'utf8'));
    const dropped = fragment.filter(([name, value]) => (config.get(name) ?? 'n') !== value);
    if (dropped.length) {
      throw new Error(
        `options that did not stick after olddefconfig (a dependency is missing from ${FRAGMENT}):\n` +
          dropped.map(([n, v]) => `  ${n}: wanted ${v}, got ${config.get(n) ?? 'absent'}`).join('\n'),
      );
    }
    log(`building bzImage (make -j2, log in ${logPath})`);
    await make('-j2', 'bzImage');
    const release = readFileSync(join(src, 'include', 'config', 'kernel.release'), 'utf8').trim();
    if (timings) timings['built kernel build'] = (performance.now() - t0) / 1000;

    const out = `${dir}.new${process.pid}`;
    rmrf(out);
    mkdirSync(out, { recursive: true });
    copyFileSync(join(src, 'arch', 'x86', 'boot', 'bzImage'), join(out, 'bzImage'));
    copyFileSync(join(src, '.config'), join(out, 'config'));
    writeAtomic(join(out, 'kernel.json'), JSON.stringify({ release, sourceVersion: version, key }, null, 2) + '\n');
    rmrf(dir);
    renameSync(out, dir);
    pruneSiblings(cacheDir('built'), key);
    pruneSiblings(cacheDir('build'), `${key}.log`, (n) => n.endsWith('.log'));
    log(`built kernel ${release} from ${SOURCE_PKG} ${version}`);
  } finally {
    // The tree is 1.7 GB and only the bzImage is kept; the log stays for a look.
    // rm(1) clears ~90,000 files much faster than fs.rmSync.
    run('rm', ['-rf', work], { allowFail: true });
  }
}
