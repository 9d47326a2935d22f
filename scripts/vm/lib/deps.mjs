// Host packages the test bed needs, installed through apt when missing.
// `apt-get update` runs only when something is missing (or a download
// needs fresher lists), at most once per process.
import { spawnSync } from 'node:child_process';
import { log, runAsRoot } from './util.mjs';

/**
 * To boot a guest: qemu; a static busybox for /init; zstd for the initramfs;
 * kmod for modinfo (module order); xz for Debian's .ko.xz; binutils to strip node.
 */
export const BOOT_PACKAGES = ['qemu-system-x86', 'busybox-static', 'zstd', 'kmod', 'xz-utils', 'binutils'];
/** To build the kernel from Debian's source: tinyconfig needs neither openssl nor pahole. */
export const BUILD_PACKAGES = ['make', 'gcc', 'libc6-dev', 'flex', 'bison', 'libelf-dev', 'bc', 'xz-utils', 'perl'];

const APT_ENV = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
let updated = false;

function installed(pkg) {
  const r = spawnSync('dpkg-query', ['-W', '-f=${Status}', pkg], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.trim() === 'install ok installed';
}

/** `apt-get update`, at most once per process. */
export function aptUpdateOnce() {
  if (updated) return;
  log('apt-get update');
  runAsRoot('apt-get', ['update', '-qq'], { env: APT_ENV, quiet: true });
  updated = true;
}

/** Installs the packages not installed yet; returns those it installed. */
export function ensurePackages(pkgs) {
  const missing = [...new Set(pkgs)].filter((p) => !installed(p));
  if (missing.length === 0) return [];
  aptUpdateOnce();
  log(`apt-get install ${missing.join(' ')}`);
  runAsRoot('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { env: APT_ENV, quiet: true });
  const still = missing.filter((p) => !installed(p));
  if (still.length) throw new Error(`apt-get did not install: ${still.join(' ')}`);
  return missing;
}
