// A writer of "newc" cpio archives, the format the kernel unpacks into its
// initramfs. Written here rather than driven through cpio(1) so that host
// paths map to any guest path (the project lands in /project without a
// staging copy), every entry is owned by root, and device nodes need no mknod.
import { closeSync, lstatSync, openSync, readdirSync, readFileSync, readlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
const S_IFCHR = 0o020000;

export class CpioWriter {
  #fd;
  #ino = 1;
  #offset = 0;
  #seen = new Set();

  constructor(path) {
    this.#fd = openSync(path, 'w');
  }

  #write(buf) {
    let done = 0;
    while (done < buf.length) done += writeSync(this.#fd, buf, done, buf.length - done);
    this.#offset += buf.length;
  }

  #pad() {
    const n = (4 - (this.#offset % 4)) % 4;
    if (n) this.#write(Buffer.alloc(n));
  }

  #entry(name, mode, data, rdev = [0, 0]) {
    name = name.replace(/^\/+/, '');
    const nameBuf = Buffer.from(`${name}\0`);
    const hex = (n) => n.toString(16).padStart(8, '0');
    const fields = [this.#ino++, mode, 0, 0, 1, 0, data.length, 0, 0, rdev[0], rdev[1], nameBuf.length, 0];
    this.#write(Buffer.from(`070701${fields.map(hex).join('')}`, 'ascii'));
    this.#write(nameBuf);
    this.#pad();
    if (data.length) {
      this.#write(data);
      this.#pad();
    }
  }

  /** A directory, and its parents when not written yet (the kernel needs a parent before its children). */
  dir(path, perm = 0o755) {
    path = path.replace(/^\/+|\/+$/g, '');
    if (!path || this.#seen.has(path)) return;
    const parent = path.includes('/') ? path.slice(0, path.lastIndexOf('/')) : '';
    if (parent) this.dir(parent);
    this.#seen.add(path);
    this.#entry(path, S_IFDIR | perm, Buffer.alloc(0));
  }

  #parent(path) {
    const p = path.replace(/^\/+/, '');
    if (p.includes('/')) this.dir(p.slice(0, p.lastIndexOf('/')));
  }

  /** A regular file from a Buffer or a host path. */
  file(path, data, perm = 0o644) {
    this.#parent(path);
    this.#entry(path, S_IFREG | perm, typeof data === 'string' ? readFileSync(data) : data);
  }

  symlink(path, target) {
    this.#parent(path);
    this.#entry(path, S_IFLNK | 0o777, Buffer.from(target));
  }

  chardev(path, major, minor, perm = 0o600) {
    this.#parent(path);
    this.#entry(path, S_IFCHR | perm, Buffer.alloc(0), [major, minor]);
  }

  /** A host directory tree under `path`, keeping symlinks as symlinks; `skip(relPath)` leaves entries out. */
  tree(path, hostDir, skip = () => false, rel = '') {
    this.dir(path);
    for (const name of readdirSync(join(hostDir, rel)).sort()) {
      const r = rel ? `${rel}/${name}` : name;
      if (skip(r)) continue;
      const host = join(hostDir, r);
      const st = lstatSync(host);
      const dest = `${path}/${r}`;
      if (st.isSymbolicLink()) this.symlink(dest, readlinkSync(host));
      else if (st.isDirectory()) {
        this.dir(dest, st.mode & 0o777);
        this.tree(path, hostDir, skip, r);
      }
      else if (st.isFile()) this.file(dest, host, st.mode & 0o777);
    }
  }

  close() {
    this.#entry('TRAILER!!!', 0, Buffer.alloc(0));
    this.#pad();
    closeSync(this.#fd);
  }
}
