/**
 * Without koffi, or on a host that is not Linux x86-64, booting a native
 * machine fails with one error that says why (NativeUnavailableError, with
 * a `code`). Checked in child processes: one running a copy of the built
 * sources where koffi cannot be resolved, one that pretends to be macOS.
 */
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const distSrc = fileURLToPath(new URL('../../src', import.meta.url));

function boot(entry: string, prelude = ''): { code: string; name: string; message: string } {
  const script = `${prelude}
    const { bootNative } = await import(${JSON.stringify(entry)});
    try { await bootNative(); console.log(JSON.stringify({ code: 'booted' })); process.exit(0); }
    catch (e) { console.log(JSON.stringify({ code: e.code, name: e.name, message: e.message })); }`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

describe('native backend unavailable', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dmabuf-no-koffi-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('without koffi: ERR_NATIVE_NO_KOFFI, naming the package', (t) => {
    cpSync(distSrc, join(dir, 'dist', 'src'), { recursive: true });
    writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
    try {
      createRequire(join(dir, 'dist', 'src', 'native', 'koffi.js')).resolve('koffi');
      t.skip(`koffi resolves from ${dir} (a node_modules above it): cannot hide it here`);
      return;
    } catch {
      // koffi is out of reach from the copy, as on a host without it
    }
    const r = boot(join(dir, 'dist', 'src', 'native', 'index.js'));
    assert.equal(r.name, 'NativeUnavailableError');
    assert.equal(r.code, 'ERR_NATIVE_NO_KOFFI');
    assert.match(r.message, /optional dependency koffi/);
  });

  test('on a host that is not Linux: ERR_NATIVE_PLATFORM, before koffi is loaded', () => {
    const r = boot(join(distSrc, 'native', 'index.js'), "Object.defineProperty(process, 'platform', { value: 'darwin' });");
    assert.equal(r.code, 'ERR_NATIVE_PLATFORM');
    assert.match(r.message, /this host is darwin/);
  });
});
