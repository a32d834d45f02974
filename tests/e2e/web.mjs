// SPDX-License-Identifier: Apache-2.0
// Just enough of a browser for the dashboard and the OAuth pages: a cookie
// jar, manual redirects, forms with their CSRF token, and an optional
// client address sent as X-Forwarded-For (for a server with TRUST_PROXY).
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';

export class Browser {
  constructor(base, { address } = {}) {
    this.base = base;
    this.address = address;
    this.cookies = new Map();
  }

  async fetch(path, { method = 'GET', form, headers: extra = {}, signal } = {}) {
    const headers = { origin: this.base, ...extra };
    if (this.cookies.size)
      headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    if (this.address)
      headers['x-forwarded-for'] = this.address;
    let body;
    if (form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = (form instanceof URLSearchParams ? form : new URLSearchParams(form)).toString();
    }
    const res = await fetch(new URL(path, this.base),
                            { method, headers, body, redirect: 'manual', signal });
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const eq = pair.indexOf('=');
      if (/max-age=0/i.test(c))
        this.cookies.delete(pair.slice(0, eq));
      else
        this.cookies.set(pair.slice(0, eq), pair.slice(eq + 1));
    }
    return { status: res.status, location: res.headers.get('location'),
             csp: res.headers.get('content-security-policy'),
             retryAfter: res.headers.get('retry-after'), text: await res.text() };
  }

  /** GETs `page`, then posts `fields` to `action` with the page's token. */
  async form(page, action, fields, options = {}) {
    const r = await this.fetch(page, { signal: options.signal });
    if (r.status !== 200)
      return r;
    return this.fetch(action, { ...options, method: 'POST',
                                form: { csrf: field(r.text, 'csrf'), ...fields } });
  }

  /** Signs in (GET /login, POST /login); returns the POST's answer. */
  login(username, password, options = {}) {
    return this.form('/login', '/login', { username, password }, options);
  }
}

/** The value of a hidden form field, HTML entities decoded. */
export function field(html, name) {
  const m = new RegExp(`name="${name}" value="([^"]*)"`).exec(html);
  assert.ok(m, `no ${name} field in:\n${html.slice(0, 2000)}`);
  return m[1]
    .replace(/&#(\d+);/g, (_, n) => String.fromCodePoint(Number(n)))
    .replace(/&#x([0-9a-f]+);/gi, (_, n) => String.fromCodePoint(parseInt(n, 16)))
    .replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&quot;', '"')
    .replaceAll('&amp;', '&');
}

/** Approves the consent page `page` (HTML) for every scope it offers, for
 *  the account `account` (its id, or a list of ids) or the page's first;
 *  `defaultAccount` (an id, or '' for none) when the page offers several. */
export function approval(page, account, { defaultAccount, allowRecipients } = {}) {
  const form = new URLSearchParams();
  form.append('csrf', field(page, 'csrf'));
  form.append('request', field(page, 'request'));
  for (const a of [].concat(account ?? field(page, 'account')))
    form.append('account', a);
  if (defaultAccount !== undefined)
    form.append('default_account', defaultAccount);
  if (allowRecipients !== undefined)
    form.append('allow_recipients', allowRecipients);
  form.append('decision', 'approve');
  for (const m of page.matchAll(/name="scope" value="([^"]+)"/g))
    form.append('scope', m[1]);
  return form;
}

/** A PKCE pair (RFC 7636, S256). */
export function pkce() {
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  return { verifier, challenge };
}
