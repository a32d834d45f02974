// SPDX-License-Identifier: Apache-2.0
// The authorization endpoint: the request's checks, the consent page and
// the person's answer.
#include "postern/clock.hpp"
#include "postern/error.hpp"
#include "postern/host_policy.hpp"
#include "postern/http/cookies.hpp"
#include "postern/http/permission_words.hpp"
#include "postern/oauth/uri.hpp"
#include "postern/storage/crypto.hpp"
#include "shared.hpp"

#include <algorithm>

namespace postern::http::oauth_routes {

namespace {

/// A scope parameter without the OAuth scope offline_access.
std::string without_offline_access(std::string_view text) {
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    auto end = text.find_first_of(" ,\t", i);
    if (end == std::string_view::npos)
      end = text.size();
    auto name = text.substr(i, end - i);
    if (!name.empty() && name != "offline_access") {
      if (!out.empty())
        out += ' ';
      out += name;
    }
    i = end + 1;
  }
  return out;
}

response_type authorize_error_page(std::string message) {
  auto res = message_page(bhttp::status::bad_request,
                          "Cannot start the authorization", std::move(message),
                          nullptr, "/", "Home");
  res.set(bhttp::field::cache_control, "no-store");
  return res;
}

struct checked_request {
  std::optional<response_type> error;
  /// Set when `error` redirects to a redirect URI that anyone may have
  /// registered: the sentence for the error page shown instead to someone
  /// not signed in (RFC 9700 §4.11: no open redirector).
  std::string untrusted_redirect_text;
  pending_request req;
  std::string client_name;
};

/// True when errors may go back to the redirect URI before anyone signed
/// in: the client is a metadata document (its host published it) or the
/// redirect stays on the user's own machine.
bool trusted_redirect(const client_view& client, std::string_view redirect) {
  return client.exact_redirects || is_loopback_host(host_of(redirect));
}

/// Validates an authorization request: errors before the redirect URI is
/// trusted become a page, later ones a redirect with `error` and `iss`.
checked_request check_authorize(oauth_server& s, const form_data& q,
                                const client_view& client) {
  checked_request out;
  auto redirect = q.get("redirect_uri");
  if (redirect.empty()) {
    if (client.redirect_uris.size() != 1) {
      out.error = authorize_error_page("The request lacks a redirect_uri.");
      return out;
    }
    redirect = client.redirect_uris.front();
  } else if (std::none_of(client.redirect_uris.begin(),
                          client.redirect_uris.end(),
                          [&](const std::string& r) {
                            return client.exact_redirects
                                     ? r == redirect
                                     : redirect_matches(r, redirect);
                          })) {
    out.error = authorize_error_page(
      "The redirect_uri is not one this application registered.");
    return out;
  }
  // From here on, errors go back to the (trusted) redirect URI.
  auto state = q.get("state");
  auto fail = [&](std::string_view code, std::string_view text) {
    std::vector<std::pair<std::string, std::string>> ps{
      {"error", std::string{code}}, {"error_description", std::string{text}}};
    if (!state.empty())
      ps.emplace_back("state", state);
    ps.emplace_back("iss", s.issuer);
    out.error = see_other(with_params(redirect, ps));
    if (!trusted_redirect(client, redirect))
      out.untrusted_redirect_text = "The application sent an invalid request ("
                                    + std::string{code}
                                    + "): " + std::string{text};
  };
  if (q.get("response_type") != "code") {
    fail("unsupported_response_type", "Only response_type=code is supported.");
    return out;
  }
  auto challenge = q.get("code_challenge");
  if (challenge.size() != 43 || q.get("code_challenge_method") != "S256") {
    fail("invalid_request",
         "PKCE with code_challenge_method=S256 is required.");
    return out;
  }
  scope_set scopes = every_scope;
  // offline_access asks for a refresh token, which every grant gets anyway
  // (Claude.ai never asks for it): accepted and dropped.
  if (auto text = without_offline_access(q.get("scope")); !text.empty()) {
    auto parsed = parse_scopes(text);
    if (!parsed || *parsed == 0) {
      fail("invalid_scope", "Unknown scope requested.");
      return out;
    }
    scopes = *parsed;
  }
  auto resource = s.resource;
  if (auto r = q.get("resource"); !r.empty()) {
    if (!names_our_resource(r, s.resource, s.issuer)) {
      fail("invalid_target", "Unknown resource; use " + s.resource);
      return out;
    }
  }
  out.client_name = client.name;
  out.req.code.client_id = client.id;
  out.req.code.client_name = client.name;
  out.req.code.redirect_uri = redirect;
  out.req.code.challenge = challenge;
  out.req.code.resource = resource;
  out.req.code.scopes = scopes;
  out.req.state = state;
  return out;
}

void show_consent(const server_ptr& s, const request& req,
                  const responder& respond, const checked_request& checked);

/// An error for a redirect URI nobody vouches for: redirected only for a
/// signed-in person (who sees Postern's pages, not a phishing link's
/// target), else an error page.
void answer_untrusted_error(const server_ptr& s, const request& req,
                            const responder& respond, checked_request checked) {
  auto page = std::make_shared<response_type>(
    authorize_error_page(checked.untrusted_redirect_text));
  auto redirect = std::make_shared<response_type>(std::move(*checked.error));
  auto cookie = find_cookie(req, s->web->session_cookie());
  if (!cookie || cookie->empty() || cookie->size() > 128) {
    respond(std::move(*page));
    return;
  }
  run_task(*s->web, [s, token = *cookie, respond, page, redirect](task self) {
    self
      ->request(s->web->actors.directory, page_timeout, atom::session_v, token)
      .then([respond,
             redirect](const user_info&) { respond(std::move(*redirect)); },
            [respond, page](const caf::error&) { respond(std::move(*page)); });
  });
}

} // namespace

