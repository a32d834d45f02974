// SPDX-License-Identifier: Apache-2.0
// The activity page, and the event rows the dashboard shows too.
#include "postern/log.hpp"
#include "postern/oauth/uri.hpp"
#include "shared.hpp"

#include <algorithm>

namespace postern::http::dashboard {

namespace {

/// Events on the activity page.
constexpr uint64_t activity_events = 200;

bool event_ok(const audit_event& e) {
  return e.outcome == "ok" || starts_with(e.outcome, "ok ");
}

/// True for audit actors that are OAuth client ids.
bool is_client_actor(const std::string& actor) {
  return actor != "web" && actor != "admin" && actor != "system"
         && actor != "admin-token";
}

std::string client_words(const std::string& id, const client_names& names) {
  auto i = names.find(id);
  if (i != names.end() && !i->second.empty())
    return i->second;
  // A client metadata document is not stored: its host names it.
  if (oauth::is_metadata_client_id(id))
    return oauth::host_of(id);
  return id;
}

std::string who_words(const audit_event& e, const client_names& names) {
  if (e.actor == "web")
    return "You";
  if (e.actor == "admin")
    return "Operator";
  if (e.actor == "system")
    return "Postern";
  if (e.actor == "admin-token")
    return "Agent (operator-issued token)";
  return "Agent " + client_words(e.actor, names);
}

std::string what_words(const audit_event& e) {
  static const std::map<std::string_view, std::string_view> words = {
    {"signup", "Signed up"},
    {"logout", "Logged out"},
    {"password.change", "Changed the password"},
    {"account.add", "Added email account"},
    {"account.update", "Changed email account"},
    {"account.delete", "Deleted email account"},
    {"grant.revoke", "Revoked agent connection"},
    {"grant.remove_account", "Took an account out of an agent connection"},
    {"grant.send_rules", "Changed how an agent connection may send"},
    {"outbox.send", "Sent a message held for your yes"},
    {"outbox.discard", "Discarded a message held for your yes"},
    {"outbox.expire", "A message held for your yes expired unsent"},
    {"user.create", "Account created by the operator"},
    {"resource.read", "Read a message or attachment (resources/read)"},
  };
  if (e.action == "login")
    return event_ok(e) ? "Logged in" : "Login failed";
  if (e.action == "password.change" && !event_ok(e))
    return "Password change failed";
  if (starts_with(e.action, "tool."))
    return "Used " + e.action.substr(5);
  auto i = words.find(e.action);
  return i == words.end() ? e.action : std::string{i->second};
}

/// The account id a target names: the whole target of account changes,
/// "account <id>" inside the targets of tool calls and revocations.
std::string account_in(const audit_event& e) {
  if (starts_with(e.action, "account."))
    return e.target;
  auto pos = e.target.find("account ");
  if (pos == std::string::npos)
    return {};
  auto rest = e.target.substr(pos + 8);
  return rest.substr(0, rest.find(','));
}

/// The part of a revocation's target naming the agent.
std::string client_in(const std::string& target) {
  auto pos = target.find("client ");
  if (pos == std::string::npos)
    return {};
  auto rest = target.substr(pos + 7);
  return rest.substr(0, rest.find(','));
}

} // namespace

ui::value event_view(const audit_event& e,
                     const std::map<std::string, std::string>& labels,
                     const client_names& names) {
  auto v = ui::value::object();
  auto seconds = e.time_ms / 1000;
  v.set("time", format_time(seconds));
  v.set("time_iso", iso_time(seconds));
  v.set("who", who_words(e, names));
  v.set("what", what_words(e));
  auto ok = event_ok(e);
  std::string target;
  auto account = account_in(e);
  auto label = labels.find(account);
  auto named = label != labels.end() ? "“" + label->second + "”"
               : account.empty()     ? std::string{}
                                     : std::string{"a deleted account"};
  if (starts_with(e.action, "tool.") || e.action == "resource.read") {
    target = named.empty() ? std::string{} : "on " + named;
  } else if (e.action == "grant.revoke") {
    auto client = client_in(e.target);
    target = (client == "admin-token" ? std::string{"operator-issued token"}
                                      : client_words(client, names))
             + (named.empty() ? std::string{} : " on " + named);
  } else if (starts_with(e.action, "account.")
             || e.action == "grant.remove_account") {
    target = named;
  } else if (e.action == "login" && !ok) {
    // The username that was tried.
    target = e.target;
  } else if (e.action != "login" && e.action != "signup" && e.action != "logout"
             && e.action != "password.change") {
    target = e.target;
  }
  v.set("target", target);
  v.set("failed", !ok);
  v.set("outcome", ok ? sentence(e.outcome) : e.outcome);
  v.set("address", e.address);
  return v;
}

/// Asks the TOKEN AUTHORITY for the names of the agents in `events`, then
/// calls `done` (with what it knows; ids stay ids when it cannot answer).
void with_client_names(task self, const site& s,
                       const std::vector<audit_event>& events,
                       std::function<void(client_names)> done) {
  std::vector<std::string> ids;
  for (auto& e : events)
    if (is_client_actor(e.actor)
        && std::find(ids.begin(), ids.end(), e.actor) == ids.end())
      ids.push_back(e.actor);
  if (ids.empty()) {
    done({});
    return;
  }
  self->request(s.actors.tokens, page_timeout, atom::list_v, ids)
    .then(
      [ids, done](const std::vector<std::string>& names) {
        client_names result;
        for (size_t i = 0; i < ids.size() && i < names.size(); ++i)
          result.emplace(ids[i], names[i]);
        done(std::move(result));
      },
      [done](const caf::error& err) {
        POSTERN_WARN("web: cannot read client names: {}", render(err));
        done({});
      });
}

std::map<std::string, std::string>
label_map(const std::vector<account_settings>& accounts) {
  std::map<std::string, std::string> labels;
  for (auto& a : accounts)
    labels.emplace(a.id.value, a.label);
  return labels;
}

namespace {

response_type activity_page(const web_session& ws,
                            const std::vector<audit_event>& events,
                            const std::map<std::string, std::string>& labels,
                            const client_names& names) {
  page p;
  p.title = "Activity";
  p.body = "activity";
  p.session = &ws;
  p.nav = "activity";
  auto list = ui::value::list();
  // "account <id>" targets read better as the label, client ids as names.
  for (auto& e : events)
    list.push(event_view(e, labels, names));
  p.data.set("has_events", !events.empty());
  p.data.set("events", std::move(list));
  p.data.set("more", events.size() >= activity_events);
  p.data.set("shown", std::to_string(events.size()));
  return render_page(p);
}

} // namespace

void get_activity(site_ptr s, const request& req, const responder& respond) {
  with_session(s, req, respond, [s, respond](task self, const web_session& ws) {
    self
      ->request(s->actors.directory, page_timeout, atom::audit_log_v,
                ws.user.id, activity_events)
      .then(
        [self, s, ws, respond](std::vector<audit_event>& events) {
          self
            ->request(s->actors.directory, page_timeout, atom::list_v,
                      ws.user.id)
            .then(
              [self, s, ws, respond,
               events](const std::vector<account_settings>& accs) {
                auto show = [ws, respond, events, labels = label_map(accs)](
                              const client_names& names) {
                  respond(activity_page(ws, events, labels, names));
                };
                with_client_names(self, *s, events, std::move(show));
              },
              fail_page(respond, ws));
        },
        fail_page(respond, ws));
  });
}

} // namespace postern::http::dashboard
