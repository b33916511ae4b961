import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { SignJWT } from 'jose';
import { startServer, type TestServer } from '../helpers/server.js';

const SECRET = 'a-secret-of-at-least-thirty-two-characters!';
const jwt = (claims: Record<string, unknown>): Promise<string> =>
  new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('1h').sign(new TextEncoder().encode(SECRET));

let server: TestServer;
before(async () => {
  // Two named desktops: WHEP serves the first, "alpha" (/files/ and /clipboard serve the session's own
  // desktop: test/desktops/desktop-bound-access.test.ts).
  server = await startServer(['--jwt-secret', SECRET, '--desktop', 'alpha', '--desktop', 'beta', '--resolution', '320x240']);
});
after(async () => {
  await server?.stop();
});

const postOffer = async (token: string): Promise<number> =>
  (await fetch(`${server.url}/whep`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/sdp' }, body: 'not an sdp' })).status;

test("a token whose desktops claim leaves out the first desktop cannot watch it over WHEP; one that grants it gets past auth", async () => {
  assert.equal(await postOffer(await jwt({ role: 'control', desktops: { beta: 'control' } })), 401);
  // Past auth, the (bad) offer itself is what is refused.
  assert.equal(await postOffer(await jwt({ role: 'view', desktops: { alpha: 'view' } })), 400);
  assert.equal(await postOffer(await jwt({ role: 'view' })), 400, 'a token naming no desktops grants all of them');
});
