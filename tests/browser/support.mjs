// SPDX-License-Identifier: Apache-2.0
// Shared helpers of the browser tests: a Postern process, Debian's
// Chromium driven by playwright-core, screenshots on failure.
import { spawn, execFile } from 'node:child_process';
import { createServer } from 'node:http';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { chromium } from 'playwright-core';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { MemoryProvider } from '../support/oauth_provider.mjs';

const here = dirname(fileURLToPath(import.meta.url));

export const BIN = process.env.POSTERN_BIN || resolve(here, '../../build/dev/postern');
export const ARTIFACTS = process.env.POSTERN_ARTIFACTS || resolve(here, '../artifacts');
// Set POSTERN_SCREENSHOTS=1 to keep a screenshot of every page, not only
// of failures (for looking at the pages).
export const ALWAYS_SHOOT = process.env.POSTERN_SCREENSHOTS === '1';

export const CHROMIUM_FLAGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

/** KEY=VALUE lines of the mail fixture (tests/mail/fixture.sh). */
export function mailEnv() {
  const file = process.env.POSTERN_MAIL_ENV;
  if (!file) return null;
  const env = {};
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) env[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return env;
}

/** A postern process on a free port with its own DATA_DIR. */
export class Server {
  constructor(extraEnv = {}) {
    this.tmp = mkdtempSync(join(tmpdir(), 'postern-browser-'));
    this.dataDir = join(this.tmp, 'data');
    this.env = {
      ...process.env,
      DATA_DIR: this.dataDir,
      PORT: '0',
      LOG_LEVEL: 'debug',
      ...extraEnv,
    };
    delete this.env.ENCRYPTION_KEY;
    delete this.env.SESSION_SECRET;
    delete this.env.BASE_URL;
    this.output = '';
  }

