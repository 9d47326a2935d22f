/**
 * Finding the vgem device as a real program does: DRM_IOCTL_VERSION on
 * every /dev/dri node, by driver name, never assuming card0. The search
 * logic is checked here against a stand-in process; the real device is
 * asked for when the host has one (a VM with vgem loaded), and the test
 * says why it skips otherwise.
 */
import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import * as u from '../../src/uapi/index.js';
import { drmNodes, drmVersion, findDrmDevice, type DrmProber } from '../../src/user/drm.js';
import type { NativeMachine } from '../../src/native/machine.js';
import { nativeSkip, useNativeMachine } from '../helpers/native.js';

/** A stand-in for a process: nodes named after drivers, answering DRM_IOCTL_VERSION as the kernel does (lengths, then strings). */
function fakeDri(nodes: Record<string, string | null>): DrmProber & { opened: string[]; closed: number } {
  const byFd = new Map<number, string>();
  let next = 10;
  const state = {
    opened: [] as string[],
    closed: 0,
    readdir: (path: string) => {
      assert.equal(path, '/dev/dri');
      return [...Object.keys(nodes), 'by-path'];
    },
    open: (path: string) => {
      const name = path.replace('/dev/dri/', '');
      state.opened.push(name);
      if (nodes[name] === null) throw Object.assign(new Error('EACCES'), { code: 'EACCES' });
      byFd.set(next, name);
      return next++;
    },
    close: () => void state.closed++,
    ioctl: (fd: number, request: number, arg?: Uint8Array | number) => {
      assert.equal(request, u.DRM_IOCTL_VERSION);
      const b = arg as Uint8Array;
      const v = new DataView(b.buffer, b.byteOffset);
      const strings = [nodes[byFd.get(fd)!]!, '20190101', `${nodes[byFd.get(fd)!]} driver`];
      v.setInt32(0, 1, true);
      strings.forEach((s, i) => {
        const room = Number(v.getBigUint64(16 + i * 16, true));
        const at = Number(v.getBigUint64(24 + i * 16, true));
        if (at) b.set(new TextEncoder().encode(s).subarray(0, room), at);
        v.setBigUint64(16 + i * 16, BigInt(s.length), true);
      });
      return 0;
    },
  };
  return state;
}

describe('DRM device lookup by driver name', () => {
  test('every node is asked, render nodes first, in numeric order; card0 is not assumed', () => {
    const dri = fakeDri({ card0: 'i915', card1: 'vgem', renderD128: 'i915', renderD129: 'vgem', card10: 'amdgpu' });
    assert.deepEqual(drmNodes(dri), ['/dev/dri/renderD128', '/dev/dri/renderD129', '/dev/dri/card0', '/dev/dri/card1', '/dev/dri/card10']);
    const found = findDrmDevice(dri, 'vgem');
    assert.deepEqual(found, { path: '/dev/dri/renderD129', version: { major: 1, minor: 0, patchlevel: 0, name: 'vgem', date: '20190101', desc: 'vgem driver' } });
    assert.deepEqual(dri.opened, ['renderD128', 'renderD129']);
    assert.equal(dri.closed, 2, 'every probe fd is closed');
    assert.equal(findDrmDevice(dri, 'nouveau'), null);
  });

  test('nodes that cannot be opened are passed over', () => {
    const dri = fakeDri({ card0: null, card1: 'vgem' });
    assert.equal(findDrmDevice(dri, 'vgem')?.path, '/dev/dri/card1');
  });
});

const noDri = !existsSync('/dev/dri') || readdirSync('/dev/dri').length === 0
  ? 'this host has no DRM device (/dev/dri is absent or empty): run in a VM with vgem loaded'
  : false;

describe('DRM on the host kernel', { skip: nativeSkip || noDri }, () => {
  const machineOf = useNativeMachine();
  let machine: NativeMachine;
  before(async () => {
    machine = await machineOf();
  });

  test('the vgem node answers DRM_IOCTL_VERSION through relocated pointers', (t) => {
    const p = machine.spawn();
    try {
      const found = findDrmDevice(p, 'vgem');
      if (!found) {
        t.skip('no vgem among the DRM devices here');
        return;
      }
      assert.equal(found.version.name, 'vgem');
      const fd = p.open(found.path, u.O_RDWR | u.O_CLOEXEC);
      assert.deepEqual(drmVersion(p, fd), found.version);
      p.close(fd);
    } finally {
      p.exit();
    }
  });
});
