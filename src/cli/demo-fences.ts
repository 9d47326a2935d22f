/**
 * The fence scenario: two sw_sync timelines, points on them, sync files
 * merged into one, a waiter that wakes when both timelines advance, and
 * what the kernel saw (sync/info and the kernel log): `dmabuf fences`.
 * It drives the kernel face directly, in one thread.
 */
import {
  SyncFile, SyncTimeline, dmesg, pr_info, syncInfoDebugfsShow, dmaFenceStats, type SyncFileInfo,
} from '../kernel/index.js';

function showInfo(label: string, info: SyncFileInfo): string {
  const st = (s: number): string => (s === 1 ? 'signaled' : s === 0 ? 'active' : `error ${s}`);
  const lines = [`${label}: name="${info.name}" status=${st(info.status)} num_fences=${info.numFences}`];
  for (const f of info.fences ?? []) {
    lines.push(`    ${f.driverName}/${f.objName}: ${st(f.status)}${f.timestampNs ? ` at ${(f.timestampNs / 1e6).toFixed(3)} ms` : ''}`);
  }
  return lines.join('\n');
}

export async function demoFences(out: (s: string) => void = console.log): Promise<number> {
  out('dmabuf demo: sw_sync timelines, fences and a merged sync file\n');
  const camera = new SyncTimeline('camera');
  const gpu = new SyncTimeline('gpu');
  const frame = camera.createFence(1)!;
  const render = gpu.createFence(2)!;
  const sfFrame = SyncFile.create(frame)!;
  const sfRender = SyncFile.create(render)!;
  const merged = SyncFile.merge('frame+render', sfFrame, sfRender)!;
  pr_info(`demo: merged ${sfFrame.getName()} and ${sfRender.getName()} into "${merged.getName()}"`);
  out(showInfo('merged sync file', merged.info(true)));

  const t0 = performance.now();
  const waited = merged.fence.waitTimeout(true, 5000);
  setTimeout(() => {
    camera.inc(1);
    pr_info('demo: camera timeline at 1');
  }, 5);
  setTimeout(() => {
    gpu.inc(1);
    pr_info('demo: gpu timeline at 1 (point 2 still pending)');
  }, 10);
  setTimeout(() => {
    gpu.inc(1);
    pr_info('demo: gpu timeline at 2');
  }, 15);
  const ret = await waited;
  const ms = performance.now() - t0;
  out(`\nwaiter woke after ${ms.toFixed(1)} ms with ${ret} jiffies left`);
  out(showInfo('merged sync file', merged.info(true)));

  out('\n/sys/kernel/debug/sync/info:\n' + syncInfoDebugfsShow());
  for (const sf of [merged, sfFrame, sfRender]) sf.release();
  frame.put();
  render.put();
  camera.release();
  gpu.release();
  out(`fences still alive: ${dmaFenceStats.live}`);
  out('\nkernel log:\n' + dmesg());
  return ret > 0 && dmaFenceStats.live === 0 ? 0 : 1;
}