void handle_authorize_get(const server_ptr& s, const request& req,
                          const responder& respond) {
  auto q = form_data::parse(req.query());
  if (auto dup = repeated_param(q); !dup.empty()) {
    respond(authorize_error_page("The parameter \"" + dup
                                 + "\" appears more than once."));
    return;
  }
  // A metadata document may have to be fetched: keep the request.
  auto copy = std::make_shared<request>(req);
  resolve_client(
    s, q.get("client_id"), address_bucket(req.client_address),
    [s, copy, respond](caf::expected<client_view> client) {
      if (!client) {
        respond(authorize_error_page(describe(client.error())));
        return;
      }
      auto query = form_data::parse(copy->query());
      auto checked = check_authorize(*s, query, *client);
      if (checked.error && !checked.untrusted_redirect_text.empty()) {
        answer_untrusted_error(s, *copy, respond, std::move(checked));
        return;
      }
      if (checked.error) {
        respond(std::move(*checked.error));
        return;
      }
      show_consent(s, *copy, respond, checked);
    });
}

namespace {

/// Keeps a consent request until the person answers it, within the
/// per-user and global limits (the table is in memory and shared by all
/// tenants); the refusal page when a limit is reached.
std::optional<response_type>
hold_request(const server_ptr& s, const web_session& ws, const std::string& id,
             const pending_request& pending) {
  std::lock_guard guard{s->mtx};
  s->prune(unix_seconds());
  auto mine = std::count_if(s->pending.begin(), s->pending.end(),
                            [&](const auto& kv) {
                              return kv.second.code.user == ws.user.id;
                            });
  if (static_cast<size_t>(mine) >= max_pending_per_user) {
    auto res = message_page(
      bhttp::status::too_many_requests, "Too many connection requests",
      "You have " + std::to_string(max_pending_per_user)
        + " connection requests waiting for an answer. Answer one of them, "
          "or wait ten minutes until they expire, then start the connection "
          "again.",
      &ws);
    res.set(bhttp::field::retry_after, std::to_string(request_ttl));
    return res;
  }
  if (s->pending.size() >= max_pending)
    return message_page(bhttp::status::service_unavailable, "Too busy",
                        "Try again in a few minutes.", &ws);
  s->pending.emplace(id, pending);
  return std::nullopt;
}

/// The page that asks the person, for the request kept under `id`.
response_type consent_page(const checked_request& checked,
                           const pending_request& pending,
                           const std::string& id,
                           const std::vector<account_settings>& accounts,
                           const web_session& ws) {
  page p;
  p.title = "Allow access";
  p.body = "oauth_consent";
  p.narrow = true;
  p.session = &ws;
  p.data.set("client_name", checked.client_name);
  p.data.set("redirect_host", host_of(pending.code.redirect_uri));
  p.data.set("request", id);
  auto list = ui::value::list();
  bool first = true;
  for (auto& a : accounts) {
    // Named as the tools name it (label, and the address beside it that
    // tells two "Work" accounts apart).
    auto names = grant_account_of(a);
    auto v = ui::value::object();
    v.set("id", a.id.value);
    v.set("label", names.label);
    v.set("address", names.address);
    v.set("first", first);
    first = false;
    list.push(std::move(v));
  }
  p.data.set("accounts", std::move(list));
  p.data.set("several_accounts", accounts.size() > 1);
  auto scopes = ui::value::list();
  for (auto sc : all_scopes)
    if (has_scope(pending.code.scopes, sc)) {
      auto words = describe_permission(sc);
      auto v = ui::value::object();
      v.set("name", std::string{to_string(sc)});
      v.set("title", words.title);
      v.set("detail", words.detail);
      v.set("powerful", words.powerful);
      scopes.push(std::move(v));
    }
  p.data.set("scopes", std::move(scopes));
  p.data.set("may_send", has_scope(pending.code.scopes, scope::send));
  p.data.set("max_recipients", std::to_string(max_recipient_patterns));
  // Chromium applies form-action to the redirect that follows the POST:
  // allow the client's origin.
  p.csp = csp_with_form_targets({redirect_origin(pending.code.redirect_uri)});
  p.headers.emplace_back("Cache-Control", "no-store");
  return render_page(p);
}

/// The consent page (after login), for a checked authorization request.
void show_consent(const server_ptr& s, const request& req,
                  const responder& respond, const checked_request& checked) {
  with_session(
    s->web, req, respond,
    [s, respond, checked](task self, const web_session& ws) {
      self
        ->request(s->web->actors.directory, page_timeout, atom::list_v,
                  ws.user.id)
        .then(
          [s, respond, checked,
           ws](const std::vector<account_settings>& accounts) {
            if (accounts.empty()) {
              respond(message_page(bhttp::status::ok, "No email account yet",
                                   "Add an email account on the dashboard, "
                                   "then connect the application again.",
                                   &ws));
              return;
            }
            auto id = storage::random_token(24);
            auto pending = checked.req;
            pending.code.user = ws.user.id;
            pending.expires_at = unix_seconds() + request_ttl;
            if (auto refusal = hold_request(s, ws, id, pending)) {
              respond(std::move(*refusal));
              return;
            }
            respond(consent_page(checked, pending, id, accounts, ws));
          },
          [respond, ws](const caf::error& err) {
            respond(error_page(err, &ws));
          });
    });
}

} // namespace

