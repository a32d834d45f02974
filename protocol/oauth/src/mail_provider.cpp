// SPDX-License-Identifier: Apache-2.0
#include "postern/oauth/mail_provider.hpp"

#include "postern/error.hpp"
#include "postern/mcp/bounded_parse.hpp"
#include "postern/oauth/uri.hpp"
#include "postern/text.hpp"

#include <rapidjson/document.h>

#include <algorithm>
#include <fstream>
#include <sstream>

namespace postern::oauth {

namespace {

caf::error bad(std::string sentence) {
  return caf::make_error(ec::invalid_configuration, std::move(sentence));
}

std::string_view text_of(const rapidjson::Value& v) {
  return {v.GetString(), v.GetStringLength()};
}

/// An endpoint Postern calls or sends people to: https, or http on a
/// loopback host (a provider under test, or on the same machine).
bool acceptable_endpoint(std::string_view url) {
  auto parts = split_uri(url);
  if (!parts)
    return false;
  if (parts->scheme == "https")
    return true;
  return is_loopback(*parts);
}

/// Reads one provider object; `where` names it in errors.
class provider_reader {
public:
  provider_reader(const rapidjson::Value& v, std::string where)
    : v_(v), where_(std::move(where)) {
    // nop
  }

  caf::error fail(std::string_view field, std::string_view what) const {
    return bad(where_ + ": field \"" + std::string{field} + "\" "
               + std::string{what});
  }

  caf::error text(const char* field, std::string& out, bool required) {
    auto i = v_.FindMember(field);
    if (i == v_.MemberEnd()) {
      if (required)
        return fail(field, "is missing");
      return caf::none;
    }
    if (!i->value.IsString() || i->value.GetStringLength() == 0
        || i->value.GetStringLength() > 2048)
      return fail(field, "must be a string of 1 to 2048 characters");
    out.assign(i->value.GetString(), i->value.GetStringLength());
    return caf::none;
  }

  caf::error endpoint(const char* field, std::string& out) {
    if (auto err = text(field, out, true))
      return err;
    if (!acceptable_endpoint(out))
      return fail(field, "must be an https URL (http only on loopback)");
    return caf::none;
  }

  /// A string of space-separated scopes, or an array of strings.
  caf::error scopes(std::string& out) {
    auto i = v_.FindMember("scopes");
    if (i == v_.MemberEnd())
      return fail("scopes", "is missing");
    if (i->value.IsString()) {
      out.assign(i->value.GetString(), i->value.GetStringLength());
    } else if (i->value.IsArray()) {
      for (auto& x : i->value.GetArray()) {
        if (!x.IsString() || x.GetStringLength() == 0)
          return fail("scopes", "must hold strings only");
        if (!out.empty())
          out += ' ';
        out.append(x.GetString(), x.GetStringLength());
      }
    } else {
      return fail("scopes", "must be a string or an array of strings");
    }
    if (out.empty() || out.size() > 2048)
      return fail("scopes", "must name 1 to 2048 characters of scopes");
    return caf::none;
  }

  caf::error server(const char* field, server_settings& out) {
    auto i = v_.FindMember(field);
    if (i == v_.MemberEnd() || !i->value.IsObject())
      return fail(field, "must be an object with host, port and security");
    auto& s = i->value;
    std::string f = field;
    auto host = s.FindMember("host");
    if (host == s.MemberEnd() || !host->value.IsString()
        || host->value.GetStringLength() == 0
        || host->value.GetStringLength() > 253)
      return fail(f + ".host", "must be a host name");
    out.host.assign(host->value.GetString(), host->value.GetStringLength());
    auto port = s.FindMember("port");
    if (port == s.MemberEnd() || !port->value.IsUint()
        || port->value.GetUint() == 0 || port->value.GetUint() > 65535)
      return fail(f + ".port", "must be a port number (1 to 65535)");
    out.port = static_cast<uint16_t>(port->value.GetUint());
    auto security = s.FindMember("security");
    std::optional<transport_security> sec;
    if (security != s.MemberEnd() && security->value.IsString())
      sec = parse_transport_security(text_of(security->value));
    if (!sec)
      return fail(f + ".security", "must be tls, starttls or plain");
    out.security = *sec;
    return caf::none;
  }

