import { z } from 'zod';
import { ClientEnvelopeSchema } from './envelope.js';
import { CLIENT_MESSAGE_DATA } from './client-messages.js';
import { ServerMessageSchema } from './server-messages.js';

/** JSON Schema (draft 2020-12) of every message both ways, generated from the same zod source the server validates with. */
export function protocolJsonSchema(): Record<string, unknown> {
  const clientVariants = Object.entries(CLIENT_MESSAGE_DATA).map(([type, data]) =>
    ClientEnvelopeSchema.extend({ type: z.literal(type), data: (data as z.ZodType).optional() }),
  );
  const client = z.union(clientVariants as unknown as [z.ZodType, z.ZodType, ...z.ZodType[]]);
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: 'Streamgate signaling protocol',
    $defs: {
      ClientMessage: z.toJSONSchema(client, { io: 'input', unrepresentable: 'any' }),
      ServerMessage: z.toJSONSchema(ServerMessageSchema, { unrepresentable: 'any' }),
    },
  };
}
