// SPDX-License-Identifier: Apache-2.0
// The organizing tools (get_thread, create/rename/delete_folder,
// copy_message, delete_message, move/flag_message with uids, search of
// every folder) through the official MCP TypeScript SDK client, against a
// running Postern and the real Dovecot of the test fixture, in dave's
// mailbox (tests/mail/seed.py). dave's seeded INBOX is only read or copied
// from; everything that changes mail works on copies in folders this suite
// creates, so protocol.organize can use the same mailbox meanwhile.
//
// Run through ctest (mcp.e2e), or by hand:
//   POSTERN_BIN=build/dev/postern POSTERN_MAIL_ENV=/tmp/mail/ports.env \
//     node --test tests/e2e/tools_imap.test.mjs
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import {
  StreamableHTTPClientTransport,
  StreamableHTTPError,
} from '@modelcontextprotocol/sdk/client/streamableHttp.js';

import { Postern, mailEnv } from './postern.mjs';

const mail = mailEnv();
const corpus = JSON.parse(readFileSync(mail.CORPUS_FILE, 'utf8'));
const daveInbox = corpus['dave@example.test'].INBOX;
const tag = randomUUID().slice(0, 8);

/** UIDs of dave's seeded INBOX whose subject is one of `subjects`. */
const uidsOf = (...subjects) => daveInbox.filter(m => subjects.includes(m.subject)).map(m => m.uid);
const garden = uidsOf('Garden shed plans', 'Re: Garden shed plans');
const budget = uidsOf('Quarterly budget review', 'Re: Quarterly budget review');
const singles = daveInbox.filter(m => m.kind !== 'thread').map(m => m.uid);

let postern;
let tokens;
const clients = [];

async function connect(token) {
  const transport = new StreamableHTTPClientTransport(postern.url, {
    requestInit: { headers: { Authorization: `Bearer ${token}` } },
  });
  const client = new Client({ name: 'postern-e2e-imap', version: '1.0.0' });
  await client.connect(transport);
  clients.push(client);
  return client;
}

/** Calls a tool and returns its structured result (asserting success). */
async function call(client, name, args = {}) {
  const result = await client.callTool({ name, arguments: args });
  assert.equal(result.isError, false, `${name} failed: ${result.content?.[0]?.text}`);
  assert.deepEqual(JSON.parse(result.content[0].text), result.structuredContent);
  return result.structuredContent;
}

/** Calls a tool that must fail; returns the error sentence. */
async function failing(client, name, args = {}) {
  const result = await client.callTool({ name, arguments: args });
  assert.equal(result.isError, true, `${name} should have failed: ${result.content?.[0]?.text}`);
  assert.equal(result.structuredContent, undefined);
  assert.equal(result.content.length, 1);
  return result.content[0].text;
}

/** Empties a folder this suite made (through Trash) and deletes it. */
async function removeFolder(client, folder) {
  const page = await call(client, 'list_messages', { folder, pageSize: 50 });
  if (page.messages.length > 0) {
    const trashed = await call(client, 'delete_message',
      { folder, uids: page.messages.map(m => m.uid) });
    await call(client, 'delete_message',
      { folder: trashed.destination, uids: trashed.results.map(r => r.newUid) });
  }
  await call(client, 'delete_folder', { folder });
}

before(async () => {
  assert.equal(garden.length, 4, 'dave\'s seeded garden thread');
  assert.equal(budget.length, 3, 'dave\'s seeded budget thread');
  postern = new Postern({ TOOL_RATE_LIMIT: '0' });
  const account = postern.addMailUser('dave', mail.MAIL_USER_DAVE, mail.MAIL_PASS_DAVE, mail);
  await postern.start();
  tokens = {
    all: postern.token('dave', account,
      'mail:folders mail:read mail:search mail:modify mail:send'),
    read: postern.token('dave', account, 'mail:folders mail:read mail:search'),
  };
});

after(async () => {
  for (const c of clients)
    await c.close().catch(() => {});
  await postern?.stop();
});

