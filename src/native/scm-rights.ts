/**
 * Passing an fd to another OS process over an AF_UNIX socket: sendmsg and
 * recvmsg with one SCM_RIGHTS control message (unix(7), cmsg(3)). The
 * msghdr, its iovec, the control buffer and the one-byte payload (a stream
 * socket carries no message without data) are laid out in one array with
 * pointers as offsets, and relocated for the call (relocate.ts).
 */
import { EBADMSG, EPIPE } from '../uapi/errno.js';
import { NativeSyscallError } from './errors.js';
import type { Libc } from './libc.js';
import { callRelocated } from './relocate.js';

const SOL_SOCKET = 1;
const SCM_RIGHTS = 1;
const MSG_NOSIGNAL = 0x4000;
const MSG_CTRUNC = 0x8;
const MSG_CMSG_CLOEXEC = 0x40000000;

// struct msghdr (56 bytes) | struct iovec (16) | control: struct cmsghdr + one int, CMSG_SPACE(4) = 24 | payload (1)
const MSG = 0;
const IOV = 56;
const CONTROL = 72;
const PAYLOAD = 96;
const SIZE = 104;
/** pointer fields: msg_iov, msg_control, iov_base */
const POINTERS = [MSG + 16, MSG + 32, IOV + 0];
const CMSG_LEN_INT = 20;
const CMSG_SPACE_INT = 24;

function message(fd: number): Uint8Array {
  const b = new Uint8Array(SIZE);
  const v = new DataView(b.buffer);
  v.setBigUint64(MSG + 16, BigInt(IOV), true);
  v.setBigUint64(MSG + 24, 1n, true);
  v.setBigUint64(MSG + 32, BigInt(CONTROL), true);
  v.setBigUint64(MSG + 40, BigInt(CMSG_SPACE_INT), true);
  v.setBigUint64(IOV + 0, BigInt(PAYLOAD), true);
  v.setBigUint64(IOV + 8, 1n, true);
  v.setBigUint64(CONTROL + 0, BigInt(CMSG_LEN_INT), true);
  v.setInt32(CONTROL + 8, SOL_SOCKET, true);
  v.setInt32(CONTROL + 12, SCM_RIGHTS, true);
  v.setInt32(CONTROL + 16, fd, true);
  return b;
}

/** sendmsg(socket, one byte + SCM_RIGHTS [fd]) */
export function sendFdMessage(libc: Libc, socket: number, fd: number): void {
  callRelocated(libc, 'sendmsg', message(fd), POINTERS, (address) => libc.sendmsg(socket, address, MSG_NOSIGNAL));
}

/** recvmsg(socket) -> the fd the message carried (a new fd of this OS process) */
export function receiveFdMessage(libc: Libc, socket: number, cloexec: boolean): number {
  const b = message(-1);
  const n = callRelocated(libc, 'recvmsg', b, POINTERS, (address) => libc.recvmsg(socket, address, cloexec ? MSG_CMSG_CLOEXEC : 0));
  const v = new DataView(b.buffer);
  if (n === 0) throw new NativeSyscallError(-EPIPE, 'recvmsg', '(the other end closed the socket)');
  const controllen = Number(v.getBigUint64(MSG + 40, true));
  const flags = v.getInt32(MSG + 48, true);
  const ok = controllen >= CMSG_LEN_INT && Number(v.getBigUint64(CONTROL, true)) === CMSG_LEN_INT && v.getInt32(CONTROL + 8, true) === SOL_SOCKET && v.getInt32(CONTROL + 12, true) === SCM_RIGHTS;
  if (!ok || flags & MSG_CTRUNC) throw new NativeSyscallError(-EBADMSG, 'recvmsg', '(the message carried no fd)');
  return v.getInt32(CONTROL + 16, true);
}
