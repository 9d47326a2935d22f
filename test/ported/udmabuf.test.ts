/**
 * Port of tools/testing/selftests/drivers/dma-buf/udmabuf.c: test-1 to
 * test-4 against /dev/udmabuf, as a process of a machine, through the real
 * ioctl bytes; then the data check newer versions of the file make (the
 * udmabuf mapping sees what was written through the memfd).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Process } from '../../src/index.js';
import * as u from '../../src/uapi/index.js';
import { backendSkip, sys, useProcess } from '../helpers/machine.js';

const NUM_PAGES = 4;
const PAGE = 4096;
let proc: Process;

useProcess('udmabuf', (_machine, p) => {
  proc = p;
});

/** ioctl() returning -errno instead of throwing, as the C code sees it */
const ioctl = (fd: number, req: number, arg: Uint8Array): number => sys(() => proc.ioctl(fd, req, arg));

test('drivers/dma-buf/udmabuf', { skip: backendSkip }, () => {
  const devfd = proc.open('/dev/udmabuf', u.O_RDWR);
  const memfd = proc.memfdCreate('udmabuf-test', u.MFD_ALLOW_SEALING);
  assert.equal(proc.fcntl(memfd, u.F_ADD_SEALS, u.F_SEAL_SHRINK), 0, '[skip,fcntl-add-seals]');
  const size = PAGE * NUM_PAGES;
  proc.ftruncate(memfd, size);

  // should fail (offset not page aligned)
  let buf = ioctl(devfd, u.UDMABUF_CREATE, u.udmabuf_create.encode({ memfd, offset: PAGE / 2, size: PAGE }));
  assert.ok(buf < 0, '[FAIL,test-1]');
  assert.equal(buf, -22);

  // should fail (size not multiple of page)
  buf = ioctl(devfd, u.UDMABUF_CREATE, u.udmabuf_create.encode({ memfd, offset: 0, size: PAGE / 2 }));
  assert.ok(buf < 0, '[FAIL,test-2]');
  assert.equal(buf, -22);

  // should fail (not memfd)
  buf = ioctl(devfd, u.UDMABUF_CREATE, u.udmabuf_create.encode({ memfd: 0, offset: 0, size }));
  assert.ok(buf < 0, '[FAIL,test-3]');
  assert.equal(buf, -77, '-EBADFD: stdin is not a memfd');

  // should work
  buf = ioctl(devfd, u.UDMABUF_CREATE, u.udmabuf_create.encode({ memfd, offset: 0, size }));
  assert.ok(buf >= 0, '[FAIL,test-4]');

  // The buffer is the memfd's memory.
  const mem = proc.mmap(size, u.PROT_READ | u.PROT_WRITE, u.MAP_SHARED, memfd, 0);
  const dmabuf = proc.mmap(size, u.PROT_READ | u.PROT_WRITE, u.MAP_SHARED, buf, 0);
  for (let i = 0; i < size; i += 997) mem[i] = i & 0xff;
  for (let i = 0; i < size; i += 997) assert.equal(dmabuf[i], i & 0xff);
  proc.munmap(mem);
  proc.munmap(dmabuf);

  // UDMABUF_CREATE_LIST of two ranges; an over-long list is -EINVAL.
  const list = u.udmabuf_create_list.encode({ flags: u.UDMABUF_FLAGS_CLOEXEC, list: [{ memfd, offset: 0, size: PAGE }, { memfd, offset: 2 * PAGE, size: 2 * PAGE }] });
  const lbuf = ioctl(devfd, u.UDMABUF_CREATE_LIST, list);
  assert.ok(lbuf >= 0);
  assert.equal(proc.lseek(lbuf, 0, u.SEEK_END), 3 * PAGE);
  assert.equal(proc.fcntl(lbuf, u.F_GETFD), u.FD_CLOEXEC);
  const tooMany = u.udmabuf_create_list.encode({ count: 1025 });
  assert.equal(ioctl(devfd, u.UDMABUF_CREATE_LIST, tooMany), -22);
  assert.equal(ioctl(devfd, 0x12345678, new Uint8Array(8)), -25, 'unknown ioctl: -ENOTTY');

  proc.close(lbuf);
  proc.close(buf);
  proc.close(memfd);
  proc.close(devfd);
});
