import { z } from 'zod';
import { ClientEnvelopeSchema } from './envelope.js';
import { CLIENT_MESSAGE_DATA, type ClientMessage, type ClientMessageType } from './client-messages.js';
import type { ErrorCode } from './errors.js';

/** What could be read of a rejected message's envelope, so the error can still echo `peer_id` and `reply_to`. */
export interface PartialEnvelope {
  type?: string;
  peer_id?: string | number;
  message_id?: string;
}

export type ParseResult =
  | { ok: true; message: ClientMessage }
  | {
      ok: false;
      code: ErrorCode;
      message: string;
      details?: string;
      partial: PartialEnvelope;
    };

function isClientMessageType(type: string): type is ClientMessageType {
  return Object.prototype.hasOwnProperty.call(CLIENT_MESSAGE_DATA, type);
}

/** Turns zod issues into one line naming the field, e.g. `data.x: expected number, received string`. */
function describeIssues(error: z.ZodError, prefix: string): string {
  return error.issues
    .slice(0, 3)
    .map((issue) => {
      const path = [prefix, ...issue.path.map(String)].filter(Boolean).join('.');
      return `${path || '(message)'}: ${issue.message}`;
    })
    .join('; ');
}

/** Read on the failure paths only (a valid message needs none of it): one object less per message. */
function readPartial(value: Record<string, unknown>): PartialEnvelope {
  const partial: PartialEnvelope = {};
  if (typeof value.type === 'string') partial.type = value.type.slice(0, 64);
  if (typeof value.peer_id === 'string' || (typeof value.peer_id === 'number' && Number.isFinite(value.peer_id))) {
    partial.peer_id = typeof value.peer_id === 'string' ? value.peer_id.slice(0, 256) : value.peer_id;
  }
  if (typeof value.message_id === 'string') partial.message_id = value.message_id.slice(0, 256);
  return partial;
}

/** Validates one text frame at the edge; everything past it trusts the returned type. */
export function parseClientMessage(text: string): ParseResult {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    return {
      ok: false,
      code: 'INVALID_JSON',
      message: 'The message is not valid JSON.',
      details: err instanceof Error ? err.message.slice(0, 200) : undefined,
      partial: {},
    };
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return {
      ok: false,
      code: 'INVALID_MESSAGE',
      message: 'A message must be a JSON object.',
      details: `got ${Array.isArray(raw) ? 'array' : raw === null ? 'null' : typeof raw}`,
      partial: {},
    };
  }
  const obj = raw as Record<string, unknown>;
  if (typeof obj.type !== 'string' || obj.type.length === 0) {
    return {
      ok: false,
      code: 'INVALID_MESSAGE',
      message: 'The message has no `type` string.',
      details: 'type',
      partial: readPartial(obj),
    };
  }
  const envelope = ClientEnvelopeSchema.safeParse(obj);
  if (!envelope.success) {
    return {
      ok: false,
      code: 'INVALID_MESSAGE',
      message: 'A field of the message has the wrong type or range.',
      details: describeIssues(envelope.error, ''),
      partial: readPartial(obj),
    };
  }
  const type = obj.type;
  if (!isClientMessageType(type)) {
    return {
      ok: false,
      code: 'UNKNOWN_MESSAGE_TYPE',
      message: `The server does not know messages of type "${type.slice(0, 64)}".`,
      details: 'type',
      partial: readPartial(obj),
    };
  }
  const rawData = obj.data === undefined || obj.data === null ? {} : obj.data;
  const data = CLIENT_MESSAGE_DATA[type].safeParse(rawData);
  if (!data.success) {
    return {
      ok: false,
      code: 'INVALID_MESSAGE',
      message: `The data of this "${type}" message is not valid.`,
      details: describeIssues(data.error, 'data'),
      partial: readPartial(obj),
    };
  }
  const { peer_id, message_id, timestamp } = envelope.data;
  const message = { type, peer_id, message_id, timestamp, data: data.data } as ClientMessage;
  return { ok: true, message };
}
