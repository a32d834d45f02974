// SPDX-License-Identifier: Apache-2.0
// Postern's MCP endpoint driven by the official TypeScript SDK (Client +
// StreamableHTTPClientTransport) against a running Postern and the real
// Dovecot/Postfix of the test fixture. alice's seeded INBOX is read only;
// everything that changes mail happens in bob's mailbox with messages this
// suite sends itself.
//
// Run through ctest (mcp.e2e), or by hand:
//   POSTERN_BIN=build/dev/postern POSTERN_MAIL_ENV=/tmp/mail/ports.env \
//     node --test tests/e2e/mcp.test.mjs
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import {
  StreamableHTTPClientTransport,
  StreamableHTTPError,
} from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ElicitRequestSchema, McpError } from '@modelcontextprotocol/sdk/types.js';

import { Postern, call, eventually, failing, mailEnv } from './postern.mjs';

const ALL = 'mail:folders mail:read mail:search mail:modify mail:send';
const mail = mailEnv();
const corpus = JSON.parse(readFileSync(mail.CORPUS_FILE, 'utf8'));
const aliceInbox = corpus['alice@example.test'].INBOX;

let postern;
let accounts;
let tokens;
const clients = [];

async function connect(token, { name = 'postern-e2e' } = {}) {
  const transport = new StreamableHTTPClientTransport(postern.url, {
    requestInit: { headers: { Authorization: `Bearer ${token}` } },
  });
  const client = new Client({ name, version: '1.0.0' });
  await client.connect(transport);
  clients.push(client);
  return { client, transport };
}

before(async () => {
  postern = new Postern({ TOOL_RATE_LIMIT: '0' });
  accounts = {
    alice: postern.addMailUser('alice', mail.MAIL_USER1, mail.MAIL_PASS1, mail),
    bob: postern.addMailUser('bob', mail.MAIL_USER2, mail.MAIL_PASS2, mail),
  };
  await postern.start();
  // Issued while the server runs, by another process.
  tokens = {
    aliceRead: postern.token('alice', accounts.alice, 'mail:folders mail:read mail:search'),
    aliceFolders: postern.token('alice', accounts.alice, 'mail:folders'),
    aliceSend: postern.token('alice', accounts.alice, 'mail:send'),
    bobAll: postern.token('bob', accounts.bob, ALL),
  };
});

after(async () => {
  for (const c of clients)
    await c.close().catch(() => {});
  await postern?.stop();
});