void handle_authorize_post(const server_ptr& s, const request& req,
                           const responder& respond) {
  with_session_form(
    s->web, req, respond,
    [s, respond](task self, const web_session& ws, const form_data& form) {
      auto now = unix_seconds();
      // A mistyped recipient leaves the request pending: Back returns to
      // the same form.
      send_rules send;
      send.ask_first = form.get("ask_first") == "yes";
      std::string problem;
      if (auto patterns
          = parse_recipient_patterns(form.get("allow_recipients"), &problem))
        send.recipients = std::move(*patterns);
      else if (form.get("decision") == "approve") {
        respond(message_page(bhttp::status::bad_request,
                             "Check the recipients",
                             problem + " Go back and correct it.", &ws));
        return;
      }
      pending_request pr;
      {
        std::lock_guard guard{s->mtx};
        s->prune(now);
        auto i = s->pending.find(form.get("request"));
        if (i == s->pending.end() || !(i->second.code.user == ws.user.id)) {
          respond(message_page(bhttp::status::bad_request,
                               "This request has expired",
                               "Start the connection again from the "
                               "application.",
                               &ws));
          return;
        }
        pr = i->second;
        s->pending.erase(i);
      }
      std::vector<std::pair<std::string, std::string>> ps;
      auto finish = [&] {
        if (!pr.state.empty())
          ps.emplace_back("state", pr.state);
        ps.emplace_back("iss", s->issuer);
        respond(see_other(with_params(pr.code.redirect_uri, ps)));
      };
      scope_set chosen = 0;
      for (auto& name : form.all("scope"))
        if (auto sc = parse_scope(name))
          chosen |= bit(*sc);
      chosen &= pr.code.scopes;
      grant_accounts accounts;
      for (auto& id : form.all("account"))
        if (!id.empty() && !accounts.reaches(account_id{id}))
          accounts.ids.push_back(account_id{id});
      if (form.get("decision") != "approve" || chosen == 0
          || accounts.ids.empty()) {
        ps.emplace_back("error", "access_denied");
        ps.emplace_back("error_description", "The user denied the request.");
        finish();
        return;
      }
      // A default the person left on an account they did not tick means
      // none.
      if (account_id preferred{form.get("default_account")};
          accounts.reaches(preferred))
        accounts.preferred = preferred;
      auto cr = pr.code;
      cr.accounts = std::move(accounts);
      cr.scopes = chosen;
      // Rules for sending mean nothing without the scope to send.
      if (has_scope(chosen, scope::send))
        cr.send = std::move(send);
      self->request(s->web->actors.tokens, page_timeout, atom::issue_v, cr)
        .then(
          [s, respond, pr](const secret& code) {
            std::vector<std::pair<std::string, std::string>> params{
              {"code", code.reveal()}};
            if (!pr.state.empty())
              params.emplace_back("state", pr.state);
            params.emplace_back("iss", s->issuer);
            respond(see_other(with_params(pr.code.redirect_uri, params)));
          },
          [respond, ws](const caf::error& err) {
            if (err == ec::no_such_account)
              respond(message_page(bhttp::status::bad_request,
                                   "No such email account",
                                   "Choose one of your own email accounts; "
                                   "start the connection again from the "
                                   "application.",
                                   &ws));
            else
              respond(error_page(err, &ws));
          });
    });
}

} // namespace postern::http::oauth_routes
