// SPDX-License-Identifier: Apache-2.0
// Agent connections: their rows on the dashboard, and revoking one.
#include "postern/grant.hpp"
#include "postern/http/permission_words.hpp"
#include "shared.hpp"

#include <caf/send.hpp>

#include <algorithm>

namespace postern::http::dashboard {

ui::value connection_view(const grant_info& g,
                          const std::map<std::string, std::string>& labels) {
  auto v = ui::value::object();
  v.set("id", g.id.value);
  if (g.origin == grant_origin::admin) {
    v.set("client", "Operator-issued token");
    v.set("client_detail", "postern admin issue-token");
  } else {
    // The name the client gave itself; its id only for grants from before
    // names were recorded.
    v.set("client", g.client_name.empty() ? g.client_id : g.client_name);
    v.set("client_detail", "OAuth client");
  }
  auto i = labels.find(g.account.value);
  v.set("account_label",
        i == labels.end() ? std::string{"(deleted account)"} : i->second);
  auto scopes = ui::value::list();
  for (auto sc : all_scopes)
    if (has_scope(g.scopes, sc))
      scopes.push(ui::value::object()
                    .set("name", to_string(sc))
                    .set("words", describe_permission(sc).title));
  v.set("scopes", std::move(scopes));
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

void post_revoke(site_ptr s, const request& req, const responder& respond) {
  auto parts = split_id_path(req.path(), "/tokens/");
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
                                             "account " + grant.account.value
                                               + ", client " + grant.actor(),
                                             "ok", address});
                  respond(see_other("/dashboard?notice=revoked"));
                },
                fail_page(respond, ws));
          },
          fail_page(respond, ws));
    });
}

} // namespace postern::http::dashboard
