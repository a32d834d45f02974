// SPDX-License-Identifier: Apache-2.0
// Helpers of the end-to-end suite: a Postern process on a free port with
// its own DATA_DIR, its admin commands, and the test mail servers' settings.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const BIN = process.env.POSTERN_BIN ?? 'build/dev/postern';

/** The KEY=VALUE file written by tests/mail/fixture.sh. */
export function mailEnv() {
  const file = process.env.POSTERN_MAIL_ENV;
  if (!file)
    throw new Error('POSTERN_MAIL_ENV is not set: run this suite through ctest '
      + '(fixture mail_servers) or start tests/mail/fixture.sh yourself');
  const env = {};
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0)
      env[line.slice(0, eq)] = line.slice(eq + 1).trim();
  }
  return env;
}

export class Postern {
  constructor(extraEnv = {}) {
    this.dir = mkdtempSync(join(tmpdir(), 'postern-e2e-'));
    this.env = { ...process.env };
    for (const k of ['PORT', 'BASE_URL', 'ALLOWED_ORIGINS', 'TOOL_RATE_LIMIT'])
      delete this.env[k];
    Object.assign(this.env, {
      DATA_DIR: join(this.dir, 'data'),
      ENCRYPTION_KEY: 'e5'.repeat(32),
      ACCOUNT_HOST_DENY: 'none',
      LOG_LEVEL: 'debug',
      ...extraEnv,
    });
    this.log = '';
  }

  /** Runs `postern admin ...`; returns stdout (trimmed). */
  admin(args, input = '') {
    try {
      return execFileSync(BIN, ['admin', ...args], {
        env: this.env, input, timeout: 60000, stdio: ['pipe', 'pipe', 'pipe'],
      }).toString().trim();
    } catch (e) {
      throw new Error(`postern admin ${args.join(' ')} failed: ${e.stderr}`);
    }
  }

  /** Creates a user with an account on the test Dovecot (and Postfix). */
  addMailUser(name, mailUser, mailPass, mail, extra = []) {
    this.admin(['create-user', name], `${name}-postern-password\n`);
    return this.addAccount(name, `${name}'s mail`, mailUser, mailPass, mail, extra);
  }

  /** Adds an account on the test Dovecot (and Postfix) to a user; returns
   *  its id. `extra`: more add-account flags (e.g. --aliases). */
  addAccount(name, label, mailUser, mailPass, mail, extra = []) {
    return this.admin(['add-account', name, '--label', label,
      '--imap-host', '127.0.0.1', '--imap-port', mail.IMAP_PORT,
      '--imap-security', 'starttls', '--imap-user', mailUser,
      '--ca-file', mail.CA_FILE,
      '--smtp-host', '127.0.0.1', '--smtp-port', mail.SUBMISSION_PORT,
      '--smtp-security', 'starttls', ...extra], `${mailPass}\n`);
  }

  token(user, account, scopes, ttl) {
    const args = ['issue-token', user, '--account', account, '--scopes', scopes];
    if (ttl !== undefined)
      args.push('--ttl', String(ttl));
    return this.admin(args);
  }

  async start() {
    this.proc = spawn(BIN, [], { env: { ...this.env, PORT: '0' } });
    this.proc.stdout.on('data', d => { this.log += d; });
    this.proc.stderr.on('data', d => { this.log += d; });
    const deadline = Date.now() + 20000;
    while (Date.now() < deadline) {
      const m = /listening on (http:\/\/[^ ]+?):(\d+)/.exec(this.log);
      if (m) {
        this.port = Number(m[2]);
        this.base = `http://localhost:${this.port}`;
        this.url = new URL(`${this.base}/mcp`);
        return this;
      }
      if (this.proc.exitCode !== null)
        throw new Error(`postern exited early:\n${this.log}`);
      await new Promise(r => setTimeout(r, 50));
    }
    throw new Error(`postern did not start:\n${this.log}`);
  }

  async stop() {
    if (this.proc && this.proc.exitCode === null) {
      const exited = new Promise(r => this.proc.once('exit', r));
      this.proc.kill('SIGTERM');
      await Promise.race([exited, new Promise(r => setTimeout(r, 5000))]);
      if (this.proc.exitCode === null)
        this.proc.kill('SIGKILL');
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** A raw POST/DELETE to /mcp, for what the SDK hides. */
  async raw(method, { token, session, body } = {}) {
    const headers = {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
    };
    if (token)
      headers.authorization = `Bearer ${token}`;
    if (session)
      headers['mcp-session-id'] = session;
    return fetch(this.url, {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body),
    });
  }
}

// -- calling tools ---------------------------------------------------------------

/** Calls a tool and returns its structured result (asserting success). */
export async function call(client, name, args = {}) {
  const result = await client.callTool({ name, arguments: args });
  assert.equal(result.isError, false, `${name} failed: ${result.content?.[0]?.text}`);
  // The same JSON as text, for clients without structuredContent.
  assert.equal(result.content[0].type, 'text');
  assert.deepEqual(JSON.parse(result.content[0].text), result.structuredContent);
  return result.structuredContent;
}

/** Calls a tool that must fail; returns the error sentence. */
export async function failing(client, name, args = {}) {
  const result = await client.callTool({ name, arguments: args });
  assert.equal(result.isError, true, `${name} should have failed`);
  assert.equal(result.structuredContent, undefined);
  return result.content[0].text;
}

/** Polls `f` until it returns something truthy (bounded). */
export async function eventually(what, f, timeoutMs = 15000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await f();
    if (value)
      return value;
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}`);
    await new Promise(r => setTimeout(r, 200));
  }
}
