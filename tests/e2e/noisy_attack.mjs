// SPDX-License-Identifier: Apache-2.0
// The attackers of the noisy-neighbour test (noisy.test.mjs), in a process
// of their own (started under `nice`), so neither their event loop nor
// their CPU is the tenant's: what is measured is what the floods cost the
// server. They are
// a hostile tenant (signed in, flooding what a tenant may use) and a
// stranger (not signed in, from many addresses of one /64 and from
// scattered IPv4 addresses). The JSON in argv[2]: base (the server's URL), blackHole
// (a port that accepts and never answers), rate (requests per second over
// all floods; 0: as fast as answers come), only (the floods to run, by
// name; null: all). It posts its tally every 100 ms
// and stops when sent 'stop'.
import assert from 'node:assert/strict';

import { Browser, approval, pkce } from './web.mjs';

const { base, blackHole, rate, redirect: REDIRECT, only } = JSON.parse(process.argv[2]);
const HOSTILE_ADDRESS = '198.51.100.66';
const STRANGER_NET = '2001:db8:bad:1';  // one /64, many addresses in it

/** Counts answers by flood and status. */
class Tally {
  constructor() { this.counts = {}; }
  add(kind, status) {
    const k = (this.counts[kind] ??= {});
    k[status] = (k[status] ?? 0) + 1;
  }
}

/** Waits for the next request slot when the floods are paced. */
let nextSlot = 0;
async function pace() {
  if (!rate)
    return;
  const now = performance.now();
  nextSlot = Math.max(nextSlot + 1000 / rate, now);
  if (nextSlot > now)
    await new Promise(r => setTimeout(r, nextSlot - now));
}

/** Runs `step` of flood `kind` over and over on `lanes` parallel lanes
 *  until `stop`. */
function flood(kind, stop, lanes, step) {
  if (only && !only.includes(kind))
    return Promise.resolve();
  return Promise.all(Array.from({ length: lanes }, async (_, lane) => {
    for (let i = 0; !stop.signal.aborted; ++i) {
      try {
        await pace();
        await step(lane, i);
      } catch (e) {
        if (stop.signal.aborted)
          return;
        // A refused or cut connection is also a refusal; keep going.
        await new Promise(r => setTimeout(r, 20));
      }
    }
  }));
}

async function register(address, name) {
  const res = await fetch(`${base}/oauth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-forwarded-for': address },
    body: JSON.stringify({ client_name: name, redirect_uris: [REDIRECT],
                           token_endpoint_auth_method: 'none' }),
  });
  const doc = await res.json();
  return { status: res.status, clientId: doc.client_id };
}

function authorizePath(clientId, challenge) {
  const q = new URLSearchParams({
    response_type: 'code', client_id: clientId, redirect_uri: REDIRECT,
    code_challenge: challenge, code_challenge_method: 'S256',
    scope: 'mail:read', state: 's', resource: `${base}/mcp`,
  });
  return `/oauth/authorize?${q}`;
}

async function tokenRequest(address, form) {
  const res = await fetch(`${base}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded',
               'x-forwarded-for': address },
    body: new URLSearchParams(form).toString(),
  });
  return { status: res.status, doc: await res.json() };
}

async function initialize(token, address) {
  const res = await fetch(`${base}/mcp`, {
    method: 'POST',
    headers: { 'content-type': 'application/json',
               accept: 'application/json, text/event-stream',
               authorization: `Bearer ${token}`, 'x-forwarded-for': address },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize',
      params: { protocolVersion: '2025-11-25', capabilities: {},
                clientInfo: { name: 'flood', version: '1' } } }),
  });
  await res.arrayBuffer();
  return res.status;
}

