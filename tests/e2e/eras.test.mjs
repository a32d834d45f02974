// SPDX-License-Identifier: Apache-2.0
// Both protocol eras of /mcp end to end against Dovecot/Postfix: the
// TypeScript SDK v2 client (@modelcontextprotocol/client, pinned) in its
// `legacy`, `auto` and pinned-modern (2026-07-28) negotiation modes, and
// the v1 SDK (@modelcontextprotocol/sdk) as before. Each does the same
// work: list folders, list, read (also as a resource), search, send, a
// call outside its scopes, and a call with a revoked token.
//
// Run through ctest (mcp.e2e.eras), or by hand:
//   POSTERN_BIN=build/dev/postern POSTERN_MAIL_ENV=/tmp/mail/ports.env \
//     node --test tests/e2e/eras.test.mjs
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';

import * as v2 from '@modelcontextprotocol/client';
import { Client as V1Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as V1Transport }
  from '@modelcontextprotocol/sdk/client/streamableHttp.js';

import { Postern, call, eventually, mailEnv } from './postern.mjs';

const mail = mailEnv();
const corpus = JSON.parse(readFileSync(mail.CORPUS_FILE, 'utf8'));
const aliceInbox = corpus['alice@example.test'].INBOX;

let postern;
let accounts;
const clients = [];

before(async () => {
  postern = new Postern({ TOOL_RATE_LIMIT: '0' });
  accounts = {
    alice: postern.addMailUser('alice', mail.MAIL_USER1, mail.MAIL_PASS1, mail),
    bob: postern.addMailUser('bob', mail.MAIL_USER2, mail.MAIL_PASS2, mail),
  };
  await postern.start();
});

after(async () => {
  for (const c of clients)
    await c.close().catch(() => {});
  await postern?.stop();
});

/** Watches what the client sends, to tell the eras apart on the wire. */
function recordingFetch(seen) {
  return async (url, init) => {
    const h = new Headers(init?.headers);
    const body = typeof init?.body === 'string' ? JSON.parse(init.body) : undefined;
    seen.push({ method: body?.method, version: h.get('mcp-protocol-version'),
      session: h.get('mcp-session-id'), mcpMethod: h.get('mcp-method') });
    return fetch(url, init);
  };
}

const clientsUnderTest = {
  'v2 legacy': { sdk: 'v2', mode: 'legacy', era: 'legacy' },
  'v2 auto': { sdk: 'v2', mode: 'auto', era: 'modern' },
  'v2 modern': { sdk: 'v2', mode: { pin: '2026-07-28' }, era: 'modern' },
  'v1 SDK': { sdk: 'v1', era: 'legacy' },
};

async function connect(kind, token, seen = []) {
  const spec = clientsUnderTest[kind];
  const requestInit = { headers: { Authorization: `Bearer ${token}` } };
  let client;
  if (spec.sdk === 'v1') {
    client = new V1Client({ name: 'postern-eras-v1', version: '1.0.0' });
    await client.connect(new V1Transport(postern.url,
      { requestInit, fetch: recordingFetch(seen) }));
  } else {
    client = new v2.Client({ name: 'postern-eras-v2', version: '1.0.0' },
      { versionNegotiation: { mode: spec.mode } });
    await client.connect(new v2.StreamableHTTPClientTransport(postern.url,
      { requestInit, fetch: recordingFetch(seen) }));
  }
  clients.push(client);
  return client;
}