describe('catalogue and scopes', () => {
  test('the new tools are listed with titles, schemas and truthful annotations', async () => {
    const client = await connect(tokens.all);
    const tools = Object.fromEntries((await client.listTools()).tools.map(t => [t.name, t]));
    for (const name of ['get_thread', 'create_folder', 'rename_folder', 'delete_folder',
      'delete_message', 'copy_message']) {
      const t = tools[name];
      assert.ok(t, name);
      assert.ok(t.title, name);
      assert.equal(t.inputSchema.additionalProperties, false, name);
      assert.equal(t.outputSchema.type, 'object', name);
      assert.equal(t.annotations.openWorldHint, false, name);
    }
    assert.equal(tools.get_thread.annotations.readOnlyHint, true);
    assert.equal(tools.create_folder.annotations.destructiveHint, false);
    assert.equal(tools.copy_message.annotations.destructiveHint, false);
    assert.equal(tools.delete_message.annotations.destructiveHint, true);
    assert.equal(tools.delete_folder.annotations.destructiveHint, true);
    assert.equal(tools.rename_folder.annotations.destructiveHint, true);
    // move/flag take uids besides uid; uid stays accepted as before.
    for (const name of ['move_message', 'flag_message', 'delete_message', 'copy_message']) {
      assert.ok(tools[name].inputSchema.properties.uid, name);
      assert.equal(tools[name].inputSchema.properties.uids.maxItems, 100, name);
    }
    assert.match(tools.search_messages.inputSchema.properties.folder.description, /"\*"/);
  });

  test('a read-only token sees get_thread but not the changing tools, which answer 403', async () => {
    const client = await connect(tokens.read);
    const names = (await client.listTools()).tools.map(t => t.name);
    assert.ok(names.includes('get_thread'));
    for (const name of ['create_folder', 'rename_folder', 'delete_folder', 'delete_message',
      'copy_message', 'move_message', 'flag_message'])
      assert.ok(!names.includes(name), name);
    for (const [name, args] of [
      ['delete_message', { uid: singles[0] }],
      ['create_folder', { folder: `E2E never ${tag}` }],
      ['copy_message', { folder: 'INBOX', uid: singles[0], destination: 'Archive' }]]) {
      await assert.rejects(client.callTool({ name, arguments: args }),
        err => err instanceof StreamableHTTPError && err.code === 403
          && /insufficient_scope|mail:modify/.test(String(err.message)), name);
    }
  });
});

describe('get_thread', () => {
  test('gives the whole conversation oldest first, from any of its messages', async () => {
    const client = await connect(tokens.read);
    for (const [thread, topic] of [[garden, 'Garden shed plans'], [budget, 'Quarterly budget review']]) {
      for (const uid of [thread[0], thread[thread.length - 1]]) {
        const r = await call(client, 'get_thread', { uid });
        assert.equal(r.folder, 'INBOX');
        assert.equal(r.uid, uid);
        assert.equal(r.method, 'THREAD=REFERENCES');
        assert.equal(r.total, thread.length);
        assert.deepEqual(r.messages.map(m => m.uid), [...thread].sort((a, b) => a - b));
        assert.equal(r.messages[0].subject, topic);
        for (const m of r.messages.slice(1))
          assert.equal(m.subject, `Re: ${topic}`);
        // Oldest first.
        const dates = r.messages.map(m => m.date);
        assert.deepEqual(dates, [...dates].sort());
      }
    }
    const lone = await call(client, 'get_thread', { folder: 'INBOX', uid: singles[0] });
    assert.deepEqual(lone.messages.map(m => m.uid), [singles[0]]);
  });

  test('joins the person\'s reply in Sent, naming each message\'s folder', async () => {
    const client = await connect(tokens.all);
    const last = daveInbox.find(m => m.uid === garden[garden.length - 1]);
    const subject = `Re: Garden shed plans (${tag})`;
    // Sent to bob, so the only copy in dave's mailbox is the one in Sent.
    const sent = await call(client, 'send_mail', {
      to: mail.MAIL_USER2, subject, body: 'my answer', inReplyTo: last.message_id });
    assert.equal(sent.sentFolder, 'Sent');
    try {
      for (const uid of [garden[0], garden[garden.length - 1]]) {
        const r = await call(client, 'get_thread', { uid });
        assert.equal(r.total, garden.length + 1);
        assert.deepEqual(r.messages.map(m => m.folder),
          [...garden.map(() => 'INBOX'), 'Sent']);
        const reply = r.messages[r.messages.length - 1];
        assert.equal(reply.messageId, sent.messageId);
        assert.equal(reply.subject, subject);
        // read_message reads it where get_thread says it is.
        const read = await call(client, 'read_message', { folder: reply.folder, uid: reply.uid });
        assert.match(read.body, /my answer/);
      }
      // A message of another conversation does not get it.
      const other = await call(client, 'get_thread', { uid: budget[0] });
      assert.ok(other.messages.every(m => m.folder === 'INBOX'));
    } finally {
      const trashed = await call(client, 'delete_message', { folder: 'Sent', uid: sent.sentUid });
      await call(client, 'delete_message',
        { folder: trashed.destination, uids: trashed.results.map(x => x.newUid) });
    }
  });

  test('bad input gets one clear sentence', async () => {
    const client = await connect(tokens.read);
    assert.match(await failing(client, 'get_thread', { uid: 999999 }),
      /There is no message with UID 999999 in the folder "INBOX"/);
    assert.match(await failing(client, 'get_thread', {}), /`uid` is required/);
    assert.match(await failing(client, 'get_thread', { uid: 'x' }), /`uid` must be an integer/);
    assert.match(await failing(client, 'get_thread', { folder: `Nope ${tag}`, uid: 1 }),
      /does not exist/);
  });
});

