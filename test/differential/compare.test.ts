/**
 * The runner's own machinery: placeholders, text rules, the allow-list
 * parser and the comparison.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normalize, tagFenceName, tagText, tok } from './normalize.js';
import { compareRecordings, loadAllowList, parseAllowList } from './compare.js';

test('placeholders are numbered per kind by first appearance; an fd identity is its id, not its number', () => {
  const lines = normalize([
    ['open() = ', tok('fd', 20, '20.1')],
    ['dup(', tok('fd', 20, '20.1'), ') = ', tok('fd', 21, '21.2')],
    ['ino ', tok('ino', '00000012'), ' and ', tok('ino', 12), ' and ', tok('ino', 7)],
    ['reused: ', tok('fd', 20, '20.3')],
  ]);
  assert.deepEqual(lines, ['open() = fd#1', 'dup(fd#1) = fd#2', 'ino ino#1 and ino#1 and ino#2', 'reused: fd#3']);
});

test('text rules turn fdinfo and bufinfo values into tokens, and nothing else', () => {
  const fdinfo = normalize(tagText('/proc/self/fdinfo/5', 'pos:\t0\nflags:\t02000002\nmnt_id:\t15\nino:\t1234\nsize:\t4096\n'));
  assert.deepEqual(fdinfo, ['pos:\t0', 'flags:\t02000002', 'mnt_id:\tmnt#1', 'ino:\tino#1', 'size:\t4096']);
  const bufinfo = normalize(tagText('/sys/kernel/debug/dma_buf/bufinfo', '00004096\t00000002\t00080007\t00000001\tsystem\t00001234\t<none>\n'));
  assert.deepEqual(bufinfo, ['00004096\t00000002\t00080007\t00000001\tsystem\tino#1\t<none>']);
  assert.deepEqual(normalize(tagText('/sys/kernel/debug/sync/info', '  fence signaled@12.000000345: 1 / 1\n')), ['  fence signaled@time: 1 / 1'], 'a timestamp is not numbered');
  // the same text elsewhere is not touched
  assert.deepEqual(normalize(tagText('/sys/kernel/dmabuf/buffers/3/size', 'ino:\t1234\n')), ['ino:\t1234']);
});

test('a generated sync_file name keeps its driver, timeline and seqno; the context is a token unless 0', () => {
  assert.deepEqual(normalize([tagFenceName('vgem-unbound17-1')]), ['vgem-unboundctx#1-1']);
  assert.deepEqual(normalize([tagFenceName('stub-stub0-0')]), ['stub-stub0-0']);
  assert.deepEqual(normalize([tagFenceName('merged')]), ['merged']);
});

const DOC = `
# Differences
### fstat times
The emulator keeps no inode times.
\`\`\`difference
{ "id": "times", "program": "^fd/", "emulator": "^  st_atime = 0$", "linux": "^  st_atime = time$" }
\`\`\`
### a line only Linux prints
\`\`\`difference
[{ "id": "extra", "program": ".", "emulator": null, "linux": "^extra$", "kernels": ["built"] }]
\`\`\`
`;

test('the allow-list is read from fenced difference blocks, with the heading as title', () => {
  const list = parseAllowList(DOC);
  assert.deepEqual(list.map((a) => [a.id, a.title, a.kernels]), [['times', 'fstat times', null], ['extra', 'a line only Linux prints', ['built']]]);
  assert.throws(() => parseAllowList('```difference\n{ "program": "x", "emulator": "a", "linux": "b" }\n```\n'), /needs an id/);
  assert.throws(() => parseAllowList('```difference\n{ "id": "a", "program": "x", "emulator": null, "linux": null }\n```\n'), /matches no line/);
  assert.throws(() => parseAllowList('```difference\n{ "id": "a", "program": "x", "emulator": "a", "linux": "b" }\n```\n```difference\n{ "id": "a", "program": "x", "emulator": "a", "linux": "b" }\n```\n'), /twice/);
});

test('the comparison pairs lines within a hunk and fails on what the list does not cover', () => {
  const list = parseAllowList(DOC);
  const emu = ['a', '  st_atime = 0', 'b'];
  const lin = ['a', '  st_atime = time', 'b'];
  assert.equal(compareRecordings('fd/x', emu, emu, list).status, 'same');
  const listed = compareRecordings('fd/x', emu, lin, list);
  assert.equal(listed.status, 'listed');
  assert.equal(listed.differences[0].listed?.id, 'times');
  assert.equal(compareRecordings('heap/x', emu, lin, list).status, 'differs', 'another program is not covered');
  // a line missing on one side, kernel-specific
  assert.equal(compareRecordings('heap/x', ['a', 'b'], ['a', 'extra', 'b'], list, 'built').status, 'listed');
  const stock = compareRecordings('heap/x', ['a', 'b'], ['a', 'extra', 'b'], list, 'stock');
  assert.equal(stock.status, 'differs');
  assert.match(stock.diff, /^ {2}\+ extra$/m);
  // an inserted line does not shift the rest
  const shifted = compareRecordings('p', ['1', '2', '3', '4'], ['1', 'new', '2', '3', '4'], []);
  assert.equal(shifted.differences.length, 1);
  assert.deepEqual([shifted.differences[0].emulator, shifted.differences[0].linux], [null, 'new']);
});

test("the repository's docs/linux-differences.md parses", () => {
  const list = loadAllowList();
  for (const a of list) assert.ok(a.title, `${a.id} sits under a heading`);
});
