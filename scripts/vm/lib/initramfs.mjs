// The guest's initramfs, in layers the kernel unpacks one after another
// (it accepts concatenated, separately compressed cpio archives):
//   base     static busybox and its applet links, the host's node (stripped)
//            and the shared libraries ldd lists for it; cached
//   modules  the stock kernel's decompressed modules and their load order;
//            cached per kernel release (the built kernel has none)
//   payload  /init, the command, and the project's built files; every run
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, realpathSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CpioWriter } from './cpio.mjs';
import { cacheDir, exists, log, pruneSiblings, rmrf, run, sha256 } from './util.mjs';

const INIT = fileURLToPath(new URL('../init.sh', import.meta.url));
const RECIPE = 'base v1';

/** The compression a kernel's config can unpack: zstd where RD_ZSTD is on, else gzip. */
export function compressionFor(config) {
  if (config.get('CONFIG_RD_ZSTD') === 'y') return 'zstd';
  if (config.get('CONFIG_RD_GZIP') === 'y') return 'gzip';
  throw new Error('the kernel unpacks neither zstd nor gzip initramfs archives (CONFIG_RD_ZSTD, CONFIG_RD_GZIP)');
}

function compress(cpioPath, method, out) {
  if (method === 'zstd') run('zstd', ['-q', '-f', '-3', '-T0', cpioPath, '-o', out]);
  else writeFileSync(out, gzipSync(readFileSync(cpioPath), { level: 6 }));
  rmrf(cpioPath);
}