describe('lifecycle', () => {
  test('initialize negotiates the newest version and names the server', async () => {
    const { client, transport } = await connect(tokens.aliceRead);
    assert.equal(client.getServerVersion().name, 'postern');
    assert.ok(client.getServerCapabilities().tools);
    assert.match(client.getInstructions(), /list_folders/);
    assert.equal(transport.protocolVersion, '2025-11-25');
    assert.match(transport.sessionId, /^[A-Za-z0-9_-]{43}$/);
    await client.ping();
  });

  test('tools/list shows exactly the tools of the token\'s scopes', async () => {
    const names = async token => {
      const { client } = await connect(token);
      return (await client.listTools()).tools.map(t => t.name);
    };
    assert.deepEqual(await names(tokens.aliceFolders), ['list_folders', 'list_accounts']);
    assert.deepEqual(await names(tokens.aliceSend),
      ['send_mail', 'reply_message', 'forward_message', 'get_send_status', 'list_accounts']);
    assert.deepEqual(await names(tokens.aliceRead),
      ['list_folders', 'list_messages', 'read_message', 'search_messages', 'get_thread',
        'get_attachment', 'list_accounts']);
    const { client } = await connect(tokens.bobAll);
    const tools = (await client.listTools()).tools;
    assert.deepEqual(tools.map(t => t.name),
      ['list_folders', 'list_messages', 'read_message', 'search_messages',
        'move_message', 'flag_message', 'send_mail', 'get_thread', 'create_folder',
        'rename_folder', 'delete_folder', 'delete_message', 'copy_message',
        'get_attachment', 'reply_message', 'forward_message', 'get_send_status',
        'list_accounts']);
    for (const t of tools) {
      assert.ok(t.title, t.name);
      assert.equal(t.inputSchema.type, 'object');
      assert.equal(t.outputSchema.type, 'object');
      assert.equal(t.inputSchema.additionalProperties, false);
      for (const hint of ['readOnlyHint', 'destructiveHint', 'idempotentHint', 'openWorldHint'])
        assert.equal(typeof t.annotations[hint], 'boolean', `${t.name} ${hint}`);
    }
    const byName = Object.fromEntries(tools.map(t => [t.name, t]));
    assert.equal(byName.read_message.annotations.readOnlyHint, true);
    assert.equal(byName.send_mail.annotations.openWorldHint, true);
    assert.equal(byName.move_message.annotations.destructiveHint, true);
    // The original's argument names and defaults.
    const lm = byName.list_messages.inputSchema.properties;
    assert.equal(lm.folder.default, 'INBOX');
    assert.equal(lm.page.default, 1);
    assert.equal(lm.pageSize.default, 20);
    assert.equal(lm.includeBody.default, false);
    // uid stays as in the original; uids (several at once) is the other way.
    assert.deepEqual(byName.move_message.inputSchema.required, ['folder', 'destination']);
    assert.equal(byName.move_message.inputSchema.properties.uid.type, 'integer');
    assert.deepEqual(byName.send_mail.inputSchema.required, ['to', 'subject', 'body']);
  });
});

