// Fences on two sw_sync timelines (dmabuf/user's Timeline), their sync
// files merged into one, a waiter woken when both timelines reach their
// points, and the kernel's trace of it all (machine.traceStart/traceStop)
// written as Chrome trace-event JSON, which https://ui.perfetto.dev opens.
//
//   npm run build && node examples/fence-timeline.mjs [out.trace.json]
import { boot } from 'dmabuf';
import { SyncFile, Timeline } from 'dmabuf/user';
import { writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

const out = process.argv[2] ?? 'fence-timeline.trace.json';
const machine = await boot();
// Two processes, each with a timeline of its own (sw_sync names a timeline after its process).
const cameraProc = machine.spawn('camera');
const gpuProc = machine.spawn('gpu');
const status = (s) => (s === 1 ? 'signalled' : s === 0 ? 'active' : `error ${s}`);
const show = (f) => {
  const i = f.info();
  return `'${i.name}' ${status(i.status)} [${i.fences.map((x) => `${x.driverName}/${x.objName}: ${status(x.status)}`).join(', ')}]`;
};

await machine.traceStart();
const camera = Timeline.open(cameraProc);
const gpu = Timeline.open(gpuProc);
const frame = camera.createFence(1, 'frame'); // signals when the camera timeline reaches 1
const rendered = gpu.createFence(2, 'render'); // when the gpu timeline reaches 2
// The gpu process hands its fence to the camera process (SCM_RIGHTS), which merges the two.
const render = SyncFile.receive(cameraProc, rendered.share(cameraProc.pid));
rendered.close();
const both = frame.merge(render, 'frame+render'); // SYNC_IOC_MERGE: signals when both have
try {
  console.log(`merged: ${show(both)}`);
  const waited = both.wait({ timeout: 5000 }); // poll() in the kernel, a promise here

  await sleep(5);
  camera.inc(1);
  await sleep(5);
  gpu.inc(1);
  console.log(`camera at 1, gpu at 1: ${show(both)}`);
  await sleep(5);
  gpu.inc(1);
  await waited;
  console.log(`gpu at 2: ${show(both)}`);
} finally {
  for (const f of [both, frame, render, camera, gpu]) f.close();
}
const { records, lost } = await machine.traceStop();
cameraProc.exit();
gpuProc.exit();

// Chrome trace events: a fence is an async slice from dma_fence_init to
// dma_fence_signaled, a poll() a complete slice, anything else an instant.
// Kernel time is in ns (a poll record is stamped when the call began); Chrome's is µs.
const t0 = records.length ? Math.min(...records.map((r) => r.ts)) : 0;
const us = (ns) => (ns - t0) / 1000;
const names = new Map(); // a fence's timeline name is known by the time it signals
for (const r of records) if (r.event === 'dma_fence_signaled') names.set(`${r.fields.context}:${r.fields.seqno}`, `${r.fields.driver}:${r.fields.timeline}`);
const traceEvents = records.map((r) => {
  const f = r.fields;
  const id = `${f.context}:${f.seqno}`;
  if (r.event === 'dma_fence_init' || r.event === 'dma_fence_signaled') {
    return { name: names.get(id) ?? `${f.driver}:${f.timeline}`, cat: 'dma_fence', ph: r.event === 'dma_fence_init' ? 'b' : 'e', id: `fence:${id}`, ts: us(r.ts), pid: 1, tid: 1, args: f };
  }
  if (r.event === 'sys_poll') return { name: `poll ${f.comm}`, cat: 'syscall', ph: 'X', ts: us(r.ts), dur: Number(f.dur) / 1000, pid: 1, tid: Number(f.pid) + 1, args: f };
  return { name: r.event, cat: 'dma_fence', ph: 'i', s: 't', ts: us(r.ts), pid: 1, tid: 1, args: f };
});
writeFileSync(out, JSON.stringify({ traceEvents, displayTimeUnit: 'ms' }));
const count = (e) => records.filter((r) => r.event === e).length;
console.log(`trace: ${out} (${count('dma_fence_init')} fences, ${count('dma_fence_signaled')} signalled, ${count('sys_poll')} poll waits, ${lost} lost)`);
console.log(`after shutdown: ${JSON.stringify(await machine.shutdown())}`);
