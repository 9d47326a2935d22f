/**
 * `npm run fuzz [-- --syscalls N --processes P --seed S --kills K]`: the
 * long fuzz run. `npm run fuzz -- --differential ...`: the differential
 * fuzzer instead (differential/cli.ts). The ABI fuzz prints the syscall
 * count, the failures by errno, findings (errnos Linux would not return,
 * exceptions), kernel warnings, and the leak check; exits 1 if anything is
 * wrong.
 */
import { runFuzz } from './fuzz.js';
import { differentialMain } from './differential/cli.js';

const args = process.argv.slice(2);
if (args.includes('--differential')) {
  process.exitCode = await differentialMain(args);
} else {
  await abiFuzz();
}

async function abiFuzz(): Promise<void> {
  const opt = (name: string, def: number): number => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? Number(args[i + 1]) : def;
  };
  const syscalls = opt('syscalls', 1_000_000);
  const processes = opt('processes', 4);
  const seed = opt('seed', Date.now() % 1_000_000);
  const kills = opt('kills', 0.5);

  console.log(`fuzzing the userspace ABI: ${syscalls} syscalls over ${processes} concurrent processes, seed ${seed}, ${kills} random kills/s`);
  const r = await runFuzz({ processes, syscalls, seed, killsPerSecond: kills, log: console.log });
  console.log(`\n${r.syscalls} syscalls in ${r.seconds.toFixed(1)} s (${Math.round(r.syscalls / r.seconds)}/s) by ${r.agents} processes: ${r.exits} exited, ${r.kills} killed at random, ${r.stuck} killed while stuck in a wait`);
  console.log('failures by errno:');
  for (const [k, v] of Object.entries(r.errnos).sort((a, b) => b[1] - a[1])) console.log(`  ${k.padEnd(24)} ${v}`);
  console.log(`findings: ${r.findings.length}`);
  for (const f of r.findings.slice(0, 30)) console.log(`  ${f}`);
  console.log(`kernel warnings: ${r.warnings.length}`);
  for (const w of r.warnings.slice(0, 10)) console.log(`  ${w}`);
  const l = r.left;
  console.log(`leak check after every process exited: dma-bufs ${l.dmabufs}, pages ${l.pages}, fences ${l.fences}, fds in flight ${l.inFlight}, processes ${l.processes}, taint ${l.taint}`);
  process.exitCode = r.findings.length || r.warnings.length || l.dmabufs || l.pages || l.fences || l.inFlight || l.taint ? 1 : 0;
}
