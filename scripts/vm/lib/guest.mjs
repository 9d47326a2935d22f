// Puts the pieces together: a kernel (stock or built), the initramfs layers,
// one boot that runs a shell script in the guest's /project.
import { randomBytes } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readFileSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { builtKernel } from './built.mjs';
import { BOOT_PACKAGES, BUILD_PACKAGES, ensurePackages } from './deps.mjs';
import { baseLayer, compressionFor, modulesLayer, payloadLayer } from './initramfs.mjs';
import { boot } from './qemu.mjs';
import { stockKernel } from './stock.mjs';
import { log, rmrf } from './util.mjs';

export const KERNELS = ['stock', 'built'];

/** Host packages for these kernels, installed when missing. */
export function ensureHost(kinds) {
  ensurePackages([...BOOT_PACKAGES, ...(kinds.includes('built') ? BUILD_PACKAGES : [])]);
}

/** The kernel and its cached initramfs layers: { kernel, method, layers }. */
export async function prepare(kind, timings = {}) {
  const t0 = performance.now();
  const kernel = kind === 'stock' ? stockKernel(timings) : kind === 'built' ? await builtKernel(timings) : null;
  if (!kernel) throw new Error(`unknown kernel "${kind}" (stock or built)`);
  const method = compressionFor(kernel.config);
  const layers = [baseLayer(method, timings), modulesLayer(kernel, method)].filter(Boolean);
  timings[`${kind}: prepare`] = (performance.now() - t0) / 1000;
  log(`${kind} kernel: ${kernel.release} (${kernel.pkg}), initramfs ${method}`);
  return { kernel, method, layers };
}

/**
 * Boots a prepared kernel once and runs `script` (sh) in /project. The
 * payload layer is made fresh from `projectDir`. Resolves with boot()'s result.
 */
export async function runInGuest(prepared, { script, projectDir, timeoutSec, onLine, timings = {} }) {
  const { kernel, method, layers } = prepared;
  const tmp = mkdtempSync(join(tmpdir(), 'dmabuf-vm-'));
  try {
    const token = randomBytes(8).toString('hex');
    let t0 = performance.now();
    const payload = payloadLayer({ projectDir, script, token, method, out: join(tmp, 'payload.cpio') });
    // One initrd: the layers back to back (each compressed stream is padded to 4 bytes).
    const initrd = join(tmp, 'initrd');
    const fd = openSync(initrd, 'w');
    for (const p of [...layers, payload]) {
      const buf = readFileSync(p);
      writeSync(fd, buf);
      const pad = (4 - (buf.length % 4)) % 4;
      if (pad) writeSync(fd, Buffer.alloc(pad));
    }
    closeSync(fd);
    timings[`${kernel.kind}: payload`] = (performance.now() - t0) / 1000;
    log(`${kernel.kind}: booting ${kernel.release} (initrd ${(statSync(initrd).size / 1e6).toFixed(1)} MB, payload ${(statSync(payload).size / 1e6).toFixed(1)} MB)`);
    t0 = performance.now();
    const r = await boot({
      kernel,
      initrd,
      token,
      timeoutSec,
      onLine,
      onInit: (msg) => log(`${kernel.kind} guest: ${msg}`),
    });
    timings[`${kernel.kind}: boot+run`] = (performance.now() - t0) / 1000;
    return r;
  } finally {
    rmrf(tmp);
  }
}

/** Explains a run that did not end cleanly, on stderr; returns true when the run is bad. */
export function reportProblems(kind, r) {
  let bad = false;
  if (!r.ended) {
    bad = true;
    const why = r.timedOut ? 'timed out' : r.status === null ? 'never reached the end marker (hang, crash or panic)' : 'ended without its dmesg';
    log(`${kind}: the guest ${why}; qemu exit ${r.qemuExit}${r.qemuStderr ? `, qemu said: ${r.qemuStderr}` : ''}`);
    log(`${kind}: last lines of the serial console:`);
    for (const l of r.tail) process.stderr.write(`  | ${l}\n`);
  }
  if (r.reports.length) {
    bad = true;
    log(`${kind}: the guest kernel reported problems ${r.ended ? 'in its dmesg' : 'on the console'}:`);
    for (const l of r.reports) process.stderr.write(`  ! ${l}\n`);
  }
  return bad;
}
