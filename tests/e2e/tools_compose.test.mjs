// SPDX-License-Identifier: Apache-2.0
// The composing tools (get_attachment, send_mail with attachments,
// reply_message, forward_message, save_draft, the mail:draft scope and the
// per-account send rate limit) driven by the official MCP SDK client against
// Postern and the real Dovecot/Postfix of the test fixture.
//
// Mailboxes: erin@example.test is the account under test (her seeded INBOX,
// see erin_corpus in tests/mail/seed.py, is only read); frank and grace
// receive what erin sends and are read through their own Postern accounts.
// Every test finds its own mail by a fresh tag, so reruns never collide.
//
// Run through ctest (mcp.e2e), or by hand:
//   POSTERN_BIN=build/ci/postern POSTERN_MAIL_ENV=build/ci/mailenv/ports.env \
//     node --test tests/e2e/tools_compose.test.mjs
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import {
  StreamableHTTPClientTransport,
  StreamableHTTPError,
} from '@modelcontextprotocol/sdk/client/streamableHttp.js';

import { Postern, call, eventually, failing, mailEnv } from './postern.mjs';

const mail = mailEnv();
const corpus = JSON.parse(readFileSync(mail.CORPUS_FILE, 'utf8'));
const erinInbox = corpus['erin@example.test'].INBOX;
const uidOf = subject => erinInbox.find(m => m.subject === subject).uid;
const ERIN = 'erin@example.test';
const FRANK = 'frank@example.test';
const GRACE = 'grace@example.test';
// Erin's other From addresses: Dovecot delivers +detail addresses to her
// INBOX, so mail to an alias really arrives.
const ERIN_SALES = 'erin+sales@example.test';
const ERIN_ALIASES = [ERIN_SALES, 'Erin+Billing@example.test'];
const EVERYTHING = 'mail:folders mail:read mail:search mail:modify mail:send mail:draft';

const servers = [];
const clients = [];

/** A Postern with erin, frank and grace, and tokens for them. */
async function startServer(env = {}) {
  const p = new Postern({ TOOL_RATE_LIMIT: '0', ...env });
  servers.push(p);
  const accounts = {};
  for (const name of ['erin', 'frank', 'grace'])
    accounts[name] = p.addMailUser(name, `${name}@example.test`, `${name}pw`, mail,
      name === 'erin' ? ['--aliases', ERIN_ALIASES.join(',')] : []);
  await p.start();
  p.accounts = accounts;
  return p;
}

async function connect(server, token) {
  const transport = new StreamableHTTPClientTransport(server.url, {
    requestInit: { headers: { Authorization: `Bearer ${token}` } },
  });
  const client = new Client({ name: 'postern-e2e-compose', version: '1.0.0' });
  await client.connect(transport);
  clients.push(client);
  return client;
}

/** The message with `tag` in its subject, once delivered to `client`'s INBOX. */
async function delivered(client, tag, folder = 'INBOX') {
  const found = await eventually(`delivery of ${tag}`, async () => {
    const r = await call(client, 'search_messages', { folder, subject: tag });
    return r.total > 0 ? r : null;
  });
  assert.equal(found.total, 1, `exactly one message tagged ${tag}`);
  return call(client, 'read_message', { folder, uid: found.messages[0].uid });
}

const b64 = bytes => Buffer.from(bytes).toString('base64');

let main;    // default limits
let erin;    // every scope
let frank;   // reads frank's mailbox
let grace;   // reads grace's mailbox

before(async () => {
  main = await startServer();
  const t = (user, scopes) => main.token(user, main.accounts[user], scopes);
  erin = await connect(main, t('erin', EVERYTHING));
  frank = await connect(main, t('frank', 'mail:read mail:search'));
  grace = await connect(main, t('grace', 'mail:read mail:search'));
});

after(async () => {
  for (const c of clients)
    await c.close().catch(() => {});
  for (const s of servers)
    await s.stop();
});

