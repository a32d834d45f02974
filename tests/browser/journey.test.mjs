// SPDX-License-Identifier: Apache-2.0
// A person's journey through the dashboard in Debian's Chromium, against a
// running Postern and the real Dovecot/Postfix of the mail fixture:
// sign up -> add an account (its address first, then the connection test fails with a wrong
// password, then passes) -> see it listed -> an MCP SDK client asks for
// access and the person approves the consent (the redirect reaches the
// client's loopback callback, the SDK exchanges the code) -> the agent
// connection is listed by the client's name -> the agent lists mail ->
// revoke (the agent gets 401) -> a second account -> a second agent
// reaches both and may send only with the person's yes (consent with two
// accounts and "Ask me before anything is sent"; calls to each account; one
// held message discarded on the dashboard, one sent from its approval link,
// arriving; one account taken out of the connection, the other still
// working) -> activity -> change password -> log out ->
// log in again. Then the pages on a phone.
//
// Run by ctest (browser.journey); by hand:
//   POSTERN_BIN=build/dev/postern POSTERN_MAIL_ENV=/tmp/mail/ports.env \
//     node --test tests/browser/
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Agent, AGENT_NAME, Server, Journey, launch, mailEnv } from './support.mjs';

const mail = mailEnv();
const USER = 'dana';
const PASSWORD = 'correct horse battery';
const NEW_PASSWORD = 'an even better passphrase';
// Escaping is checked with the label a person could really type.
const LABEL = `Bob's <b>mail</b> & "more"`;
const ARCHIVE = 'Archive';

/** Fills the add-account form for a mailbox of the test Dovecot (IMAPS
 *  and SMTPS on the fixture's host), from the address step: the address
 *  first, then the form it opens with the login filled in. */
async function fillAccountForm(page, label, user, password) {
  await page.fill('#address', user);
  await page.click('button:has-text("Continue")');
  await page.locator('#imap_host').waitFor();
  assert.equal(await page.inputValue('#imap_username'), user);
  await page.fill('#label', label);
  await page.fill('#imap_host', mail.MAIL_HOST);
  await page.fill('#imap_port', mail.IMAPS_PORT);
  await page.selectOption('#imap_security', 'tls');
  await page.fill('#imap_username', user);
  await page.fill('#imap_password', password);
  await page.fill('#smtp_host', mail.MAIL_HOST);
  await page.fill('#smtp_port', mail.SMTPS_PORT);
  await page.selectOption('#smtp_security', 'tls');
}

let server;
let browser;
let failed = false;

before(async () => {
  if (!mail) return;
  // The test Dovecot's certificate is signed by the fixture's CA: trusted
  // through the process environment (OpenSSL's default verify paths honour
  // SSL_CERT_FILE), never by letting a web user name a server-side file.
  server = await new Server({
    ACCOUNT_HOST_DENY: 'none',
    SSL_CERT_FILE: mail.CA_FILE,
  }).start();
  browser = await launch();
});

after(async () => {
  if (browser) await browser.close();
  if (server) {
    await server.stop();
    server.cleanup(failed);
  }
});