for (const kind of Object.keys(clientsUnderTest)) {
  const spec = clientsUnderTest[kind];
  describe(kind, () => {
    let reader;
    let sender;
    const seen = [];
    before(async () => {
      reader = await connect(kind,
        postern.token('alice', accounts.alice, 'mail:folders mail:read mail:search'), seen);
      sender = await connect(kind,
        postern.token('bob', accounts.bob, 'mail:read mail:search mail:send'));
    });

    test(`speaks the ${spec.era} era`, async () => {
      if (spec.sdk === 'v2')
        assert.equal(reader.getProtocolEra(), spec.era);
      await reader.listTools();
      const listed = seen.find(s => s.method === 'tools/list');
      if (spec.era === 'modern') {
        assert.equal(listed.version, '2026-07-28');
        assert.equal(listed.session, null);
        assert.equal(listed.mcpMethod, 'tools/list');
        assert.ok(!seen.some(s => s.method === 'initialize'));
      } else {
        assert.match(listed.session, /^[A-Za-z0-9_-]{43}$/);
        assert.ok(seen.some(s => s.method === 'initialize'));
      }
    });

    test('list folders, list, read and search', async () => {
      const { folders } = await call(reader, 'list_folders', { includeCounts: true });
      const inbox = folders.find(f => f.path === 'INBOX');
      assert.equal(inbox.messages, aliceInbox.length);
      const page = await call(reader, 'list_messages', { pageSize: 5 });
      assert.deepEqual(page.messages.map(m => m.uid), [300, 299, 298, 297, 296]);
      const one = await call(reader, 'read_message', { uid: 300 });
      assert.equal(one.messageId, aliceInbox[299].message_id);
      const target = aliceInbox.find(m => m.subject && /Budget \d+/.test(m.subject));
      const found = await call(reader, 'search_messages',
        { query: /Budget \d+/.exec(target.subject)[0] });
      assert.ok(found.messages.some(m => m.messageId === target.message_id));
    });

    test('a message is a resource: resources/read of the uri read_message gave', async () => {
      const one = await call(reader, 'read_message', { uid: 300 });
      assert.match(one.uri, /^postern:\/\/accounts\/[0-9a-f-]+\/folders\/INBOX\/messages\/300$/);
      const { resourceTemplates } = await reader.listResourceTemplates();
      assert.deepEqual(resourceTemplates.map(t => t.name), ['message', 'attachment']);
      const read = await reader.readResource({ uri: one.uri });
      assert.equal(read.contents.length, 1);
      assert.equal(read.contents[0].uri, one.uri);
      assert.equal(read.contents[0].mimeType, 'application/json');
      const message = JSON.parse(read.contents[0].text);
      assert.equal(message.messageId, aliceInbox[299].message_id);
      assert.equal(message.body, one.body);
      // Another person's message: the URI names an account this
      // connection does not reach.
      const newest = await call(sender, 'list_messages', { pageSize: 1 });
      const theirs = await call(sender, 'read_message', { uid: newest.messages[0].uid });
      await assert.rejects(reader.readResource({ uri: theirs.uri }),
        err => err.code === -32602 && /does not reach the email account/.test(err.message));
    });

    test('send, and find what was sent', async () => {
      const tag = randomUUID();
      const sent = await call(sender, 'send_mail',
        { to: mail.MAIL_USER2, subject: `eras ${kind} ${tag}`, body: 'Both eras.' });
      assert.equal(sent.success, true);
      const found = await eventually('delivery to bob', async () => {
        const r = await call(sender, 'search_messages', { subject: tag });
        return r.total > 0 ? r : null;
      });
      assert.equal(found.messages[0].messageId, sent.messageId);
    });

    test('a tool outside the scopes is refused with 403', async () => {
      await assert.rejects(
        reader.callTool({ name: 'send_mail',
          arguments: { to: 'x@example.test', subject: 's', body: 'b' } }),
        err => (spec.sdk === 'v2'
          // v2 reads the step-up challenge: every scope the call needs.
          ? err instanceof v2.InsufficientScopeError
            && err.requiredScope.split(' ').includes('mail:send')
          : err.code === 403));
    });

    test('a revoked token is refused with 401', async () => {
      const name = `carol${kind.replace(/[^a-z0-9]/gi, '')}`;
      const account = postern.addMailUser(name, mail.MAIL_USER1, mail.MAIL_PASS1, mail);
      const client = await connect(kind, postern.token(name, account, 'mail:folders'));
      await call(client, 'list_folders');
      postern.admin(['delete-user', name]);
      // The TOKEN AUTHORITY re-reads LMDB within its 2 s re-check.
      const err = await eventually('the revocation', async () => {
        try {
          await client.callTool({ name: 'list_folders', arguments: {} });
          return null;
        } catch (e) {
          return e;
        }
      });
      assert.match(`${err.code} ${err.status} ${err.message}`, /401|nauthorized|invalid_token/);
    });
  });
}
