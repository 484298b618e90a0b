import { SessionNotFoundError } from '@flux-rag/memory-core';
import type { Command } from 'commander';
import { printJson, println } from '../output.js';
import { withStore } from '../store.js';
import { addConnectionOptions, addJsonOption, addOwnerOption, type DataCommandOptions } from './options.js';

/** `flux-memory delete <session-id>`: deletes a session and its messages. */
export function registerDeleteCommand(program: Command): void {
  const command = program
    .command('delete')
    .description('delete a session and all its messages')
    .argument('<session-id>', 'the session to delete');
  addOwnerOption(command);
  addJsonOption(addConnectionOptions(command)).action(
    async (sessionId: string, options: DataCommandOptions) => {
      await withStore(options, 'update', async ({ store }) => {
        // The contract treats deleting nothing as success; a person who typed an id wants to know it was wrong.
        if (!(await store.deleteSession(sessionId))) throw new SessionNotFoundError(sessionId);
        if (options.json) printJson({ deleted: sessionId });
        else println(`Deleted session ${sessionId}.`);
      });
    },
  );
}
