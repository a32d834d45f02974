// SPDX-License-Identifier: Apache-2.0
#pragma once

// Shared by the dashboard's route groups (one file each under
// http/src/dashboard/, registered together in routes.cpp); not part of the
// http library's interface.

#include "postern/actors/directory.hpp"
#include "postern/error.hpp"
#include "postern/http/responses.hpp"
#include "postern/http/web.hpp"

#include <caf/error.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace postern::http::dashboard {

using namespace web;
using site_ptr = std::shared_ptr<const site>;

// -- route handlers (one group a file)
// ------------------------------------------

// sign_in.cpp
void get_login(site_ptr s, const request& req, const responder& respond);
void post_login(site_ptr s, const request& req, const responder& respond);
void get_signup(site_ptr s, const request& req, const responder& respond);
void post_signup(site_ptr s, const request& req, const responder& respond);
void get_logout(site_ptr s, const request& req, const responder& respond);
void post_logout(site_ptr s, const request& req, const responder& respond);

// home.cpp
void get_dashboard(site_ptr s, const request& req, const responder& respond);

// account_address.cpp: GET /accounts/add (the address step, or the form
// with ?manual=1)
void get_add_account(site_ptr s, const request& req, const responder& respond);

// accounts.cpp
void post_add_account(site_ptr s, const request& req, const responder& respond);
void account_get(site_ptr s, const request& req, const responder& respond);
void account_post_route(site_ptr s, const request& req,
                        const responder& respond);

// provider_signin.cpp
void post_signin_start(site_ptr s, const request& req,
                       const responder& respond);
void get_signin_callback(site_ptr s, const request& req,
                         const responder& respond);

// connections.cpp
void post_revoke(site_ptr s, const request& req, const responder& respond);

// activity.cpp
void get_activity(site_ptr s, const request& req, const responder& respond);

// password.cpp
void get_password(site_ptr s, const request& req, const responder& respond);
void post_password(site_ptr s, const request& req, const responder& respond);

// -- adding an account (accounts.cpp, account_address.cpp) -------------------

/// The settings a new account's form starts with (ports of TLS).
account_settings blank_account();

/// What the address step adds to the add form.
struct add_form_extras {
  /// A sentence above the form: where its settings came from.
  std::string notice;
  /// Sign-in buttons for the configured providers (signin_offers()).
  ui::value signin_offers = ui::value::list();
  /// Their authorization endpoints' origins, for the page's form-action.
  std::vector<std::string> form_targets;
};

/// The add form filled with `st`.
response_type add_account_form(const web_session& ws, const account_settings& st,
                               const add_form_extras& extras);

/// POST /accounts/add with action=lookup (the address step's Continue) or
/// action=manual (its "use a password instead"): the provider's sign-in,
/// or the form filled in for the address.
void add_account_from_address(site_ptr s, task self, const web_session& ws,
                              const form_data& form, const responder& respond);

/// One "Sign in with <provider>" button per configured provider for the
/// address; their origins go into `form_targets`.
ui::value signin_offers(const site& s, const std::string& address,
                        std::vector<std::string>& form_targets);

/// The settings of `address` from its domain's SRV records, else from the
/// domain's autoconfig document (setup::autoconfig_urls, fetched through
/// the guarded fetcher: verified HTTPS, no internal addresses, no
/// redirects); nullopt when neither has them. Blocking (DNS, then up to
/// two fetches): only on a detached helper.
std::optional<setup::discovered_settings>
look_up_settings(const std::string& address, const settings_lookup& how);

/// How a notice says where settings came from: "with the settings of
/// iCloud Mail", "from the DNS records of example.com", "from the
/// autoconfig document of example.com".
std::string found_in(const setup::discovered_settings& d,
                     std::string_view address);

// -- text (shared.cpp)
// ------------------------------------------------------------

std::string trim(std::string_view s);

bool starts_with(std::string_view s, std::string_view prefix);

bool wants_json(const request& req);

/// The fixed messages a redirect may ask for (never reflected text).
std::string notice_text(std::string_view code);

std::string count_words(size_t n, std::string_view one, std::string_view many);

/// How long a throttled refusal is held back: half the wait, at most a
/// second, so that a client which honours Retry-After is never made to
/// wait longer than it was told.
std::chrono::milliseconds refusal_hold(int64_t wait_seconds);

std::string throttled_text(int64_t seconds);

/// Splits "/<prefix>/<id>/<verb>" into id and verb; nullopt if malformed.
std::optional<std::pair<std::string, std::string>>
split_id_path(std::string_view path, std::string_view prefix);

/// Failure callback answering an error page.
inline auto fail_page(const responder& respond, const web_session& ws) {
  return
    [respond, ws](const caf::error& err) { respond(error_page(err, &ws)); };
}

// -- events (activity.cpp)
// --------------------------------------------------------

/// Human names of OAuth clients by client id (from the TOKEN AUTHORITY).
using client_names = std::map<std::string, std::string>;

ui::value event_view(const audit_event& e,
                     const std::map<std::string, std::string>& labels,
                     const client_names& names);

/// Asks the TOKEN AUTHORITY for the names of the agents in `events`, then
/// calls `done` (with what it knows; ids stay ids when it cannot answer).
void with_client_names(task self, const site& s,
                       const std::vector<audit_event>& events,
                       std::function<void(client_names)> done);

std::map<std::string, std::string>
label_map(const std::vector<account_settings>& accounts);

// -- held messages (outbox.cpp)
// ----------------------------------------------------------

/// True for an id as Postern makes them (base64url or uuid, 1 to 64
/// characters): anything else in a path is answered 404 at once.
bool valid_id(std::string_view id);

/// GET /outbox and /outbox/<id> (what an approval URL opens).
void get_outbox(site_ptr s, const request& req, const responder& respond);
/// POST /outbox/<id>/send and /outbox/<id>/discard.
void post_outbox(site_ptr s, const request& req, const responder& respond);

/// The pending entries as the dashboard's "Waiting for your yes" shows them.
ui::value held_views(const std::vector<outbox_entry>& entries);

// -- agent connections (connections.cpp)
// ------------------------------------------

ui::value connection_view(const grant_info& g,
                          const std::map<std::string, std::string>& labels);

} // namespace postern::http::dashboard