  caf::error read(mail_provider& p) {
    if (auto err = text("name", p.name, true))
      return err;
    if (!is_provider_name(p.name))
      return fail("name", "must be 1 to 32 lower-case letters, digits, - or _");
    where_ += " (\"" + p.name + "\")";
    if (auto err = text("title", p.title, true))
      return err;
    if (auto err = endpoint("authorization_endpoint", p.authorization_endpoint))
      return err;
    if (auto err = endpoint("token_endpoint", p.token_endpoint))
      return err;
    if (auto err = text("client_id", p.client_id, true))
      return err;
    std::string client_secret;
    if (auto err = text("client_secret", client_secret, false))
      return err;
    p.client_secret = secret{std::move(client_secret)};
    if (auto err = scopes(p.scopes))
      return err;
    if (auto err = server("imap", p.imap))
      return err;
    if (auto err = server("smtp", p.smtp))
      return err;
    std::string sasl = "XOAUTH2";
    if (auto err = text("sasl", sasl, false))
      return err;
    auto mech = parse_sasl_mechanism(sasl);
    if (!mech)
      return fail("sasl", "must be XOAUTH2 or OAUTHBEARER");
    p.sasl = *mech;
    if (auto i = v_.FindMember("domains"); i != v_.MemberEnd()) {
      if (!i->value.IsArray())
        return fail("domains", "must be an array of domain names");
      for (auto& d : i->value.GetArray()) {
        if (!d.IsString() || d.GetStringLength() == 0
            || d.GetStringLength() > 253)
          return fail("domains", "must hold domain names only");
        p.domains.push_back(ascii_lower(text_of(d)));
      }
    }
    if (auto i = v_.FindMember("authorize_params"); i != v_.MemberEnd()) {
      if (!i->value.IsObject())
        return fail("authorize_params", "must be an object of strings");
      for (auto& m : i->value.GetObject()) {
        if (!m.value.IsString())
          return fail("authorize_params", "must be an object of strings");
        p.authorize_params.emplace(std::string{text_of(m.name)},
                                   std::string{text_of(m.value)});
      }
    }
    return caf::none;
  }

private:
  const rapidjson::Value& v_;
  std::string where_;
};

void append_param(std::string& body, std::string_view name,
                  std::string_view value) {
  if (!body.empty())
    body += '&';
  body += name;
  body += '=';
  body += percent_encode(value);
}

void append_client(std::string& body, const mail_provider& p) {
  append_param(body, "client_id", p.client_id);
  if (!p.client_secret.empty())
    append_param(body, "client_secret", p.client_secret.reveal());
}

} // namespace

mail_providers::mail_providers(std::vector<mail_provider> all)
  : all_(std::move(all)) {
  // nop
}

const mail_provider* mail_providers::find(std::string_view name) const {
  for (auto& p : all_)
    if (p.name == name)
      return &p;
  return nullptr;
}

const mail_provider*
mail_providers::for_address(std::string_view address) const {
  auto domain = address_domain(address);
  if (domain.empty())
    return nullptr;
  for (auto& p : all_)
    if (std::find(p.domains.begin(), p.domains.end(), domain)
        != p.domains.end())
      return &p;
  return nullptr;
}

mail_provider microsoft_provider(const provider_settings& s) {
  mail_provider p;
  p.name = "microsoft";
  p.title = "Microsoft";
  auto base = "https://login.microsoftonline.com/" + s.microsoft_tenant
              + "/oauth2/v2.0/";
  p.authorization_endpoint = base + "authorize";
  p.token_endpoint = base + "token";
  p.client_id = s.microsoft_client_id;
  p.client_secret = s.microsoft_client_secret;
  // The outlook.office.com names: tokens for the short Graph names
  // (IMAP.AccessAsUser.All alone) are refused by outlook.office365.com.
  p.scopes = "https://outlook.office.com/IMAP.AccessAsUser.All "
             "https://outlook.office.com/SMTP.Send offline_access";
  p.domains = {"outlook.com", "hotmail.com", "live.com", "msn.com",
               "outlook.de", "hotmail.co.uk", "hotmail.fr", "live.co.uk"};
  p.imap = {"outlook.office365.com", 993, transport_security::tls, ""};
  p.smtp = {"smtp.office365.com", 587, transport_security::starttls, ""};
  p.sasl = sasl_mechanism::xoauth2;
  return p;
}

mail_provider google_provider(const provider_settings& s) {
  mail_provider p;
  p.name = "google";
  p.title = "Google";
  p.authorization_endpoint = "https://accounts.google.com/o/oauth2/v2/auth";
  p.token_endpoint = "https://oauth2.googleapis.com/token";
  p.client_id = s.google_client_id;
  p.client_secret = s.google_client_secret;
  p.scopes = "https://mail.google.com/";
  // Without both, Google issues no refresh token after the first consent.
  p.authorize_params = {{"access_type", "offline"}, {"prompt", "consent"}};
  p.domains = {"gmail.com", "googlemail.com"};
  p.imap = {"imap.gmail.com", 993, transport_security::tls, ""};
  p.smtp = {"smtp.gmail.com", 465, transport_security::tls, ""};
  p.sasl = sasl_mechanism::xoauth2;
  return p;
}

caf::expected<std::vector<mail_provider>>
parse_mail_providers(std::string_view json) {
  rapidjson::Document doc;
  if (!mcp::parse_bounded(doc, json, 8))
    return bad("is not valid JSON (UTF-8, nested at most 8 deep)");
  if (!doc.IsArray())
    return bad("must be a JSON array of provider objects");
  std::vector<mail_provider> result;
  size_t index = 0;
  for (auto& v : doc.GetArray()) {
    ++index;
    auto where = "provider " + std::to_string(index);
    if (!v.IsObject())
      return bad(where + " is not a JSON object");
    mail_provider p;
    provider_reader reader{v, where};
    if (auto err = reader.read(p))
      return err;
    for (auto& q : result)
      if (q.name == p.name)
        return bad(where + " (\"" + p.name + "\"): field \"name\" repeats \""
                   + p.name + "\"");
    result.push_back(std::move(p));
  }
  return result;
}

caf::expected<mail_providers> load_mail_providers(const provider_settings& s) {
  std::vector<mail_provider> all;
  if (!s.microsoft_client_id.empty())
    all.push_back(microsoft_provider(s));
  else if (!s.microsoft_client_secret.empty())
    return bad("MICROSOFT_CLIENT_SECRET is set without MICROSOFT_CLIENT_ID");
  if (!s.google_client_id.empty())
    all.push_back(google_provider(s));
  else if (!s.google_client_secret.empty())
    return bad("GOOGLE_CLIENT_SECRET is set without GOOGLE_CLIENT_ID");
  const auto& tenant = s.microsoft_tenant;
  if (tenant.empty() || tenant.size() > 64
      || tenant.find_first_not_of("abcdefghijklmnopqrstuvwxyz"
                                  "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-")
           != std::string::npos)
    return bad("MICROSOFT_TENANT must be common, organizations, consumers, "
               "a tenant id or a domain");
  if (!s.providers_file.empty()) {
    std::ifstream in{s.providers_file, std::ios::binary};
    if (!in)
      return bad("MAIL_OAUTH_PROVIDERS names " + s.providers_file
                 + ", which cannot be read");
    std::ostringstream text;
    text << in.rdbuf();
    if (text.str().size() > 1024 * 1024)
      return bad("MAIL_OAUTH_PROVIDERS: " + s.providers_file
                 + " is larger than 1 MiB");
    auto parsed = parse_mail_providers(text.str());
    if (!parsed)
      return bad("MAIL_OAUTH_PROVIDERS: " + s.providers_file + ": "
                 + describe(parsed.error()));
    for (auto& p : *parsed) {
      for (auto& q : all)
        if (q.name == p.name)
          return bad("MAIL_OAUTH_PROVIDERS: " + s.providers_file
                     + ": provider \"" + p.name
                     + "\" is also built in; give it another name");
      all.push_back(std::move(p));
    }
  }
  return mail_providers{std::move(all)};
}

// -- token endpoint -----------------------------------------------------------

caf::expected<oauth_access>
parse_token_response(const mail_provider& p, unsigned http_status,
                     std::string_view body) {
  rapidjson::Document doc;
  auto parsed = mcp::parse_bounded(doc, body, 8) && doc.IsObject();
  if (parsed) {
    if (auto e = doc.FindMember("error");
        e != doc.MemberEnd() && e->value.IsString()) {
      auto code = text_of(e->value);
      if (code == "invalid_grant")
        return caf::make_error(ec::signin_required,
                               p.title + " no longer accepts this account's "
                                         "sign-in (it was revoked, expired "
                                         "or the password changed)");
      // The code only: a provider's description may quote what it got.
      std::string safe;
      for (char c : code.substr(0, 64))
        if ((c >= 'a' && c <= 'z') || c == '_')
          safe += c;
      return caf::make_error(ec::server_refused,
                             p.title + " refused to issue an access token ("
                               + safe + ")");
    }
  }
  if (http_status != 200 || !parsed)
    return caf::make_error(ec::server_refused,
                           p.title + "'s token endpoint answered HTTP "
                             + std::to_string(http_status)
                             + (parsed ? "" : " without a JSON object"));
  oauth_access t;
  auto access = doc.FindMember("access_token");
  if (access == doc.MemberEnd() || !access->value.IsString()
      || access->value.GetStringLength() == 0
      || access->value.GetStringLength() > 16384)
    return caf::make_error(ec::server_refused,
                           p.title + "'s token endpoint sent no access token");
  t.access_token = secret{std::string{text_of(access->value)}};
  if (auto type = doc.FindMember("token_type");
      type != doc.MemberEnd()
      && (!type->value.IsString()
          || ascii_lower(text_of(type->value)) != "bearer"))
    return caf::make_error(ec::server_refused,
                           p.title + "'s token endpoint sent a token that is "
                                     "not a Bearer token");
  if (auto exp = doc.FindMember("expires_in"); exp != doc.MemberEnd()) {
    int64_t seconds = -1;
    if (exp->value.IsInt64())
      seconds = exp->value.GetInt64();
    else if (exp->value.IsString()) // Some providers send "3599".
      seconds = std::atoll(std::string{text_of(exp->value)}.c_str());
    if (seconds <= 0)
      return caf::make_error(ec::server_refused,
                             p.title + "'s token endpoint sent an unusable "
                                       "expires_in");
    t.expires_in = std::min<int64_t>(seconds, 86400);
  }
  if (auto refresh = doc.FindMember("refresh_token");
      refresh != doc.MemberEnd() && refresh->value.IsString()
      && refresh->value.GetStringLength() > 0) {
    if (refresh->value.GetStringLength() > 8192)
      return caf::make_error(ec::server_refused,
                             p.title + "'s token endpoint sent a refresh "
                                       "token longer than 8192 characters");
    t.refresh_token = secret{std::string{text_of(refresh->value)}};
  }
  return t;
}

token_exchange refresh_request(const mail_provider& p, const secret& refresh) {
  token_exchange req;
  req.url = p.token_endpoint;
  append_param(req.body, "grant_type", "refresh_token");
  append_param(req.body, "refresh_token", refresh.reveal());
  append_client(req.body, p);
  return req;
}

token_exchange code_request(const mail_provider& p, std::string_view code,
                            std::string_view verifier,
                            std::string_view redirect_uri) {
  token_exchange req;
  req.url = p.token_endpoint;
  append_param(req.body, "grant_type", "authorization_code");
  append_param(req.body, "code", code);
  append_param(req.body, "code_verifier", verifier);
  append_param(req.body, "redirect_uri", redirect_uri);
  append_client(req.body, p);
  return req;
}

caf::expected<oauth_access> exchange(const mail_provider& p,
                                        const token_transport& transport,
                                        const token_exchange& req,
                                        std::chrono::seconds timeout) {
  auto answer = transport(req, timeout);
  if (!answer) {
    // A transport error may quote the URL, never the body.
    return caf::make_error(answer.error() == ec::timed_out
                             ? ec::timed_out
                             : ec::connection_failed,
                           "Could not reach " + p.title
                             + "'s token endpoint: "
                             + describe(answer.error()));
  }
  return parse_token_response(p, answer->first, answer->second);
}

} // namespace postern::oauth
