#!/usr/bin/env node
/**
 * The `dmabuf` command.
 */
import { demoFences } from './demo-fences.js';

const HELP = `usage: dmabuf <command>

commands:
  demo        run the main demo (for now: sw_sync timelines, fences and a
              merged sync file, then sync/info and the kernel log)
  --help      this text
`;

async function main(argv: string[]): Promise<number> {
  const cmd = argv[0] ?? '--help';
  switch (cmd) {
    case 'demo':
      return demoFences();
    case '--help':
    case '-h':
    case 'help':
      process.stdout.write(HELP);
      return 0;
    default:
      process.stderr.write(`dmabuf: unknown command '${cmd}'\n\n${HELP}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`dmabuf: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
