/**
 * The emulator against the real kernel, without a VM: every differential
 * program runs on the emulator (configured as the recorded kernel was) and
 * its normalised recording is compared with Linux's, recorded in the VM test
 * bed and kept under test/differential/linux/<kernel>/ (refresh them with
 * `node scripts/vm/record-differential.mjs`). A difference fails unless
 * docs/linux-differences.md lists it. A program Linux skipped (a feature
 * that kernel lacks), or one with no recording yet, is reported as skipped,
 * by name.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { boot, type Machine } from '../../src/index.js';
import { emulatorBootOptions, makeEnv, type Features } from './env.js';
import { compareRecordings, loadAllowList } from './compare.js';
import { normalize } from './normalize.js';
import { parseRecording, runProgram, selectPrograms } from './run.js';

const ROOT = fileURLToPath(new URL('../../../test/differential/linux/', import.meta.url));
const kernels = existsSync(ROOT) ? readdirSync(ROOT).filter((k) => existsSync(join(ROOT, k, 'env.json'))).sort() : [];
const allowList = loadAllowList();

test('recordings of Linux are in the repository', () => {
  assert.ok(kernels.includes('built'), `no recordings of the built kernel under ${ROOT} (node scripts/vm/record-differential.mjs)`);
});

for (const kernel of kernels) {
  describe(`differential: the emulator against Linux (${kernel} kernel, recorded)`, () => {
    const features = JSON.parse(readFileSync(join(ROOT, kernel, 'env.json'), 'utf8')) as Features;
    const env = makeEnv(features);
    let machine: Machine;
    before(async () => {
      machine = await boot(emulatorBootOptions(features));
    });
    after(async () => {
      const left = await machine.shutdown();
      assert.deepEqual(Object.entries(left).filter(([, v]) => v !== 0), [], 'the programs leave nothing behind');
    });
    for (const entry of selectPrograms(null)) {
      const file = join(ROOT, kernel, `${entry.id}.txt`);
      const recorded = existsSync(file) ? parseRecording(readFileSync(file, 'utf8')) : null;
      const skip = recorded === null ? `no Linux recording of ${entry.id} (node scripts/vm/record-differential.mjs)` : recorded.skipped ? `Linux (${kernel}) skipped it: ${recorded.skipped}` : false;
      test(entry.id, { skip }, async () => {
        const run = await runProgram(machine, entry, env);
        assert.equal(run.skipped, null, `the emulator skipped ${entry.id}: ${run.skipped}`);
        const c = compareRecordings(entry.id, normalize(run.lines), recorded!.lines, allowList, kernel);
        assert.notEqual(c.status, 'differs', `${entry.id} differs from Linux (${kernel}) where docs/linux-differences.md lists nothing:\n${c.diff}`);
      });
    }
  });
}