  async start() {
    this.proc = spawn(BIN, [], { env: this.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const collect = (chunk) => { this.output += chunk.toString(); };
    this.proc.stdout.on('data', collect);
    this.proc.stderr.on('data', collect);
    const deadline = Date.now() + 20000;
    while (Date.now() < deadline) {
      const m = /listening on (https?):\/\/[^:]+:(\d+)/.exec(this.output);
      if (m) {
        // BASE_URL defaults to http://localhost:PORT: the issuer, the MCP
        // resource and the session cookie's host must all agree.
        this.base = `${m[1]}://localhost:${m[2]}`;
        return this;
      }
      if (this.proc.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`postern did not start:\n${this.output}`);
  }

  /** Runs `postern admin ...` against the same DATA_DIR. */
  async admin(...args) {
    const { stdout } = await promisify(execFile)(BIN, ['admin', ...args],
      { env: this.env, timeout: 30000 });
    return stdout.trim();
  }

  async stop() {
    if (this.proc && this.proc.exitCode === null) {
      const exited = new Promise((r) => this.proc.once('exit', r));
      this.proc.kill('SIGTERM');
      const timer = setTimeout(() => this.proc.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
  }

  cleanup(keepLog) {
    if (keepLog) {
      mkdirSync(ARTIFACTS, { recursive: true });
      writeFileSync(join(ARTIFACTS, 'postern.log'), this.output);
    }
    rmSync(this.tmp, { recursive: true, force: true });
  }
}

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: CHROMIUM_FLAGS,
    timeout: 30000,
  });
}

/**
 * Runs named steps on a page; a failing step leaves a screenshot and the
 * page's HTML in tests/artifacts/ (and with POSTERN_SCREENSHOTS=1 every
 * step does). Console errors (CSP violations included) fail the run.
 */
export class Journey {
  constructor(page, prefix) {
    this.page = page;
    this.prefix = prefix;
    this.count = 0;
    this.problems = [];
    page.on('console', (msg) => {
      // A form answered 400 or 401 is logged as a failed load: expected.
      if (msg.type() === 'error' && !msg.text().startsWith('Failed to load resource')) {
        this.problems.push(msg.text());
      }
    });
    page.on('pageerror', (err) => this.problems.push(String(err)));
  }

  async shoot(name) {
    mkdirSync(ARTIFACTS, { recursive: true });
    const base = join(ARTIFACTS, `${this.prefix}-${String(this.count).padStart(2, '0')}-${name}`);
    try {
      await this.page.screenshot({ path: `${base}.png`, fullPage: true });
      writeFileSync(`${base}.html`, await this.page.content());
    } catch (err) {
      // The page itself may be what broke.
    }
  }

  async step(name, fn) {
    this.count += 1;
    try {
      await fn();
      if (this.problems.length) {
        throw new Error(`browser console errors: ${this.problems.join(' | ')}`);
      }
      if (ALWAYS_SHOOT) await this.shoot(name);
    } catch (err) {
      await this.shoot(`${name}-FAILED`);
      err.message = `step "${name}": ${err.message}`;
      throw err;
    }
  }
}

/** The name the agent registers with (escaping is checked with it). */
export const AGENT_NAME = 'Journey agent <mail> & "co"';

/**
 * An MCP client as a native agent runs it: the official SDK with an
 * OAuthClientProvider (discovery, dynamic registration, PKCE) and a
 * loopback HTTP callback for the authorization response. The person's
 * browser is whoever visits the authorization URL.
 */
export class Agent extends MemoryProvider {
  constructor(base) {
    super({ clientName: AGENT_NAME, state: 'journey-state' });
    this.base = base;
    this.url = new URL('/mcp', base);
    this.callback = new Promise((resolve) => { this.gotCallback = resolve; });
  }

  /** Starts the loopback callback server (any free port). */
  async listen() {
    this.http = createServer((req, res) => {
      const url = new URL(req.url, 'http://127.0.0.1');
      if (url.pathname !== '/callback') {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end('<!doctype html><title>Connected</title><p>The agent is connected. You can close this tab.</p>');
      this.gotCallback(url);
    });
    await new Promise((r) => this.http.listen(0, '127.0.0.1', r));
    this.redirect = `http://127.0.0.1:${this.http.address().port}/callback`;
  }

  async close() {
    await this.client?.close().catch(() => {});
    if (this.http) await new Promise((r) => this.http.close(r));
  }

  /** Connects without a token: 401, discovery, registration; the SDK then
   *  hands the authorization URL to the browser. Returns the browser's
   *  response to it. */
  async requestAuthorization() {
    this.transport = new StreamableHTTPClientTransport(this.url, { authProvider: this });
    const client = new Client({ name: 'postern-journey', version: '1.0.0' });
    await assertRejectsUnauthorized(client.connect(this.transport));
    if (!this.authorizationUrl) throw new Error('the SDK did not ask for authorization');
    // The browser was handed the URL; its answer to that navigation.
    return this.opened;
  }

  /** The SDK's hand-off to the person: opens the URL in the browser
   *  (`openBrowser(url)` returns the navigation's promise). */
  redirectToAuthorization(url) {
    super.redirectToAuthorization(url);
    if (this.openBrowser) this.opened = this.openBrowser(url);
  }

  /** Waits for the browser to reach the callback, lets the SDK exchange
   *  the code; returns the tokens. */
  async finish() {
    const url = await this.callback;
    if (url.searchParams.get('state') !== 'journey-state') throw new Error(`bad state in ${url}`);
    if (url.searchParams.get('iss') !== this.base) throw new Error(`bad iss in ${url}`);
    const code = url.searchParams.get('code');
    if (!code) throw new Error(`no code in ${url}: ${url.searchParams.get('error_description')}`);
    await this.transport.finishAuth(code);
    return this.saved;
  }

  /** Calls a tool (connecting first); returns the CallToolResult. */
  async call(name, args) {
    if (!this.client) {
      const client = new Client({ name: 'postern-journey', version: '1.0.0' });
      await client.connect(new StreamableHTTPClientTransport(this.url, { authProvider: this }));
      this.client = client;
    }
    return this.client.callTool({ name, arguments: args });
  }

  /** Another MCP session with the same grant (its own client). */
  async session() {
    const client = new Client({ name: 'postern-journey', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(this.url, { authProvider: this }));
    return client;
  }

  /** The HTTP status of a bare tools/list with this access token. */
  async rawStatus(token) {
    const response = await fetch(this.url, {
      method: 'POST',
      headers: {
        Authorization: `Bearer ${token}`, 'Content-Type': 'application/json',
        Accept: 'application/json, text/event-stream', 'MCP-Protocol-Version': '2025-06-18',
      },
      body: JSON.stringify({
        jsonrpc: '2.0', id: 1, method: 'initialize',
        params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
      }),
    });
    await response.arrayBuffer();
    return response.status;
  }
}

async function assertRejectsUnauthorized(promise) {
  try {
    await promise;
  } catch (err) {
    if (err instanceof UnauthorizedError) return;
    throw err;
  }
  throw new Error('the server accepted an agent without a token');
}
