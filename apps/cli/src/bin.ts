#!/usr/bin/env node
import { installInterruptHandlers } from './interrupt.js';

// First, before the commands and drivers load: a Ctrl-C during start-up gets the same one line and exit code.
installInterruptHandlers({ json: process.argv.includes('--json') });
const { run } = await import('./program.js');

// `flux-memory export | head` closes the pipe early: that is the reader's choice, not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

process.exitCode = await run(process.argv);
