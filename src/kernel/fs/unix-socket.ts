/**
 * AF_UNIX stream sockets, the part that passes descriptors (net/unix/
 * af_unix.c, net/core/scm.c): socketpair(2), and sendmsg/recvmsg of one
 * byte with an SCM_RIGHTS message carrying one fd. A message in the queue
 * holds a reference to its file until it is received or the receiving
 * socket is released. A socket cannot be sent over a socket here: Linux
 * allows it and collects the reference cycles that makes (unix_gc); this
 * machine has no such collector, so it refuses (EOPNOTSUPP).
 */
import { EAGAIN, EBADF, EINTR, EOPNOTSUPP, EPIPE } from '../lib/errno.js';
import { ENOTSOCK } from '../../uapi/errno.js';
import { O_CLOEXEC, O_NONBLOCK, O_RDWR } from '../../uapi/fcntl.js';
import { POLLHUP, POLLIN, POLLOUT, POLLRDNORM, POLLWRNORM } from '../../uapi/poll.js';
import { S_IFSOCK } from '../../uapi/stat.js';
import { File, Inode, WaitQueue, fput, getFile, type FileOperations, type PollTable } from './file.js';
import { sockfsSb } from './super.js';
import type { Task } from './task.js';

/** POLLRDHUP (include/uapi/asm-generic/poll.h): the peer shut down its writing side. */
const POLLRDHUP = 0x2000;

/** struct unix_sock, the part this machine has: the receive queue and the peer. */
class UnixSock {
  peer: UnixSock | null = null;
  /** files in flight to this socket, oldest first */
  readonly queue: File[] = [];
  readonly wq = new WaitQueue();
  file!: File;
}

/** Files sent over unix sockets and not yet received (a leak check). */
export const unixInFlight = { files: 0 };

const unixFops: FileOperations = {
  // unix_release(): the peer sees the end of the stream; what was queued here is dropped.
  release(_inode, file): void {
    const sk = file.privateData as UnixSock;
    const peer = sk.peer;
    sk.peer = null;
    if (peer) {
      peer.peer = null;
      peer.wq.wake(POLLIN | POLLRDHUP | POLLHUP);
    }
    for (const f of sk.queue.splice(0)) {
      unixInFlight.files--;
      fput(f);
    }
  },
  // unix_poll(): readable with a message queued or the peer gone; writable while connected.
  poll(file, pt: PollTable | null): number {
    const sk = file.privateData as UnixSock;
    pt?.wait(sk.wq);
    let mask = 0;
    if (sk.queue.length) mask |= POLLIN | POLLRDNORM;
    if (!sk.peer) mask |= POLLIN | POLLRDNORM | POLLRDHUP | POLLHUP;
    else mask |= POLLOUT | POLLWRNORM;
    return mask;
  },
  dname: (file) => `socket:[${file.inode.ino}]`,
};

function sockFile(sk: UnixSock, flags: number): File {
  const inode = new Inode(undefined, sockfsSb);
  inode.mode = S_IFSOCK | 0o777;
  const f = new File(inode, 'socket', O_RDWR | (flags & O_NONBLOCK), unixFops, sk);
  sk.file = f;
  return f;
}

function isUnixSocket(file: File): boolean {
  return file.fOp === unixFops;
}

/** socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC): two connected sockets as two new fds, or -EMFILE. */
export function sysSocketpair(task: Task): bigint[] | number {
  const fd0 = task.files.getUnusedFdFlags(O_CLOEXEC);
  if (fd0 < 0) return fd0;
  const fd1 = task.files.getUnusedFdFlags(O_CLOEXEC);
  if (fd1 < 0) {
    task.files.putUnusedFd(fd0);
    return fd1;
  }
  const a = new UnixSock();
  const b = new UnixSock();
  a.peer = b;
  b.peer = a;
  task.files.fdInstall(fd0, sockFile(a, 0));
  task.files.fdInstall(fd1, sockFile(b, 0));
  return [BigInt(fd0), BigInt(fd1)];
}

/**
 * sendmsg(socket, 1 byte + SCM_RIGHTS [fd]): -EBADF for a bad fd,
 * -ENOTSOCK for a socket that is not one, -EPIPE once the peer is gone.
 */
export function sysSendFdTo(task: Task, socket: number, fd: number): number {
  const sfile = task.files.lookup(socket);
  if (!sfile) return -EBADF;
  if (!isUnixSocket(sfile)) return -ENOTSOCK;
  const file = task.files.lookup(fd);
  if (!file) return -EBADF;
  if (isUnixSocket(file)) return -EOPNOTSUPP;
  const peer = (sfile.privateData as UnixSock).peer;
  if (!peer) return -EPIPE;
  peer.queue.push(getFile(file));
  unixInFlight.files++;
  peer.wq.wake(POLLIN | POLLRDNORM);
  return 0;
}

/**
 * recvmsg(socket) of an SCM_RIGHTS message: the new fd. Waits for one
 * (interruptibly: -EINTR) unless the socket is non-blocking (-EAGAIN);
 * -EPIPE once the peer is gone and nothing is queued.
 */
export async function sysReceiveFdFrom(task: Task, socket: number, flags: number): Promise<number> {
  const sfile = task.files.fget(socket);
  if (!sfile) return -EBADF;
  try {
    if (!isUnixSocket(sfile)) return -ENOTSOCK;
    const sk = sfile.privateData as UnixSock;
    while (!sk.queue.length) {
      if (!sk.peer) return -EPIPE;
      if (sfile.fFlags & O_NONBLOCK) return -EAGAIN;
      if (task.signal.aborted) return -EINTR;
      await new Promise<void>((resolve) => {
        const off = sk.wq.add(() => done());
        const onSignal = (): void => done();
        task.signal.addEventListener('abort', onSignal, { once: true });
        function done(): void {
          off();
          task.signal.removeEventListener('abort', onSignal);
          resolve();
        }
      });
    }
    const fd = task.files.getUnusedFdFlags(flags & O_CLOEXEC);
    if (fd < 0) return fd;
    const file = sk.queue.shift()!;
    unixInFlight.files--;
    task.files.fdInstall(fd, file);
    return fd;
  } finally {
    fput(sfile);
  }
}