test('a person manages mailboxes and agents in Chromium', { skip: !mail && 'POSTERN_MAIL_ENV is not set' }, async () => {
  const started = Date.now();
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  // The Copy button writes the clipboard; the test reads it back.
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.base });
  const page = await context.newPage();
  page.setDefaultTimeout(20000);
  const j = new Journey(page, 'journey');
  try {
    await j.step('login-page', async () => {
      const response = await page.goto(`${server.base}/dashboard`);
      assert.equal(response.status(), 200);
      await page.waitForURL(/\/login$/);
      await page.click('a:has-text("Create an account")');
      await page.waitForURL(/\/signup$/);
    });

    await j.step('signup', async () => {
      await page.fill('#username', USER);
      await page.fill('#password', PASSWORD);
      await page.fill('#confirm', PASSWORD);
      await page.click('button[type=submit]:has-text("Create account")');
      await page.waitForURL(/\/dashboard/);
      await page.getByText('No email accounts yet — add one').waitFor();
      await page.getByText('No agents connected').waitFor();
    });

    await j.step('connect-card', async () => {
      // The address to paste into an agent comes first, with a Copy button
      // that puts exactly that address on the clipboard.
      const card = page.locator('[data-connect-card]');
      await card.waitFor();
      assert.equal(await page.inputValue('#mcp-url'), `${server.base}/mcp`);
      assert.match(await card.textContent(), /claude mcp add --transport http postern/);
      const copy = card.locator('button[data-copy="mcp-url"]');
      assert.ok(await copy.isVisible());
      await copy.click();
      await card.locator('button[data-copy="mcp-url"]', { hasText: 'Copied' }).waitFor();
      assert.equal(await page.evaluate(() => navigator.clipboard.readText()), `${server.base}/mcp`);
      const order = await page.evaluate(() => {
        const at = (sel) => [...document.querySelectorAll('main *')].indexOf(document.querySelector(sel));
        return { card: at('[data-connect-card]'), accounts: at('#accounts-heading') };
      });
      assert.ok(order.card < order.accounts, JSON.stringify(order));
    });

    await j.step('add-account-wrong-password', async () => {
      await page.click('a:has-text("Add an email account")');
      await page.waitForURL(/\/accounts\/add$/);
      await fillAccountForm(page, LABEL, mail.MAIL_USER2, 'not-the-password');
      await page.click('button:has-text("Test connection")');
      const imap = page.locator('#probe-result .probe-line.bad', { hasText: 'IMAP:' });
      await imap.waitFor();
      const text = await imap.textContent();
      // Plain words: the person learns that the password is the problem.
      assert.match(text, /password/i, text);
      // The script kept the form: the password is still typed in.
      assert.equal(await page.inputValue('#imap_password'), 'not-the-password');
    });

    await j.step('add-account-right-password', async () => {
      await page.fill('#imap_password', mail.MAIL_PASS2);
      await page.click('button:has-text("Test connection")');
      const imap = page.locator('#probe-result .probe-line.ok', { hasText: 'IMAP:' });
      await imap.waitFor();
      assert.match(await imap.textContent(), /Logged in to/);
      const smtp = page.locator('#probe-result .probe-line.ok', { hasText: 'SMTP:' });
      await smtp.waitFor();
      await page.click('button:has-text("Save")');
      await page.waitForURL(/\/dashboard\?notice=added/);
      await page.getByText('The email account was added.').waitFor();
    });

    let accountId;
    await j.step('account-listed', async () => {
      const card = page.locator('[data-account-id]');
      assert.equal(await card.count(), 1);
      // The label is text, not markup.
      assert.equal(await card.locator('.account-label').textContent(), LABEL);
      assert.equal(await page.locator('.account-label b').count(), 0);
      assert.match(await card.textContent(), new RegExp(mail.MAIL_USER2));
      accountId = await card.getAttribute('data-account-id');
      assert.ok(accountId);
    });

    await j.step('edit-shows-no-password', async () => {
      await page.click('a:has-text("Edit")');
      await page.waitForURL(/\/edit$/);
      assert.equal(await page.inputValue('#label'), LABEL);
      assert.equal(await page.inputValue('#imap_password'), '');
      assert.ok(!(await page.content()).includes(mail.MAIL_PASS2));
      // A test with the saved password (left empty) still logs in.
      await page.click('button:has-text("Test connection")');
      await page.locator('#probe-result .probe-line.ok', { hasText: 'IMAP:' }).waitFor();
      await page.click('a:has-text("Cancel")');
      await page.waitForURL(/\/dashboard$/);
    });

    await j.step('delete-asks-first', async () => {
      await page.click('a:has-text("Delete")');
      await page.waitForURL(/\/delete$/);
      await page.locator('h1', { hasText: `Delete “${LABEL}”?` }).waitFor();
      await page.click('a:has-text("Keep it")');
      await page.waitForURL(/\/dashboard$/);
      assert.equal(await page.locator('[data-account-id]').count(), 1);
    });

    await j.step('unknown-account', async () => {
      const response = await page.goto(`${server.base}/accounts/no-such-account/edit`);
      assert.equal(response.status(), 404);
      await page.getByText('This email account does not exist').waitFor();
      await page.click('a:has-text("Back to the dashboard")');
      await page.waitForURL(/\/dashboard$/);
    });

    // An MCP client (the official SDK: discovery, dynamic registration,
    // PKCE) asks for access; the person approves in this browser.
    const agent = new Agent(server.base);
    await agent.listen();
    // Where a native agent would open the system browser: this Chromium,
    // where the person is logged in.
    agent.openBrowser = (url) => page.goto(url.href);
    let tokens;
    await j.step('agent-asks-for-access', async () => {
      const response = await agent.requestAuthorization();
      assert.equal(new URL(page.url()).searchParams.get('code_challenge_method'), 'S256');
      assert.equal(response.status(), 200);
      await page.locator('h1', { hasText: 'Allow access?' }).waitFor();
      const card = await page.locator('section.card').textContent();
      // The client's own name, as it registered it, and where it goes next.
      assert.ok(card.includes(AGENT_NAME), card);
      assert.ok(card.includes('127.0.0.1'), card);
    });

    await j.step('consent-approve', async () => {
      // Plain words, the address beside the label, sending set apart, and
      // Deny as the secondary button.
      const consent = await page.locator('section.card').textContent();
      for (const words of ['Read your messages', 'Send email as you', mail.MAIL_USER2]) {
        assert.ok(consent.includes(words), `consent lacks "${words}": ${consent}`);
      }
      const send = page.locator('label.choice.powerful');
      assert.equal(await send.count(), 1);
      assert.match(await send.textContent(), /Send email as you\s*Powerful/);
      assert.equal(await send.locator('input').getAttribute('value'), 'mail:send');
      assert.match(await page.locator('button[value=deny]').getAttribute('class'), /\bsecondary\b/);
      assert.match(await page.locator('button[value=approve]').getAttribute('class'), /\bprimary\b/);
      await page.check(`input[name=account][value="${accountId}"]`);
      // Every requested permission is pre-checked and each can be removed.
      assert.ok(await page.isChecked('input[name=scope][value="mail:send"]'));
      await page.uncheck('input[name=scope][value="mail:send"]');
      await page.click('button:has-text("Approve")');
      // The redirect lands on the agent's loopback callback...
      await page.waitForURL(/^http:\/\/127\.0\.0\.1:\d+\/callback\?/);
      await page.getByText('The agent is connected').waitFor();
      // ...and the SDK finishes the token exchange.
      tokens = await agent.finish();
      assert.equal(tokens.token_type.toLowerCase(), 'bearer');
      assert.ok(tokens.refresh_token);
      assert.doesNotMatch(tokens.scope, /mail:send/);
      assert.match(tokens.scope, /mail:read/);
    });

    await j.step('agent-connection-listed', async () => {
      await page.goto(`${server.base}/dashboard`);
      const row = page.locator('tr[data-grant-id]');
      assert.equal(await row.count(), 1);
      const text = await row.textContent();
      // The client's human name, not its id.
      assert.ok(text.includes(AGENT_NAME), text);
      assert.doesNotMatch(text, /pc_/);
      assert.match(text, /Read your messages/);
      // With an agent connected, the connect card moves below the list.
      const order = await page.evaluate(() => {
        const at = (sel) => [...document.querySelectorAll('main *')].indexOf(document.querySelector(sel));
        return { card: at('[data-connect-card]'), grants: at('tr[data-grant-id]') };
      });
      assert.ok(order.card > order.grants, JSON.stringify(order));
      assert.ok(text.includes(LABEL));
      assert.match(await row.locator('td[data-label="Last used"]').textContent(), /never/);
    });

    await j.step('agent-lists-mail', async () => {
      const listed = await agent.call('list_messages', { folder: 'INBOX', pageSize: 3 });
      assert.ok(!listed.isError, JSON.stringify(listed));
      await page.reload();
      const used = await page.locator('tr[data-grant-id] td[data-label="Last used"]').textContent();
      assert.doesNotMatch(used, /never/);
    });

    await j.step('revoke', async () => {
      await page.click('tr[data-grant-id] button:has-text("Revoke")');
      await page.waitForURL(/notice=revoked/);
      await page.getByText('No agents connected').waitFor();
      // Effective on the agent's next request: its token gets 401...
      const status = await agent.rawStatus(tokens.access_token);
      assert.equal(status, 401);
      // ...and the SDK cannot refresh its way back in.
      await assert.rejects(agent.call('list_messages', { folder: 'INBOX' }));
    });
    await agent.close();

    // A second mailbox, so that one connection can reach both.
    let archiveId;
    await j.step('add-second-account', async () => {
      await page.goto(`${server.base}/dashboard`);
      await page.click('a:has-text("Add account")');
      await page.waitForURL(/\/accounts\/add$/);
      await fillAccountForm(page, ARCHIVE, mail.MAIL_USER1, mail.MAIL_PASS1);
      await page.click('button:has-text("Save")');
      await page.waitForURL(/\/dashboard\?notice=added/);
      const cards = page.locator('li.card.account[data-account-id]');
      assert.equal(await cards.count(), 2);
      archiveId = await page.locator('li.card.account[data-account-id]', { hasText: ARCHIVE })
        .getAttribute('data-account-id');
      assert.ok(archiveId && archiveId !== accountId);
    });

    // A second agent reaches both mailboxes and may send, but only with
    // the person's yes: it asks, the person ticks both accounts and "Ask me
    // before anything is sent", and its messages wait on the dashboard.
    const sender = new Agent(server.base);
    await sender.listen();
    sender.openBrowser = (url) => page.goto(url.href);
    const tag = `${Date.now()}`;
    const held = {};
    await j.step('consent-ask-before-send', async () => {
      const response = await sender.requestAuthorization();
      assert.equal(response.status(), 200);
      await page.locator('h1', { hasText: 'Allow access?' }).waitFor();
      // Both mailboxes, each with its address.
      const consent = await page.locator('section.card').textContent();
      assert.ok(consent.includes(mail.MAIL_USER1) && consent.includes(mail.MAIL_USER2), consent);
      await page.check(`input[name=account][value="${accountId}"]`);
      await page.check(`input[name=account][value="${archiveId}"]`);
      // Calls that name no account go to the first mailbox.
      await page.selectOption('#default_account', accountId);
      await page.check('input[name=ask_first]');
      await page.click('button:has-text("Approve")');
      await page.waitForURL(/^http:\/\/127\.0\.0\.1:\d+\/callback\?/);
      const granted = await sender.finish();
      assert.match(granted.scope, /mail:send/);
    });

    await j.step('agent-reaches-two-accounts', async () => {
      const listed = await sender.call('list_accounts', {});
      assert.ok(!listed.isError, JSON.stringify(listed));
      const accounts = listed.structuredContent.accounts;
      assert.deepEqual(accounts.map((a) => a.label).sort(), [ARCHIVE, LABEL].sort());
      assert.equal(accounts.find((a) => a.default)?.label, LABEL);
      // Each account answers with its own mail: the archive is alice's
      // seeded INBOX, the default is bob's.
      const archive = await sender.call('list_folders', { account: ARCHIVE, includeCounts: true });
      const main = await sender.call('list_folders', { includeCounts: true });
      const inbox = (r) => r.structuredContent.folders.find((f) => f.path === 'INBOX').messages;
      assert.ok(inbox(archive) >= 300, JSON.stringify(archive.structuredContent));
      assert.notEqual(inbox(archive), inbox(main));
    });

    await j.step('agent-send-is-held', async () => {
      for (const name of ['keep', 'drop']) {
        const sent = await sender.call('send_mail', {
          to: mail.MAIL_USER2, subject: `journey ${name} ${tag}`, body: `the ${name} body` });
        assert.ok(!sent.isError, JSON.stringify(sent));
        assert.equal(sent.structuredContent.status, 'awaiting_approval');
        assert.ok(sent.structuredContent.approveUrl.startsWith(`${server.base}/outbox/`),
          sent.structuredContent.approveUrl);
        held[name] = sent.structuredContent;
      }
    });

    await j.step('discard-on-the-dashboard', async () => {
      await page.goto(`${server.base}/dashboard`);
      await page.locator('h2', { hasText: 'Waiting for your yes' }).waitFor();
      const card = page.locator(`article.held[data-outbox-id="${held.drop.outboxId}"]`);
      await card.getByText(`journey drop ${tag}`).waitFor();
      await card.getByText(mail.MAIL_USER2).first().waitFor();
      await card.locator('button:has-text("Discard")').click();
      await page.waitForURL(/notice=outbox_discarded/);
      await page.getByText('Discarded: the message will not be sent.').waitFor();
      assert.equal(await page.locator(`article.held[data-outbox-id="${held.drop.outboxId}"]`).count(), 0);
    });

    await j.step('approve-by-the-link', async () => {
      await page.goto(held.keep.approveUrl);
      await page.locator('h1', { hasText: 'Send this message?' }).waitFor();
      await page.getByText('the keep body').waitFor();
      await page.click('article.held button:has-text("Send")');
      await page.waitForURL(/notice=outbox_sent/);
      await page.getByText('Sent: the message is on its way').waitFor();
      const status = await sender.call('get_send_status', { outboxId: held.keep.outboxId });
      assert.equal(status.structuredContent.status, 'sent');
      const dropped = await sender.call('get_send_status', { outboxId: held.drop.outboxId });
      assert.equal(dropped.structuredContent.status, 'discarded');
      // The approved one arrives; the discarded one, held before it, does not.
      const deadline = Date.now() + 60000;
      for (;;) {
        const found = await sender.call('search_messages', { subject: `journey keep ${tag}` });
        if (found.structuredContent?.total === 1) break;
        assert.ok(Date.now() < deadline, 'the approved message never arrived');
        await new Promise((r) => setTimeout(r, 250));
      }
      const none = await sender.call('search_messages', { subject: `journey drop ${tag}` });
      assert.equal(none.structuredContent.total, 0);
    });
    await j.step('remove-an-account-from-the-connection', async () => {
      await page.goto(`${server.base}/dashboard`);
      const row = page.locator('tr[data-grant-id]');
      assert.equal(await row.locator('li[data-account-id]').count(), 2);
      await row.locator(`li[data-account-id="${archiveId}"] button:has-text("Remove")`).click();
      await page.waitForURL(/notice=account_removed/);
      assert.equal(await page.locator('tr[data-grant-id] li[data-account-id]').count(), 1);
      // Effective on the agent's next call (the removal bumps the grants
      // epoch the token memo checks): the archive is refused by name, the
      // other account keeps working.
      const gone = await sender.call('list_folders', { account: ARCHIVE });
      assert.equal(gone.isError, true, JSON.stringify(gone));
      assert.match(gone.content[0].text, /has no email account/);
      const still = await sender.call('list_folders', {});
      assert.ok(!still.isError, JSON.stringify(still));
    });
    await sender.close();

    await j.step('activity', async () => {
      await page.click('nav >> text=Activity');
      await page.waitForURL(/\/activity$/);
      const table = page.locator('table.activity');
      const text = await table.textContent();
      const expected = ['Signed up', 'Added email account', 'Revoked agent connection',
        'Used list_messages', `Agent ${AGENT_NAME}`, 'Sent a message held for your yes',
        'Discarded a message held for your yes'];
      for (const what of expected) {
        assert.ok(text.includes(what), `activity lacks "${what}": ${text}`);
      }
      assert.ok(text.includes(LABEL), 'activity names the account by its label');
    });

    await j.step('change-password', async () => {
      await page.click('nav >> text=Password');
      await page.waitForURL(/\/change-password$/);
      await page.fill('#current', 'wrong current password');
      await page.fill('#new_password', NEW_PASSWORD);
      await page.fill('#confirm', NEW_PASSWORD);
      await page.click('button:has-text("Change password")');
      await page.locator('#err-current', { hasText: 'The current password is wrong.' }).waitFor();
      await page.fill('#current', PASSWORD);
      await page.fill('#new_password', NEW_PASSWORD);
      await page.fill('#confirm', NEW_PASSWORD);
      await page.click('button:has-text("Change password")');
      await page.waitForURL(/notice=password-changed/);
      await page.getByText('Your password was changed.').waitFor();
    });

    await j.step('logout', async () => {
      await page.click('.topbar button:has-text("Log out")');
      await page.waitForURL(/\/login\?notice=logged-out/);
      await page.getByText('You are logged out.').waitFor();
      await page.goto(`${server.base}/dashboard`);
      await page.waitForURL(/\/login/);
    });

    await j.step('login-again', async () => {
      await page.fill('#username', USER);
      await page.fill('#password', PASSWORD);
      await page.click('button:has-text("Log in")');
      await page.getByText('Wrong username or password.').waitFor();
      await page.fill('#password', NEW_PASSWORD);
      await page.click('button:has-text("Log in")');
      await page.waitForURL(/\/dashboard$/);
      await page.locator('li.card.account[data-account-id]').first().waitFor();
    });
    console.log(`# journey took ${((Date.now() - started) / 1000).toFixed(1)} s`);
  } catch (err) {
    failed = true;
    throw err;
  } finally {
    await context.close();
  }
});

test('the pages fit a phone', { skip: !mail && 'POSTERN_MAIL_ENV is not set' }, async () => {
  const context = await browser.newContext({
    viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true,
  });
  const page = await context.newPage();
  page.setDefaultTimeout(20000);
  const j = new Journey(page, 'phone');
  const fits = async () => {
    const [scroll, width] = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
    assert.ok(scroll <= width, `the page is ${scroll}px wide on a ${width}px screen`);
  };
  try {
    await j.step('login', async () => {
      await page.goto(`${server.base}/login`);
      await fits();
      await page.fill('#username', USER);
      await page.fill('#password', NEW_PASSWORD);
      await page.click('button:has-text("Log in")');
      await page.waitForURL(/\/dashboard$/);
    });
    for (const [name, path] of [['dashboard', '/dashboard'], ['add-account', '/accounts/add'],
      ['activity', '/activity'], ['password', '/change-password'], ['signup', '/signup']]) {
      await j.step(name, async () => {
        await page.goto(`${server.base}${path}`);
        await fits();
      });
    }
  } catch (err) {
    failed = true;
    throw err;
  } finally {
    await context.close();
  }
});
