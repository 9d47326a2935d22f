// The consumer, in a worker thread: a process of its own. It receives the
// ramexp buffer, imports it into vgem (DRM PRIME, as a display or GPU
// driver would: vgem attaches and maps it for its device), and reads it
// through a mapping of the dma-buf itself (Linux does not map an imported
// GEM object through the importer: MODE_MAP_DUMB of one is EINVAL).
import { attach } from 'dmabuf';
import * as u from 'dmabuf/uapi';
import { parentPort, workerData } from 'node:worker_threads';

const proc = attach(workerData.handle);

/** The vgem node, found by its driver name as real programs do (DRM_IOCTL_VERSION), never by assuming card0. */
function openVgem() {
  for (const name of proc.readdir('/dev/dri')) {
    const fd = proc.open(`/dev/dri/${name}`, u.O_RDWR | u.O_CLOEXEC);
    const room = 16;
    const v = u.drm_version.encode({ name_len: BigInt(room), name: BigInt(u.drm_version.size) }, room);
    proc.ioctl(fd, u.DRM_IOCTL_VERSION, v);
    if (u.cstr(v.subarray(u.drm_version.size)) === 'vgem') return fd;
    proc.close(fd);
  }
  throw new Error('no vgem device');
}

const { token, length } = await new Promise((resolve) => parentPort.once('message', resolve));
const buf = proc.receiveFd(token, u.O_CLOEXEC);
const card = openVgem();
const prime = u.drm_prime_handle.encode({ fd: buf });
proc.ioctl(card, u.DRM_IOCTL_PRIME_FD_TO_HANDLE, prime);
const handle = u.drm_prime_handle.decode(prime).handle;
// What vgem sees of the import: an object of the buffer's size.
const map = u.drm_mode_map_dumb.encode({ handle });
let mapDumb = 'ok';
try { proc.ioctl(card, u.DRM_IOCTL_MODE_MAP_DUMB, map); } catch (e) { mapDumb = e.code; }
const view = proc.mmap(length, u.PROT_READ, u.MAP_SHARED, buf, 0);
const text = new TextDecoder().decode(view.subarray(0, view.indexOf(0)));
proc.munmap(view);
proc.ioctl(card, u.DRM_IOCTL_GEM_CLOSE, u.drm_gem_close.encode({ handle }));
proc.close(card);
proc.close(buf);
proc.exit();
parentPort.postMessage(`${text} (MODE_MAP_DUMB of the import: ${mapDumb})`);
