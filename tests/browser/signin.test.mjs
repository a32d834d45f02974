// SPDX-License-Identifier: Apache-2.0
// "Sign in with <provider>" in Debian's Chromium (issue 16), through the
// mail fixture's fake OAuth provider (tests/mail/oauth_provider.py) and the
// test Dovecot that checks its tokens: the address step offers the
// provider -> Chromium goes to the provider and back (code + PKCE, state
// bound to this login) -> the account is listed with its provider -> an MCP
// SDK agent is approved -> the provider refuses the refresh token -> the
// agent gets the Reconnect sentence and the dashboard a banner ->
// Reconnect in Chromium -> the agent works again -> the access token
// expires and the next calls renew it by themselves, once.
//
// Run by ctest (browser.journey, after journey.test.mjs).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Agent, Server, Journey, launch, mailEnv } from './support.mjs';

const mail = mailEnv();
const PASSWORD = 'correct horse battery';

/** The fixture provider's counters for a user (refreshes, tokeninfo_rejected, ...). */
async function stats(user) {
  const r = await fetch(`${mail.OAUTH_PROVIDER_URL}/stats?user=${encodeURIComponent(user)}`);
  assert.equal(r.status, 200);
  return r.json();
}

/** The fixture provider's per-user controls (refuse_refresh, deny, ...). */
async function control(user, settings) {
  const r = await fetch(`${mail.OAUTH_PROVIDER_URL}/control`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ user, ...settings }),
  });
  assert.equal(r.status, 200);
}

const clockFile = join(process.env.TMPDIR || '/tmp', `postern-signin-clock-${process.pid}`);
let server;
let browser;
let failed = false;

before(async () => {
  if (!mail) return;
  const providers = join(process.env.TMPDIR || '/tmp', `postern-signin-providers-${process.pid}.json`);
  writeFileSync(providers, JSON.stringify([{
    name: 'testmail', title: 'Test Mail',
    authorization_endpoint: `${mail.OAUTH_PROVIDER_URL}/authorize`,
    token_endpoint: `${mail.OAUTH_PROVIDER_URL}/token`,
    client_id: 'postern-test', client_secret: 'postern-test-secret',
    scopes: 'mail offline_access',
    imap: { host: '127.0.0.1', port: Number(mail.IMAPS_PORT), security: 'tls' },
    smtp: { host: '127.0.0.1', port: Number(mail.SUBMISSION_PORT), security: 'starttls' },
    sasl: 'XOAUTH2', domains: ['example.test'],
  }]));
  // Postern's clock for token lifetimes stands still until the test moves
  // it (TEST_CLOCK_FILE), so expiry never depends on the machine's speed.
  writeFileSync(clockFile, '0\n');
  server = await new Server({
    ACCOUNT_HOST_DENY: 'none',
    SSL_CERT_FILE: mail.CA_FILE,
    MAIL_OAUTH_PROVIDERS: providers,
    TEST_CLOCK_FILE: clockFile,
  }).start();
  browser = await launch();
  await control(mail.MAIL_USER_OSCAR, { refuse_refresh: false, deny: false, signin_as: '' });
});

after(async () => {
  if (browser) await browser.close();
  if (server) {
    await server.stop();
    server.cleanup(failed);
  }
  if (mail) await control(mail.MAIL_USER_OSCAR, { refuse_refresh: false, expire_access: false });
  rmSync(clockFile, { force: true });
});

