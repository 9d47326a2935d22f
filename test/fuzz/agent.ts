/**
 * One fuzzed process, in its own worker thread: it runs a stream of
 * operations drawn from fast-check arbitraries (seeded, so a run can be
 * replayed), tracking what it holds so that most calls hit live objects,
 * and checks every failure against the errnos Linux allows for the call.
 */
import { parentPort, receiveMessageOnPort, workerData, type MessagePort } from 'node:worker_threads';
import { writeSync } from 'node:fs';
import fc from 'fast-check';
import { attach } from '../../src/machine/process.js';
import type { ProcessHandle } from '../../src/machine/protocol.js';
import * as u from '../../src/uapi/index.js';
import { ALLOWED, opArb, PATHS, type Op } from './ops.js';

export interface AgentData {
  handle: ProcessHandle;
  seed: number;
  /** operations to make at most */
  budget: number;
  /** Int32: [0] stop flag, [1 + slot] this agent's progress, [64..] live pids */
  shared: SharedArrayBuffer;
  slot: number;
  tokens: MessagePort;
}

export interface AgentReport {
  syscalls: number;
  errnos: Record<string, number>;
  findings: string[];
  exited: 'budget' | 'stop' | 'exit-op';
}

const PIDS = 64;

/** A u64 field from a generated number: negatives wrap as C's conversion does. */
const u64 = (n: number): bigint => BigInt.asUintN(64, BigInt(n));

/** A char[32] from a generated name: its UTF-8, cut to 31 bytes. */
const name31 = (s: string): Uint8Array => new TextEncoder().encode(s).subarray(0, 31);

/** struct drm_version with `room` bytes for each of name, date and desc, right after it. */
function drmVersionWithRoom(room: number): Uint8Array {
  const at = u.drm_version.size;
  return u.drm_version.encode({ name_len: room, name: at, date_len: room, date: at + room, desc_len: room, desc: at + 2 * room }, 3 * room);
}
/** DMABUF_FUZZ_TRACE=1: every operation on stderr before it runs (to find the one that hangs or crashes) */
const TRACE = Boolean(process.env.DMABUF_FUZZ_TRACE);

