// SPDX-License-Identifier: Apache-2.0
// Agent connections: their rows on the dashboard, and revoking one.
#include "postern/grant.hpp"
#include "postern/http/permission_words.hpp"
#include "shared.hpp"

#include <caf/send.hpp>

#include <algorithm>

namespace postern::http::dashboard {

namespace {

/// The audit target of a revocation: its accounts, then the agent.
std::string revoked_target(const grant_info& g) {
  std::string target;
  for (auto& a : g.accounts.ids)
    target += "account " + a.value + ", ";
  return target + "client " + g.actor();
}

} // namespace

ui::value connection_view(const grant_info& g,
                          const std::map<std::string, std::string>& labels) {
  auto v = ui::value::object();
  v.set("id", g.id.value);
  // Inside the accounts list, where `id` is the account's.
  v.set("connection_id", g.id.value);
  if (g.origin == grant_origin::admin) {
    v.set("client", "Operator-issued token");
    v.set("client_detail", "postern admin issue-token");
  } else {
    // The name the client gave itself; its id only for grants from before
    // names were recorded.
    v.set("client", g.client_name.empty() ? g.client_id : g.client_name);
    v.set("client_detail", "OAuth client");
  }
  // Each account with its label; several may be taken out one by one (the
  // last one goes with Revoke).
  auto accounts = ui::value::list();
  bool several = g.accounts.ids.size() > 1;
  for (auto& id : g.accounts.ids) {
    auto i = labels.find(id.value);
    auto a = ui::value::object();
    a.set("id", id.value);
    a.set("label",
          i == labels.end() ? std::string{"(deleted account)"} : i->second);
    a.set("default", several && g.accounts.preferred == id);
    a.set("removable", several);
    accounts.push(std::move(a));
  }
  v.set("accounts", std::move(accounts));
  auto scopes = ui::value::list();
  for (auto sc : all_scopes)
    if (has_scope(g.scopes, sc))
      scopes.push(ui::value::object()
                    .set("name", to_string(sc))
                    .set("words", describe_permission(sc).title));
  v.set("scopes", std::move(scopes));
  // Rules for sending, where it may send.
  if (has_scope(g.scopes, scope::send)) {
    auto send = ui::value::object();
    send.set("recipients", g.send.recipients_line());
    send.set("restricted", !g.send.recipients.empty());
    send.set("words", g.send.describe_recipients());
    send.set("ask_first", g.send.ask_first);
    v.set("send", std::move(send));
  }
  v.set("created", format_time(g.created_at));
  v.set("created_iso", iso_time(g.created_at));
  if (g.last_used_at > 0) {
    v.set("last_used", format_time(g.last_used_at));
    v.set("last_used_iso", iso_time(g.last_used_at));
  } else {
    v.set("last_used", "never");
  }
  return v;
}

namespace {

/// POST /tokens/<grant>/remove-account (form: account): the connection
/// keeps its other accounts.
void post_remove_account(site_ptr s, const request& req,
                         const responder& respond, std::string id) {
  auto address = req.client_address;
  with_session_form(
    s, req, respond,
    [s, respond, address, id](task self, const web_session& ws,
                              const form_data& form) {
      auto account = account_id{form.get("account")};
      self
        ->request(s->actors.tokens, page_timeout, atom::revoke_v, ws.user.id,
                  grant_id{id}, account)
        .then(
          [s, ws, respond, address, id, account](atom::ok) {
            caf::anon_send(s->actors.directory, atom::audit_v,
                           audit_event{0, ws.user.id, "web",
                                       "grant.remove_account",
                                       "account " + account.value + ", grant "
                                         + id,
                                       "ok", address});
            respond(see_other("/dashboard?notice=account_removed"));
          },
          [respond, ws](const caf::error& err) {
            if (err == ec::invalid_token || err == ec::no_such_account)
              respond(not_found_page(&ws, "This agent connection does not "
                                          "reach that account (any more)."));
            else if (err == ec::invalid_argument)
              respond(message_page(bhttp::status::bad_request,
                                   "The connection's only account",
                                   "An agent connection needs at least one "
                                   "account: revoke the connection instead.",
                                   &ws));
            else
              respond(error_page(err, &ws));
          });
    });
}

/// POST /tokens/<grant>/send-rules (form: allow_recipients): whom the
/// connection's sending tools may write to.
void post_send_rules(site_ptr s, const request& req, const responder& respond,
                     std::string id) {
  auto address = req.client_address;
  with_session_form(
    s, req, respond,
    [s, respond, address, id](task self, const web_session& ws,
                              const form_data& form) {
      std::string problem;
      auto patterns
        = parse_recipient_patterns(form.get("allow_recipients"), &problem);
      if (!patterns) {
        respond(message_page(bhttp::status::bad_request,
                             "Check the recipients",
                             problem + " Go back and correct it.", &ws));
        return;
      }
      send_rules rules;
      rules.ask_first = form.get("ask_first") == "yes";
      rules.recipients = std::move(*patterns);
      auto words = rules.describe_recipients();
      if (rules.ask_first)
        words += ", asking first";
      self
        ->request(s->actors.tokens, page_timeout, atom::put_v, ws.user.id,
                  grant_id{id}, rules)
        .then(
          [s, ws, respond, address, id, words](atom::ok) {
            caf::anon_send(s->actors.directory, atom::audit_v,
                           audit_event{0, ws.user.id, "web", "grant.send_rules",
                                       "grant " + id + ", writes to " + words,
                                       "ok", address});
            respond(see_other("/dashboard?notice=send_rules"));
          },
          [respond, ws](const caf::error& err) {
            if (err == ec::invalid_token)
              respond(not_found_page(&ws, "This agent connection does not "
                                          "exist, or it was revoked."));
            else if (err == ec::invalid_argument)
              respond(message_page(bhttp::status::bad_request,
                                   "Check the recipients", describe(err),
                                   &ws));
            else
              respond(error_page(err, &ws));
          });
    });
}

} // namespace

void post_revoke(site_ptr s, const request& req, const responder& respond) {
  auto parts = split_id_path(req.path(), "/tokens/");
  if (parts && parts->second == "remove-account")
    return post_remove_account(std::move(s), req, respond,
                               std::move(parts->first));
  if (parts && parts->second == "send-rules")
    return post_send_rules(std::move(s), req, respond,
                           std::move(parts->first));
  if (!parts || parts->second != "revoke") {
    respond(not_found_page(nullptr));
    return;
  }
  auto address = req.client_address;
  with_session_form(
    s, req, respond,
    [s, respond, address, id = parts->first](task self, const web_session& ws,
                                             const form_data&) {
      // Look the grant up first: only one's own grants exist here, and the
      // audit entry names the agent rather than an opaque id.
      self->request(s->actors.tokens, page_timeout, atom::list_v, ws.user.id)
        .then(
          [self, s, ws, respond, address,
           id](const std::vector<grant_info>& grants) {
            auto g = std::find_if(grants.begin(), grants.end(),
                                  [&](const grant_info& x) {
                                    return x.id.value == id;
                                  });
            if (g == grants.end()) {
              respond(not_found_page(&ws, "This agent connection does not "
                                          "exist, or it was already revoked."));
              return;
            }
            auto grant = *g;
            self
              ->request(s->actors.tokens, page_timeout, atom::revoke_v,
                        ws.user.id, grant.id)
              .then(
                [s, ws, respond, address, grant](atom::ok) {
                  caf::anon_send(s->actors.directory, atom::audit_v,
                                 audit_event{0, ws.user.id, "web",
                                             "grant.revoke",
                                             revoked_target(grant),
                                             "ok", address});
                  respond(see_other("/dashboard?notice=revoked"));
                },
                fail_page(respond, ws));
          },
          fail_page(respond, ws));
    });
}

} // namespace postern::http::dashboard