test('a person signs in at their mail provider and reconnects in Chromium', { skip: !mail && 'POSTERN_MAIL_ENV is not set' }, async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(20000);
  let agent = null;
  const j = new Journey(page, 'signin');
  const oscar = mail.MAIL_USER_OSCAR;
  try {
    await j.step('signup', async () => {
      await page.goto(`${server.base}/signup`);
      await page.fill('#username', 'olive');
      await page.fill('#password', PASSWORD);
      await page.fill('#confirm', PASSWORD);
      await page.click('button[type=submit]:has-text("Create account")');
      await page.waitForURL(/\/dashboard/);
    });

    await j.step('address-step-offers-the-provider', async () => {
      await page.click('a:has-text("Add an email account")');
      await page.waitForURL(/\/accounts\/add$/);
      await page.fill('#address', oscar);
      await page.click('button:has-text("Continue")');
      await page.locator('h1', { hasText: `Add ${oscar}` }).waitFor();
      assert.match(await page.locator('main').textContent(), /This mailbox is at Test Mail/);
      await page.fill('#label', 'Oscar at Test Mail');
    });

    await j.step('sign-in-round-trip', async () => {
      // Chromium leaves for the provider (form-action allows its origin)
      // and comes back to the callback, which saves the account.
      const toProvider = page.waitForRequest((r) => r.url().startsWith(`${mail.OAUTH_PROVIDER_URL}/authorize?`));
      await page.click('button:has-text("Sign in with Test Mail")');
      const authorize = new URL((await toProvider).url());
      assert.equal(authorize.searchParams.get('code_challenge_method'), 'S256');
      assert.equal(authorize.searchParams.get('login_hint'), oscar);
      assert.equal(authorize.searchParams.get('redirect_uri'), `${server.base}/accounts/oauth/callback`);
      await page.waitForURL(/\/dashboard\?notice=added/);
      await page.getByText('The email account was added.').waitFor();
      const card = page.locator('li.card.account', { hasText: 'Oscar at Test Mail' });
      assert.match(await card.textContent(), /with Test Mail/);
      assert.ok(await card.locator('button:has-text("Reconnect")').isVisible());
    });

    const accountId = await page.locator('li.card.account').getAttribute('data-account-id');
    agent = new Agent(server.base);
    await agent.listen();
    agent.openBrowser = (url) => page.goto(url.href);
    await j.step('agent-approved', async () => {
      await agent.requestAuthorization();
      await page.locator('h1', { hasText: 'Allow access?' }).waitFor();
      await page.check(`input[name=account][value="${accountId}"]`);
      await page.click('button:has-text("Approve")');
      await page.waitForURL(/^http:\/\/127\.0\.0\.1:\d+\/callback\?/);
      await agent.finish();
    });

    await j.step('provider-refuses-then-banner', async () => {
      // The provider withdraws the sign-in before the agent's first call:
      // that call's refresh is refused.
      await control(oscar, { refuse_refresh: true });
      const refused = await agent.call('list_folders', {});
      assert.ok(refused.isError, JSON.stringify(refused));
      assert.match(refused.content[0].text, /Oscar at Test Mail/);
      assert.match(refused.content[0].text, /Reconnect/);
      // Fixed at the provider; Postern still waits for the person.
      await control(oscar, { refuse_refresh: false });
      assert.ok((await agent.call('list_folders', {})).isError);
      await page.goto(`${server.base}/dashboard`);
      const banner = page.locator('li.card.account .notice.warning');
      await banner.waitFor();
      assert.match(await banner.textContent(), /press Reconnect/);
    });

    await j.step('reconnect', async () => {
      await page.click(`button[data-reconnect="${accountId}"]`);
      await page.waitForURL(/\/dashboard\?notice=reconnected/);
      await page.getByText('Signed in again').waitFor();
      assert.equal(await page.locator('li.card.account .notice.warning').count(), 0);
      const listed = await agent.call('list_folders', {});
      assert.ok(!listed.isError, JSON.stringify(listed));
      assert.match(JSON.stringify(listed), /INBOX/);
    });
    await j.step('access-token-expires-and-renews', async () => {
      // After Reconnect the ACCOUNT holds a token fetched at clock 0.
      const before = await stats(oscar);
      // The provider's token lives an hour and Postern renews it five
      // minutes early: its clock moves past that point while the provider
      // stops accepting the old token.
      await control(oscar, { expire_access: true });
      writeFileSync(clockFile, '3301\n');
      // Calls at the same moment on several sessions open new connections,
      // which need a token: one renewal serves them all.
      const sessions = [await agent.session(), await agent.session(), await agent.session()];
      const results = await Promise.all(Array.from({ length: 9 }, (_, i) =>
        sessions[i % 3].callTool({ name: 'list_messages', arguments: { folder: 'INBOX', pageSize: 5 } })));
      for (const r of results) assert.ok(!r.isError, JSON.stringify(r));
      for (const c of sessions) await c.close();
      const after = await stats(oscar);
      assert.equal(after.refreshes - before.refreshes, 1, JSON.stringify({ before, after }));
      // No login presented the expired token.
      assert.equal(after.tokeninfo_rejected, before.tokeninfo_rejected);
    });

    await agent.close();
    agent = null;

    await j.step('refused-at-the-provider', async () => {
      await control(oscar, { deny: true });
      await page.goto(`${server.base}/accounts/add`);
      await page.fill('#address', oscar);
      await page.click('button:has-text("Continue")');
      await page.click('button:has-text("Sign in with Test Mail")');
      await page.getByText('You did not allow Postern at Test Mail').waitFor();
      await control(oscar, { deny: false });
      await page.goto(`${server.base}/dashboard`);
      assert.equal(await page.locator('li.card.account').count(), 1);
    });
  } catch (e) {
    failed = true;
    throw e;
  } finally {
    // An agent left open by a failed step would keep node running.
    if (agent) await agent.close().catch(() => {});
    await context.close();
  }
});
