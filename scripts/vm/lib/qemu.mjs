// Boots a kernel and an initramfs under qemu and reads the serial console:
// the guest command's output (between /init's markers, streamed as it
// comes), its exit status, and the guest's dmesg, checked for kernel reports.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { log } from './util.mjs';

/**
 * Lines of dmesg that mean the kernel found a bug: WARN_ON's "WARNING: CPU:",
 * lockdep's "WARNING: possible ...", "BUG: ...", oopses, panics. Anchored at
 * the start of the message so that boot notes such as "RETBleed: WARNING: ..."
 * (a CPU mitigation notice) do not count.
 */
const REPORT = /^(?:<\d+>)?(?:\[\s*\d+\.\d+\]\s*)?(?:WARNING: |BUG: |Oops|Kernel panic|general protection fault|kernel BUG at|UBSAN: |------------\[ cut here \]------------)/;

/**
 * The guests still running. qemu outlives a parent that dies, so whatever
 * ends this script (a crash, an uncaught error, Ctrl-C, a CI timeout's
 * SIGTERM) takes its guests with it.
 */
const guests = new Set();
let reaperInstalled = false;
function reapGuestsOnExit() {
  if (reaperInstalled) return;
  reaperInstalled = true;
  process.on('exit', () => {
    for (const child of guests) child.kill('SIGKILL');
  });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.once(sig, () => {
      for (const child of guests) child.kill('SIGKILL');
      process.kill(process.pid, sig);
    });
  }
}

export function kernelReports(dmesgLines) {
  return dmesgLines.filter((l) => REPORT.test(l));
}

/**
 * qemu's accelerator: TCG unless DMABUF_VM_ACCEL says otherwise. /dev/kvm
 * exists on these machines but guests abort under it ("KVM internal error"),
 * so KVM is only taken when asked for and usable.
 */
function accel() {
  const want = process.env.DMABUF_VM_ACCEL || 'tcg';
  if (want === 'kvm' && !existsSync('/dev/kvm')) {
    log('DMABUF_VM_ACCEL=kvm but there is no /dev/kvm: using tcg');
    return 'tcg';
  }
  return want;
}

/**
 * Boots and waits for the guest to finish. `onLine(line)` gets each line the
 * command prints, as it arrives. Resolves with
 * { status, timedOut, ended, output, bootLog, dmesg, reports, seconds, tail }.
 * `status` is the guest command's exit status, or null when the end marker
 * never came (a hang, a crash, a panic).
 */
export function boot({ kernel, initrd, token, timeoutSec = 600, onLine = () => {}, onInit = () => {}, cmdline = '' }) {
  const a = accel();
  const args = [
    '-accel', a, '-cpu', 'max', '-smp', '2', '-m', '2G',
    '-nographic', '-no-reboot', '-nic', 'none',
    '-kernel', kernel.vmlinuz, '-initrd', initrd,
    '-append', `console=ttyS0 panic=-1 quiet loglevel=1 ${cmdline}`.trim(),
  ];
  const begin = `@@vm:begin:${token}@@`;
  const endRe = new RegExp(`@@vm:end:${token}:(\\d+)@@`);
  const dmesgBegin = `@@vm:dmesg:${token}@@`;
  const dmesgEnd = `@@vm:dmesg-end:${token}@@`;
  const t0 = performance.now();

  return new Promise((resolve, reject) => {
    reapGuestsOnExit();
    const child = spawn('qemu-system-x86_64', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    guests.add(child);
    let state = 'boot';
    let status = null;
    let pending = '';
    let heldBlank = false;
    const bootLog = [];
    const output = [];
    const dmesg = [];
    const all = [];
    let stderr = '';
    let timedOut = false;

    const emit = (line) => {
      output.push(line);
      onLine(line);
    };
    const handle = (raw) => {
      const line = raw.replace(/\r/g, '');
      all.push(line.replace(/\x1b(?:\[[0-9;?]*[A-Za-z]|[@-Z\\-_]|c)/g, ''));
      if (all.length > 2000) all.shift();
      if (state === 'boot') {
        const i = line.indexOf(begin);
        if (i < 0) {
          // SeaBIOS and the kernel clear the screen with escape sequences.
          const plain = line.replace(/\x1b(?:\[[0-9;?]*[A-Za-z]|[@-Z\\-_]|c)/g, '');
          bootLog.push(plain);
          const j = plain.indexOf('vm-init: ');
          if (j >= 0) onInit(plain.slice(j + 'vm-init: '.length));
          return;
        }
        state = 'run';
        return;
      }
      if (state === 'run') {
        const m = endRe.exec(line);
        if (m) {
          // /init puts a newline before the marker; a blank line held back
          // is that newline when the command's output ended with its own.
          const before = line.slice(0, m.index);
          if (before) {
            if (heldBlank) emit('');
            emit(before);
          }
          heldBlank = false;
          status = Number(m[1]);
          state = 'post';
          return;
        }
        if (line === '') {
          if (heldBlank) emit('');
          heldBlank = true;
          return;
        }
        if (heldBlank) emit('');
        heldBlank = false;
        emit(line);
        return;
      }
      if (state === 'post') {
        if (line.includes(dmesgBegin)) state = 'dmesg';
        return;
      }
      if (state === 'dmesg') {
        if (line.includes(dmesgEnd)) {
          state = 'done';
          // /init powers off next; a guest that only halts would sit there.
          setTimeout(() => {
            if (child.exitCode === null && child.signalCode === null) {
              log('the guest did not power off after its run: killing qemu');
              child.kill('SIGKILL');
            }
          }, 15000).unref();
        } else dmesg.push(line);
      }
    };

    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk) => {
      pending += chunk;
      let nl;
      while ((nl = pending.indexOf('\n')) >= 0) {
        handle(pending.slice(0, nl));
        pending = pending.slice(nl + 1);
      }
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (c) => (stderr += c));
    const timer = setTimeout(() => {
      timedOut = true;
      log(`timeout after ${timeoutSec} s: killing qemu`);
      child.kill('SIGKILL');
    }, timeoutSec * 1000);
    child.on('error', (e) => {
      clearTimeout(timer);
      guests.delete(child);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      guests.delete(child);
      if (pending) handle(pending);
      const ended = status !== null && state === 'done';
      resolve({
        status,
        ended,
        timedOut,
        qemuExit: code ?? signal,
        qemuStderr: stderr.trim(),
        output,
        bootLog,
        dmesg,
        // Without the dmesg dump (a crash, a hang), the console had the kernel's last words.
        reports: kernelReports(ended ? dmesg : all),
        seconds: (performance.now() - t0) / 1000,
        tail: all.slice(-60),
        accel: a,
      });
    });
  });
}
