// SPDX-License-Identifier: Apache-2.0
// The noisy-neighbour test (issue 15): a hostile tenant and a stranger flood
// everything they can reach — connection tests against a black hole,
// consent pages, grants and MCP sessions, the token endpoint, client
// registrations from many addresses of one IPv6 /64, and wrong passwords
// for the other tenant's username — while that other tenant signs in, adds
// an account on the test Dovecot, connects an agent with the official MCP
// SDK's OAuth and calls tools. The other tenant is never refused; the
// floods are (so the test shows the limits held, not that nobody pushed).
//
// The server trusts X-Forwarded-For from loopback (TRUST_PROXY): the
// attackers come from their own addresses, the tenant from 127.0.0.1.
//
// The attackers run in a niced process of their own (noisy_attack.mjs). Environment:
// NOISY_CALLS tool calls (default 30); NOISY_QUIET=1 runs the tenant alone
// (the quiet baseline of bench/noisy/run.sh); NOISY_FLOOD_RATE caps the
// floods at that many requests per second (default 0: as fast as they are
// answered); NOISY_FLOODS=probe,token,... runs only those floods (names:
// probe consent grant session register token lockout); NOISY_REPORT=FILE
// writes the tenant's call latencies and the floods' counts as JSON.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { after, before, test } from 'node:test';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

import { MemoryProvider } from '../support/oauth_provider.mjs';
import { Postern, eventually, mailEnv } from './postern.mjs';
import { Browser, approval } from './web.mjs';

const mail = mailEnv();
const CALLS = Number(process.env.NOISY_CALLS ?? 30);
const QUIET = process.env.NOISY_QUIET === '1';
const FLOOD_RATE = Number(process.env.NOISY_FLOOD_RATE ?? 0);
const REDIRECT = 'http://127.0.0.1:43119/callback';
const ALL_FLOODS = ['probe', 'consent', 'session', 'register', 'lockout', 'token'];
const ONLY = process.env.NOISY_FLOODS?.split(',') ?? null;
const FLOODS = ALL_FLOODS.filter(k => !ONLY || ONLY.includes(k));

let postern;
let blackHole;
const heldSockets = new Set();

before(async () => {
  // A black hole for connection tests: accepts and never says a word.
  blackHole = createServer(s => { heldSockets.add(s); s.on('error', () => {}); });
  await new Promise(r => blackHole.listen(0, '127.0.0.1', r));
  postern = new Postern({ TRUST_PROXY: 'true', SSL_CERT_FILE: mail.CA_FILE,
                          TOOL_RATE_LIMIT: '0' });
  postern.admin(['create-user', 'tenant'], 'tenant-postern-password\n');
  postern.admin(['create-user', 'hostile'], 'hostile-postern-password\n');
  // The hostile tenant's own account (a closed port: its agents' tool
  // calls fail fast; what it floods is the shared machinery).
  postern.admin(['add-account', 'hostile', '--label', 'Junk',
    '--imap-host', '127.0.0.1', '--imap-port', '1', '--imap-security', 'plain',
    '--imap-user', 'x'], 'pw\n');
  await postern.start();
});

after(async () => {
  for (const s of heldSockets)
    s.destroy();
  blackHole?.close();
  await postern?.stop();
});

// -- the tenant ------------------------------------------------------------------

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)];
}

