// SPDX-License-Identifier: Apache-2.0
// Helpers the dashboard's route groups share.
#include "shared.hpp"

#include <cctype>
#include <map>

namespace postern::http::dashboard {

std::string trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())))
    s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())))
    s.remove_suffix(1);
  return std::string{s};
}

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

bool wants_json(const request& req) {
  auto accept = req.raw[bhttp::field::accept];
  return std::string_view{accept.data(), accept.size()}.find("application/json")
         != std::string_view::npos;
}

/// The fixed messages a redirect may ask for (never reflected text).
std::string notice_text(std::string_view code) {
  static const std::map<std::string_view, std::string_view> texts = {
    {"welcome", "Welcome to Postern. Add an email account to get started."},
    {"added", "The email account was added."},
    {"added_smtp_refused",
     "The email account was added, but its provider's SMTP server refused "
     "the sign-in: agents can read its mail, and sending fails until the "
     "provider allows it (Microsoft 365 tenants often have SMTP AUTH turned "
     "off)."},
    {"reconnected", "Signed in again: agents can use the account."},
    {"updated", "The email account was saved."},
    {"deleted", "The email account was deleted."},
    {"revoked", "The agent connection was revoked: its next request is "
                "refused."},
    {"account_removed", "The agent connection no longer reaches that "
                        "account; its other accounts keep working."},
    {"send_rules", "Saved: the connection's sending tools follow the new "
                   "rules from their next call."},
    {"outbox_sent", "Sent: the message is on its way, and a copy is in "
                    "Sent."},
    {"outbox_discarded", "Discarded: the message will not be sent."},
    {"password-changed", "Your password was changed. Other browsers were "
                         "logged out."},
    {"logged-out", "You are logged out."},
  };
  auto i = texts.find(code);
  return i == texts.end() ? std::string{} : std::string{i->second};
}

std::string count_words(size_t n, std::string_view one, std::string_view many) {
  return std::to_string(n) + " " + std::string{n == 1 ? one : many};
}

/// How long a throttled refusal is held back: half the wait, at most a
/// second, so that a client which honours Retry-After is never made to
/// wait longer than it was told.
std::chrono::milliseconds refusal_hold(int64_t wait_seconds) {
  return std::min<std::chrono::milliseconds>(
    std::chrono::seconds(1), std::chrono::milliseconds(wait_seconds * 500));
}

std::string throttled_text(int64_t seconds) {
  auto when = seconds < 90
                ? count_words(static_cast<size_t>(seconds), "second", "seconds")
                : count_words(static_cast<size_t>((seconds + 59) / 60),
                              "minute", "minutes");
  return "Too many attempts for this username or from your network. Wait "
         + when + ", then try again.";
}

bool valid_id(std::string_view id) {
  if (id.empty() || id.size() > 64)
    return false;
  for (char c : id)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
          || (c >= '0' && c <= '9') || c == '-' || c == '_'))
      return false;
  return true;
}

/// Splits "/<prefix>/<id>/<verb>" into id and verb; nullopt if malformed.
std::optional<std::pair<std::string, std::string>>
split_id_path(std::string_view path, std::string_view prefix) {
  if (!starts_with(path, prefix))
    return std::nullopt;
  auto rest = path.substr(prefix.size());
  auto slash = rest.find('/');
  if (slash == std::string_view::npos)
    return std::nullopt;
  auto id = rest.substr(0, slash);
  auto what = rest.substr(slash + 1);
  if (!valid_id(id) || what.empty() || what.find('/') != std::string_view::npos)
    return std::nullopt;
  return std::make_pair(std::string{id}, std::string{what});
}

} // namespace postern::http::dashboard