/** Shared libraries `ldd` lists for an ELF file, with the dynamic loader: [{ path, real }]. */
export function lddLibs(file) {
  const r = spawnSync('ldd', [file], { encoding: 'utf8' });
  if (r.status !== 0) return [];
  const libs = [];
  for (const line of r.stdout.split('\n')) {
    const m = /=>\s*(\/\S+)/.exec(line) ?? /^\s*(\/\S+)\s+\(/.exec(line);
    if (m) libs.push({ path: m[1], real: realpathSync(m[1]) });
  }
  return libs;
}

function nodeBinary() {
  return realpathSync(process.execPath);
}

function busyboxBinary() {
  for (const p of ['/bin/busybox', '/usr/bin/busybox']) {
    if (!existsSync(p)) continue;
    // Only a static busybox runs without libraries: ldd finds none in it.
    const r = spawnSync('ldd', [p], { encoding: 'utf8' });
    if (r.status === 0 && !/statically linked/.test(r.stdout)) continue;
    return p;
  }
  throw new Error('no static busybox (package busybox-static)');
}

/** The base layer (cached): returns its path. */
export function baseLayer(method, timings) {
  const node = nodeBinary();
  const busybox = busyboxBinary();
  const libs = lddLibs(node);
  const stamp = (p) => {
    const st = statSync(p);
    return `${p}:${st.size}:${st.mtimeMs}`;
  };
  const key = sha256(RECIPE, method, stamp(node), stamp(busybox), ...libs.map((l) => stamp(l.real))).slice(0, 16);
  const out = join(cacheDir('initramfs'), `base-${key}.cpio.${method === 'zstd' ? 'zst' : 'gz'}`);
  if (exists(out)) return out;
  const t0 = performance.now();
  log(`building the initramfs base layer (${method})`);
  const tmp = `${out}.tmp${process.pid}`;
  const stripped = `${tmp}.node`;
  try {
    run('strip', ['-o', stripped, node]);
    const w = new CpioWriter(`${tmp}.cpio`);
    for (const d of ['bin', 'sbin', 'usr/bin', 'usr/sbin', 'proc', 'sys', 'dev', 'tmp', 'run', 'root', 'etc', 'project', 'vm']) w.dir(d);
    // The kernel opens /dev/console for init's stdio before /init can mount devtmpfs.
    w.chardev('dev/console', 5, 1);
    w.file('bin/busybox', busybox, 0o755);
    const applets = run(busybox, ['--list-full'], { capture: true }).split('\n').filter(Boolean);
    for (const a of applets) if (a !== 'bin/busybox') w.symlink(a, '/bin/busybox');
    w.file('usr/bin/node', stripped, 0o755);
    for (const l of libs) w.file(l.path, l.real, 0o755);
    w.file('etc/passwd', Buffer.from('root:x:0:0:root:/root:/bin/sh\n'));
    w.file('etc/group', Buffer.from('root:x:0:\n'));
    w.close();
    compress(`${tmp}.cpio`, method, tmp);
    renameSync(tmp, out);
    const ext = out.slice(out.lastIndexOf('.cpio'));
    pruneSiblings(cacheDir('initramfs'), basename(out), (n) => n.startsWith('base-') && n.endsWith(ext));
  } finally {
    rmrf(stripped);
    rmrf(`${tmp}.cpio`);
    rmrf(tmp);
  }
  if (timings) timings['initramfs base'] = (performance.now() - t0) / 1000;
  log(`base layer ${(statSync(out).size / 1e6).toFixed(1)} MB`);
  return out;
}

/** The modules layer of a kernel with modules (cached per release), or null. */
export function modulesLayer(kernel, method) {
  if (!kernel.modules.length) return null;
  const out = join(cacheDir('initramfs'), `modules-${kernel.release}-${sha256(kernel.modules.join(',')).slice(0, 8)}.cpio.${method === 'zstd' ? 'zst' : 'gz'}`);
  if (exists(out)) return out;
  const tmp = `${out}.tmp${process.pid}`;
  const w = new CpioWriter(`${tmp}.cpio`);
  const dir = `lib/modules/${kernel.release}`;
  for (const m of kernel.modules) w.file(`${dir}/${m}.ko`, join(kernel.modulesDir, `${m}.ko`));
  w.file(`${dir}/load.order`, Buffer.from(kernel.modules.join('\n') + '\n'));
  w.close();
  compress(`${tmp}.cpio`, method, tmp);
  renameSync(tmp, out);
  const ext = out.slice(out.lastIndexOf('.cpio'));
  pruneSiblings(cacheDir('initramfs'), basename(out), (n) => n.startsWith('modules-') && n.endsWith(ext));
  return out;
}

/**
 * What of the project goes into the guest: package.json, what the build made
 * (dist/), node_modules/ less the TypeScript compiler (20+ MB the guest never
 * runs), scripts/ (the test bed's guest programs), and
 * docs/linux-differences.md (the allow-list the differential runner reads).
 */
const PROJECT_ENTRIES = ['package.json', 'dist', 'node_modules', 'scripts', 'docs/linux-differences.md'];
function skipInProject(rel) {
  return rel === 'node_modules/typescript' || rel === 'node_modules/.bin/tsc' || rel === 'node_modules/.bin/tsserver' || rel === 'node_modules/.cache';
}

/**
 * The payload layer, written for this run: /init, /vm/env (the marker token),
 * /vm/run.sh (the command), /project, and the libraries of any native addon
 * in node_modules that the base layer lacks.
 */
export function payloadLayer({ projectDir, script, token, method, out }) {
  const w = new CpioWriter(`${out}.cpio`);
  w.file('init', INIT, 0o755);
  w.file('vm/env', Buffer.from(`VM_TOKEN=${token}\n`));
  w.file('vm/run.sh', Buffer.from(script.endsWith('\n') ? script : `${script}\n`), 0o755);
  const baseLibs = new Set(lddLibs(nodeBinary()).map((l) => l.path));
  const addonLibs = new Map();
  for (const entry of PROJECT_ENTRIES) {
    const host = join(projectDir, entry);
    if (!existsSync(host)) continue;
    if (statSync(host).isDirectory()) {
      w.tree(`project/${entry}`, host, (rel) => {
        const full = `${entry}/${rel}`;
        if (skipInProject(full)) return true;
        if (rel.endsWith('.node')) for (const l of lddLibs(join(host, rel))) if (!baseLibs.has(l.path)) addonLibs.set(l.path, l.real);
        return false;
      });
    } else {
      w.file(`project/${entry}`, host);
    }
  }
  for (const [path, real] of addonLibs) w.file(path, real, 0o755);
  w.close();
  compress(`${out}.cpio`, method, out);
  return out;
}