function run(d: AgentData): AgentReport {
  const proc = attach(d.handle);
  const sh = new Int32Array(d.shared);
  const report: AgentReport = { syscalls: 0, errnos: {}, findings: [], exited: 'budget' };
  const held = { heap: [] as number[], buf: [] as number[], sync: [] as number[], tl: [] as number[], memfd: [] as number[], udev: [] as number[], drm: [] as number[], any: [] as number[] };
  const maps: Uint8Array[] = [];
  const tokens: string[] = [];
  const handles: number[] = [];
  const at = <T>(xs: T[], i: number): T | undefined => (xs.length ? xs[i % xs.length] : undefined);
  const fdOf = (xs: number[], i: number): number => at(xs, i) ?? i - 8; // sometimes a number it does not hold, or negative
  // A blocking read of a DRM file waits for its events (drm_read); vgem sends none, so it would wait until a
  // signal: such a read is not made (with O_NONBLOCK it is, and is EAGAIN).
  const waitsForever = (fd: number): boolean => {
    try {
      const st = proc.fstat(fd);
      return (st.st_mode & u.S_IFMT) === u.S_IFCHR && Number(st.st_rdev >> 8n) === 226 && !(proc.fcntl(fd, u.F_GETFL) & u.O_NONBLOCK);
    } catch {
      return false;
    }
  };
  const forget = (fd: number): void => {
    for (const k of Object.keys(held) as (keyof typeof held)[]) {
      const j = held[k].indexOf(fd);
      if (j >= 0) held[k].splice(j, 1);
    }
  };
  const keep = (kind: keyof typeof held, fd: number): void => {
    held[kind].push(fd);
    held.any.push(fd);
  };

  /** One syscall; a failure must be a SyscallError with an errno Linux allows for it. */
  const call = <T>(what: string, fn: () => T): T | undefined => {
    report.syscalls++;
    Atomics.add(sh, 1 + d.slot, 1);
    try {
      return fn();
    } catch (e) {
      const err = e as { name?: string; code?: string; syscall?: string; message?: string };
      if (err.name !== 'SyscallError') {
        report.findings.push(`${what}: threw ${err.name}: ${err.message}`);
        return undefined;
      }
      const key = `${err.syscall}:${err.code}`;
      report.errnos[key] = (report.errnos[key] ?? 0) + 1;
      if (!ALLOWED[err.syscall!]?.has(err.code!)) report.findings.push(`${what}: ${err.syscall} failed with ${err.code}, which Linux does not return there`);
      return undefined;
    }
  };

  /** The struct bytes for an ioctl: valid, edge (high bytes set), noise of the right size, or of a wrong size. */
  const shape = (v: string, valid: Uint8Array, noise: Uint8Array): Uint8Array => {
    if (v === 'valid') return valid;
    if (v === 'edge') {
      const b = valid.slice();
      for (let i = 0; i < Math.min(8, b.length); i++) b[i] = 0xff;
      return b;
    }
    if (v === 'random') {
      const b = new Uint8Array(valid.length);
      b.set(noise.subarray(0, b.length));
      return b;
    }
    return noise.slice();
  };

  const exec = (o: Op): boolean => {
    switch (o.op) {
      case 'open': {
        const path = PATHS[o.path];
        const fd = call(`open ${path}`, () => proc.open(path, o.flags));
        if (fd !== undefined) {
          const kind = path.startsWith('/dev/dma_heap') ? 'heap' : path === '/dev/udmabuf' ? 'udev' : path === '/dev/dri/card0' ? 'drm' : path.endsWith('sw_sync') ? 'tl' : 'any';
          if (kind === 'any') held.any.push(fd);
          else keep(kind, fd);
        }
        break;
      }
      case 'close': {
        const fd = o.raw ? o.fd - 4 : fdOf(held.any, o.fd);
        call('close', () => proc.close(fd));
        forget(fd); // closed, or never ours
        break;
      }
      case 'dup': {
        const fd = call('dup', () => proc.dup(fdOf(held.any, o.fd)));
        if (fd !== undefined) held.any.push(fd);
        break;
      }
      case 'heapAlloc': {
        const heap = fdOf(held.heap, o.heap);
        const valid = u.dma_heap_allocation_data.encode({ len: o.len >= 0 && o.len <= 2 ** 22 ? o.len : o.len & 0xfffff, fd_flags: o.fdFlags & 1 ? u.O_RDWR | u.O_CLOEXEC : o.fdFlags, heap_flags: o.heapFlags & 1 ? 0 : o.heapFlags });
        const arg = shape(o.v, valid, o.noise);
        if (call('DMA_HEAP_IOCTL_ALLOC', () => proc.ioctl(heap, u.DMA_HEAP_IOCTL_ALLOC, arg)) !== undefined && arg.length >= 24) keep('buf', u.dma_heap_allocation_data.get(arg, 'fd'));
        break;
      }
      case 'memfd': {
        const fd = call('memfd_create', () => proc.memfdCreate('fuzz', o.flags));
        if (fd === undefined) break;
        keep('memfd', fd);
        call('ftruncate', () => proc.ftruncate(fd, o.size));
        call('F_ADD_SEALS', () => proc.fcntl(fd, u.F_ADD_SEALS, o.seals));
        break;
      }
      case 'udmabuf': {
        const dev = fdOf(held.udev, o.memfd);
        const memfd = fdOf(held.memfd, o.memfd) >>> 0; // a __u32 field: a negative fd wraps, as in C
        let arg: Uint8Array;
        let req: number;
        if (o.list === 0) {
          req = u.UDMABUF_CREATE;
          arg = shape(o.v, u.udmabuf_create.encode({ memfd, flags: o.flags, offset: o.offset, size: u64(o.size) }), o.noise);
        } else {
          req = u.UDMABUF_CREATE_LIST;
          const items = Array.from({ length: o.list }, (_, i) => ({ memfd, offset: (o.offset + i * 4096) >>> 0, size: u64(o.size) }));
          arg = shape(o.v, u.udmabuf_create_list.encode({ flags: o.flags, list: items }), o.noise);
        }
        const fd = call('UDMABUF_CREATE', () => proc.ioctl(dev, req, arg));
        if (fd !== undefined) keep('buf', fd);
        break;
      }
      case 'bufIoctl': {
        const buf = fdOf(held.buf, o.buf);
        switch (o.which) {
          case 0: { // SYNC: only non-blocking-safe flags half the time (a START may wait for another process's fence)
            const flags = o.flags & 1 ? u.DMA_BUF_SYNC_END | u.DMA_BUF_SYNC_RW : o.flags;
            call('DMA_BUF_IOCTL_SYNC', () => proc.ioctl(buf, u.DMA_BUF_IOCTL_SYNC, shape(o.v, u.dma_buf_sync.encode({ flags }), o.noise)));
            break;
          }
          case 1:
            call('DMA_BUF_SET_NAME_B', () => proc.ioctl(buf, u.DMA_BUF_SET_NAME_B, shape(o.v, new TextEncoder().encode(`${o.name}\0`), o.noise)));
            break;
          case 2: {
            const arg = shape(o.v, u.dma_buf_export_sync_file.encode({ flags: o.flags & 3 || 1, fd: -1 }), o.noise);
            if (call('EXPORT_SYNC_FILE', () => proc.ioctl(buf, u.DMA_BUF_IOCTL_EXPORT_SYNC_FILE, arg)) !== undefined) keep('sync', u.dma_buf_export_sync_file.get(arg, 'fd'));
            break;
          }
          case 3:
            call('IMPORT_SYNC_FILE', () => proc.ioctl(buf, u.DMA_BUF_IOCTL_IMPORT_SYNC_FILE, shape(o.v, u.dma_buf_import_sync_file.encode({ flags: o.flags & 3 || 2, fd: fdOf(held.sync, o.fd) }), o.noise)));
            break;
          case 4:
            call('DMA_BUF_SET_NAME_A', () => proc.ioctl(buf, u.DMA_BUF_SET_NAME_A, o.flags & 1 ? 0 : new TextEncoder().encode(`${o.name}\0`)));
            break;
          default:
            call('readFile fdinfo', () => proc.readFile(`/proc/self/fdinfo/${buf}`));
        }
        break;
      }
      case 'syncIoctl': {
        const sf = fdOf(held.sync, o.sync);
        if (o.which === 0) {
          const arg = shape(o.v, u.sync_merge_data.encode({ name: name31(o.name), fd2: fdOf(held.sync, o.other) }), o.noise);
          if (call('SYNC_IOC_MERGE', () => proc.ioctl(sf, u.SYNC_IOC_MERGE, arg)) !== undefined && arg.length >= 48) keep('sync', u.sync_merge_data.get(arg, 'fence'));
        } else if (o.which === 1) {
          const valid = u.sync_file_info.encode({ num_fences: o.num & 0xff ? o.num % 5 : o.num, sync_fence_info: o.ptr }, 4 * u.sync_fence_info.size);
          call('SYNC_IOC_FILE_INFO', () => proc.ioctl(sf, u.SYNC_IOC_FILE_INFO, shape(o.v, valid, o.noise)));
        } else {
          call('SYNC_IOC_SET_DEADLINE', () => proc.ioctl(sf, u.SYNC_IOC_SET_DEADLINE, shape(o.v, u.sync_set_deadline.encode({ deadline_ns: o.deadline }), o.noise)));
        }
        break;
      }
      case 'timeline': {
        const tl = fdOf(held.tl, o.tl);
        if (o.which === 0) {
          const arg = shape(o.v, u.sw_sync_create_fence_data.encode({ value: o.value, name: name31(o.name) }), o.noise);
          if (call('SW_SYNC_IOC_CREATE_FENCE', () => proc.ioctl(tl, u.SW_SYNC_IOC_CREATE_FENCE, arg)) !== undefined && arg.length >= 40) keep('sync', u.sw_sync_create_fence_data.get(arg, 'fence'));
        } else {
          call('SW_SYNC_IOC_INC', () => proc.ioctl(tl, u.SW_SYNC_IOC_INC, shape(o.v, u.__u32.encode(o.value & 7), o.noise)));
        }
        break;
      }
      case 'mmap': {
        const fd = o.fd % 3 === 0 ? fdOf(held.any, o.fd) : fdOf(held.buf, o.fd);
        const len = o.len > 0 && o.len <= 2 ** 22 ? o.len : o.len === -1 ? -1 : o.len % (2 ** 22);
        const view = call('mmap', () => proc.mmap(len, o.prot, o.flags, fd, o.offset));
        if (view) {
          // Touch it the way its protection allows (a view has no protection of its own here: read, and write if PROT_WRITE).
          if (view.length) {
            const i = o.touch % view.length;
            void view[i];
            if (o.prot & u.PROT_WRITE) view[i] = 0x5a;
          }
          maps.push(view);
        }
        break;
      }
      case 'munmap': {
        const v = at(maps, o.map);
        if (v) {
          maps.splice(maps.indexOf(v), 1);
          call('munmap', () => proc.munmap(v));
        } else call('munmap', () => proc.munmap(new Uint8Array(8)));
        break;
      }
      case 'lseek':
        call('lseek', () => proc.lseek(fdOf(held.any, o.fd), o.offset, o.whence));
        break;
      case 'poll': {
        const fds = o.fds.map((i) => ({ fd: fdOf(held.any, i), events: o.events, revents: 0 }));
        call('poll', () => proc.poll(fds, o.timeout));
        break;
      }
      case 'readWrite':
        if (o.write) call('write', () => proc.write(fdOf(held.any, o.fd), o.data));
        else if (!waitsForever(fdOf(held.any, o.fd))) call('read', () => proc.read(fdOf(held.any, o.fd), o.len));
        break;
      case 'readFile': {
        const path = ['/sys/kernel/debug/dma_buf/bufinfo', `/proc/self/fdinfo/${fdOf(held.any, o.fd)}`, '/sys/kernel/debug/sync/info', `/sys/kernel/dmabuf/buffers/${o.fd}/size`][o.which];
        call('readFile', () => proc.readFile(path));
        break;
      }
      case 'send': {
        const n = Math.max(1, Math.min(PIDS, Atomics.load(sh, 1 + 64)));
        const to = Atomics.load(sh, 1 + 64 + 1 + (o.to % n)) || o.to;
        const fd = o.fd % 2 ? fdOf(held.buf, o.fd) : fdOf(held.sync, o.fd);
        const token = call('sendFd', () => proc.sendFd(fd, to));
        if (token) parentPort!.postMessage({ token, to });
        break;
      }
      case 'receive': {
        const token = o.forged ? `forged-${o.token}` : tokens.splice(o.token % Math.max(1, tokens.length), 1)[0] ?? `none-${o.token}`;
        const fd = call('receiveFd', () => proc.receiveFd(token, o.flags));
        if (fd !== undefined) keep(o.token % 2 ? 'buf' : 'sync', fd); // a guess: the kind only steers later picks
        break;
      }
      case 'drm': {
        const drm = fdOf(held.drm, o.handle);
        const h = at(handles, o.handle) ?? o.handle;
        switch (o.which) {
          case 0: {
            const arg = shape(o.v, u.drm_mode_create_dumb.encode({ width: o.w, height: o.h, bpp: o.bpp }), o.noise);
            if (call('MODE_CREATE_DUMB', () => proc.ioctl(drm, u.DRM_IOCTL_MODE_CREATE_DUMB, arg)) !== undefined && arg.length >= 32) handles.push(u.drm_mode_create_dumb.get(arg, 'handle'));
            break;
          }
          case 1: {
            const arg = shape(o.v, u.drm_prime_handle.encode({ handle: h, flags: o.w & 1 ? u.O_RDWR | u.O_CLOEXEC : o.w }), o.noise);
            if (call('PRIME_HANDLE_TO_FD', () => proc.ioctl(drm, u.DRM_IOCTL_PRIME_HANDLE_TO_FD, arg)) !== undefined && arg.length >= 12) keep('buf', u.drm_prime_handle.get(arg, 'fd'));
            break;
          }
          case 2: {
            const arg = shape(o.v, u.drm_prime_handle.encode({ fd: fdOf(held.buf, o.fd) }), o.noise);
            if (call('PRIME_FD_TO_HANDLE', () => proc.ioctl(drm, u.DRM_IOCTL_PRIME_FD_TO_HANDLE, arg)) !== undefined && arg.length >= 12) handles.push(u.drm_prime_handle.get(arg, 'handle'));
            break;
          }
          case 3: {
            const arg = shape(o.v, u.drm_mode_map_dumb.encode({ handle: h }), o.noise);
            if (call('MODE_MAP_DUMB', () => proc.ioctl(drm, u.DRM_IOCTL_MODE_MAP_DUMB, arg)) !== undefined && arg.length >= 16) {
              const view = call('mmap drm', () => proc.mmap((o.w % 16) * 4096 || 4096, u.PROT_READ | u.PROT_WRITE, u.MAP_SHARED, drm, u.drm_mode_map_dumb.get(arg, 'offset')));
              if (view) maps.push(view);
            }
            break;
          }
          case 4:
            call('GEM_CLOSE', () => proc.ioctl(drm, u.DRM_IOCTL_GEM_CLOSE, shape(o.v, u.drm_gem_close.encode({ handle: h }), o.noise)));
            if (o.v === 'valid') handles.splice(handles.indexOf(h), handles.includes(h) ? 1 : 0);
            break;
          default:
            call('DRM_IOCTL_VERSION', () => proc.ioctl(drm, u.DRM_IOCTL_VERSION, shape(o.v, drmVersionWithRoom(16), o.noise)));
        }
        break;
      }
      case 'rawIoctl':
        call(`ioctl 0x${o.request.toString(16)}`, () => proc.ioctl(fdOf(held.any, o.fd), o.request, o.arg instanceof Uint8Array ? o.arg.slice() : o.arg));
        break;
      case 'fcntl':
        call('fcntl', () => proc.fcntl(fdOf(held.any, o.fd), o.cmd, o.arg));
        break;
      case 'exit':
        return false;
    }
    return true;
  };

  let seed = d.seed;
  let done = 0;
  outer: while (done < d.budget) {
    const batch = fc.sample(opArb, { seed: seed++, numRuns: 200 });
    for (const o of batch) {
      if (Atomics.load(sh, 0)) {
        report.exited = 'stop';
        break outer;
      }
      if ((done & 15) === 0) for (let m = receiveMessageOnPort(d.tokens); m; m = receiveMessageOnPort(d.tokens)) tokens.push(m.message as string);
      if (TRACE) writeSync(2, `[agent ${d.slot}] ${JSON.stringify(o, (_k, v) => (v instanceof Uint8Array ? `bytes(${v.length})` : v))}\n`);
      if (!exec(o)) {
        report.exited = 'exit-op';
        break outer;
      }
      done++;
      if (done >= d.budget) break;
    }
  }
  proc.exit();
  return report;
}

if (parentPort && workerData?.handle) {
  const report = run(workerData as AgentData);
  parentPort.postMessage({ report });
}
