/**
 * poll() on a dma-buf (dma_buf_poll): EPOLLIN when every fence up to
 * WRITE usage has signaled (reading is safe), EPOLLOUT when every fence up
 * to READ usage has (writing is safe). BOOKKEEP fences never count. One
 * callback per direction waits for the first pending fence; while it is
 * armed the event is not reported, and the callback holds a file
 * reference so the buffer stays alive.
 */
import { dmaResvUsageRw, dmaResvForEachFence } from '../resv/dma-resv.js';
import type { DmaFence, DmaFenceCb } from '../fence/dma-fence.js';
import { fput, getFile, type File, type PollTable } from '../fs/file.js';
import type { DmaBuf, DmaBufPollCb } from './dma-buf-struct.js';

import { EPOLLERR, EPOLLIN, EPOLLOUT } from '../../uapi/eventpoll.js';

/** The event bits, for kernel-face users of dma_buf_poll (defined in uapi/eventpoll). */
export { EPOLLIN, EPOLLPRI, EPOLLOUT, EPOLLERR, EPOLLHUP, EPOLLNVAL } from '../../uapi/eventpoll.js';

/** dma_buf_poll_cb(): a fence signaled: wake pollers, disarm, drop the file reference. */
function dmaBufPollCb(fence: DmaFence | null, cb: DmaFenceCb): void {
  const dcb = cb as DmaBufPollCb;
  const dmabuf = dcb.dmabuf;
  const mask = dcb.active;
  dcb.active = 0;
  dmabuf.poll.wake(mask);
  fence?.put();
  fput(dmabuf.file);
}

/** dma_buf_poll_add_cb(): arm on the first unsignaled fence; false if there is none. */
function dmaBufPollAddCb(dmabuf: DmaBuf, write: boolean, dcb: DmaBufPollCb): boolean {
  for (const [fence] of dmaResvForEachFence(dmabuf.resv, dmaResvUsageRw(write))) {
    fence.get();
    if (fence.addCallback(dcb, dmaBufPollCb) === 0) return true;
    fence.put();
  }
  return false;
}

/** dma_buf_poll(file, poll_table): the ready events among EPOLLIN|EPOLLOUT. */
export async function dmaBufPoll(file: File, pt: PollTable | null): Promise<number> {
  const dmabuf = file.privateData as DmaBuf | null;
  if (!dmabuf || !dmabuf.resv) return EPOLLERR;
  pt?.wait(dmabuf.poll);
  let events = (pt ? pt.events : EPOLLIN | EPOLLOUT) & (EPOLLIN | EPOLLOUT);
  if (!events) return 0;
  await dmabuf.resv.lockResv(null);
  for (const [ev, dcb, write] of [[EPOLLOUT, dmabuf.cbOut, true], [EPOLLIN, dmabuf.cbIn, false]] as const) {
    if (!(events & ev)) continue;
    if (dcb.active) {
      events &= ~ev;
      continue;
    }
    dcb.active = ev;
    getFile(dmabuf.file); // paired with the fput in dmaBufPollCb
    if (!dmaBufPollAddCb(dmabuf, write, dcb)) dmaBufPollCb(null, dcb); // nothing pending: ready now
    else events &= ~ev;
  }
  dmabuf.resv.unlock();
  return events;
}
