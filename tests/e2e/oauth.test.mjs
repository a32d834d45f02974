// SPDX-License-Identifier: Apache-2.0
// Postern's OAuth 2.1 authorization server driven by the official
// TypeScript SDK's client-side OAuth (OAuthClientProvider: discovery, DCR,
// PKCE, token exchange, refresh). The test plays the user: it follows the
// authorization URL, posts the login and consent forms as a browser would,
// and hands the code back to the SDK. Then it uses /mcp against the real
// Dovecot of the test fixture and refreshes.
//
// Run through ctest (mcp.e2e), or by hand:
//   POSTERN_BIN=build/dev/postern POSTERN_MAIL_ENV=/tmp/mail/ports.env \
//     node --test tests/e2e/oauth.test.mjs
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { auth, UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

import { MemoryProvider } from '../support/oauth_provider.mjs';
import { Postern, mailEnv } from './postern.mjs';
import { Browser, approval, field } from './web.mjs';

const REDIRECT = 'http://127.0.0.1:43117/callback';
const mail = mailEnv();

let postern;

/** Plays the user: login, consent, approve. Returns the redirect URL. */
async function actAsUser(authorizationUrl, username, password) {
  const b = new Browser(postern.base);
  const start = authorizationUrl.pathname + authorizationUrl.search;
  let r = await b.fetch(start);
  assert.equal(r.status, 303, r.text);
  assert.match(r.location, /^\/login\?next=/);
  r = await b.fetch(r.location);
  assert.equal(r.status, 200);
  r = await b.fetch('/login', {
    method: 'POST',
    form: { csrf: field(r.text, 'csrf'), next: field(r.text, 'next'), username, password },
  });
  assert.equal(r.status, 303, r.text);
  assert.equal(r.location, start);
  r = await b.fetch(r.location);
  assert.equal(r.status, 200, r.text);
  assert.match(r.text, /SDK e2e client/);
  assert.match(r.csp, /form-action 'self' http:\/\/127\.0\.0\.1:43117/);
  const form = approval(r.text);
  r = await b.fetch('/oauth/authorize', { method: 'POST', form });
  assert.equal(r.status, 303, r.text);
  return new URL(r.location);
}

before(async () => {
  postern = new Postern();
  postern.addMailUser('alice', mail.MAIL_USER1, mail.MAIL_PASS1, mail);
  await postern.start();
});

after(async () => {
  await postern?.stop();
});

test('SDK OAuth: discovery, registration, consent, token, tools, refresh', async () => {
  const provider = new MemoryProvider({
    redirectUrl: REDIRECT, clientName: 'SDK e2e client', state: 'e2e-state',
  });
  // 1. Unauthenticated connect: 401 → discovery → DCR → authorization URL.
  let transport = new StreamableHTTPClientTransport(postern.url, { authProvider: provider });
  let client = new Client({ name: 'oauth-e2e', version: '1.0.0' });
  await assert.rejects(client.connect(transport), UnauthorizedError);
  assert.ok(provider.info?.client_id?.startsWith('pc_'), 'registered a client');
  const url = provider.authorizationUrl;
  assert.ok(url, 'the SDK asked for the user');
  assert.equal(url.searchParams.get('code_challenge_method'), 'S256');
  assert.equal(url.searchParams.get('resource'), `${postern.base}/mcp`);

  // 2. The user logs in and approves.
  const callback = await actAsUser(url, 'alice', 'alice-postern-password');
  assert.equal(callback.origin + callback.pathname, REDIRECT);
  assert.equal(callback.searchParams.get('state'), 'e2e-state');
  assert.equal(callback.searchParams.get('iss'), postern.base);
  const code = callback.searchParams.get('code');
  assert.ok(code);

  // 3. Token exchange through the SDK.
  await transport.finishAuth(code);
  const first = provider.saved;
  assert.ok(first.access_token && first.refresh_token);
  assert.equal(first.token_type, 'Bearer');
  await client.close().catch(() => {});

  // 4. initialize + tools/list + a tool against Dovecot.
  transport = new StreamableHTTPClientTransport(postern.url, { authProvider: provider });
  client = new Client({ name: 'oauth-e2e', version: '1.0.0' });
  await client.connect(transport);
  const { tools } = await client.listTools();
  assert.ok(tools.some(t => t.name === 'list_folders'));
  const folders = await client.callTool({ name: 'list_folders', arguments: {} });
  assert.equal(folders.isError, false, folders.content?.[0]?.text);
  await client.close();

  // 5. Refresh (rotation): new tokens, and they work.
  assert.equal(await auth(provider, { serverUrl: postern.url }), 'AUTHORIZED');
  const second = provider.saved;
  assert.notEqual(second.access_token, first.access_token);
  assert.notEqual(second.refresh_token, first.refresh_token);
  transport = new StreamableHTTPClientTransport(postern.url, { authProvider: provider });
  client = new Client({ name: 'oauth-e2e', version: '1.0.0' });
  await client.connect(transport);
  assert.ok((await client.listTools()).tools.length > 0);
  await client.close();
});
