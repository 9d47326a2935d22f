/**
 * Detaching an ArrayBuffer: after munmap, a view of the unmapped pages must
 * read as empty instead of faulting (SIGSEGV kills the whole OS process).
 * ArrayBuffer.prototype.transfer detaches its receiver. Node 22 has it; on
 * Node 20 V8 keeps it behind --harmony-rab-gsab-transfer, which can be set at
 * run time: a vm context made after that has the method, and it works on
 * buffers of any context. (structuredClone and postMessage with a transfer
 * list were tried too: they copy an external buffer and leave it attached.)
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { NativeUnavailableError } from './errors.js';

type Transfer = (this: ArrayBuffer, newLength?: number) => ArrayBuffer;

let transfer: Transfer | undefined;

function findTransfer(): Transfer {
  const own = (ArrayBuffer.prototype as { transfer?: Transfer }).transfer;
  if (typeof own === 'function') return own;
  setFlagsFromString('--harmony-rab-gsab-transfer');
  const fresh = runInNewContext('ArrayBuffer.prototype.transfer') as Transfer | undefined;
  if (typeof fresh !== 'function') {
    throw new NativeUnavailableError('ERR_NATIVE_NO_DETACH', `Node ${process.version} offers no ArrayBuffer.prototype.transfer, even with --harmony-rab-gsab-transfer: munmap could not detach views`);
  }
  return fresh;
}

/** Make sure detaching works here (throws NativeUnavailableError otherwise). */
export function checkDetach(): void {
  transfer ??= findTransfer();
}

/** Detach `buffer`: every view of it now has length 0. Its memory is not touched. */
export function detach(buffer: ArrayBuffer): void {
  transfer ??= findTransfer();
  if (buffer.byteLength === 0 && isDetached(buffer)) return;
  // A zero-length transfer copies nothing out of the (about to be unmapped) memory.
  transfer.call(buffer, 0);
}

/** True once `buffer` is detached. */
export function isDetached(buffer: ArrayBuffer): boolean {
  const d = (buffer as { detached?: boolean }).detached;
  if (typeof d === 'boolean') return d;
  try {
    new Uint8Array(buffer);
    return false;
  } catch {
    return true;
  }
}