describe('folders', () => {
  test('create, rename and delete, with non-ASCII names', async () => {
    const client = await connect(tokens.all);
    const parent = `E2E Grüße & Co ${tag}`;
    const child = `${parent}/日本語 ✓`;
    const created = await call(client, 'create_folder', { folder: child });
    assert.equal(created.success, true);
    assert.equal(created.folder.path, child);
    assert.equal(created.folder.name, '日本語 ✓');
    assert.equal(created.folder.delimiter, '/');
    let listed = (await call(client, 'list_folders')).folders.map(f => f.path);
    assert.ok(listed.includes(child), listed.join(', '));
    assert.match(await failing(client, 'create_folder', { folder: child }), /already exists/);

    const renamedTo = `${parent}/Überblick`;
    const renamed = await call(client, 'rename_folder', { folder: child, newName: renamedTo });
    assert.equal(renamed.folder.path, renamedTo);
    assert.equal(renamed.previousPath, child);
    listed = (await call(client, 'list_folders')).folders.map(f => f.path);
    assert.ok(listed.includes(renamedTo));
    assert.ok(!listed.includes(child));
    assert.match(await failing(client, 'rename_folder', { folder: child, newName: `${parent}/x` }),
      /does not exist/);
    assert.match(await failing(client, 'rename_folder', { folder: renamedTo, newName: 'Projekte' }),
      /already exists/);

    const deleted = await call(client, 'delete_folder', { folder: renamedTo });
    assert.equal(deleted.folder.path, renamedTo);
    assert.match(await failing(client, 'delete_folder', { folder: renamedTo }), /does not exist/);
    listed = (await call(client, 'list_folders')).folders.map(f => f.path);
    assert.ok(!listed.includes(renamedTo));
    if (listed.includes(parent))
      await call(client, 'delete_folder', { folder: parent });
  });

  test('INBOX, special-use folders and folders holding mail are protected', async () => {
    const client = await connect(tokens.all);
    assert.match(await failing(client, 'rename_folder', { folder: 'INBOX', newName: `In ${tag}` }),
      /INBOX cannot be renamed/);
    assert.match(await failing(client, 'delete_folder', { folder: 'INBOX' }),
      /INBOX cannot be deleted/);
    for (const folder of ['Trash', 'Sent', 'Drafts', 'Junk', 'Archive']) {
      assert.match(await failing(client, 'delete_folder', { folder }),
        /special use\) and cannot be deleted/, folder);
      assert.match(await failing(client, 'rename_folder', { folder, newName: `Gone ${tag}` }),
        /special use\) and cannot be renamed/, folder);
    }
    assert.match(await failing(client, 'delete_folder', { folder: 'Projekte' }),
      /still holds 2 messages/);
    const folders = (await call(client, 'list_folders')).folders.map(f => f.path);
    for (const f of ['INBOX', 'Trash', 'Sent', 'Projekte'])
      assert.ok(folders.includes(f), f);
  });

  test('bad names and missing arguments get sentences', async () => {
    const client = await connect(tokens.all);
    assert.match(await failing(client, 'create_folder', {}), /`folder` is required/);
    assert.match(await failing(client, 'create_folder', { folder: '' }), /must not be empty/);
    assert.match(await failing(client, 'create_folder', { folder: 'a*b' }), /wildcards/);
    assert.match(await failing(client, 'create_folder', { folder: 'x//y' }), /empty level/);
    assert.match(await failing(client, 'rename_folder', { folder: 'Projekte' }),
      /`newName` is required/);
    assert.match(await failing(client, 'delete_folder', { folder: `Never made ${tag}` }),
      /does not exist/);
  });
});