describe('get_attachment', () => {
  test('an image comes back as MCP image content', async () => {
    const uid = uidOf('Photo from the trip');
    const msg = await call(erin, 'read_message', { uid });
    const listed = msg.attachments.find(a => a.filename === 'photo.png');
    assert.ok(listed, JSON.stringify(msg.attachments));
    const result = await erin.callTool({ name: 'get_attachment', arguments: { uid, partId: listed.partId } });
    assert.equal(result.isError, false, result.content?.[0]?.text);
    assert.deepEqual(result.structuredContent, {
      uri: listed.uri, uid, folder: 'INBOX', partId: listed.partId,
      mimeType: 'image/png', filename: 'photo.png', kind: 'image',
      size: result.structuredContent.size,
    });
    assert.match(listed.uri, new RegExp(`^postern://accounts/${main.accounts.erin}/folders/INBOX/messages/${uid}/parts/${listed.partId}$`));
    const image = result.content[1];
    assert.equal(image.type, 'image');
    assert.equal(image.mimeType, 'image/png');
    const png = Buffer.from(image.data, 'base64');
    assert.equal(png.length, result.structuredContent.size);
    assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  });

  test('a text part is decoded to UTF-8 from its charset and transfer encoding', async () => {
    const uid = uidOf('Meeting notes');
    const msg = await call(erin, 'read_message', { uid });
    const notes = msg.attachments.find(a => a.filename === 'notes.txt');
    const got = await call(erin, 'get_attachment', { uid, partId: notes.partId });
    assert.equal(got.kind, 'text');
    assert.equal(got.mimeType, 'text/plain');
    assert.equal(got.text, 'Grüße aus München\nTagesordnung: Äpfel und Öl\n');
    const json = msg.attachments.find(a => a.filename === 'data.json');
    const data = await call(erin, 'get_attachment', { uid, partId: json.partId });
    assert.equal(data.kind, 'text');
    assert.deepEqual(JSON.parse(data.text), { answer: 42, city: 'München' });
  });

  test('other files come back as an embedded resource with the exact bytes', async () => {
    const uid = uidOf('Quarterly report');
    const result = await erin.callTool({ name: 'get_attachment', arguments: { uid, partId: '2' } });
    assert.equal(result.isError, false, result.content?.[0]?.text);
    assert.equal(result.structuredContent.kind, 'file');
    assert.equal(result.structuredContent.filename, 'report.pdf');
    const resource = result.content[1];
    assert.equal(resource.type, 'resource');
    assert.equal(resource.resource.mimeType, 'application/pdf');
    const bytes = Buffer.from(resource.resource.blob, 'base64');
    assert.equal(bytes.length, 9 + 2048 + 7);
    assert.equal(bytes.subarray(0, 9).toString(), '%PDF-1.4\n');
  });

  test('bad inputs: missing part id, oversize file, unknown UID, bad part id', async () => {
    const uid = uidOf('Quarterly report');
    assert.match(await failing(erin, 'get_attachment', { uid, partId: '7' }),
      /^Message \d+ has no attachment with part id "7"; its attachments are 2 \(partId in read_message\)$/);
    assert.match(await failing(erin, 'get_attachment', { uid: uidOf('Lunch on Friday?'), partId: '2' }),
      /has no attachment with part id "2"; it has no attachments/);
    assert.match(await failing(erin, 'get_attachment', { uid: 999999, partId: '2' }),
      /There is no message with UID 999999 in the folder "INBOX"/);
    assert.match(await failing(erin, 'get_attachment', { uid, partId: 'x' }),
      /`partId` must be a part number like "2"/);
    assert.match(await failing(erin, 'get_attachment', { uid }), /`partId` is required/);
    assert.match(await failing(erin, 'get_attachment', { folder: 'Nope', uid, partId: '2' }),
      /Nope/);
  });
});

/** Downloads a get_attachment link from `server` (the link names BASE_URL). */
async function download(server, url) {
  const path = new URL(url).pathname;
  assert.match(path, /^\/files\/[A-Za-z0-9_-]+$/);
  return fetch(new URL(path, server.base));
}

