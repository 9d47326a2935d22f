#!/usr/bin/env node
/**
 * The `dmabuf` command.
 */
import { demoPipeline, parsePipelineArgs, PIPELINE_DEFAULTS as D } from './demo-pipeline.js';

const HELP = `usage: dmabuf <command> [options]

commands:
  demo        the main demo: a zero-copy producer -> processor -> consumer
              pipeline on worker threads, synchronised by dma-buf fences
                --frames N   frames to run (default ${D.frames})
                --width W    frame width in pixels (default ${D.width})
                --height H   frame height in pixels (default ${D.height})
                --ring R     buffers in the ring (default ${D.ring})
                --workers P  processor workers; frame n goes to n % P (default ${D.workers})
                --trace FILE    write the fences and buffer lifetimes as
                                Chrome trace-event JSON (Perfetto UI opens it)
                --report FILE   write a self-contained HTML timeline of the run
  fences      sw_sync timelines, fences and a merged sync file, then
              sync/info and the kernel log (the kernel face, in one thread)
  --help      this text
`;

async function main(argv: string[]): Promise<number> {
  const cmd = argv[0] ?? '--help';
  switch (cmd) {
    case 'demo':
      return demoPipeline(parsePipelineArgs(argv.slice(1)));
    case 'fences':
      // The one command that runs the kernel face in this thread: loaded only for it.
      return (await import('./demo-fences.js')).demoFences();
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
    // The message says what went wrong; the stack only with DMABUF_DEBUG=1.
    process.stderr.write(`dmabuf: ${err instanceof Error ? (process.env.DMABUF_DEBUG ? err.stack ?? err.message : err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
