/**
 * The option parser behind every `dmabuf` command: `--key value` and
 * `--key=value`, strict decimal integers, choices, flags, and a UsageError
 * that says what was wrong; the help text is made from the same
 * declarations.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { optionsHelp, parseArgs, parseInteger, UsageError, type IntOption, type OptionSpec } from '../../src/cli/args.js';
import { DEMO_OPTIONS } from '../../src/cli/demo-pipeline.js';

const SPECS = [
  { name: 'frames', kind: 'int', arg: 'N', default: 120, min: 1, max: Number.MAX_SAFE_INTEGER, help: 'frames' },
  { name: 'ring', kind: 'int', arg: 'R', default: 4, min: 2, max: 4096, help: 'ring' },
  { name: 'work', kind: 'choice', choices: ['cpu', 'device'], default: 'cpu', help: 'who' },
  { name: 'trace', kind: 'path', arg: 'FILE', help: 'trace' },
  { name: 'json', kind: 'flag', help: 'json' },
] as const satisfies readonly OptionSpec[];

const usage = (args: string[]): string => {
  try {
    parseArgs(args, SPECS);
  } catch (e) {
    assert.ok(e instanceof UsageError, String(e));
    return e.message;
  }
  assert.fail(`${args.join(' ')} parsed`);
};

test('defaults, --key value and --key=value, flags, the last occurrence wins', () => {
  assert.deepEqual(parseArgs([], SPECS), { help: false, options: { frames: 120, ring: 4, work: 'cpu', trace: undefined, json: false } });
  const { options } = parseArgs(['--frames', '7', '--ring=3', '--work=device', '--trace', 'a.json', '--json', '--frames=9'], SPECS);
  assert.deepEqual(options, { frames: 9, ring: 3, work: 'device', trace: 'a.json', json: true });
  // A value may contain '=' and start with one dash.
  assert.equal(parseArgs(['--trace=x=y.json'], SPECS).options.trace, 'x=y.json');
  assert.equal(parseArgs(['--trace', '-'], SPECS).options.trace, '-');
});

test('integers: decimal digits within the range and safe, nothing else', () => {
  const frames = SPECS[0] as IntOption;
  assert.equal(parseInteger(frames, '1'), 1);
  assert.equal(parseInteger(frames, '007'), 7);
  assert.equal(parseInteger(frames, String(Number.MAX_SAFE_INTEGER)), Number.MAX_SAFE_INTEGER);
  // Number() takes every one of these; the parser takes none.
  for (const bad of ['1e3', '0x10', '0b11', '0o7', '1.0', '1.5', ' 1', '1 ', '+1', '-1', '', 'Infinity', 'NaN', '12345678901234567890', String(Number.MAX_SAFE_INTEGER + 1), '٣']) {
    assert.throws(() => parseInteger(frames, bad), (e) => e instanceof UsageError && e.message === `--frames needs an integer >= 1, not '${bad}'`, bad);
  }
  assert.equal(usage(['--frames', '0']), "--frames needs an integer >= 1, not '0'");
  assert.equal(usage(['--ring=1']), "--ring needs an integer from 2 to 4096, not '1'");
  assert.equal(usage(['--ring', '4097']), "--ring needs an integer from 2 to 4096, not '4097'");
});

test('every mistake is one line saying what is wrong', () => {
  assert.equal(usage(['--frame', '3']), "unknown option '--frame' (did you mean --frames?)");
  assert.equal(usage(['--fps=3']), "unknown option '--fps'");
  assert.equal(usage(['-f']), "unknown option '-f'");
  assert.equal(usage(['frames']), "unexpected argument 'frames'");
  assert.equal(usage(['--']), "unexpected argument '--'");
  assert.equal(usage(['--frames']), '--frames needs a value: an integer >= 1');
  assert.equal(usage(['--trace', '--json']), '--trace needs a value: a file name');
  assert.equal(usage(['--trace=']), '--trace needs a file name');
  assert.equal(usage(['--work', 'gpu']), "--work is one of cpu, device, not 'gpu'");
  assert.equal(usage(['--json=yes']), '--json takes no value');
  for (const args of [['--frame', '3'], ['--frames'], ['--work', 'gpu']]) assert.ok(!usage(args).includes('\n'));
});

test('--help or -h anywhere is help, whatever else is there', () => {
  assert.equal(parseArgs(['--frames', 'lots', '--help'], SPECS).help, true);
  assert.equal(parseArgs(['-h', '--nonsense'], SPECS).help, true);
  assert.equal(parseArgs(['--trace', '--help'], SPECS).help, true);
});

test("the help text lists every option with its default, wrapped to 80 columns", () => {
  const text = optionsHelp(DEMO_OPTIONS);
  for (const o of DEMO_OPTIONS) assert.match(text, new RegExp(`^  --${o.name}\\b`, 'm'), o.name);
  assert.match(text, /--frames N +frames to run \(default 120\)/);
  assert.match(text, /--work cpu\|device +.*\(default\s+cpu\)/s);
  assert.match(text, /-h, --help +this help/);
  for (const line of text.split('\n')) assert.ok(line.length <= 80, `too long: ${line}`);
});