describe('get_attachment download links', () => {
  test('a part above the inline limit comes as a link; asLink for any part; the bytes are exact', async () => {
    const big = await erin.callTool({ name: 'get_attachment',
      arguments: { uid: uidOf('Big archive'), partId: '2' } });
    assert.equal(big.isError, false, big.content?.[0]?.text);
    assert.equal(big.structuredContent.kind, 'link');
    assert.match(big.structuredContent.note, /more than the 98 KB this server hands out for file attachments; here is a download link/);
    const linkItem = big.content.find(c => c.type === 'resource_link');
    assert.equal(linkItem.uri, big.structuredContent.url);
    assert.equal(linkItem.name, big.structuredContent.filename);
    const got = await download(main, big.structuredContent.url);
    assert.equal(got.status, 200);
    assert.match(got.headers.get('content-disposition'), /^attachment; filename="/);
    assert.equal(got.headers.get('x-content-type-options'), 'nosniff');
    assert.ok((await got.arrayBuffer()).byteLength > 98 * 1024);

    const uid = uidOf('Quarterly report');
    const inline = await erin.callTool({ name: 'get_attachment', arguments: { uid, partId: '2' } });
    const asked = await call(erin, 'get_attachment', { uid, partId: '2', asLink: true });
    assert.equal(asked.kind, 'link');
    assert.equal(asked.filename, 'report.pdf');
    assert.ok(Date.parse(asked.expiresAt) > Date.now());
    const pdf = await download(main, asked.url);
    assert.equal(pdf.status, 200);
    assert.equal(pdf.headers.get('content-type'), 'application/pdf');
    assert.deepEqual(Buffer.from(await pdf.arrayBuffer()),
      Buffer.from(inline.content[1].resource.blob, 'base64'));
  });

  test('a changed link, a part that is not there, and a revoked connection are refused', async () => {
    const asked = await call(erin, 'get_attachment', { uid: uidOf('Quarterly report'), partId: '2', asLink: true });
    const path = new URL(asked.url).pathname;
    const changed = path.slice(0, -2) + (path.endsWith('AA') ? 'BB' : 'AA');
    const bad = await fetch(new URL(changed, main.base));
    assert.equal(bad.status, 404);
    assert.match(await bad.text(), /not valid/);
    assert.match(await failing(erin, 'get_attachment', { uid: uidOf('Quarterly report'), partId: '7', asLink: true }),
      /has no attachment with part id "7"/);
    // Another person's connection: once it is gone, its links are too.
    const name = `links${randomUUID().slice(0, 8)}`;
    const account = main.addMailUser(name, ERIN, 'erinpw', mail);
    const other = await connect(main, main.token(name, account, 'mail:read'));
    const theirs = await call(other, 'get_attachment', { uid: uidOf('Quarterly report'), partId: '2', asLink: true });
    assert.equal((await download(main, theirs.url)).status, 200);
    main.admin(['delete-user', name]);
    const refused = await eventually('the link refused after its connection is gone', async () => {
      const r = await download(main, theirs.url);
      return r.status === 200 ? null : r;
    });
    assert.equal(refused.status, 403);
    assert.match(await refused.text(), /no longer reaches this account/);
  });

  test('a link stops working after FILE_LINK_TTL_SECONDS', async () => {
    const short = await startServer({ FILE_LINK_TTL_SECONDS: '1' });
    const client = await connect(short, short.token('erin', short.accounts.erin, 'mail:read'));
    const asked = await call(client, 'get_attachment', { uid: uidOf('Quarterly report'), partId: '2', asLink: true });
    const gone = await eventually('the link to expire', async () => {
      const r = await download(short, asked.url);
      return r.status === 410 ? r : null;
    });
    assert.match(await gone.text(), /expired/);
  });
});

describe('messages and parts as MCP resources (resources/read of postern:// URIs)', () => {
  /** The JSON-RPC error a resources/read is refused with. */
  async function refusedRead(client, uri) {
    try {
      await client.readResource({ uri });
    } catch (err) {
      return err;
    }
    assert.fail(`resources/read of ${uri} succeeded`);
  }

  test('the server declares resources and the two URI templates, and lists none', async () => {
    assert.ok(erin.getServerCapabilities().resources);
    const { resourceTemplates } = await erin.listResourceTemplates();
    assert.deepEqual(resourceTemplates.map(t => t.uriTemplate), [
      'postern://accounts/{account}/folders/{folder}/messages/{uid}',
      'postern://accounts/{account}/folders/{folder}/messages/{uid}/parts/{partId}',
    ]);
    assert.deepEqual((await erin.listResources()).resources, []);
  });

  test('a message, a file, a text part and an image read back from the URIs the tools gave', async () => {
    const uid = uidOf('Quarterly report');
    const msg = await call(erin, 'read_message', { uid });
    const read = await erin.readResource({ uri: msg.uri });
    assert.equal(read.contents[0].mimeType, 'application/json');
    const asResource = JSON.parse(read.contents[0].text);
    assert.equal(asResource.subject, 'Quarterly report');
    assert.deepEqual(asResource.attachments, msg.attachments);

    const pdf = msg.attachments.find(a => a.filename === 'report.pdf');
    const tool = await erin.callTool({ name: 'get_attachment', arguments: { uid, partId: pdf.partId } });
    assert.equal(tool.content[1].resource.uri, pdf.uri);
    const file = (await erin.readResource({ uri: pdf.uri })).contents[0];
    assert.equal(file.uri, pdf.uri);
    assert.equal(file.mimeType, 'application/pdf');
    assert.deepEqual(Buffer.from(file.blob, 'base64'),
      Buffer.from(tool.content[1].resource.blob, 'base64'));

    const notesMsg = await call(erin, 'read_message', { uid: uidOf('Meeting notes') });
    const notes = notesMsg.attachments.find(a => a.filename === 'notes.txt');
    const text = (await erin.readResource({ uri: notes.uri })).contents[0];
    assert.equal(text.mimeType, 'text/plain');
    assert.equal(text.text, 'Grüße aus München\nTagesordnung: Äpfel und Öl\n');

    const photoMsg = await call(erin, 'read_message', { uid: uidOf('Photo from the trip') });
    const photo = photoMsg.attachments.find(a => a.filename === 'photo.png');
    const image = (await erin.readResource({ uri: photo.uri })).contents[0];
    assert.equal(image.mimeType, 'image/png');
    assert.deepEqual([...Buffer.from(image.blob, 'base64').subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47]);
    // Each read is in erin's activity log, naming the account.
    const activity = await eventually('the audit entry of a read', async () => {
      const page = await dashboardPage(main, 'erin', '/activity');
      return page.includes('Read a message or attachment') ? page : null;
    });
    assert.match(activity, /Read a message or attachment \(resources\/read\)[\s\S]*?on “erin&#39;s mail”|Read a message or attachment \(resources\/read\)[\s\S]*?erin/);
  });

  test('another connection\'s account, a missing message or part, and malformed URIs are refused', async () => {
    const msg = await call(erin, 'read_message', { uid: uidOf('Quarterly report') });
    // frank's connection reaches frank's account only.
    const foreign = await refusedRead(frank, msg.uri);
    assert.equal(foreign.code, -32602);
    assert.match(foreign.message, /does not reach the email account this URI names/);
    // The same mailbox through another person's account is another account.
    const name = `res${randomUUID().slice(0, 8)}`;
    const account = main.addMailUser(name, ERIN, 'erinpw', mail);
    const other = await connect(main, main.token(name, account, 'mail:read'));
    assert.match((await refusedRead(other, msg.uri)).message, /does not reach/);
    const theirs = await call(other, 'read_message', { uid: uidOf('Quarterly report') });
    assert.match((await refusedRead(erin, theirs.uri)).message, /does not reach/);

    const missing = await refusedRead(erin, msg.uri.replace(/\/messages\/\d+$/, '/messages/999999'));
    assert.equal(missing.code, -32602);
    assert.match(missing.message, /^(MCP error -32602: )?Resource not found: There is no message with UID 999999/);
    const noPart = await refusedRead(erin, `${msg.uri}/parts/7`);
    assert.match(noPart.message, /has no attachment with part id "7"/);
    const noFolder = await refusedRead(erin, msg.uri.replace('/folders/INBOX/', '/folders/Nope/'));
    assert.match(noFolder.message, /Nope/);

    for (const bad of ['attachment:///1/2', `${msg.uri}/parts/x`, msg.uri.replace('/folders/INBOX/', '/folders/IN%ZZ/'),
      msg.uri.replace(/\d+$/, '0'), 'postern://accounts/x/folders/INBOX']) {
      const err = await refusedRead(erin, bad);
      assert.equal(err.code, -32602, bad);
      assert.match(err.message, /The URI is not a Postern resource/, bad);
    }
  });

  test('without mail:read a read is refused with 403 insufficient_scope', async () => {
    const msg = await call(erin, 'read_message', { uid: uidOf('Quarterly report') });
    const searcher = await connect(main, main.token('erin', main.accounts.erin, 'mail:search'));
    const err = await refusedRead(searcher, msg.uri);
    assert.ok(err instanceof StreamableHTTPError && err.code === 403, `${err}`);
    const r = await fetch(main.url, {
      method: 'POST',
      headers: { Authorization: `Bearer ${main.token('erin', main.accounts.erin, 'mail:search')}`,
        'Content-Type': 'application/json', Accept: 'application/json, text/event-stream',
        'MCP-Protocol-Version': '2026-07-28', 'Mcp-Method': 'resources/read', 'Mcp-Name': msg.uri },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'resources/read', params: { uri: msg.uri,
        _meta: { 'io.modelcontextprotocol/protocolVersion': '2026-07-28',
          'io.modelcontextprotocol/clientCapabilities': {} } } }),
    });
    assert.equal(r.status, 403);
    assert.match(r.headers.get('www-authenticate'), /insufficient_scope", scope="mail:read mail:search"/);
  });

  test('a part above the inline limits is refused with a download link in the error', async () => {
    const msg = await call(erin, 'read_message', { uid: uidOf('Big archive') });
    const err = await refusedRead(erin, msg.attachments[0].uri);
    assert.equal(err.code, -32603);
    assert.match(err.message, /too large to read inline/);
    assert.match(err.data.url, /\/files\/[A-Za-z0-9_-]+$/);
    assert.equal((await download(main, err.data.url)).status, 200);
  });
});

describe('send_mail with attachments', () => {
  test('files arrive intact and read back with get_attachment', async () => {
    const tag = randomUUID();
    const binary = Buffer.alloc(5000);
    for (let i = 0; i < binary.length; i++)
      binary[i] = (i * 7) % 256;
    const sent = await call(erin, 'send_mail', {
      to: FRANK, subject: `attach ${tag}`, body: 'Two files.',
      attachments: [
        { filename: 'blob.bin', contentType: 'application/octet-stream', content: b64(binary) },
        { filename: 'Grüße.txt', contentType: 'text/plain', content: b64('Hallo Welt, schöne Grüße\n') },
      ],
    });
    assert.equal(sent.success, true);
    assert.equal(sent.sentFolder, 'Sent');
    const msg = await delivered(frank, tag);
    assert.equal(msg.body, 'Two files.');
    assert.deepEqual(msg.attachments.map(a => [a.filename, a.mimeType]),
      [['blob.bin', 'application/octet-stream'], ['Grüße.txt', 'text/plain']]);
    const blob = await frank.callTool({ name: 'get_attachment',
      arguments: { uid: msg.uid, partId: msg.attachments[0].partId } });
    assert.equal(blob.isError, false, blob.content?.[0]?.text);
    assert.deepEqual(Buffer.from(blob.content[1].resource.blob, 'base64'), binary);
    const text = await call(frank, 'get_attachment', { uid: msg.uid, partId: msg.attachments[1].partId });
    assert.equal(text.text, 'Hallo Welt, schöne Grüße\n');
  });

  test('bad attachments are refused before anything is sent', async () => {
    const base = { to: FRANK, subject: 'never sent', body: 'x' };
    const one = a => ({ ...base, attachments: [{ filename: 'a.txt', contentType: 'text/plain', content: 'aGk=', ...a }] });
    assert.match(await failing(erin, 'send_mail', one({ content: 'not base64!' })),
      /`attachments\[0\]\.content` is not valid base64/);
    assert.match(await failing(erin, 'send_mail', one({ filename: '../evil.sh' })),
      /`attachments\[0\]\.filename` "\.\.\/evil\.sh" must be a plain file name/);
    assert.match(await failing(erin, 'send_mail', one({ contentType: 'nonsense' })),
      /`attachments\[0\]\.contentType` "nonsense" must be a media type/);
    // Without attachments send_mail is the original's, unchanged.
    const plain = await call(erin, 'send_mail', { to: FRANK, subject: `plain ${randomUUID()}`, body: 'hi' });
    assert.deepEqual(Object.keys(plain).sort(), ['messageId', 'sentFolder', 'sentUid', 'success']);
  });
});

describe('attachments by reference (fromUid, folder, partId)', () => {
  test('a part of a message in the account arrives byte-identical, its charset kept', async () => {
    const tag = randomUUID();
    const report = uidOf('Quarterly report');
    const notesUid = uidOf('Meeting notes');
    const notes = (await call(erin, 'read_message', { uid: notesUid }))
      .attachments.find(a => a.filename === 'notes.txt');
    const sent = await call(erin, 'send_mail', {
      to: FRANK, subject: `by reference ${tag}`, body: 'The report and the notes.',
      attachments: [
        { fromUid: report, folder: 'INBOX', partId: '2' },
        { fromUid: notesUid, partId: notes.partId, filename: 'minutes.txt' },
      ],
    });
    assert.equal(sent.success, true);
    const msg = await delivered(frank, tag);
    assert.deepEqual(msg.attachments.map(a => [a.filename, a.mimeType]),
      [['report.pdf', 'application/pdf'], ['minutes.txt', 'text/plain']]);
    const original = await erin.callTool({ name: 'get_attachment', arguments: { uid: report, partId: '2' } });
    const copy = await frank.callTool({ name: 'get_attachment',
      arguments: { uid: msg.uid, partId: msg.attachments[0].partId } });
    assert.equal(copy.isError, false, copy.content?.[0]?.text);
    assert.deepEqual(Buffer.from(copy.content[1].resource.blob, 'base64'),
      Buffer.from(original.content[1].resource.blob, 'base64'));
    // ISO-8859-1 bytes went on as they were, labelled with their charset.
    const text = await call(frank, 'get_attachment', { uid: msg.uid, partId: msg.attachments[1].partId });
    assert.equal(text.text, 'Grüße aus München\nTagesordnung: Äpfel und Öl\n');
  });

  test('forward_message and save_draft add parts by reference beside the original\'s', async () => {
    const tag = randomUUID();
    const fwd = await call(erin, 'forward_message', {
      uid: uidOf('Agenda for Monday'), to: FRANK, body: `With the report. ${tag}`,
      attachments: [{ fromUid: uidOf('Quarterly report'), partId: '2', filename: 'q.pdf' }],
    });
    assert.deepEqual(fwd.attachments, ['agenda.txt', 'map.png', 'q.pdf']);
    const draft = await call(erin, 'save_draft', {
      to: FRANK, subject: `draft ${tag}`, body: 'x',
      attachments: [{ fromUid: uidOf('Photo from the trip'), partId: '2' }],
    });
    const saved = await call(erin, 'read_message', { folder: draft.draftsFolder, uid: draft.uid });
    assert.deepEqual(saved.attachments.map(a => [a.filename, a.mimeType]), [['photo.png', 'image/png']]);
  });

  test('a reference to a missing message or part is refused and nothing is sent', async () => {
    const tag = randomUUID();
    const base = { to: FRANK, subject: `never ${tag}`, body: 'x' };
    assert.match(await failing(erin, 'send_mail', { ...base, attachments: [{ fromUid: 999999, partId: '2' }] }),
      /There is no message with UID 999999 in the folder "INBOX"/);
    assert.match(await failing(erin, 'send_mail', { ...base,
      attachments: [{ fromUid: uidOf('Quarterly report'), partId: '7' }] }),
      /has no attachment with part id "7"; its attachments are 2/);
    assert.match(await failing(erin, 'send_mail', { ...base,
      attachments: [{ fromUid: uidOf('Quarterly report'), folder: 'Nope', partId: '2' }] }),
      /Nope/);
    assert.match(await failing(erin, 'send_mail', { ...base,
      attachments: [{ fromUid: 3, partId: '2', content: 'aGk=' }] }),
      /`attachments\[0\]\.content` and `fromUid` cannot go together/);
    const none = await call(frank, 'search_messages', { subject: tag });
    assert.equal(none.total, 0);
  });
});

describe('replies and forwards', () => {
  test('reply_message answers the sender with Re:, threading headers and the quote', async () => {
    const tag = randomUUID();
    const sent = await call(erin, 'reply_message', {
      uid: uidOf('Lunch on Friday?'), body: `Noon works. ${tag}`,
    });
    assert.equal(sent.subject, 'Re: Lunch on Friday?');
    assert.deepEqual(sent.to.map(a => a.address), [FRANK]);
    assert.deepEqual(sent.cc, []);
    assert.equal(sent.inReplyTo, '<lunch-1@example.test>');
    assert.deepEqual(sent.references, ['<plan-0@example.test>', '<lunch-1@example.test>']);
    assert.equal(sent.sentFolder, 'Sent');
    const got = await eventually('the reply at frank', async () => {
      const r = await call(frank, 'search_messages', { body: tag });
      return r.total > 0 ? r : null;
    });
    const msg = await call(frank, 'read_message', { uid: got.messages[0].uid });
    assert.equal(msg.subject, 'Re: Lunch on Friday?');
    assert.equal(msg.inReplyTo, '<lunch-1@example.test>');
    assert.deepEqual(msg.references, ['<plan-0@example.test>', '<lunch-1@example.test>']);
    assert.deepEqual(msg.from.map(a => a.address), [ERIN]);
    assert.match(msg.body, /^Noon works\. [0-9a-f-]+\n\nOn \d{4}-\d\d-\d\d \d\d:\d\d UTC, Frank <frank@example\.test> wrote:\n> Shall we meet at noon\?\n>\n> Frank/);
    // Not to grace: only replyAll includes the Cc.
    const atGrace = await call(grace, 'search_messages', { body: tag });
    assert.equal(atGrace.total, 0);
  });

  test('replyAll also reaches To and Cc (minus erin) and quoteOriginal=false leaves the quote out', async () => {
    const tag = randomUUID();
    const sent = await call(erin, 'reply_message', {
      uid: uidOf('Lunch on Friday?'), body: `All of us. ${tag}`, replyAll: true, quoteOriginal: false,
    });
    assert.deepEqual(sent.to.map(a => a.address), [FRANK]);
    assert.deepEqual(sent.cc.map(a => a.address), [GRACE]);
    for (const client of [frank, grace]) {
      const got = await eventually('the reply-all', async () => {
        const r = await call(client, 'search_messages', { body: tag });
        return r.total > 0 ? r : null;
      });
      const msg = await call(client, 'read_message', { uid: got.messages[0].uid });
      assert.equal(msg.body, `All of us. ${tag}`);
      assert.deepEqual(msg.cc.map(a => a.address), [GRACE]);
      assert.ok(!JSON.stringify(msg.to).includes(ERIN));
    }
  });

  test('Reply-To wins over From, and an existing Re: is not doubled', async () => {
    const tag = randomUUID();
    const sent = await call(erin, 'reply_message', { uid: uidOf('Re: Budget'), body: `Budget ok. ${tag}` });
    assert.equal(sent.subject, 'Re: Budget');
    assert.deepEqual(sent.to.map(a => a.address), [GRACE]);
    assert.deepEqual(sent.references,
      ['<budget-0@example.test>', '<budget-1@example.test>', '<budget-2@example.test>']);
    const got = await eventually('the reply at grace', async () => {
      const r = await call(grace, 'search_messages', { body: tag });
      return r.total > 0 ? r : null;
    });
    const msg = await call(grace, 'read_message', { uid: got.messages[0].uid });
    assert.equal(msg.subject, 'Re: Budget');
    assert.equal(msg.inReplyTo, '<budget-2@example.test>');
  });

  test('forward_message sends Fwd: with the original text and its attachments kept', async () => {
    const tag = randomUUID();
    const sent = await call(erin, 'forward_message', {
      uid: uidOf('Agenda for Monday'), to: FRANK, body: `See below. ${tag}`,
    });
    assert.equal(sent.subject, 'Fwd: Agenda for Monday');
    assert.deepEqual(sent.attachments, ['agenda.txt', 'map.png']);
    assert.equal(sent.inReplyTo, null);
    const got = await eventually('the forward at frank', async () => {
      const r = await call(frank, 'search_messages', { body: tag });
      return r.total > 0 ? r : null;
    });
    const msg = await call(frank, 'read_message', { uid: got.messages[0].uid });
    assert.equal(msg.subject, 'Fwd: Agenda for Monday');
    assert.match(msg.body, /See below\. [0-9a-f-]+\n\n---------- Forwarded message ----------\nFrom: Grace <grace@example\.test>\n/);
    assert.match(msg.body, /Agenda and map attached\./);
    assert.deepEqual(msg.attachments.map(a => [a.filename, a.mimeType]),
      [['agenda.txt', 'text/plain'], ['map.png', 'image/png']]);
    const agenda = await call(frank, 'get_attachment', { uid: msg.uid, partId: msg.attachments[0].partId });
    assert.equal(agenda.text, '1. Coffee\n2. Plans\n');
  });

  test('bad inputs: unknown UID, missing recipients, too many attachment bytes', async () => {
    assert.match(await failing(erin, 'reply_message', { uid: 999999, body: 'x' }),
      /There is no message with UID 999999 in the folder "INBOX"/);
    assert.match(await failing(erin, 'forward_message', { uid: 999999, to: FRANK }),
      /There is no message with UID 999999/);
    assert.match(await failing(erin, 'forward_message', { uid: uidOf('Agenda for Monday') }),
      /`to` is required/);
    assert.match(await failing(erin, 'reply_message', { uid: uidOf('Lunch on Friday?') }),
      /`body` is required/);
  });
});

describe('identities (From addresses besides the account\'s own)', () => {
  test('list_accounts shows the aliases; send_mail goes out from the one asked for, with its name', async () => {
    const listed = await call(erin, 'list_accounts');
    assert.deepEqual(listed.accounts[0].aliases, ERIN_ALIASES);
    const tag = randomUUID();
    const sent = await call(erin, 'send_mail', {
      from: 'Erin Sales <ERIN+SALES@example.test>', to: FRANK, subject: `Offer ${tag}`, body: 'Our prices.',
    });
    // Spelled as the account stores it, the name kept.
    assert.equal(sent.from, ERIN_SALES);
    const msg = await delivered(frank, tag);
    assert.deepEqual(msg.from, [{ name: 'Erin Sales', address: ERIN_SALES }]);
    // Without `from`: the account's own address.
    const plain = await call(erin, 'send_mail', { to: FRANK, subject: `Plain ${tag}`, body: 'x' });
    assert.equal(plain.from, undefined); // the original's answer, unchanged
    const plainMsg = await delivered(frank, `Plain ${tag}`);
    assert.deepEqual(plainMsg.from.map(a => a.address), [ERIN]);
  });

  test('a reply goes out from the alias the original was sent to, and never to erin herself', async () => {
    const tag = randomUUID();
    const frankSender = await connect(main, main.token('frank', main.accounts.frank, 'mail:read mail:search mail:send'));
    await call(frankSender, 'send_mail', {
      to: ERIN_SALES, cc: 'erin+billing@example.test', subject: `Quote ${tag}`, body: 'How much?',
    });
    // Dovecot delivers one copy per alias (both are erin's): answer either.
    const copies = await eventually(`delivery of ${tag}`, async () => {
      const r = await call(erin, 'search_messages', { subject: tag });
      return r.total === 2 ? r : null;
    });
    const original = await call(erin, 'read_message', { uid: copies.messages[0].uid });
    assert.deepEqual(original.to.map(a => a.address), [ERIN_SALES]);
    const reply = await call(erin, 'reply_message', { uid: original.uid, body: `Ten. ${tag}`, replyAll: true });
    assert.equal(reply.from, ERIN_SALES);
    // Both aliases are erin's own: neither is a recipient of her reply.
    assert.deepEqual(reply.to.map(a => a.address), [FRANK]);
    assert.deepEqual(reply.cc, []);
    const got = await eventually('the reply at frank', async () => {
      const r = await call(frank, 'search_messages', { subject: `Re: Quote ${tag}` });
      return r.total > 0 ? r : null;
    });
    const msg = await call(frank, 'read_message', { uid: got.messages[0].uid });
    assert.deepEqual(msg.from.map(a => a.address), [ERIN_SALES]);
    // `from` still wins over the default, and drafts take it too.
    const draft = await call(erin, 'save_draft', { replyToUid: original.uid, body: 'Draft', from: ERIN });
    assert.equal(draft.from, ERIN);
    const saved = await call(erin, 'read_message', { folder: draft.draftsFolder, uid: draft.uid });
    assert.deepEqual(saved.from.map(a => a.address), [ERIN]);
    const fwd = await call(erin, 'forward_message', { uid: original.uid, to: GRACE, body: 'FYI' });
    assert.equal(fwd.from, ERIN_SALES);
  });

  test('a From that is not the account\'s is refused before anything is sent, naming the ones it has', async () => {
    const tag = randomUUID();
    const why = await failing(erin, 'send_mail', {
      from: 'boss@example.test', to: FRANK, subject: `Spoof ${tag}`, body: 'x',
    });
    assert.match(why, /boss@example\.test is not an address of the account/);
    assert.ok(why.includes(`${ERIN}, ${ERIN_ALIASES.join(', ')}`), why);
    for (const [tool, args] of [
      ['reply_message', { uid: uidOf('Lunch on Friday?'), body: tag }],
      ['forward_message', { uid: uidOf('Lunch on Friday?'), to: FRANK, body: tag }],
      ['save_draft', { to: FRANK, subject: tag, body: tag }],
    ])
      assert.match(await failing(erin, tool, { ...args, from: 'boss@example.test' }), /not an address of the account/);
    assert.match(await failing(erin, 'send_mail', { from: 'a@example.test, b@example.test', to: FRANK, subject: tag, body: 'x' }),
      /`from` must be one address/);
    assert.match(await failing(erin, 'send_mail', { from: 'not an address', to: FRANK, subject: tag, body: 'x' }),
      /`from`/);
    // Nothing arrived.
    const atFrank = await call(frank, 'search_messages', { body: tag });
    assert.equal(atFrank.total, 0);
    const spoof = await call(frank, 'search_messages', { subject: `Spoof ${tag}` });
    assert.equal(spoof.total, 0);
  });
});

describe('drafts', () => {
  test('save_draft APPENDs to Drafts with \\Draft and returns the UID', async () => {
    const tag = randomUUID();
    const saved = await call(erin, 'save_draft', { to: FRANK, subject: `draft ${tag}`, body: 'Not yet.' });
    assert.equal(saved.success, true);
    assert.equal(saved.draftsFolder, 'Drafts');
    assert.ok(Number.isInteger(saved.uid) && saved.uid > 0);
    const msg = await call(erin, 'read_message', { folder: 'Drafts', uid: saved.uid });
    assert.equal(msg.subject, `draft ${tag}`);
    assert.ok(msg.flags.includes('\\Draft'), JSON.stringify(msg.flags));
    assert.equal(msg.messageId, saved.messageId);
    // Nothing was sent.
    await new Promise(r => setTimeout(r, 500));
    assert.equal((await call(frank, 'search_messages', { subject: tag })).total, 0);
  });

  test('drafts of replies and forwards carry the derived headers and files', async () => {
    const reply = await call(erin, 'save_draft', { replyToUid: uidOf('Lunch on Friday?'), replyAll: true, body: 'Draft reply' });
    assert.equal(reply.subject, 'Re: Lunch on Friday?');
    assert.deepEqual(reply.to.map(a => a.address), [FRANK]);
    assert.deepEqual(reply.cc.map(a => a.address), [GRACE]);
    const r = await call(erin, 'read_message', { folder: 'Drafts', uid: reply.uid });
    assert.equal(r.inReplyTo, '<lunch-1@example.test>');
    assert.deepEqual(r.references, ['<plan-0@example.test>', '<lunch-1@example.test>']);
    const fwd = await call(erin, 'save_draft', { forwardUid: uidOf('Agenda for Monday') });
    assert.equal(fwd.subject, 'Fwd: Agenda for Monday');
    assert.deepEqual(fwd.to, []);
    const f = await call(erin, 'read_message', { folder: 'Drafts', uid: fwd.uid });
    assert.deepEqual(f.attachments.map(a => a.filename), ['agenda.txt', 'map.png']);
    assert.match(await failing(erin, 'save_draft', { replyToUid: 999999 }), /no message with UID 999999/);
    assert.match(await failing(erin, 'save_draft', { replyToUid: 1, forwardUid: 2 }), /not both/);
  });

  test('a draft-only token sees only save_draft and can never send', async () => {
    const drafter = await connect(main, main.token('erin', main.accounts.erin, 'mail:draft'));
    assert.deepEqual((await drafter.listTools()).tools.map(t => t.name),
      ['save_draft', 'list_accounts']);
    for (const [name, args] of [
      ['send_mail', { to: FRANK, subject: 's', body: 'b' }],
      ['reply_message', { uid: uidOf('Lunch on Friday?'), body: 'b' }],
      ['forward_message', { uid: uidOf('Agenda for Monday'), to: FRANK }],
    ])
      await assert.rejects(drafter.callTool({ name, arguments: args }),
        err => err instanceof StreamableHTTPError && err.code === 403, name);
    const tag = randomUUID();
    const saved = await call(drafter, 'save_draft', { to: FRANK, subject: `only a draft ${tag}`, body: 'b' });
    assert.ok(saved.uid > 0);
    await new Promise(r => setTimeout(r, 500));
    assert.equal((await call(frank, 'search_messages', { subject: tag })).total, 0);
  });
});

describe('limits', () => {
  let limited;
  let erinLimited;
  let frankLimited;

  before(async () => {
    limited = await startServer({
      SEND_RATE_LIMIT: '2', SEND_ATTACHMENTS_MAX_BYTES: '1000', ATTACHMENT_MAX_IMAGE_BYTES: '100',
    });
    erinLimited = await connect(limited, limited.token('erin', limited.accounts.erin, EVERYTHING));
    frankLimited = await connect(limited, limited.token('frank', limited.accounts.frank, 'mail:read mail:search'));
  });

  test('attachments above SEND_ATTACHMENTS_MAX_BYTES are refused, sent or drafted', async () => {
    const big = { filename: 'big.bin', contentType: 'application/octet-stream', content: b64(Buffer.alloc(1500, 1)) };
    assert.match(await failing(erinLimited, 'send_mail', { to: FRANK, subject: 's', body: 'b', attachments: [big] }),
      /^The attachments are 1 KB together, more than the 1000 bytes one message may carry here$/);
    assert.match(await failing(erinLimited, 'save_draft', { subject: 's', attachments: [big] }),
      /more than the 1000 bytes one message may carry here/);
    // By reference: the part is refused by its size before it is fetched whole.
    assert.match(await failing(erinLimited, 'send_mail', { to: FRANK, subject: 's', body: 'b',
      attachments: [{ fromUid: uidOf('Quarterly report'), partId: '2' }] }),
      /^Attachment 2 of message \d+ is more than the 1000 bytes one message may carry here$/);
  });

  test('an image above ATTACHMENT_MAX_IMAGE_BYTES comes as a link, saying the limit', async () => {
    const r = await call(erinLimited, 'get_attachment', { uid: uidOf('Photo from the trip'), partId: '2' });
    assert.equal(r.kind, 'link');
    assert.match(r.note,
      /^Attachment 2 of message \d+ is \d+ bytes, more than the 100 bytes this server hands out for image attachments; here is a download link for the person instead\.$/);
  });

  test('the per-account send rate limit stops the third message and is audited', async () => {
    const tag = randomUUID();
    await call(erinLimited, 'send_mail', { to: FRANK, subject: `rate ${tag} 1`, body: 'one' });
    await call(erinLimited, 'reply_message', { uid: uidOf('Lunch on Friday?'), body: `rate ${tag} 2`, quoteOriginal: false });
    assert.match(await failing(erinLimited, 'forward_message', { uid: uidOf('Agenda for Monday'), to: FRANK, body: `rate ${tag} 3` }),
      /^This account may send 2 messages per minute and has reached that; try again in \d+ seconds?$/);
    assert.match(await failing(erinLimited, 'send_mail', { to: FRANK, subject: `rate ${tag} 4`, body: 'four' }),
      /may send 2 messages per minute/);
    // Drafts are not sending.
    await call(erinLimited, 'save_draft', { subject: `rate ${tag} draft` });
    const got = await eventually('both allowed messages', async () => {
      const r = await call(frankLimited, 'search_messages', { text: `rate ${tag}` });
      return r.total >= 2 ? r : null;
    });
    await new Promise(r => setTimeout(r, 500));
    assert.equal((await call(frankLimited, 'search_messages', { text: `rate ${tag}` })).total, 2, JSON.stringify(got));
    // The refusals are in erin's activity log (the dashboard's audit view).
    const activity = await eventually('the audit entry', async () => {
      const page = await dashboardPage(limited, 'erin', '/activity');
      return page.includes('send_rate_limited') ? page : null;
    });
    assert.match(activity, /Used forward_message/);
  });
});

/** Logs into the dashboard as `user` and returns the HTML of `path`. */
async function dashboardPage(server, user, path) {
  const jar = new Map();
  const keep = r => {
    for (const c of r.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const eq = pair.indexOf('=');
      jar.set(pair.slice(0, eq), pair.slice(eq + 1));
    }
  };
  const cookie = () => [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
  const loginPage = await fetch(`${server.base}/login`, { redirect: 'manual' });
  keep(loginPage);
  const csrf = /name="csrf" value="([^"]+)"/.exec(await loginPage.text())[1];
  const login = await fetch(`${server.base}/login`, {
    method: 'POST', redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: cookie(), origin: server.base },
    body: new URLSearchParams({ csrf, username: user, password: `${user}-postern-password` }),
  });
  assert.equal(login.status, 303, await login.text());
  keep(login);
  const page = await fetch(`${server.base}${path}`, { headers: { cookie: cookie() }, redirect: 'manual' });
  assert.equal(page.status, 200);
  return page.text();
}
