/**
 * The package as a user gets it: `npm pack` ships the built library, its
 * declarations and its documents and nothing else (no tests, benchmarks,
 * source maps or generated files); the tarball installs offline into a
 * scratch project, whose strict TypeScript program imports every subpath
 * ('dmabuf', 'dmabuf/user', 'dmabuf/uapi', 'dmabuf/kernel'), type-checks
 * under the module resolutions a TypeScript user may choose (node16,
 * nodenext, bundler; node10 through typesVersions), and runs: it boots a
 * machine, allocates a buffer through 'dmabuf/user', shuts down and prints
 * what the kernel still held. The installed `dmabuf` command answers too.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  version: string;
  exports: Record<string, string | Record<string, string>>;
};
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');

/** Run a program; its stdout, or a failure carrying its stderr and stdout. */
function run(file: string, args: string[], cwd: string, timeout = 60_000): string {
  try {
    return execFileSync(file, args, { cwd, timeout, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 16 << 20 });
  } catch (e) {
    const err = e as { message: string; stdout?: string; stderr?: string };
    throw new Error(`${file} ${args.join(' ')} failed: ${err.message}\n${err.stdout ?? ''}\n${err.stderr ?? ''}`);
  }
}

const PROGRAM = `import { boot, SyscallError, type MachineStats, type Process } from 'dmabuf';
import { DmaHeap, type DmaBuffer } from 'dmabuf/user';
import * as u from 'dmabuf/uapi';
import { PAGE_SIZE, SyncTimeline } from 'dmabuf/kernel';

const machine = await boot();
const proc: Process = machine.spawn('scratch');
let seen: number[] = [];
let len = 0n;
let code = '';
{
  using heap = DmaHeap.open(proc, 'system');
  using buf: DmaBuffer = heap.allocate(PAGE_SIZE, { name: 'scratch' });
  {
    using w = buf.access('write');
    w.bytes.set([1, 2, 3]);
  }
  {
    using r = buf.access('read');
    seen = [...r.bytes.subarray(0, 3)];
  }
  // uapi: C field names, 64-bit fields as bigint
  const alloc = u.dma_heap_allocation_data.encode({ len: BigInt(PAGE_SIZE), fd_flags: u.O_RDWR | u.O_CLOEXEC });
  proc.ioctl(heap.fd, u.DMA_HEAP_IOCTL_ALLOC, alloc);
  len = u.dma_heap_allocation_data.decode(alloc).len;
  const fd: number = u.dma_heap_allocation_data.get(alloc, 'fd');
  try {
    proc.ioctl(fd, 0xdead);
  } catch (e) {
    if (e instanceof SyscallError) code = e.code;
  }
  proc.close(fd);
}
proc.exit();
const stats: MachineStats = await machine.shutdown();

// The kernel face, in this thread.
const timeline = new SyncTimeline('scratch');
const fence = timeline.createFence(1)!;
timeline.inc(1);
const signaled: boolean = fence.isSignaled();
fence.put();
timeline.release();

console.log(JSON.stringify({ seen, len: String(len), code, signaled, stats }));
`;

/** The compiler options of a strict user's project, per module resolution. */
const RESOLUTIONS: Record<string, { module: string; moduleResolution: string; run: boolean }> = {
  node16: { module: 'node16', moduleResolution: 'node16', run: true },
  nodenext: { module: 'nodenext', moduleResolution: 'nodenext', run: true },
  bundler: { module: 'esnext', moduleResolution: 'bundler', run: true },
  // Before "exports": the subpaths' types come from typesVersions (type-checked only).
  node10: { module: 'esnext', moduleResolution: 'node10', run: false },
};

test('npm pack ships the library, its types and documents, and nothing else; it installs offline and type-checks and runs under node16, nodenext and bundler', { timeout: 180_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'dmabuf-pack-'));
  try {
    // --ignore-scripts: the tests run from this build, which prepack/prepare would redo under them.
    const [packed] = JSON.parse(run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', dir], root)) as { filename: string; files: { path: string }[] }[];
    const files = packed.files.map((f) => f.path);
    for (const f of ['package.json', 'README.md', 'LICENSE', 'CHANGELOG.md', 'dist/src/cli/main.js', 'docs/exporter-guide.md']) assert.ok(files.includes(f), `${f} is shipped`);
    for (const [sub, target] of Object.entries(pkg.exports)) {
      for (const t of typeof target === 'string' ? [target] : Object.values(target)) assert.ok(files.includes(t.replace(/^\.\//, '')), `exports['${sub}'] -> ${t} is shipped`);
    }
    const unwanted = files.filter((f) => /^(src|test|bench|scripts|examples|\.ci)\/|^docs\/api\/|^dist\/(?!src\/)|\.map$|\.tgz$|(^|\/)run\.(json|html)$|\.trace\.json$/.test(f));
    assert.deepEqual(unwanted, [], 'no tests, benchmarks, sources, maps or generated files (the HTML API reference of npm run docs included)');
    assert.ok(files.every((f) => !f.startsWith('dist/src/') || /\.(js|d\.ts)$/.test(f)), 'dist/src: JavaScript and declarations only');

    const scratch = join(dir, 'scratch');
    mkdirSync(scratch);
    writeFileSync(join(scratch, 'package.json'), JSON.stringify({ name: 'scratch', private: true, type: 'module' }));
    run('npm', ['install', '--offline', '--no-audit', '--no-fund', '--ignore-scripts', join(dir, packed.filename)], scratch);

    // The installed command.
    const bin = join(scratch, 'node_modules', '.bin', 'dmabuf');
    assert.equal(run(bin, ['--version'], scratch).trim(), pkg.version);
    assert.match(run(bin, ['demo', '--help'], scratch), /--frames N/);

    writeFileSync(join(scratch, 'main.ts'), PROGRAM);
    for (const [name, r] of Object.entries(RESOLUTIONS)) {
      const config = {
        compilerOptions: {
          target: 'ES2022',
          lib: ['ES2023', 'ESNext.Disposable'],
          module: r.module,
          moduleResolution: r.moduleResolution,
          strict: true,
          skipLibCheck: false,
          noEmit: !r.run,
          outDir: `out-${name}`,
          // The declarations name Node's types (worker_threads, Buffer): a user has @types/node; here it is ours.
          typeRoots: [join(root, 'node_modules', '@types')],
          types: ['node'],
        },
        files: ['main.ts'],
      };
      writeFileSync(join(scratch, `tsconfig.${name}.json`), JSON.stringify(config, null, 2));
      run(process.execPath, [tsc, '-p', `tsconfig.${name}.json`], scratch);
      if (!r.run) continue;
      const out = JSON.parse(run(process.execPath, [join(scratch, `out-${name}`, 'main.js')], scratch, 30_000)) as Record<string, unknown>;
      assert.deepEqual(out, {
        seen: [1, 2, 3],
        len: '4096',
        code: 'ENOTTY',
        signaled: true,
        stats: { dmabufs: 0, fences: 0, inFlight: 0, pages: 0, processes: 0, taint: 0, waiters: 0 },
      }, `${name}: the program ran as written`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