/** The hostile tenant: signed in, it floods what a tenant may use. */
async function hostileTenant(stop, tally) {
  const b = new Browser(base, { address: HOSTILE_ADDRESS });
  // Signing in hashes a password at idle priority: on a loaded machine it
  // can take longer than the server waits (503); try until it works.
  for (let tries = 0; ; ++tries) {
    const r = await b.login('hostile', 'hostile-postern-password');
    if (r.status === 303)
      break;
    assert.ok(tries < 30, `the hostile tenant cannot sign in: ${r.status}`);
    await new Promise(done => setTimeout(done, 1000));
  }
  const json = { accept: 'application/json' };
  const probe = {
    label: 'Hole', imap_host: '127.0.0.1', imap_port: String(blackHole),
    imap_security: 'plain', imap_username: 'x', imap_password: 'x',
    smtp_host: '', smtp_port: '', smtp_security: 'tls', smtp_username: '',
    action: 'test',
  };
  const tokens = [];
  const clients = [];
  for (let i = 0; i < 3; ++i) {
    const r = await register(HOSTILE_ADDRESS, `hostile ${i}`);
    if (r.status === 201)
      clients.push(r.clientId);
  }
  // Grants: approve and redeem (a few first, for the session flood).
  const grant = async i => {
    const client = clients[i % clients.length];
    const { verifier, challenge } = pkce();
    let r = await b.fetch(authorizePath(client, challenge), { signal: stop.signal });
    if (r.status !== 200)
      return tally.add('grant', r.status);
    r = await b.fetch('/oauth/authorize', { method: 'POST', form: approval(r.text),
                                            signal: stop.signal });
    const code = r.location && new URL(r.location).searchParams.get('code');
    if (!code)
      return tally.add('grant', r.status);
    const t = await tokenRequest(HOSTILE_ADDRESS, {
      grant_type: 'authorization_code', code, code_verifier: verifier,
      client_id: client, redirect_uri: REDIRECT });
    tally.add('grant', t.status);
    if (t.status === 200)
      tokens.push(t.doc.access_token);
  };
  for (let i = 0; i < 8; ++i)
    await grant(i);
  await Promise.all([
    // Connection tests against the black hole (each holds a probe until
    // its timeout; the server allows one per user at a time).
    flood('probe', stop, 4, async () => {
      const r = await b.form('/accounts/add', '/accounts/add', probe,
                             { headers: json, signal: stop.signal });
      tally.add('probe', r.status);
    }),
    // Consent pages left pending.
    flood('consent', stop, 2, async () => {
      const r = await b.fetch(authorizePath(clients[0], pkce().challenge),
                              { signal: stop.signal });
      tally.add('consent', r.status);
    }),
    flood('grant', stop, 1, (lane, i) => grant(i)),
    // MCP sessions over all its grants, past the per-user quota.
    flood('session', stop, 2, async (lane, i) => {
      const token = tokens[(2 * i + lane) % tokens.length];
      tally.add('session', await initialize(token, HOSTILE_ADDRESS));
    }),
  ]);
}

/** The stranger: not signed in, from many addresses of one /64 and from
 *  scattered IPv4 addresses. */
async function stranger(stop, tally) {
  const address = i => `${STRANGER_NET}::${(i % 65535 + 1).toString(16)}`;
  const scattered = i => `203.0.113.${i % 250 + 1}`;
  await Promise.all([
    flood('register', stop, 2, async (lane, i) => {
      tally.add('register', (await register(address(2 * i + lane), 'flood')).status);
    }),
    flood('token', stop, 2, async (lane, i) => {
      const t = await tokenRequest(address(i), {
        grant_type: i % 2 ? 'refresh_token' : 'authorization_code',
        code: `pac_${'A'.repeat(43)}`, refresh_token: `prt_${'B'.repeat(43)}`,
        code_verifier: 'v'.repeat(43), client_id: 'pc_' + 'C'.repeat(22),
        redirect_uri: REDIRECT });
      tally.add('token', t.status);
    }),
    // Wrong passwords for the tenant's username, to keep it locked out.
    flood('lockout', stop, 2, async (lane, i) => {
      const b = new Browser(base, { address: scattered(2 * i + lane) });
      const r = await b.login('tenant', `guess ${i}`, { signal: stop.signal });
      tally.add('lockout', r.status);
    }),
  ]);
}

const tally = new Tally();
const stop = new AbortController();
const report = setInterval(() => process.send(tally.counts), 100);
process.on('message', message => {
  if (message === 'stop')
    stop.abort();
});
try {
  await Promise.all([hostileTenant(stop, tally), stranger(stop, tally)]);
} finally {
  clearInterval(report);
  process.send(tally.counts);
  process.disconnect();
}