describe('reading alice\'s seeded mailbox', () => {
  let client;
  before(async () => { ({ client } = await connect(tokens.aliceRead)); });

  test('list_folders returns every folder with its special use', async () => {
    const { folders } = await call(client, 'list_folders', { includeCounts: true });
    const byPath = Object.fromEntries(folders.map(f => [f.path, f]));
    for (const path of ['INBOX', 'Sent', 'Archive', 'Archive/2023', 'Entwürfe', '日本語', 'Отчёты'])
      assert.ok(byPath[path], `missing ${path}`);
    assert.equal(byPath['Archive/2023'].name, '2023');
    assert.equal(byPath.Sent.specialUse, '\\Sent');
    assert.equal(byPath.INBOX.messages, aliceInbox.length);
    assert.equal(byPath['Archive/2023'].messages, corpus['alice@example.test']['Archive/2023'].length);
  });

  test('list_messages pages newest first, by page and by cursor', async () => {
    const first = await call(client, 'list_messages', { pageSize: 5 });
    assert.equal(first.total, aliceInbox.length);
    assert.equal(first.page, 1);
    assert.equal(first.pageSize, 5);
    assert.deepEqual(first.messages.map(m => m.uid), [300, 299, 298, 297, 296]);
    const top = aliceInbox[aliceInbox.length - 1];
    assert.equal(first.messages[0].messageId, top.message_id);
    assert.equal(first.messages[0].subject, top.subject ?? '(no subject)');
    const second = await call(client, 'list_messages', { page: 2, pageSize: 5 });
    assert.deepEqual(second.messages.map(m => m.uid), [295, 294, 293, 292, 291]);
    const next = await call(client, 'list_messages', { pageSize: 5, cursor: first.nextCursor });
    assert.deepEqual(next.messages.map(m => m.uid), [295, 294, 293, 292, 291]);
    // Defaults: INBOX, page 1, 20 per page.
    const defaults = await call(client, 'list_messages');
    assert.equal(defaults.messages.length, 20);
    const withBody = await call(client, 'list_messages', { pageSize: 3, includeBody: true });
    assert.equal(withBody.messages.length, 3);
    for (const m of withBody.messages)
      assert.equal(typeof m.body, 'string');
    const other = await call(client, 'list_messages', { folder: 'Archive/2023' });
    assert.equal(other.total, corpus['alice@example.test']['Archive/2023'].length);
  });

  test('read_message reads one, several, and windows of long texts', async () => {
    const one = await call(client, 'read_message', { uid: 300 });
    assert.equal(one.uid, 300);
    assert.equal(one.messageId, aliceInbox[299].message_id);
    assert.equal(typeof one.body, 'string');
    assert.ok(Array.isArray(one.attachments));
    // uids without uid (the original required uid); a missing UID is
    // reported in place.
    const several = await call(client, 'read_message', { uids: [300, 299, 999999] });
    assert.deepEqual(several.messages.map(m => m.uid), [300, 299, 999999]);
    assert.match(several.messages[2].error, /999999/);
    const windowed = await call(client, 'read_message', { uid: 299, maxLength: 10 });
    assert.equal(windowed.truncated, true);
    assert.equal(windowed.nextOffset, 10);
    assert.equal([...windowed.body].length, 10);
    assert.match(windowed.notice, /offset=10/);
    const rest = await call(client, 'read_message', { uid: 299, offset: 10, maxLength: 10 });
    assert.equal(rest.offset, 10);
    const full = await call(client, 'read_message', { uid: 299 });
    assert.equal([...full.body].slice(10, 20).join(''), rest.body);
    // The 10 MB message stays below Claude.ai's 150 000 characters.
    const huge = aliceInbox.find(m => m.kind === 'huge');
    const big = await client.callTool({ name: 'read_message', arguments: { uid: huge.uid } });
    assert.ok(big.content[0].text.length < 150000, `${big.content[0].text.length} characters`);
  });

  test('search_messages finds corpus messages and checks dates strictly', async () => {
    const target = aliceInbox.find(m => m.subject && /Budget \d+/.test(m.subject));
    const word = /Budget \d+/.exec(target.subject)[0];
    const found = await call(client, 'search_messages', { query: word });
    assert.ok(found.total >= 1);
    assert.ok(found.messages.some(m => m.messageId === target.message_id));
    const limited = await call(client, 'search_messages', { limit: 3 });
    assert.equal(limited.messages.length, 3);
    assert.equal(limited.total, aliceInbox.length);
    const unseen = await call(client, 'search_messages', { unseen: true, limit: 50 });
    for (const m of unseen.messages)
      assert.ok(!m.flags.includes('\\Seen'));
    const none = await call(client, 'search_messages', { since: '2099-01-01' });
    assert.equal(none.total, 0);
    assert.match(await failing(client, 'search_messages', { since: 'not-a-date' }),
      /`since` must be a real date written YYYY-MM-DD/);
  });

  test('bad arguments and mail errors are tool errors with a sentence', async () => {
    assert.match(await failing(client, 'list_messages', { pageSize: 500 }),
      /`pageSize` must be between 1 and 50 \(got 500\)/);
    assert.match(await failing(client, 'list_messages', { pagesize: 5 }),
      /unknown argument `pagesize`/);
    assert.match(await failing(client, 'read_message', {}), /give `uid`/);
    assert.match(await failing(client, 'read_message', { uids: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11] }),
      /at most 10/);
    assert.match(await failing(client, 'list_messages', { folder: 'No such folder' }),
      /No such folder/);
    assert.match(await failing(client, 'read_message', { uid: 999999 }), /999999/);
  });

  test('an unknown tool is a JSON-RPC error', async () => {
    await assert.rejects(client.callTool({ name: 'delete_everything', arguments: {} }),
      err => err instanceof McpError && err.code === -32602);
  });
});