describe('copy, move, flag and delete', () => {
  const work = `E2E bulk ${tag}`;
  const other = `E2E bulk other ${tag}`;
  let copies;

  before(async () => {
    const client = await connect(tokens.all);
    await call(client, 'create_folder', { folder: work });
    await call(client, 'create_folder', { folder: other });
  });

  after(async () => {
    const client = await connect(tokens.all);
    for (const f of [work, other])
      await removeFolder(client, f).catch(() => {});
  });

  test('copy_message copies several with per-UID outcomes; originals stay', async () => {
    const client = await connect(tokens.all);
    const picked = singles.slice(0, 3);
    const r = await call(client, 'copy_message',
      { folder: 'INBOX', uids: [...picked, 999999], destination: work });
    assert.equal(r.success, false);
    assert.equal(r.destination, work);
    assert.match(r.message, /Copied 3 messages .*1 message failed/);
    assert.equal(r.results.length, 4);
    for (const x of r.results.slice(0, 3)) {
      assert.equal(x.success, true);
      assert.ok(x.newUid > 0);
    }
    assert.deepEqual(r.results[3], {
      uid: 999999, success: false,
      error: 'There is no message with UID 999999 in the folder "INBOX"',
    });
    copies = r.results.slice(0, 3).map(x => x.newUid);
    const there = await call(client, 'list_messages', { folder: work });
    assert.deepEqual(there.messages.map(m => m.uid).sort((a, b) => a - b), copies);
    const inbox = await call(client, 'read_message', { uids: picked });
    assert.ok(inbox.messages.every(m => !m.error), 'the originals stay in INBOX');
    // One UID form; nothing copied is a tool error.
    const one = await call(client, 'copy_message',
      { folder: 'INBOX', uid: picked[0], destination: other });
    assert.equal(one.success, true);
    assert.equal(one.results.length, 1);
    assert.match(await failing(client, 'copy_message',
      { folder: 'INBOX', uid: 999999, destination: work }),
    /There is no message with UID 999999 in the folder "INBOX"/);
    assert.match(await failing(client, 'copy_message',
      { folder: 'INBOX', uid: picked[0], destination: `Nope ${tag}` }), /does not exist/);
    assert.match(await failing(client, 'copy_message', { folder: 'INBOX', destination: work }),
      /give `uid` \(one message\) or `uids` \(up to 100\)/);
  });

  test('flag_message takes uids and reports each; the uid form is unchanged', async () => {
    const client = await connect(tokens.all);
    assert.ok(copies, 'copy_message must have run');
    const r = await call(client, 'flag_message',
      { folder: work, uids: [copies[0], copies[1], 888888], flagged: true, seen: true });
    assert.equal(r.success, false);
    assert.deepEqual(r.added, ['\\Seen', '\\Flagged']);
    assert.ok(r.results[0].flags.includes('\\Flagged'));
    assert.ok(r.results[1].flags.includes('\\Seen'));
    assert.equal(r.results[2].success, false);
    assert.match(r.results[2].error, /888888/);
    const single = await call(client, 'flag_message', { folder: work, uid: copies[0], flagged: false });
    assert.deepEqual(Object.keys(single).sort(), ['added', 'flags', 'removed', 'success', 'uid']);
    assert.equal(single.uid, copies[0]);
    assert.ok(!single.flags.includes('\\Flagged'));
    assert.match(await failing(client, 'flag_message', { folder: work, uid: 888888, seen: true }),
      /There is no message with UID 888888/);
  });

  test('move_message takes uids (up to 100) and reports new UIDs; the uid form is unchanged', async () => {
    const client = await connect(tokens.all);
    assert.ok(copies, 'copy_message must have run');
    const r = await call(client, 'move_message',
      { folder: work, uids: [copies[1], copies[2]], destination: other });
    assert.equal(r.success, true);
    assert.equal(r.results.length, 2);
    const moved = r.results.map(x => x.newUid);
    assert.ok(moved.every(u => u > 0));
    const left = await call(client, 'list_messages', { folder: work });
    assert.deepEqual(left.messages.map(m => m.uid), [copies[0]]);
    const tooMany = Array.from({ length: 101 }, (_, i) => i + 1);
    assert.match(await failing(client, 'move_message',
      { folder: work, uids: tooMany, destination: other }),
    /`uids` must have at most 100 items \(got 101\)/);
    // The original's form and result, exactly.
    const back = await call(client, 'move_message', { folder: other, uid: moved[0], destination: work });
    assert.deepEqual(Object.keys(back).sort(), ['destination', 'message', 'newUid', 'success', 'uid']);
    assert.equal(back.uid, moved[0]);
    assert.equal(back.destination, work);
    assert.ok(back.newUid > 0);
  });

  test('delete_message moves to Trash; only in Trash is a message removed for good', async () => {
    const client = await connect(tokens.all);
    const page = await call(client, 'list_messages', { folder: work });
    const victim = page.messages[0].uid;
    const trashed = await call(client, 'delete_message', { folder: work, uid: victim });
    assert.equal(trashed.success, true);
    assert.equal(trashed.destination, 'Trash');
    assert.equal(trashed.deletedForGood, false);
    const inTrash = trashed.results[0].newUid;
    assert.ok(inTrash > 0);
    assert.match(await failing(client, 'read_message', { folder: work, uid: victim }),
      /There is no message with UID/);
    const kept = await call(client, 'read_message', { folder: 'Trash', uid: inTrash });
    assert.equal(kept.uid, inTrash);
    // Everything else in Trash survives removing this one for good (the
    // seeded messages too: their UIDs depend on when Dovecot first indexed
    // Trash, so they are compared by subject).
    const listTrash = async () => (await call(client, 'list_messages', { folder: 'Trash', pageSize: 50 }))
      .messages;
    const before = await listTrash();
    assert.ok(before.some(m => m.uid === inTrash));
    const purged = await call(client, 'delete_message', { folder: 'Trash', uids: [inTrash] });
    assert.equal(purged.deletedForGood, true);
    assert.equal(purged.destination, null);
    assert.match(purged.message, /for good/);
    assert.match(await failing(client, 'read_message', { folder: 'Trash', uid: inTrash }),
      /There is no message with UID/);
    const after = await listTrash();
    assert.deepEqual(after.map(m => m.uid).sort(), before.map(m => m.uid).filter(u => u !== inTrash).sort());
    for (const seeded of corpus['dave@example.test'].Trash)
      assert.ok(after.some(m => m.subject === seeded.subject), `seeded "${seeded.subject}" was removed`);
    // Bad input.
    assert.match(await failing(client, 'delete_message', { folder: work, uid: 999999 }),
      /There is no message with UID 999999 in the folder/);
    assert.match(await failing(client, 'delete_message', { folder: work }),
      /give `uid` \(one message\) or `uids`/);
    assert.match(await failing(client, 'delete_message', { folder: `Nope ${tag}`, uid: 1 }),
      /does not exist/);
    assert.match(await failing(client, 'delete_message',
      { uids: Array.from({ length: 101 }, (_, i) => i + 1) }), /at most 100 items/);
  });
});

