// The stock kernel: Debian's newest linux-image-6.12.*+deb12-amd64, taken
// apart without installing it: its vmlinuz, its config, and the modules vgem
// needs (plus udmabuf where it is a module), decompressed and put in load
// order. Cached under <cache>/stock/<release>/; Debian's archive keeps only
// the newest patch level, so nothing may depend on which one this is.
import { readdirSync, readFileSync, copyFileSync, mkdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { aptUpdateOnce } from './deps.mjs';
import { cacheDir, dpkgVersionGt, exists, log, pruneSiblings, readJson, rmrf, run, writeAtomic } from './util.mjs';

const PATTERN = '^linux-image-6.12.*deb12-amd64$';
/** The modules to load, with their dependencies found through modinfo. */
const WANTED = [{ name: 'vgem', config: 'CONFIG_DRM_VGEM' }, { name: 'udmabuf', config: 'CONFIG_UDMABUF' }];

/** The newest linux-image-6.12.*+deb12-amd64 apt knows of: { pkg, release }. */
function newestPackage() {
  const out = run('apt-cache', ['search', '--names-only', PATTERN], { capture: true });
  let best = null;
  for (const line of out.split('\n')) {
    const m = /^(linux-image-(6\.12\.\S+-amd64))\s/.exec(line);
    if (!m) continue;
    const version = m[2].replace(/-amd64$/, '');
    if (!best || dpkgVersionGt(version, best.version)) best = { pkg: m[1], release: m[2], version };
  }
  return best;
}

/** Parses a kernel .config into a Map of CONFIG_X -> value ('y', 'm', a string, or 'n' for "is not set"). */
export function parseConfig(text) {
  const map = new Map();
  for (const line of text.split('\n')) {
    let m = /^(CONFIG_\w+)=(.*)$/.exec(line);
    if (m) map.set(m[1], m[2]);
    else if ((m = /^# (CONFIG_\w+) is not set$/.exec(line))) map.set(m[1], 'n');
  }
  return map;
}

function moduleFiles(root) {
  const files = new Map();
  const walk = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.ko(\.xz|\.zst|\.gz)?$/.test(e.name)) files.set(e.name.replace(/\.ko(\..*)?$/, '').replace(/-/g, '_'), p);
    }
  };
  walk(root);
  return files;
}

function decompressModule(src, dst) {
  if (src.endsWith('.ko')) copyFileSync(src, dst);
  else if (src.endsWith('.xz')) run('sh', ['-c', 'xz -dc "$1" > "$2"', 'sh', src, dst]);
  else if (src.endsWith('.zst')) run('zstd', ['-q', '-d', '-f', src, '-o', dst]);
  else run('sh', ['-c', 'gzip -dc "$1" > "$2"', 'sh', src, dst]);
}

/**
 * Returns the stock kernel, downloading and unpacking it on a cache miss:
 * { kind, release, pkg, vmlinuz, config (Map), modulesDir, modules (load order) }.
 */
export function stockKernel(timings) {
  let pkg = newestPackage();
  if (!pkg) {
    aptUpdateOnce();
    pkg = newestPackage();
  }
  if (!pkg) throw new Error(`apt-cache finds no package matching ${PATTERN}`);
  const dir = join(cacheDir('stock'), pkg.release);
  const metaPath = join(dir, 'kernel.json');
  if (!exists(metaPath)) {
    const t0 = performance.now();
    fetchStock(pkg, dir);
    if (timings) timings['stock kernel download+unpack'] = (performance.now() - t0) / 1000;
  } else {
    log(`stock kernel ${pkg.release} (cached)`);
  }
  const meta = readJson(metaPath);
  return {
    kind: 'stock',
    release: meta.release,
    pkg: meta.pkg,
    vmlinuz: join(dir, 'vmlinuz'),
    config: parseConfig(readFileSync(join(dir, 'config'), 'utf8')),
    modulesDir: join(dir, 'modules'),
    modules: meta.modules,
  };
}

function fetchStock(pkg, dir) {
  const work = `${dir}.work${process.pid}`;
  rmrf(work);
  mkdirSync(work, { recursive: true });
  try {
    log(`downloading ${pkg.pkg}`);
    const download = () => run('apt-get', ['download', '-qq', pkg.pkg], { cwd: work, quiet: true, allowFail: true });
    if (download() !== 0) {
      // The lists may name a patch level the archive no longer has.
      aptUpdateOnce();
      run('apt-get', ['download', '-qq', pkg.pkg], { cwd: work, quiet: true });
    }
    const deb = readdirSync(work).find((f) => f.endsWith('.deb'));
    if (!deb) throw new Error(`apt-get download ${pkg.pkg} left no .deb`);
    const tree = join(work, 'tree');
    run('dpkg-deb', ['-x', join(work, deb), tree]);

    const boot = join(tree, 'boot');
    const vmlinuz = readdirSync(boot).find((f) => f.startsWith('vmlinuz-'));
    const configName = readdirSync(boot).find((f) => f.startsWith('config-'));
    if (!vmlinuz || !configName) throw new Error(`${deb} has no boot/vmlinuz-* or boot/config-*`);
    const release = vmlinuz.slice('vmlinuz-'.length);
    const configText = readFileSync(join(boot, configName), 'utf8');
    const config = parseConfig(configText);

    // Module load order: each wanted module that is =m, after its
    // dependencies (modinfo's depends=), depth first.
    const modRoot = [join(tree, 'lib', 'modules', release), join(tree, 'usr', 'lib', 'modules', release)].find(exists);
    if (!modRoot) throw new Error(`${deb} has no lib/modules/${release}`);
    const files = moduleFiles(modRoot);
    const outDir = join(work, 'out');
    mkdirSync(join(outDir, 'modules'), { recursive: true });
    const order = [];
    const visiting = new Set();
    const visit = (name) => {
      if (order.includes(name)) return;
      if (visiting.has(name)) throw new Error(`module dependency cycle at ${name}`);
      visiting.add(name);
      const src = files.get(name);
      if (!src) throw new Error(`module ${name} not found in ${deb}`);
      const ko = join(outDir, 'modules', `${name}.ko`);
      decompressModule(src, ko);
      const deps = run('modinfo', ['-F', 'depends', ko], { capture: true }).trim();
      for (const d of deps.split(',').filter(Boolean)) visit(d.replace(/-/g, '_'));
      visiting.delete(name);
      order.push(name);
    };
    const builtin = [];
    for (const w of WANTED) {
      const v = config.get(w.config);
      if (v === 'm') visit(w.name);
      else if (v === 'y') builtin.push(w.name);
      else log(`note: ${w.config} is ${v ?? 'absent'} in ${release}`);
    }
    copyFileSync(join(boot, vmlinuz), join(outDir, 'vmlinuz'));
    writeAtomic(join(outDir, 'config'), configText);
    writeAtomic(join(outDir, 'kernel.json'), JSON.stringify({ pkg: pkg.pkg, release, modules: order, builtin }, null, 2) + '\n');
    log(`stock kernel ${release}: modules ${order.join(' → ') || '(none)'}; built in: ${builtin.join(' ') || '(none)'}`);
    rmrf(dir);
    renameSync(outDir, dir);
    pruneSiblings(cacheDir('stock'), release);
  } finally {
    rmrf(work);
  }
}