describe('changing bob\'s mailbox', () => {
  let client;
  const tag = randomUUID();
  let uid;

  before(async () => { ({ client } = await connect(tokens.bobAll)); });

  test('send_mail sends over SMTP and saves a copy to Sent', async () => {
    const sent = await call(client, 'send_mail', {
      to: `Bob <${mail.MAIL_USER2}>`,
      cc: mail.MAIL_USER3,
      subject: `e2e ${tag} Grüße`,
      body: 'Hello from the end-to-end suite.\nZweite Zeile: äöü.',
      html: '<p>Hello from the <b>end-to-end</b> suite.</p>',
    });
    assert.equal(sent.success, true);
    assert.match(sent.messageId, /^<.+@.+>$/);
    assert.equal(sent.sentFolder, 'Sent');
    const found = await eventually('delivery to bob', async () => {
      const r = await call(client, 'search_messages', { subject: tag });
      return r.total > 0 ? r : null;
    });
    uid = found.messages[0].uid;
    assert.equal(found.messages[0].messageId, sent.messageId);
    const msg = await call(client, 'read_message', { uid });
    assert.equal(msg.subject, `e2e ${tag} Grüße`);
    assert.match(msg.body, /Zweite Zeile: äöü/);
    const copy = await call(client, 'search_messages', { folder: 'Sent', subject: tag });
    assert.equal(copy.total, 1);
  });

  test('flag_message sets and clears flags', async () => {
    assert.ok(uid, 'send_mail must have run');
    const set = await call(client, 'flag_message', { uid, seen: true, flagged: true });
    assert.ok(set.flags.includes('\\Seen'));
    assert.ok(set.flags.includes('\\Flagged'));
    const cleared = await call(client, 'flag_message', { uid, flagged: false });
    assert.ok(!cleared.flags.includes('\\Flagged'));
    assert.ok(cleared.flags.includes('\\Seen'));
    assert.match(await failing(client, 'flag_message', { uid }), /at least one of `seen`/);
  });

  test('move_message moves, and reports what the server refused', async () => {
    assert.ok(uid, 'send_mail must have run');
    const moved = await call(client, 'move_message',
      { folder: 'INBOX', uid, destination: 'Archive' });
    assert.equal(moved.success, true);
    assert.equal(moved.destination, 'Archive');
    const there = await call(client, 'search_messages', { folder: 'Archive', subject: tag });
    assert.equal(there.total, 1);
    const gone = await call(client, 'search_messages', { subject: tag });
    assert.equal(gone.total, 0);
    // The original reported success for both of these.
    assert.match(await failing(client, 'move_message',
      { folder: 'INBOX', uid, destination: 'Archive' }), new RegExp(String(uid)));
    assert.match(await failing(client, 'move_message',
      { folder: 'Archive', uid: there.messages[0].uid, destination: 'No such folder' }),
    /No such folder/);
  });
});

