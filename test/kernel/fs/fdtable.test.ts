/**
 * The file descriptor table's number allocation (fs/file.c
 * alloc_fd/get_unused_fd_flags, f_dupfd): the lowest free number always,
 * whatever order descriptors were closed in, and numbers left free by
 * F_DUPFD above the end taken again; RLIMIT_NOFILE bounds it.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import '../../helpers/harness.js';
import { FdTable } from '../../../src/kernel/fs/fdtable.js';
import { devNullOpen } from '../../../src/kernel/fs/mem.js';
import { EMFILE } from '../../../src/kernel/lib/errno.js';
import { O_RDONLY } from '../../../src/uapi/fcntl.js';

function open(t: FdTable): number {
  const fd = t.getUnusedFdFlags(0);
  if (fd >= 0) t.fdInstall(fd, devNullOpen(O_RDONLY));
  return fd;
}

/** The lowest number not in `open`, the reference answer. */
function lowest(openFds: Set<number>): number {
  let n = 0;
  while (openFds.has(n)) n++;
  return n;
}

describe('fd numbers', () => {
  test('each open gets the lowest free number, after closes in any order', () => {
    const t = new FdTable(4096);
    const live = new Set<number>();
    let seed = 12345;
    const rand = (n: number): number => ((seed = (seed * 1103515245 + 12345) >>> 0) % n);
    for (let i = 0; i < 3000; i++) {
      if (live.size && rand(3) === 0) {
        const fds = [...live];
        const fd = fds[rand(fds.length)];
        assert.equal(t.close(fd), 0);
        live.delete(fd);
      } else {
        const want = lowest(live);
        assert.equal(open(t), want);
        live.add(want);
      }
    }
    assert.deepEqual(t.openFds(), [...live].sort((a, b) => a - b));
    t.closeAll();
    assert.equal(open(t), 0, 'a table emptied by exit starts again at 0');
    t.closeAll();
  });

  test('a reserved number that is given back is free again (put_unused_fd)', () => {
    const t = new FdTable();
    assert.equal(open(t), 0);
    const fd = t.getUnusedFdFlags(0);
    assert.equal(fd, 1);
    t.putUnusedFd(fd);
    assert.equal(open(t), 1);
    t.closeAll();
  });

  test('F_DUPFD above the end leaves the numbers below it free, and opens take them', () => {
    const t = new FdTable();
    assert.equal(open(t), 0);
    assert.equal(t.dup(0, 5), 5);
    assert.deepEqual([open(t), open(t), open(t), open(t), open(t)], [1, 2, 3, 4, 6]);
    assert.equal(t.close(2), 0);
    assert.equal(t.dup(0, 1), 2, 'F_DUPFD takes the lowest free number at or above its minimum');
    assert.equal(open(t), 7, 'the number dup took is not handed out twice');
    t.closeAll();
  });

  test('RLIMIT_NOFILE: no number at or above the soft limit (EMFILE); a close below it makes room', () => {
    const t = new FdTable(3);
    assert.deepEqual([open(t), open(t), open(t)], [0, 1, 2]);
    assert.equal(open(t), -EMFILE);
    assert.equal(t.close(1), 0);
    assert.equal(open(t), 1);
    assert.equal(open(t), -EMFILE);
    t.closeAll();
  });
});
