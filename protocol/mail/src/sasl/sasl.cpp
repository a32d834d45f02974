// SPDX-License-Identifier: Apache-2.0
#include "postern/sasl.hpp"

#include "postern/mime/transfer_encoding.hpp"

namespace postern::sasl {

namespace {

/// RFC 5801 saslname: "," as "=2C" and "=" as "=3D".
std::string gs2_name(std::string_view user) {
  std::string out;
  for (char c : user) {
    if (c == ',')
      out += "=2C";
    else if (c == '=')
      out += "=3D";
    else
      out += c;
  }
  return out;
}

} // namespace

secret initial_response(sasl_mechanism mechanism, std::string_view user,
                        std::string_view host, uint16_t port,
                        const secret& token) {
  std::string raw;
  if (mechanism == sasl_mechanism::oauthbearer) {
    raw = "n,a=" + gs2_name(user) + ",\x01host=" + std::string{host}
          + "\x01port=" + std::to_string(port) + "\x01";
  } else {
    raw = "user=" + std::string{user} + "\x01";
  }
  raw += "auth=Bearer ";
  raw += token.reveal();
  raw += "\x01\x01";
  secret encoded{mime::encode_base64(raw)};
  secret{std::move(raw)}.wipe();
  return encoded;
}

std::string_view abort_response(sasl_mechanism mechanism) {
  return mechanism == sasl_mechanism::oauthbearer ? "AQ==" : "";
}

std::string challenge_status(std::string_view base64_challenge) {
  auto json = mime::decode_base64(base64_challenge);
  // A tiny reader for one member; the challenge is the server's, and only
  // a safe word of it is ever shown.
  auto at = json.find("\"status\"");
  if (at == std::string::npos)
    return {};
  at = json.find(':', at);
  if (at == std::string::npos)
    return {};
  at = json.find('"', at);
  if (at == std::string::npos)
    return {};
  std::string out;
  for (auto i = at + 1; i < json.size() && json[i] != '"'; ++i) {
    char c = json[i];
    bool word = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
                || (c >= '0' && c <= '9') || c == '_';
    if (!word || out.size() == 32)
      return {};
    out += c;
  }
  return out;
}

} // namespace postern::sasl