describe('authorization and sessions', () => {
  test('a tool outside the scopes is refused with 403 insufficient_scope', async () => {
    const { client } = await connect(tokens.aliceFolders);
    await assert.rejects(
      client.callTool({ name: 'send_mail', arguments: { to: 'x@example.test', subject: 's', body: 'b' } }),
      err => err instanceof StreamableHTTPError && err.code === 403);
    // The challenge itself.
    const { transport } = await connect(tokens.aliceFolders);
    const r = await postern.raw('POST', {
      token: tokens.aliceFolders, session: transport.sessionId,
      body: { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'list_messages' } },
    });
    assert.equal(r.status, 403);
    assert.equal(r.headers.get('www-authenticate'),
      'Bearer error="insufficient_scope", scope="mail:folders mail:read", '
      + `resource_metadata="${postern.base}/.well-known/oauth-protected-resource/mcp", `
      + 'error_description="Forbidden: this token lacks the scope mail:read that list_messages needs"');
  });

  test('a deleted session is gone (404) and a new one can be made', async () => {
    const { client, transport } = await connect(tokens.aliceRead);
    const old = transport.sessionId;
    await transport.terminateSession();
    assert.equal(transport.sessionId, undefined);
    const r = await postern.raw('POST', {
      token: tokens.aliceRead, session: old,
      body: { jsonrpc: '2.0', id: 1, method: 'ping' },
    });
    assert.equal(r.status, 404);
    assert.equal((await r.json()).error.code, -32001);
    await client.close();
    const again = await connect(tokens.aliceRead);
    assert.notEqual(again.transport.sessionId, old);
    await again.client.ping();
  });

  test('another token cannot use a session (404)', async () => {
    const { transport } = await connect(tokens.aliceRead);
    // The same user, another grant: still not its session.
    const intruder = new StreamableHTTPClientTransport(postern.url, {
      sessionId: transport.sessionId,
      requestInit: { headers: { Authorization: `Bearer ${tokens.aliceFolders}` } },
    });
    await intruder.start();
    await assert.rejects(intruder.send({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
      err => err instanceof StreamableHTTPError && err.code === 404);
    await intruder.close();
    const r = await postern.raw('DELETE', { token: tokens.bobAll, session: transport.sessionId });
    assert.equal(r.status, 404);
    // The owner still has it.
    const own = await postern.raw('POST', {
      token: tokens.aliceRead, session: transport.sessionId,
      body: { jsonrpc: '2.0', id: 2, method: 'ping' },
    });
    assert.equal(own.status, 200);
  });

  test('an expired token gets 401 with the challenge', async () => {
    const short = postern.token('alice', accounts.alice, 'mail:read', 1);
    await new Promise(r => setTimeout(r, 2100));
    const transport = new StreamableHTTPClientTransport(postern.url, {
      requestInit: { headers: { Authorization: `Bearer ${short}` } },
    });
    const client = new Client({ name: 'expired', version: '1.0.0' });
    await assert.rejects(client.connect(transport),
      err => err instanceof StreamableHTTPError && err.code === 401);
    const r = await postern.raw('POST', {
      token: short,
      body: { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'x', version: '1' } } },
    });
    assert.equal(r.status, 401);
    assert.equal(r.headers.get('www-authenticate'),
      `Bearer resource_metadata="${postern.base}/.well-known/oauth-protected-resource/mcp", `
      + 'error="invalid_token", error_description="The access token expired."');
    const none = await postern.raw('POST', { body: { jsonrpc: '2.0', id: 1, method: 'ping' } });
    assert.equal(none.status, 401);
    assert.equal(none.headers.get('www-authenticate'),
      `Bearer resource_metadata="${postern.base}/.well-known/oauth-protected-resource/mcp"`);
  });
});

describe('sending that waits for a yes', () => {
  test('a client with URL-mode elicitation is asked to open the approval page', async () => {
    const held = postern.admin(['issue-token', 'bob', '--account', accounts.bob,
      '--scopes', 'mail:send', '--ask-before-send']);
    // Declares elicitation in URL mode and answers it as a person would.
    const transport = new StreamableHTTPClientTransport(postern.url, {
      requestInit: { headers: { Authorization: `Bearer ${held}` } },
    });
    const client = new Client({ name: 'elicits', version: '1.0.0' },
      { capabilities: { elicitation: { url: {} } } });
    const asked = [];
    client.setRequestHandler(ElicitRequestSchema, async (request) => {
      asked.push(request.params);
      return { action: 'accept' };
    });
    await client.connect(transport);
    clients.push(client);
    const sent = await call(client, 'send_mail', {
      to: mail.MAIL_USER2, subject: `ask through the client ${randomUUID()}`, body: 'b' });
    assert.equal(sent.status, 'awaiting_approval');
    assert.equal(asked.length, 1);
    assert.equal(asked[0].mode, 'url');
    assert.equal(asked[0].url, sent.approveUrl);
    assert.equal(asked[0].elicitationId, sent.outboxId);
    assert.match(asked[0].message, /Nothing is sent until you approve it/);
    const status = await call(client, 'get_send_status', { outboxId: sent.outboxId });
    assert.equal(status.status, 'pending');

    // Without the capability, the same answer and no request.
    const { client: plain } = await connect(held);
    const other = await call(plain, 'send_mail', {
      to: mail.MAIL_USER2, subject: `no elicitation ${randomUUID()}`, body: 'b' });
    assert.equal(other.status, 'awaiting_approval');
    assert.equal(asked.length, 1);
  });
});
