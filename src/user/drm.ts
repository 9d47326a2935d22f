/**
 * Finding a DRM device as a real program does: by its driver's name, asked
 * of every node in /dev/dri with DRM_IOCTL_VERSION, never by assuming a
 * node number (card0 may be another driver, or absent). struct drm_version
 * carries three user pointers (name, date, desc): the argument holds the
 * struct and its three string buffers, pointers as offsets into it, and the
 * process relocates them (the struct's declaration names the fields).
 * Works with a process of either backend.
 */
import { O_CLOEXEC, O_RDWR } from '../uapi/fcntl.js';
import { DRM_IOCTL_VERSION } from '../uapi/drm.js';
import { ENODEV } from '../uapi/errno.js';
import { DmabufError } from './errors.js';

/** The calls the search needs: a process of either backend has them. */
export interface DrmProber {
  /** open(2) */
  open(path: string, flags?: number, mode?: number): number;
  /** close(2) */
  close(fd: number): void;
  /** ioctl(2) */
  ioctl(fd: number, request: number, arg?: Uint8Array | number): number;
  /** the names in a directory (getdents64) */
  readdir(path: string): string[];
}

/** struct drm_version, its strings decoded: what DRM_IOCTL_VERSION says of a driver. */
export interface DrmVersion {
  /** the driver's major version */
  major: number;
  /** the driver's minor version */
  minor: number;
  /** the driver's patch level */
  patchlevel: number;
  /** the driver's name ('vgem', 'i915', 'amdgpu'): what to look a device up by */
  name: string;
  /** the driver's date string (Linux 6.14 and later leave it empty) */
  date: string;
  /** the driver's description */
  desc: string;
}

/** A DRM node and the driver behind it ({@link findDrmDevice}). */
export interface DrmDevice {
  /** the node's path, /dev/dri/cardN or /dev/dri/renderDN */
  path: string;
  version: DrmVersion;
}

// struct drm_version: int major, minor, patchlevel; then (size_t len, char *ptr) for name, date, desc
const SIZEOF_DRM_VERSION = 64;
const LEN_AT = [16, 32, 48];
const PTR_AT = [24, 40, 56];

/**
 * DRM_IOCTL_VERSION on `fd`: once for the lengths, once more with room for the strings.
 *
 * @example
 * ```ts
 * const fd = openDrmDevice(proc, 'vgem');
 * const v = drmVersion(proc, fd);
 * console.log(`${v.name} ${v.major}.${v.minor}.${v.patchlevel}: ${v.desc}`);   // vgem 1.0.0: Virtual GEM provider
 * proc.close(fd);
 * ```
 */
export function drmVersion(proc: Pick<DrmProber, 'ioctl'>, fd: number): DrmVersion {
  const probe = new Uint8Array(SIZEOF_DRM_VERSION);
  proc.ioctl(fd, DRM_IOCTL_VERSION, probe);
  const pv = new DataView(probe.buffer);
  const lens = LEN_AT.map((at) => Number(pv.getBigUint64(at, true)));
  const arg = new Uint8Array(SIZEOF_DRM_VERSION + lens.reduce((a, b) => a + b, 0));
  const v = new DataView(arg.buffer);
  let at = SIZEOF_DRM_VERSION;
  const starts: number[] = [];
  for (let i = 0; i < 3; i++) {
    v.setBigUint64(LEN_AT[i], BigInt(lens[i]), true);
    v.setBigUint64(PTR_AT[i], lens[i] ? BigInt(at) : 0n, true);
    starts.push(at);
    at += lens[i];
  }
  proc.ioctl(fd, DRM_IOCTL_VERSION, arg);
  const dec = new TextDecoder();
  const str = (i: number): string => {
    const len = Math.min(lens[i], Number(v.getBigUint64(LEN_AT[i], true)));
    return dec.decode(arg.subarray(starts[i], starts[i] + len)).replace(/\0.*$/s, '');
  };
  return { major: v.getInt32(0, true), minor: v.getInt32(4, true), patchlevel: v.getInt32(8, true), name: str(0), date: str(1), desc: str(2) };
}

/** Which DRM nodes to look at: render nodes (no DRM master needed; PRIME and rendering only), primary cardN nodes (also dumb buffers and modesetting), or both. */
export type DrmNodeKind = 'render' | 'card' | 'any';

/**
 * The DRM nodes of /dev/dri (render nodes first: they need no DRM master), or [] when there are none.
 *
 * @example
 * ```ts
 * console.log(drmNodes(proc));           // [ '/dev/dri/renderD128', '/dev/dri/card0' ]
 * console.log(drmNodes(proc, 'card'));   // [ '/dev/dri/card0' ]
 * ```
 */
export function drmNodes(proc: Pick<DrmProber, 'readdir'>, kind: DrmNodeKind = 'any'): string[] {
  let names: string[];
  try {
    names = proc.readdir('/dev/dri');
  } catch (e) {
    if ((e as { code?: string }).code === 'ENOENT') return [];
    throw e;
  }
  const num = (s: string): number => Number(/\d+$/.exec(s)![0]);
  const render = names.filter((n) => /^renderD\d+$/.test(n)).sort((a, b) => num(a) - num(b));
  const card = names.filter((n) => /^card\d+$/.test(n)).sort((a, b) => num(a) - num(b));
  return [...(kind === 'card' ? [] : render), ...(kind === 'render' ? [] : card)].map((n) => `/dev/dri/${n}`);
}

/**
 * The first DRM node whose driver is `driver` (e.g. 'vgem'), or null. Nodes
 * that cannot be opened (permissions) or answered are passed over.
 *
 * @example
 * ```ts
 * const dev = findDrmDevice(proc, 'vgem', 'render');
 * if (!dev) throw new Error('no vgem: modprobe vgem');
 * console.log(dev.path, dev.version.desc);   // /dev/dri/renderD128 Virtual GEM provider
 * ```
 */
export function findDrmDevice(proc: DrmProber, driver: string, kind: DrmNodeKind = 'any'): DrmDevice | null {
  for (const path of drmNodes(proc, kind)) {
    let fd: number;
    try {
      fd = proc.open(path, O_RDWR | O_CLOEXEC);
    } catch {
      continue;
    }
    try {
      const version = drmVersion(proc, fd);
      if (version.name === driver) return { path, version };
    } catch {
      // not a DRM node after all, or one that does not answer: go on
    } finally {
      proc.close(fd);
    }
  }
  return null;
}

/**
 * Open the DRM device of `driver` (e.g. 'vgem'): an fd of the first node of
 * `kind` whose DRM_IOCTL_VERSION names it. ENODEV (a SyscallError-shaped
 * error) when there is none.
 *
 * @example
 * ```ts
 * const card = openDrmDevice(proc, 'vgem', 'card'); // dumb buffers need the primary node
 * proc.close(card);
 * ```
 */
export function openDrmDevice(proc: DrmProber, driver: string, kind: DrmNodeKind = 'any'): number {
  const dev = findDrmDevice(proc, driver, kind);
  if (!dev) throw new DmabufError(-ENODEV, `no ${kind === 'any' ? '' : `${kind} `}DRM node of driver '${driver}' in /dev/dri (for vgem: modprobe vgem)`);
  return proc.open(dev.path, O_RDWR | O_CLOEXEC);
}