describe('search_messages in every folder', () => {
  test('folder "*" searches all folders and names each message\'s folder', async () => {
    const client = await connect(tokens.read);
    const r = await call(client, 'search_messages', { folder: '*', subject: 'Garden shed plans', limit: 50 });
    assert.deepEqual(r.errors, []);
    assert.ok(r.foldersSearched >= 7, `searched ${r.foldersSearched}`);
    const inInbox = r.messages.filter(m => m.folder === 'INBOX').map(m => m.uid).sort((a, b) => a - b);
    assert.deepEqual(inInbox, garden.sort((a, b) => a - b));
    assert.ok(r.total >= 4);
    const trash = await call(client, 'search_messages', { folder: '*', subject: 'Quarterly report' });
    assert.ok(trash.messages.some(m => m.folder === 'Trash'), JSON.stringify(trash.messages));
    // includeBody: each message's own text, even where UIDs repeat across folders.
    const bodies = await call(client, 'search_messages',
      { folder: '*', subject: 'Garden shed plans', includeBody: true, limit: 50 });
    assert.equal(bodies.messages.length, r.messages.length);
    for (const m of bodies.messages) {
      assert.equal(typeof m.body, 'string', `${m.folder} ${m.uid}`);
      const read = await call(client, 'read_message', { folder: m.folder, uid: m.uid, maxLength: 2000 });
      assert.equal(m.body, read.body, `${m.folder} ${m.uid}`);
    }
    // One folder, as before: no folder per message.
    const one = await call(client, 'search_messages', { subject: 'Garden shed plans' });
    assert.equal(one.total, 4);
    assert.equal(one.messages[0].folder, undefined);
    assert.equal(one.errors, undefined);
  });
});
