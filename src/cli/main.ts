#!/usr/bin/env node
/**
 * The `dmabuf` command. Every command has --help; options are `--key value`
 * or `--key=value`. Exit codes: 0 success, 1 failure (the run failed or the
 * kernel leaked), 2 usage error (one line on stderr says what was wrong).
 * A reader that goes away (`dmabuf demo | head -1`) ends the run quietly.
 */
import { readFileSync } from 'node:fs';
import { DEMO_OPTIONS, demoPipeline, parseDemoArgs } from './demo-pipeline.js';
import { optionsHelp, parseArgs, UsageError, type OptionSpec } from './args.js';

const EXIT_OK = 0;
const EXIT_FAILURE = 1;
const EXIT_USAGE = 2;

interface Command {
  /** one line for the command list */
  summary: string;
  /** what it does, for its --help */
  description: string;
  options: readonly OptionSpec[];
  /** `--help` was not given and the arguments parsed; the exit code */
  run(args: readonly string[]): Promise<number>;
}

const commands: Record<string, Command> = {
  demo: {
    summary: 'a zero-copy producer -> processor -> consumer pipeline of video frames\n' +
      'on worker threads, ordered by dma-buf fences (what `npm start` runs)',
    description: `A media pipeline on worker threads: a producer (camera-like) fills RGBA frames
into a ring of system-heap dma-bufs, processors turn them to grayscale in place,
and a consumer (display-like, importing through vgem PRIME) checks every frame.
Only frame numbers and fd tokens cross between threads; each buffer's
reservation object holds the fences that order the stages.

It prints frames/s, bytes copied, fence wait times, bufinfo at mid-run and what
the kernel still held after shutdown (a leak fails the run: exit code 1). On a
terminal, a progress line shows frames done, frames/s and the time left.`,
    options: DEMO_OPTIONS,
    run: async (args) => demoPipeline(parseDemoArgs(args).options),
  },
  fences: {
    summary: 'sw_sync timelines, fences and a merged sync file, then sync/info and\n' +
      'the kernel log (the kernel face, in one thread)',
    description: `Two sw_sync timelines, a fence on each, their sync files merged into one,
and a waiter that wakes once both timelines reach their points; then what the
kernel saw: /sys/kernel/debug/sync/info and the kernel log. It drives the
kernel face directly, in one thread.`,
    options: [],
    // The one command that runs the kernel face in this thread: loaded only for it.
    run: async () => (await import('./demo-fences.js')).demoFences(),
  },
};

function version(): string {
  // dist/src/cli/main.js -> the package's root, in the repository and in node_modules alike.
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

function mainHelp(): string {
  const names = Object.keys(commands);
  const w = Math.max(...names.map((n) => n.length)) + 4;
  const list = names.map((n) => commands[n].summary.split('\n').map((l, k) => `  ${(k ? '' : n).padEnd(w)}${l}`).join('\n')).join('\n');
  return `usage: dmabuf <command> [options]

Linux's DMA-BUF buffer sharing on Node worker threads.

commands:
${list}

options:
  -h, --help      this help; \`dmabuf <command> --help\` shows a command's options
  -V, --version   print the version

exit codes: 0 success, 1 failure, 2 usage error
`;
}

function commandHelp(name: string): string {
  const c = commands[name];
  return `usage: dmabuf ${name}${c.options.length ? ' [options]' : ''}

${c.description}

options:
${optionsHelp(c.options)}
${c.options.length ? '\nValues are given as --key value or --key=value; integers in decimal digits.\n' : ''}`;
}

async function main(argv: readonly string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === undefined) {
    process.stderr.write(mainHelp());
    return EXIT_USAGE;
  }
  if (cmd === '--help' || cmd === '-h' || cmd === 'help') {
    const topic = cmd === 'help' ? rest[0] : undefined;
    if (topic !== undefined && !Object.hasOwn(commands, topic)) throw new UsageError(`no command '${topic}' to help with`);
    process.stdout.write(topic ? commandHelp(topic) : mainHelp());
    return EXIT_OK;
  }
  if (cmd === '--version' || cmd === '-V') {
    process.stdout.write(version() + '\n');
    return EXIT_OK;
  }
  if (!Object.hasOwn(commands, cmd)) throw new UsageError(cmd.startsWith('-') ? `unknown option '${cmd}'` : `unknown command '${cmd}'`);
  const command = commands[cmd];
  try {
    // --help anywhere wins; then the command's own checks (demo also checks its output paths).
    if (parseArgs(rest, command.options).help) {
      process.stdout.write(commandHelp(cmd));
      return EXIT_OK;
    }
    return await command.run(rest);
  } catch (e) {
    throw Object.assign(e instanceof Error ? e : new Error(String(e)), { command: cmd });
  }
}

/** The reader went away (`| head`): nothing more can be said to it; end quietly. */
function quietOnClosedPipe(stream: NodeJS.WriteStream): void {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit();
    throw e;
  });
}
quietOnClosedPipe(process.stdout);
quietOnClosedPipe(process.stderr);

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: Error & { command?: string }) => {
    const who = err.command ? `dmabuf ${err.command}` : 'dmabuf';
    if (err instanceof UsageError) {
      process.stderr.write(`${who}: ${err.message}; see '${who} --help'\n`);
      process.exitCode = EXIT_USAGE;
      return;
    }
    // The message says what went wrong; the stack only with DMABUF_DEBUG=1.
    process.stderr.write(`${who}: ${process.env.DMABUF_DEBUG ? err.stack ?? err.message : err.message}\n`);
    process.exitCode = EXIT_FAILURE;
  },
);
