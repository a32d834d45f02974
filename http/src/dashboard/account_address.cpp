// SPDX-License-Identifier: Apache-2.0
// The first step of "Add an email account": the address. An address at a
// mail provider the person can sign in to offers that sign-in (no
// password); any other comes back as the account form filled with what
// Postern knows about its domain, every field still editable.
#include "postern/mime/address.hpp"
#include "postern/oauth/uri.hpp"
#include "postern/setup/autoconfig.hpp"
#include "postern/text.hpp"
#include "shared.hpp"

#include <atomic>

namespace postern::http::dashboard {

namespace {

/// RFC 5321's limit on a path, and the form's.
constexpr size_t max_address = 320;

response_type address_page(const web_session& ws, const std::string& address,
                           const std::string& error, bhttp::status status) {
  page p;
  p.session = &ws;
  p.nav = "dashboard";
  p.title = "Add an email account";
  p.body = "account_address";
  p.status = status;
  p.data.set("address", address);
  if (!error.empty()) {
    auto errors = ui::value::object();
    errors.set("address", error);
    p.data.set("errors", std::move(errors));
  }
  return render_page(p);
}

/// What the account is called at first: its address (a person with two
/// mailboxes at one provider tells them apart), shortened to the form's
/// limit when long.
std::string default_label(const std::string& address) {
  return address.size() <= 100 ? address : address_domain(address);
}

/// The provider whose sign-in fits the address: one that lists its domain,
/// else the one the table of well-known providers names for it.
const oauth::mail_provider*
signin_provider(const site& s, const std::string& address,
                const std::optional<setup::discovered_settings>& known) {
  const auto* all = s.actors.providers.get();
  if (all == nullptr)
    return nullptr;
  if (const auto* p = all->for_address(address))
    return p;
  if (known && !known->oauth_provider.empty())
    return all->find(known->oauth_provider);
  return nullptr;
}

/// DNS lookups in flight in the process: each holds a thread, so one
/// person pressing Continue in a loop cannot spawn them without end (past
/// the bound the form comes back unfilled).
std::atomic<int> lookups_in_flight{0};
constexpr int max_lookups_in_flight = 16;

/// Takes one of the lookups in flight; false when all are taken.
bool take_lookup_slot() {
  if (++lookups_in_flight <= max_lookups_in_flight)
    return true;
  --lookups_in_flight;
  return false;
}

/// `st` with the servers `d` found. The SMTP login is left blank ("the
/// same as for IMAP") unless what was found names another one (an
/// autoconfig document may log in to IMAP with the local part and to SMTP
/// with the whole address).
void fill_from(account_settings& st, const setup::discovered_settings& d) {
  st.imap = d.imap;
  st.has_smtp = d.has_smtp;
  st.smtp = d.has_smtp ? d.smtp : server_settings{};
  if (!d.has_smtp) {
    st.smtp.port = 465;
    st.smtp.security = transport_security::tls;
  }
  if (!d.has_smtp || st.smtp.username == st.imap.username)
    st.smtp.username.clear();
}

/// The add form for `address` with what was found (`found` says where, as
/// found_in(); empty when nothing was), and the configured providers'
/// sign-ins.
response_type found_form(const site& s, const web_session& ws,
                         const account_settings& st, const std::string& address,
                         const std::string& found) {
  add_form_extras extras;
  extras.notice
    = found.empty()
        ? "Postern found no settings for " + address_domain(address)
            + ": enter the IMAP and SMTP settings your provider gives."
        : "Filled in " + found
            + ": check them, enter the password (often an app password) "
              "and press Test connection.";
  extras.signin_offers = signin_offers(s, address, extras.form_targets);
  return add_account_form(ws, st, extras);
}

response_type signin_choice_page(const web_session& ws,
                                 const oauth::mail_provider& p,
                                 const std::string& address) {
  page pg;
  pg.session = &ws;
  pg.nav = "dashboard";
  pg.title = "Add " + address;
  pg.body = "account_signin";
  pg.data.set("address", address);
  pg.data.set("label", default_label(address));
  pg.data.set("provider", p.name);
  pg.data.set("title", p.title);
  pg.csp = csp_with_form_targets({oauth::redirect_origin(p.authorization_endpoint)});
  return render_page(pg);
}

} // namespace

ui::value signin_offers(const site& s, const std::string& address,
                        std::vector<std::string>& form_targets) {
  auto offers = ui::value::list();
  if (s.actors.providers == nullptr || address.empty())
    return offers;
  for (const auto& p : s.actors.providers->all()) {
    auto v = ui::value::object();
    v.set("provider", p.name);
    v.set("title", p.title);
    v.set("address", address);
    v.set("label", default_label(address));
    offers.push(std::move(v));
    form_targets.push_back(oauth::redirect_origin(p.authorization_endpoint));
  }
  return offers;
}

void get_add_account(site_ptr s, const request& req, const responder& respond) {
  auto manual = form_data::parse(req.query()).get("manual") == "1";
  with_session(s, req, respond, [respond, manual](task, const web_session& ws) {
    if (!manual) {
      respond(address_page(ws, {}, {}, bhttp::status::ok));
      return;
    }
    respond(add_account_form(ws, blank_account(), {}));
  });
}

void add_account_from_address(site_ptr sp, task self, const web_session& ws,
                              const form_data& form, const responder& respond) {
  const auto& s = *sp;
  auto address = trim(form.get("address"));
  if (address.empty() || address.size() > max_address
      || !mime::is_sendable_address(address)) {
    respond(address_page(ws, address.substr(0, max_address),
                         "Enter an email address such as you@example.com.",
                         bhttp::status::bad_request));
    return;
  }
  auto known = setup::well_known_settings(address);
  const auto* provider = signin_provider(s, address, known);
  if (provider != nullptr && form.get("action") == "lookup") {
    respond(signin_choice_page(ws, *provider, address));
    return;
  }
  auto st = blank_account();
  st.label = default_label(address);
  st.imap.username = address;
  if (known) {
    fill_from(st, *known);
    respond(found_form(s, ws, st, address, found_in(*known, address)));
    return;
  }
  if (!s.account_lookup || !take_lookup_slot()) {
    respond(found_form(s, ws, st, address, {}));
    return;
  }
  // The domain's SRV records, then its autoconfig document: DNS blocks,
  // so on a detached helper.
  const auto& how = *s.account_lookup;
  auto helper = self->spawn<caf::detached>(
    [st, address, how](caf::event_based_actor* me) -> caf::behavior {
      return {
        [=](atom::get) -> caf::result<account_settings, std::string> {
          me->quit();
          auto found = st;
          std::string where;
          if (auto d = look_up_settings(address, how)) {
            fill_from(found, *d);
            where = found_in(*d, address);
          }
          --lookups_in_flight;
          return {std::move(found), std::move(where)};
        },
      };
    });
  self->request(helper, how.budget(), atom::get_v)
    .then(
      [sp, ws, address, respond](const account_settings& found,
                                 const std::string& where) {
        respond(found_form(*sp, ws, found, address, where));
      },
      [sp, ws, st, address, respond](const caf::error&) {
        respond(found_form(*sp, ws, st, address, {}));
      });
}

} // namespace postern::http::dashboard
