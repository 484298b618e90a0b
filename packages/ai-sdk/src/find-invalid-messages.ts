import { safeValidateUIMessages, type UIMessage } from 'ai';

/** The schemas `validateUIMessages` takes: the app's tools, data part schemas and message metadata schema. */
export type ValidationSchemas = Omit<Parameters<typeof safeValidateUIMessages>[0], 'messages'>;

/** A stored message that no longer passes the SDK's validation, with the SDK's reason. */
export interface InvalidMessage {
  readonly id: string;
  /** Position in the list given. */
  readonly index: number;
  /** The SDK's error (a `TypeValidationError` for a schema mismatch or an unknown part type). */
  readonly error: Error;
}

/**
 * Checks each message on its own with the SDK's `safeValidateUIMessages` (with the app's tools and schemas when
 * given) and reports those that fail, by id, with the SDK's reason: after an app changed a tool's schema, or for
 * part types this SDK version does not know. Drops nothing and changes nothing; the validated copies the SDK
 * makes are discarded (they strip unknown fields and must never be stored).
 */
export async function findInvalidMessages(
  messages: readonly UIMessage[],
  schemas: ValidationSchemas = {},
): Promise<InvalidMessage[]> {
  const invalid: InvalidMessage[] = [];
  for (const [index, message] of messages.entries()) {
    const result = await safeValidateUIMessages({ ...schemas, messages: [message] });
    if (!result.success) invalid.push({ id: message.id, index, error: result.error });
  }
  return invalid;
}
