// SPDX-License-Identifier: Apache-2.0
// An in-memory OAuthClientProvider for the official MCP SDK, as a native
// MCP client keeps one: dynamic registration with the given name and
// redirect URI, PKCE verifier, tokens. Shared by tests/e2e and
// tests/browser (it imports nothing, so either package's SDK can use it).

export class MemoryProvider {
  constructor({ redirectUrl, clientName, state }) {
    this.redirect = redirectUrl;
    this.clientName = clientName;
    this.stateValue = state;
    this.info = undefined;
    this.saved = undefined;
    this.verifier = undefined;
    this.authorizationUrl = undefined;
  }
  get redirectUrl() { return this.redirect; }
  get clientMetadata() {
    return {
      client_name: this.clientName,
      redirect_uris: [this.redirect],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    };
  }
  state() { return this.stateValue; }
  clientInformation() { return this.info; }
  saveClientInformation(info) { this.info = info; }
  tokens() { return this.saved; }
  saveTokens(tokens) { this.saved = tokens; }
  redirectToAuthorization(url) { this.authorizationUrl = url; }
  saveCodeVerifier(v) { this.verifier = v; }
  codeVerifier() { return this.verifier; }
}
