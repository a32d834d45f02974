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

void add_account_from_address(const site& s, const web_session& ws,
                              const form_data& form, const responder& respond) {
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
  add_form_extras extras;
  if (known) {
    st.imap = known->imap;
    st.has_smtp = known->has_smtp;
    st.smtp = known->smtp;
    // The SMTP login is the IMAP one unless the person says otherwise.
    st.smtp.username.clear();
    extras.notice = "Filled in with the settings of " + known->title
                    + ": enter the password (often an app password) and "
                      "press Test connection.";
  } else {
    extras.notice = "Postern does not know the servers of "
                    + address_domain(address)
                    + ": enter the IMAP and SMTP settings your provider "
                      "gives.";
  }
  extras.signin_offers = signin_offers(s, address, extras.form_targets);
  respond(add_account_form(ws, st, extras));
}

} // namespace postern::http::dashboard
