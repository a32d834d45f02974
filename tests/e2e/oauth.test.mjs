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

/** Plays the user: login, consent, approve (with `choose(page)`'s form,
 *  else every scope for the first account). Returns the redirect URL. */
async function actAsUser(authorizationUrl, username, password, choose = approval) {
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
  const form = choose(r.text);
  r = await b.fetch('/oauth/authorize', { method: 'POST', form });
  assert.equal(r.status, 303, r.text);
  return new URL(r.location);
}

let accounts;

before(async () => {
  postern = new Postern({ TOOL_RATE_LIMIT: '0' });
  accounts = {
    alice: postern.addMailUser('alice', mail.MAIL_USER1, mail.MAIL_PASS1, mail),
  };
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

test('several mailboxes through one connection, chosen at consent', async () => {
  // A second mailbox for alice (carol's, on the same Dovecot).
  accounts.carol = postern.addAccount('alice', 'Carol box', mail.MAIL_USER3, mail.MAIL_PASS3,
    mail);
  const provider = new MemoryProvider({
    redirectUrl: REDIRECT, clientName: 'SDK e2e client', state: 'several',
  });
  let transport = new StreamableHTTPClientTransport(postern.url, { authProvider: provider });
  const unauthorized = new Client({ name: 'oauth-e2e', version: '1.0.0' });
  await assert.rejects(unauthorized.connect(transport), UnauthorizedError);
  let offered;
  const callback = await actAsUser(provider.authorizationUrl, 'alice', 'alice-postern-password',
    page => {
      offered = [...page.matchAll(/name="account" value="([^"]+)"/g)].map(m => m[1]);
      assert.match(page, /Tick each mailbox it may use/);
      assert.match(page, /name="default_account"/);
      // Both ticked, and no default: every call must name its account.
      return approval(page, offered, { defaultAccount: '' });
    });
  assert.deepEqual(offered.toSorted(), [accounts.alice, accounts.carol].toSorted());
  await transport.finishAuth(callback.searchParams.get('code'));
  transport = new StreamableHTTPClientTransport(postern.url, { authProvider: provider });
  const client = new Client({ name: 'oauth-e2e', version: '1.0.0' });
  await client.connect(transport);
  try {
    const listed = await client.callTool({ name: 'list_accounts', arguments: {} });
    assert.equal(listed.isError, false, listed.content?.[0]?.text);
    assert.equal(listed.structuredContent.accountRequired, true);
    const byLabel = Object.fromEntries(
      listed.structuredContent.accounts.map(a => [a.label, a]));
    assert.equal(byLabel["alice's mail"].address, mail.MAIL_USER1);
    assert.equal(byLabel['Carol box'].address, mail.MAIL_USER3);
    assert.equal(byLabel['Carol box'].default, false);
    assert.ok(byLabel['Carol box'].permissions.includes('mail:read'));
    // tools/list offers them, and requires one.
    const { tools } = await client.listTools();
    const lm = tools.find(t => t.name === 'list_messages').inputSchema;
    assert.deepEqual(lm.properties.account.enum.toSorted(),
      ["alice's mail", 'Carol box', mail.MAIL_USER1, mail.MAIL_USER3].toSorted());
    assert.ok(lm.required.includes('account'));
    // Without an account: a sentence naming both.
    const unnamed = await client.callTool({ name: 'list_messages', arguments: {} });
    assert.equal(unnamed.isError, true);
    assert.match(unnamed.content[0].text, /several email accounts .*and none is its default/);
    assert.match(unnamed.content[0].text, /"alice's mail"/);
    assert.match(unnamed.content[0].text, /"Carol box"/);
    // By label and by address, each its own mailbox.
    const alice = await client.callTool({ name: 'list_messages',
      arguments: { account: "alice's mail", pageSize: 50 } });
    assert.equal(alice.isError, false, alice.content?.[0]?.text);
    const corpus = JSON.parse((await import('node:fs')).readFileSync(mail.CORPUS_FILE, 'utf8'));
    assert.equal(alice.structuredContent.total, corpus[mail.MAIL_USER1].INBOX.length);
    const carol = await client.callTool({ name: 'list_messages',
      arguments: { account: mail.MAIL_USER3.toUpperCase(), pageSize: 50 } });
    assert.equal(carol.isError, false, carol.content?.[0]?.text);
    const subjects = r => r.structuredContent.messages.map(m => m.subject).join('\n');
    assert.notEqual(subjects(carol), subjects(alice));
    const unknown = await client.callTool({ name: 'list_folders',
      arguments: { account: 'nobody@example.test' } });
    assert.equal(unknown.isError, true);
    assert.match(unknown.content[0].text, /no email account "nobody@example.test"/);

    // On the dashboard, alice takes carol's box out of this connection:
    // the same token goes on with hers alone, and needs no account now.
    const b = new Browser(postern.base);
    assert.equal((await b.login('alice', 'alice-postern-password')).status, 303);
    const page = await b.fetch('/dashboard');
    const grant = [...page.text.matchAll(/data-grant-id="([^"]+)"/g)].map(m => m[1]);
    const mine = grant.find(g => page.text.includes(`/tokens/${g}/remove-account`));
    assert.ok(mine, 'the connection of two accounts offers Remove');
    const removed = await b.form('/dashboard', `/tokens/${mine}/remove-account`,
      { account: accounts.carol });
    assert.equal(removed.status, 303, removed.text);
    const after = await client.callTool({ name: 'list_accounts', arguments: {} });
    assert.deepEqual(after.structuredContent.accounts.map(a => a.label), ["alice's mail"]);
    const gone = await client.callTool({ name: 'list_messages',
      arguments: { account: 'Carol box' } });
    assert.equal(gone.isError, true);
    const plain = await client.callTool({ name: 'list_messages', arguments: {} });
    assert.equal(plain.isError, false, plain.content?.[0]?.text);
    assert.equal(plain.structuredContent.total, corpus[mail.MAIL_USER1].INBOX.length);
  } finally {
    await client.close().catch(() => {});
  }
});

test('sending only to the recipients chosen at consent, changed on the dashboard', async () => {
  const provider = new MemoryProvider({
    redirectUrl: REDIRECT, clientName: 'SDK e2e client', state: 'allowlist',
  });
  let transport = new StreamableHTTPClientTransport(postern.url, { authProvider: provider });
  const unauthorized = new Client({ name: 'oauth-e2e', version: '1.0.0' });
  await assert.rejects(unauthorized.connect(transport), UnauthorizedError);
  const bob = mail.MAIL_USER2;
  // A mistyped list is refused with the reason, and the same request can
  // be answered again (Back returns to the form).
  const b = new Browser(postern.base);
  const start = provider.authorizationUrl.pathname + provider.authorizationUrl.search;
  let r = await b.fetch(start);
  r = await b.fetch(r.location);
  r = await b.fetch('/login', { method: 'POST', form: { csrf: field(r.text, 'csrf'),
    next: field(r.text, 'next'), username: 'alice', password: 'alice-postern-password' } });
  r = await b.fetch(r.location);
  assert.equal(r.status, 200, r.text);
  assert.match(r.text, /Only let it write to/);
  const page = r.text;
  r = await b.fetch('/oauth/authorize', { method: 'POST',
    form: approval(page, accounts.alice, { allowRecipients: 'bob, "Bob" <bob@x>' }) });
  assert.equal(r.status, 400);
  assert.match(r.text, /Check the recipients/);
  assert.match(r.text, /&quot;bob&quot; is neither an address|"bob" is neither an address/);
  r = await b.fetch('/oauth/authorize', { method: 'POST',
    form: approval(page, accounts.alice, { allowRecipients: `${bob.toUpperCase()}, *@partner.example` }) });
  assert.equal(r.status, 303, r.text);
  const callback = new URL(r.location);
  await transport.finishAuth(callback.searchParams.get('code'));
  transport = new StreamableHTTPClientTransport(postern.url, { authProvider: provider });
  const client = new Client({ name: 'oauth-e2e', version: '1.0.0' });
  await client.connect(transport);
  const send = args => client.callTool({ name: 'send_mail', arguments: {
    subject: `allowlist ${Date.now()}`, body: 'Hello.', ...args } });
  try {
    const ok = await send({ to: bob });
    assert.equal(ok.isError, false, ok.content?.[0]?.text);
    const refused = await send({ to: 'eve@evil.example' });
    assert.equal(refused.isError, true);
    assert.match(refused.content[0].text,
      new RegExp(`may only write to ${bob.replace(/[.]/g, '\\.')} or anyone at partner\\.example, ` +
                 'so it cannot send to eve@evil\\.example'));
    // Bcc is checked too: nothing goes out when one recipient is refused.
    const hidden = await send({ to: bob, bcc: 'eve@evil.example' });
    assert.equal(hidden.isError, true);
    assert.match(hidden.content[0].text, /cannot send to eve@evil\.example/);

    // On the dashboard: the connection shows its list, and narrowing it
    // applies to the same token's next call.
    const dash = await b.fetch('/dashboard');
    const grant = [...dash.text.matchAll(/action="\/tokens\/([^/]+)\/send-rules"/g)].map(m => m[1]);
    const mine = grant.find(g => dash.text.includes(`id="allow-${g}" type="text" name="allow_recipients" value="${bob.toLowerCase()}, *@partner.example"`));
    assert.ok(mine, 'the dashboard shows the list chosen at consent');
    const bad = await b.form('/dashboard', `/tokens/${mine}/send-rules`,
      { allow_recipients: 'not an address' });
    assert.equal(bad.status, 400);
    const saved = await b.form('/dashboard', `/tokens/${mine}/send-rules`,
      { allow_recipients: '*@nowhere.example' });
    assert.equal(saved.status, 303, saved.text);
    assert.equal(saved.location, '/dashboard?notice=send_rules');
    const narrowed = await send({ to: bob });
    assert.equal(narrowed.isError, true);
    assert.match(narrowed.content[0].text, /may only write to anyone at nowhere\.example/);
    const activity = await b.fetch('/activity');
    assert.match(activity.text, /Changed how an agent connection may send/);
    // Emptied, it writes to anyone again.
    const open = await b.form('/dashboard', `/tokens/${mine}/send-rules`, { allow_recipients: '' });
    assert.equal(open.status, 303, open.text);
    const again = await send({ to: bob });
    assert.equal(again.isError, false, again.content?.[0]?.text);
  } finally {
    await client.close().catch(() => {});
  }
});
