// Writes docs/protocol.schema.json from the zod schemas the server validates with (run after build).
import { writeFileSync } from 'node:fs';
import { protocolJsonSchema } from '../dist/src/protocol/index.js';

writeFileSync(new URL('../docs/protocol.schema.json', import.meta.url), JSON.stringify(protocolJsonSchema(), null, 2) + '\n');
