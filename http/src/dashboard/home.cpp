// SPDX-License-Identifier: Apache-2.0
// The dashboard: email accounts, agent connections and recent activity.
#include "postern/clock.hpp"
#include "postern/log.hpp"
#include "postern/oauth/uri.hpp"
#include "shared.hpp"

#include <algorithm>

namespace postern::http::dashboard {

namespace {

/// Events shown on the dashboard (recent activity).
constexpr uint64_t dashboard_events = 6;

std::string_view security_words(transport_security s) {
  switch (s) {
    case transport_security::tls:
      return "TLS";
    case transport_security::starttls:
      return "STARTTLS";
    case transport_security::plain:
      return "no encryption";
  }
  return "?";
}

std::string where(const server_settings& s) {
  return s.host + ":" + std::to_string(s.port) + " · "
         + std::string{security_words(s.security)};
}

ui::value account_view(const account_settings& a,
                       const std::vector<grant_info>& grants,
                       const oauth::mail_providers* providers) {
  auto v = ui::value::object();
  v.set("id", a.id.value);
  v.set("label", a.label);
  if (uses_oauth(a)) {
    // The provider's name for people, or its short name when the operator
    // no longer configures it.
    const auto* p = providers ? providers->find(a.oauth_provider) : nullptr;
    v.set("oauth_title", p != nullptr ? p->title : a.oauth_provider);
    v.set("needs_signin", a.needs_signin);
    // Reconnect needs the provider configured.
    if (p != nullptr)
      v.set("oauth_provider", p->name);
  }
  v.set("imap_username", a.imap.username);
  v.set("imap_where", where(a.imap));
  v.set("smtp_where", a.has_smtp ? where(a.smtp) : std::string{});
  auto n = static_cast<size_t>(
    std::count_if(grants.begin(), grants.end(),
                  [&](const grant_info& g) { return g.accounts.reaches(a.id); }));
  v.set("agents",
        n == 0 ? std::string{"none"} : count_words(n, "agent", "agents"));
  return v;
}

/// What the dashboard shows, gathered from three actors.
struct dashboard_data {
  std::vector<account_settings> accounts;
  std::vector<grant_info> grants;
  std::string grants_error;
  std::vector<audit_event> events;
  client_names clients;
  /// Messages held for the person's yes.
  std::vector<outbox_entry> held;
};

response_type dashboard_page(const site& s, const web_session& ws,
                             const dashboard_data& d, std::string notice) {
  page p;
  p.title = "Dashboard";
  p.body = "dashboard";
  p.session = &ws;
  p.nav = "dashboard";
  p.notice = std::move(notice);
  auto labels = label_map(d.accounts);
  p.data.set("username", ws.user.username);
  // The address to paste into an agent: the MCP endpoint's resource id.
  p.data.set("mcp_url", s.base_url + "/mcp");
  auto accounts = ui::value::list();
  for (auto& a : d.accounts)
    accounts.push(account_view(a, d.grants, s.actors.providers.get()));
  // Reconnect's form is answered by a redirect to the provider.
  std::vector<std::string> signin_origins;
  if (const auto* providers = s.actors.providers.get())
    for (auto& a : d.accounts)
      if (const auto* pr = providers->find(a.oauth_provider))
        signin_origins.push_back(
          oauth::redirect_origin(pr->authorization_endpoint));
  if (!signin_origins.empty())
    p.csp = csp_with_form_targets(signin_origins);
  p.data.set("has_accounts", !d.accounts.empty());
  p.data.set("accounts", std::move(accounts));
  auto now = unix_seconds();
  auto connections = ui::value::list();
  for (auto& g : d.grants)
    if (g.expires_at == 0 || g.expires_at > now)
      connections.push(connection_view(g, labels));
  p.data.set("has_connections", connections.truthy());
  p.data.set("connections", std::move(connections));
  p.data.set("connections_error", d.grants_error);
  auto recent = ui::value::list();
  for (size_t i = 0; i < d.events.size() && i < 6; ++i)
    recent.push(event_view(d.events[i], labels, d.clients));
  auto held = held_views(d.held);
  p.data.set("has_held", held.truthy());
  p.data.set("held", std::move(held));
  p.data.set("has_recent", recent.truthy());
  p.data.set("recent", std::move(recent));
  return render_page(p);
}

} // namespace

void get_dashboard(site_ptr s, const request& req, const responder& respond) {
  auto notice = notice_text(form_data::parse(req.query()).get("notice"));
  with_session(
    s, req, respond, [s, respond, notice](task self, const web_session& ws) {
      auto data = std::make_shared<dashboard_data>();
      auto fail = fail_page(respond, ws);
      auto render_it = [s, respond, ws, data, notice] {
        respond(dashboard_page(*s, ws, *data, notice));
      };
      // The outbox last: a failure there still shows everything else.
      auto show = [self, s, ws, data, render_it] {
        if (!s->actors.outbox)
          return render_it();
        self->request(s->actors.outbox, page_timeout, atom::list_v, ws.user.id)
          .then(
            [data, render_it](std::vector<outbox_entry>& held) {
              data->held = std::move(held);
              render_it();
            },
            [render_it](const caf::error& err) {
              POSTERN_WARN("web: cannot list the outbox: {}", render(err));
              render_it();
            });
      };
      auto get_events = [self, s, ws, data, show] {
        self
          ->request(s->actors.directory, page_timeout, atom::audit_log_v,
                    ws.user.id, dashboard_events)
          .then(
            [self, s, data, show](std::vector<audit_event>& events) {
              data->events = std::move(events);
              with_client_names(self, *s, data->events,
                                [data, show](client_names names) {
                                  data->clients = std::move(names);
                                  show();
                                });
            },
            [show](const caf::error& err) {
              POSTERN_WARN("web: cannot read the audit log: {}", render(err));
              show();
            });
      };
      self->request(s->actors.directory, page_timeout, atom::list_v, ws.user.id)
        .then(
          [self, s, ws, data,
           get_events](std::vector<account_settings>& accounts) {
            data->accounts = std::move(accounts);
            self
              ->request(s->actors.tokens, page_timeout, atom::list_v,
                        ws.user.id)
              .then(
                [data, get_events](std::vector<grant_info>& grants) {
                  data->grants = std::move(grants);
                  get_events();
                },
                [data, get_events](const caf::error& err) {
                  POSTERN_WARN("web: cannot list grants: {}", render(err));
                  data->grants_error
                    = "Agent connections cannot be shown right "
                      "now; reload the page in a moment.";
                  get_events();
                });
          },
          fail);
    });
}

} // namespace postern::http::dashboard
