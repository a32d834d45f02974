// SPDX-License-Identifier: Apache-2.0
// Adding, editing, testing and deleting email accounts.
#include "postern/actors/account_rules.hpp"
#include "postern/actors/mail_actor.hpp"
#include "postern/host_policy.hpp"
#include "postern/text.hpp"
#include "shared.hpp"

#include <caf/send.hpp>

#include <algorithm>

namespace postern::http::dashboard {

namespace {

/// IMAP and SMTP logins with their timeouts; the MAIL ROUTER bounds each
/// step, this only catches a lost reply.
constexpr auto probe_timeout = std::chrono::seconds(150);

/// A posted account form, read and checked.
struct account_form {
  account_settings settings;
  account_credentials creds;
  ui::value errors = ui::value::object();
  bool has_errors = false;
  std::string form_error;
  bool test = false;
  bool save_anyway = false;
  bool typed_password = false;

  void error(const std::string& field, std::string message) {
    if (!errors.find(field))
      errors.set(field, std::move(message));
    has_errors = true;
  }
};

void read_server(const form_data& f, const std::string& p, server_settings& out,
                 account_form& a, const host_policy& hosts, bool check) {
  out.host = trim(f.get(p + "_host"));
  auto port = parse_port(trim(f.get(p + "_port")));
  out.port = port ? *port : 0;
  auto security = parse_transport_security(f.get(p + "_security"));
  out.security = security ? *security : transport_security::tls;
  out.username = trim(f.get(p + "_username"));
  if (!check)
    return;
  auto example = p == "imap" ? "imap.example.com" : "smtp.example.com";
  if (out.host.empty())
    a.error(p + "_host",
            std::string{"Enter the server's name, e.g. "} + example + ".");
  else if (!is_valid_host(out.host))
    a.error(p + "_host", "This is not a server name or IP address.");
  else if (auto err = hosts.check_host(out.host))
    a.error(p + "_host", sentence(describe(err)));
  if (!port)
    a.error(p + "_port", "Enter a port between 1 and 65535.");
  if (!security)
    a.error(p + "_security", "Choose TLS, STARTTLS or none.");
  else if (*security == transport_security::plain && !out.host.empty()
           && !is_loopback_host(out.host))
    a.error(p + "_security", "Without encryption only this machine "
                             "(localhost) may be used. Choose TLS or "
                             "STARTTLS.");
  if (out.username.empty() && p == "imap")
    a.error(p + "_username", "Enter the login name (usually your email "
                             "address).");
  else if (out.username.size() > 320)
    a.error(p + "_username", "Use at most 320 characters.");
}

/// Marks the field a DIRECTORY rule names (account_rules.hpp), else shows
/// the sentence above the form.
void place_error(account_form& a, const caf::error& err) {
  auto said = sentence(describe(err));
  if (auto field = error_field(err); !field.empty()) {
    a.error(field, said);
    return;
  }
  a.form_error = said;
  a.has_errors = true;
}

account_form read_account_form(const form_data& f, const site& s,
                               const user_id& owner,
                               const account_settings* stored) {
  account_form a;
  auto& st = a.settings;
  if (stored) {
    st.id = stored->id;
    // Operator-set; never part of the form.
    st.ca_file = stored->ca_file;
    // How it signs in is not an edit: a provider's sign-in stays.
    st.oauth_provider = stored->oauth_provider;
    st.needs_signin = stored->needs_signin;
  }
  st.owner = owner;
  st.label = trim(f.get("label"));
  if (st.label.empty())
    a.error("label", "Enter a name for this account.");
  else if (st.label.size() > 100)
    a.error("label", "Use at most 100 characters.");
  read_server(f, "imap", st.imap, a, s.hosts, true);
  st.has_smtp = f.get("has_smtp") == "1";
  read_server(f, "smtp", st.smtp, a, s.hosts, st.has_smtp);
  if (st.has_smtp && st.smtp.username.empty())
    st.smtp.username = st.imap.username;
  st.smtp_own_password = st.has_smtp && f.get("smtp_own_password") == "1";
  // Kept (not cleared) when SMTP is switched off: they come back with it.
  st.aliases = split_aliases(f.get("aliases"));
  a.creds.imap_password = secret{f.get("imap_password")};
  if (st.smtp_own_password)
    a.creds.smtp_password = secret{f.get("smtp_password")};
  a.typed_password = !a.creds.imap_password.empty()
                     || !a.creds.smtp_password.empty();
  if (!stored && a.creds.imap_password.empty())
    a.error("imap_password", "Enter the password.");
  if (st.smtp_own_password && a.creds.smtp_password.empty()
      && (!stored || !stored->smtp_own_password))
    a.error("smtp_password", "Enter the SMTP password, or untick “SMTP has "
                             "its own password”.");
  if (stored)
    if (auto err = check_passwords_follow_servers(*stored, st, a.creds))
      place_error(a, err);
  a.test = f.get("action") == "test";
  a.save_anyway = f.get("save_anyway") == "1";
  if (!a.has_errors) {
    if (auto err = validate_account(st, a.creds, stored == nullptr, s.hosts))
      place_error(a, err);
  }
  if (!st.has_smtp) {
    // Kept for re-showing the form, not stored.
    st.smtp_own_password = false;
  }
  return a;
}

ui::value form_view(const account_settings& st) {
  auto f = ui::value::object();
  f.set("label", st.label);
  auto server = [&f](const std::string& p, const server_settings& s) {
    f.set(p + "_host", s.host);
    f.set(p + "_port", s.port == 0 ? std::string{} : std::to_string(s.port));
    f.set(p + "_username", s.username);
    f.set(p + "_" + std::string{to_string(s.security)}, true);
  };
  server("imap", st.imap);
  server("smtp", st.smtp);
  f.set("has_smtp", st.has_smtp);
  f.set("smtp_own_password", st.smtp_own_password);
  std::string aliases;
  for (auto& x : st.aliases)
    aliases += (aliases.empty() ? "" : ", ") + x;
  f.set("aliases", aliases);
  return f;
}

ui::value report_view(const probe_report& r) {
  auto v = ui::value::object();
  v.set("imap_ok", r.imap_ok);
  v.set("imap_message", r.imap_message);
  v.set("smtp_tested", r.smtp_tested);
  v.set("smtp_ok", r.smtp_ok);
  v.set("smtp_message", r.smtp_message);
  return v;
}

bool report_ok(const probe_report& r) {
  return r.imap_ok && (!r.smtp_tested || r.smtp_ok);
}

struct form_page_options {
  bhttp::status status = bhttp::status::ok;
  const probe_report* report = nullptr;
  bool offer_save_anyway = false;
  bool passwords_cleared = false;
  /// The address step's notice and sign-in offers (a new account only).
  const add_form_extras* extras = nullptr;
};

response_type
account_form_page(const web_session& ws, const account_settings& st,
                  const account_settings* stored, const ui::value& errors,
                  const std::string& form_error, const form_page_options& o) {
  page p;
  p.session = &ws;
  p.nav = "dashboard";
  p.body = "account_form";
  p.status = o.status;
  if (stored) {
    p.title = "Edit " + stored->label;
    p.data.set("heading", "Edit “" + stored->label + "”");
    p.data.set("crumb", stored->label);
    p.data.set("is_edit", true);
    if (uses_oauth(*stored))
      p.data.set("oauth_title", stored->oauth_provider);
    p.data.set("action_url", "/accounts/" + stored->id.value + "/edit");
  } else {
    p.title = "Add an email account";
    p.data.set("heading", "Add an email account");
    p.data.set("crumb", "Add account");
    p.data.set("action_url", "/accounts/add");
  }
  p.data.set("f", form_view(st));
  p.data.set("errors", errors);
  p.data.set("form_error", form_error);
  if (o.report)
    p.data.set("report", report_view(*o.report));
  p.data.set("offer_save_anyway", o.offer_save_anyway);
  p.data.set("passwords_cleared", o.passwords_cleared);
  if (o.extras != nullptr) {
    p.notice = o.extras->notice;
    p.data.set("signin_offers", o.extras->signin_offers);
    p.data.set("has_signin_offers", o.extras->signin_offers.truthy());
    p.csp = csp_with_form_targets(o.extras->form_targets);
  }
  return render_page(p);
}

/// The connection test's answer for the page's script.
response_type report_json(bhttp::status status, const probe_report* r,
                          const account_form& a) {
  std::string body = "{\"ok\":";
  body += r && report_ok(*r) ? "true" : "false";
  if (r) {
    body += ",\"imap\":{\"ok\":" + std::string{r->imap_ok ? "true" : "false"}
            + ",\"message\":" + json_quote(r->imap_message) + "}";
    body += ",\"smtp\":{\"tested\":"
            + std::string{r->smtp_tested ? "true" : "false"}
            + ",\"ok\":" + std::string{r->smtp_ok ? "true" : "false"}
            + ",\"message\":" + json_quote(r->smtp_message) + "}";
  }
  body += ",\"errors\":{";
  bool first = true;
  for (auto field : {"label", "imap_host", "imap_port", "imap_security",
                     "imap_username", "imap_password", "smtp_host", "smtp_port",
                     "smtp_security", "smtp_username", "smtp_password",
                     "aliases"}) {
    if (auto* e = a.errors.find(field)) {
      body += (first ? "" : ",") + json_quote(field) + ":"
              + json_quote(e->text());
      first = false;
    }
  }
  body += "},\"form_error\":" + json_quote(a.form_error) + "}";
  return json_response(status, std::move(body));
}

/// Logs into IMAP (and SMTP) with the settings. On an edit, a password left
/// empty is the stored one: the DIRECTORY hands it over only for the server
/// it was typed for, and it goes straight to the MAIL ROUTER, never into
/// any response.
void run_probe(task self, site_ptr s, const account_settings& settings,
               const account_credentials& creds, bool stored,
               std::function<void(const probe_report&)> done,
               std::function<void(const caf::error&)> fail) {
  auto go = [self, s, settings, done, fail](const account_credentials& c) {
    self->request(s->actors.mail, probe_timeout, atom::probe_v, settings, c)
      .then([done](const probe_report& r) { done(r); },
            [fail](const caf::error& err) { fail(err); });
  };
  if (!stored) {
    go(creds);
    return;
  }
  self
    ->request(s->actors.directory, page_timeout, atom::edit_credentials_v,
              settings, creds)
    .then([go](const account_credentials& merged) { go(merged); },
          [fail](const caf::error& err) { fail(err); });
}

/// Shows the form again (JSON or page) with what went wrong.
using show_form_fn
  = std::function<void(const account_form&, form_page_options)>;
/// Answers an error that is not about a field.
using fail_fn = std::function<void(const caf::error&)>;

/// Saves a checked form through the DIRECTORY (add, or update `stored`),
/// then sends the person to the dashboard; a refusal about a field goes
/// back to the form, marked at that field.
void save_account(site_ptr s, task self, const web_session& ws, account_form a,
                  const std::optional<account_settings>& stored,
                  const responder& respond, const show_form_fn& show,
                  const fail_fn& fail) {
  auto settings = a.settings;
  if (!settings.has_smtp)
    settings.smtp = server_settings{};
  auto saved = [s, ws, respond, is_new = !stored](const account_settings& acc) {
    if (!is_new)
      caf::anon_send(s->actors.mail, atom::forget_v,
                     mailbox_ref{ws.user.id, acc.id});
    respond(see_other(is_new ? "/dashboard?notice=added"
                             : "/dashboard?notice=updated"));
  };
  auto refused = [a, show, fail](const caf::error& err) mutable {
    if (err == ec::invalid_argument || err == ec::forbidden) {
      place_error(a, err);
      show(a, {bhttp::status::bad_request, nullptr, false, false});
      return;
    }
    fail(err);
  };
  if (stored)
    self
      ->request(s->actors.directory, page_timeout, atom::update_account_v,
                settings, a.creds)
      .then([saved](const account_settings& acc) { saved(acc); }, refused);
  else
    self
      ->request(s->actors.directory, page_timeout, atom::add_account_v,
                settings, a.creds)
      .then([saved](const account_settings& acc) { saved(acc); }, refused);
}

/// POST of the add or edit form (`stored` is the account being edited).
void account_post(site_ptr s, task self, const web_session& ws,
                  const form_data& form, const responder& respond, bool json,
                  std::optional<account_settings> stored) {
  auto a = read_account_form(form, *s, ws.user.id, stored ? &*stored : nullptr);
  auto show = [ws, stored, respond, json](const account_form& af,
                                          form_page_options o) {
    if (json) {
      respond(report_json(o.status, o.report, af));
      return;
    }
    o.passwords_cleared = af.typed_password;
    respond(account_form_page(ws, af.settings, stored ? &*stored : nullptr,
                              af.errors, af.form_error, o));
  };
  if (a.has_errors) {
    if (a.form_error.empty() && !json)
      a.form_error = a.test ? "Not tested yet: check the fields marked below."
                            : "Nothing was saved: check the fields marked "
                              "below.";
    show(a, {bhttp::status::bad_request, nullptr, false, false});
    return;
  }
  auto fail = [respond, ws, json](const caf::error& err) {
    if (json)
      respond(error_response(err));
    else
      respond(error_page(err, &ws));
  };
  // A test refused for its limits (one at a time, hourly allowance, no
  // free connection) stays on the form with the sentence.
  auto probe_failed = [a, show, fail](const caf::error& err) mutable {
    if (err == ec::too_busy) {
      a.form_error = describe(err);
      show(a, {bhttp::status::too_many_requests, nullptr, false, false});
      return;
    }
    fail(err);
  };
  if (a.test) {
    run_probe(
      self, s, a.settings, a.creds, stored.has_value(),
      [a, show](const probe_report& r) {
        show(a, {bhttp::status::ok, &r, false, false});
      },
      probe_failed);
    return;
  }
  auto save = [self, s, ws, a, stored, respond, show, fail] {
    save_account(s, self, ws, a, stored, respond, show, fail);
  };
  if (a.save_anyway) {
    save();
    return;
  }
  run_probe(
    self, s, a.settings, a.creds, stored.has_value(),
    [a, save, show](const probe_report& r) mutable {
      if (report_ok(r)) {
        save();
        return;
      }
      a.form_error = "The connection test failed, so nothing was "
                     "saved. Correct the settings, or tick “Save even "
                     "though the test failed”.";
      show(a, {bhttp::status::unprocessable_entity, &r, true, false});
    },
    probe_failed);
}

} // namespace

account_settings blank_account() {
  account_settings defaults;
  defaults.imap.port = 993;
  defaults.imap.security = transport_security::tls;
  defaults.has_smtp = true;
  defaults.smtp.port = 465;
  defaults.smtp.security = transport_security::tls;
  return defaults;
}

response_type add_account_form(const web_session& ws, const account_settings& st,
                               const add_form_extras& extras) {
  form_page_options o;
  o.extras = &extras;
  return account_form_page(ws, st, nullptr, ui::value::object(), {}, o);
}

void post_add_account(site_ptr s, const request& req,
                      const responder& respond) {
  auto json = wants_json(req);
  with_session_form(s, req, respond,
                    [s, respond, json](task self, const web_session& ws,
                                       const form_data& form) {
                      auto action = form.get("action");
                      if (action == "lookup" || action == "manual")
                        add_account_from_address(s, self, ws, form, respond);
                      else
                        account_post(s, self, ws, form, respond, json,
                                     std::nullopt);
                    });
}

namespace {

response_type delete_page(const web_session& ws, const account_settings& acc,
                          size_t agents) {
  page p;
  p.title = "Delete " + acc.label;
  p.body = "account_delete";
  p.session = &ws;
  p.nav = "dashboard";
  p.data.set("id", acc.id.value);
  p.data.set("label", acc.label);
  p.data.set("imap_username", acc.imap.username);
  if (agents > 0)
    p.data.set("agents",
               count_words(agents, "agent connection", "agent connections"));
  return render_page(p);
}

} // namespace

void account_get(site_ptr s, const request& req, const responder& respond) {
  auto parts = split_id_path(req.path(), "/accounts/");
  if (!parts || (parts->second != "edit" && parts->second != "delete")) {
    respond(not_found_page(nullptr));
    return;
  }
  with_session(
    s, req, respond,
    [s, respond, id = parts->first,
     what = parts->second](task self, const web_session& ws) {
      self
        ->request(s->actors.directory, page_timeout, atom::get_v, ws.user.id,
                  account_id{id})
        .then(
          [self, s, ws, respond, what](const account_settings& acc) {
            if (what == "edit") {
              respond(
                account_form_page(ws, acc, &acc, ui::value::object(), {}, {}));
              return;
            }
            self
              ->request(s->actors.tokens, page_timeout, atom::list_v,
                        ws.user.id)
              .then(
                [ws, acc, respond](const std::vector<grant_info>& grants) {
                  auto n = static_cast<size_t>(std::count_if(
                    grants.begin(), grants.end(),
                    [&](const grant_info& g) { return g.accounts.reaches(acc.id); }));
                  respond(delete_page(ws, acc, n));
                },
                [ws, acc, respond](const caf::error&) {
                  respond(delete_page(ws, acc, 0));
                });
          },
          fail_page(respond, ws));
    });
}

void account_post_route(site_ptr s, const request& req,
                        const responder& respond) {
  auto parts = split_id_path(req.path(), "/accounts/");
  if (!parts || (parts->second != "edit" && parts->second != "delete")) {
    respond(not_found_page(nullptr));
    return;
  }
  auto json = wants_json(req);
  with_session_form(
    s, req, respond,
    [s, respond, json, id = parts->first, what = parts->second](
      task self, const web_session& ws, const form_data& form) {
      auto account = account_id{id};
      if (what == "delete") {
        self
          ->request(s->actors.directory, page_timeout, atom::delete_account_v,
                    ws.user.id, account)
          .then(
            [s, ws, account, respond](atom::ok) {
              caf::anon_send(s->actors.mail, atom::forget_v,
                             mailbox_ref{ws.user.id, account});
              respond(see_other("/dashboard?notice=deleted"));
            },
            fail_page(respond, ws));
        return;
      }
      self
        ->request(s->actors.directory, page_timeout, atom::get_v, ws.user.id,
                  account)
        .then(
          [self, s, ws, form, respond, json](const account_settings& stored) {
            account_post(s, self, ws, form, respond, json, stored);
          },
          [ws, respond, json](const caf::error& err) {
            if (json && err == ec::no_such_account)
              respond(json_error(bhttp::status::not_found, "not_found",
                                 "No such email account."));
            else
              respond(error_page(err, &ws));
          });
    });
}

} // namespace postern::http::dashboard