/** Everything a tenant does on a new day; every answer must be a yes. */
async function tenantDay(browser) {
  // Signs in (the device cookie of yesterday's login exempts this browser
  // from the lockout the stranger keeps up).
  let r = await browser.login('tenant', 'tenant-postern-password');
  assert.equal(r.status, 303, `sign-in refused: ${r.status} ${r.text.slice(0, 300)}`);

  // Adds an account: saving tests the connection first, on Dovecot.
  r = await browser.form('/accounts/add', '/accounts/add', {
    label: 'Work', imap_host: '127.0.0.1', imap_port: mail.IMAPS_PORT,
    imap_security: 'tls', imap_username: mail.MAIL_USER2, imap_password: mail.MAIL_PASS2,
    smtp_host: '', smtp_port: '', smtp_security: 'tls', smtp_username: '', action: 'save',
  });
  assert.equal(r.status, 303, `adding the account: ${r.status} ${r.text.slice(0, 1500)}`);
  r = await browser.fetch('/dashboard');
  const account = [...r.text.matchAll(/data-account-id="([^"]+)"/g)].map(m => m[1]).pop();
  assert.ok(account, 'the new account is on the dashboard');

  // Connects an agent with the SDK's OAuth: 401, discovery, registration,
  // consent in the signed-in browser, token.
  const provider = new MemoryProvider({ redirectUrl: REDIRECT, clientName: 'Tenant agent',
                                        state: 'tenant' });
  let transport = new StreamableHTTPClientTransport(postern.url, { authProvider: provider });
  let client = new Client({ name: 'tenant', version: '1.0.0' });
  await assert.rejects(client.connect(transport), UnauthorizedError);
  const url = provider.authorizationUrl;
  assert.ok(url, `the SDK did not get as far as the user (registration refused?)`);
  r = await browser.fetch(url.pathname + url.search);
  assert.equal(r.status, 200, `consent page: ${r.status} ${r.text.slice(0, 300)}`);
  r = await browser.fetch('/oauth/authorize', { method: 'POST',
                                               form: approval(r.text, account) });
  assert.equal(r.status, 303, `approval: ${r.status} ${r.text.slice(0, 300)}`);
  const code = new URL(r.location).searchParams.get('code');
  assert.ok(code, `no code in ${r.location}`);
  await transport.finishAuth(code);
  await client.close().catch(() => {});

  transport = new StreamableHTTPClientTransport(postern.url, { authProvider: provider });
  client = new Client({ name: 'tenant', version: '1.0.0' });
  await client.connect(transport);
  assert.ok((await client.listTools()).tools.some(t => t.name === 'list_messages'));

  // Tool calls, timed one by one.
  const latencies = [];
  for (let i = 0; i < CALLS; ++i) {
    const started = process.hrtime.bigint();
    const res = await client.callTool({ name: 'list_messages',
                                        arguments: { folder: 'INBOX', pageSize: 20 } });
    latencies.push(Number(process.hrtime.bigint() - started) / 1e6);
    assert.equal(res.isError, false, `tool call ${i} refused: ${res.content?.[0]?.text}`);
  }
  await client.close();
  return latencies;
}

test('a hostile tenant and a stranger never get the other tenant refused', async () => {
  // Yesterday: the tenant signed in once from this browser.
  const browser = new Browser(postern.base);
  assert.equal((await browser.login('tenant', 'tenant-postern-password')).status, 303);
  assert.ok(browser.cookies.has('postern_device'), 'a device cookie after a login');
  browser.cookies.delete('postern_session');

  let floods = {};
  const refused = kind => (floods[kind]?.[429] ?? 0) + (floods[kind]?.[503] ?? 0);
  let attackers;
  let attackersDone = Promise.resolve();
  if (!QUIET) {
    const settings = { base: postern.base, blackHole: blackHole.address().port,
                       rate: FLOOD_RATE, redirect: REDIRECT, only: ONLY };
    attackers = spawn('nice', ['-n', '19', process.execPath,
                               fileURLToPath(new URL('./noisy_attack.mjs', import.meta.url)),
                               JSON.stringify(settings)],
                      { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    attackers.on('message', counts => { floods = counts; });
    attackersDone = new Promise((resolve, reject) => {
      attackers.once('error', reject);
      attackers.once('exit', code => code === 0 ? resolve()
                                                : reject(new Error(`attackers exited ${code}`)));
    });
  }
  let latencies;
  try {
    // The tenant starts its day once every flood has met its limit (the
    // username is locked, the /64 is throttled, ...), however long that
    // takes on this machine.
    if (!QUIET)
      await Promise.race([
        eventually('every flood to be refused', () => FLOODS.every(k => refused(k) > 0),
                   180000),
        attackersDone.then(() => { throw new Error('the attackers stopped early'); })]);
    latencies = await tenantDay(browser);
  } finally {
    if (attackers?.connected)
      attackers.send('stop');
    await attackersDone;
  }

  const sorted = [...latencies].sort((a, b) => a - b);
  const report = { quiet: QUIET, calls: CALLS, p50_ms: percentile(sorted, 0.5),
                   p99_ms: percentile(sorted, 0.99), flood_rate: FLOOD_RATE, floods };
  console.log(`noisy: ${JSON.stringify(report)}`);
  if (process.env.NOISY_REPORT)
    writeFileSync(process.env.NOISY_REPORT, JSON.stringify({ ...report, latencies }));
  if (QUIET)
    return;
  // The floods pushed against their limits and were refused there.
  for (const kind of FLOODS)
    assert.ok(refused(kind) > 0, `the ${kind} flood was never refused: `
                                 + JSON.stringify(floods[kind]));
});
