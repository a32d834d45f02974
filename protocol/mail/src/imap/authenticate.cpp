// SPDX-License-Identifier: Apache-2.0
// IMAP AUTHENTICATE XOAUTH2 / OAUTHBEARER (RFC 3501 §6.2.2, RFC 4959
// SASL-IR, RFC 7628), written and read by hand: libetpan's
// mailimap_oauth2_authenticate knows XOAUTH2 only and goes through its
// parser, which keeps the server's text (that may quote the token) in the
// session. The answers are read with read_one_response, as FETCH's are.
#include "etpan.hpp"
#include "net.hpp"
#include "postern/error.hpp"
#include "postern/imap/session.hpp"
#include "postern/sasl.hpp"

#include <algorithm>
#include <string_view>

namespace postern::imap {

namespace {

bool starts_with_word(std::string_view line, std::string_view word) {
  if (line.size() < word.size())
    return false;
  for (size_t i = 0; i < word.size(); ++i) {
    auto c = line[i];
    if (c >= 'a' && c <= 'z')
      c = static_cast<char>(c - 'a' + 'A');
    if (c != word[i])
      return false;
  }
  return line.size() == word.size() || line[word.size()] == ' '
         || line[word.size()] == '\r' || line[word.size()] == '\n';
}

std::string_view trim_line(std::string_view s) {
  while (!s.empty() && (s.back() == '\r' || s.back() == '\n'))
    s.remove_suffix(1);
  return s;
}

} // namespace

caf::error session::authenticate(const server_settings& server,
                                 const secret& token) {
  auto mechanism = std::string{to_string(options_.sasl)};
  auto has = [&](std::string_view cap) {
    return std::find(caps_.all.begin(), caps_.all.end(), cap)
           != caps_.all.end();
  };
  if (!has("AUTH=" + mechanism)) {
    close_stream();
    return caf::make_error(ec::not_supported,
                           "The IMAP server " + host_
                             + " does not offer AUTHENTICATE " + mechanism
                             + ", which this account's provider signs in "
                               "with");
  }
  static constexpr std::string_view action = "sign in";
  // From here on anything the server sends back is redacted with it.
  remember_sent(token, server.username);
  auto response = sasl::initial_response(options_.sasl, server.username, host_,
                                         port_, token);
  start_call();
  auto tag = next_tag();
  auto write = [&](const std::string& line) {
    return mailstream_write(imap_->imap_stream, line.data(), line.size())
             == static_cast<ssize_t>(line.size())
           && mailstream_flush(imap_->imap_stream) == 0;
  };
  // SASL-IR sends the response with the command; without it, after the
  // server's empty "+" continuation.
  auto sasl_ir = has("SASL-IR");
  std::string command = tag + " AUTHENTICATE " + mechanism;
  if (sasl_ir)
    command += " " + response.reveal();
  command += "\r\n";
  auto sent = write(command);
  secret{std::move(command)}.wipe();
  if (!sent)
    return command_error(MAILIMAP_ERROR_STREAM, action);
  bool response_sent = sasl_ir;
  std::string challenge_status;
  std::string answer;
  for (int round = 0;; ++round) {
    if (round > 8)
      return command_error(MAILIMAP_ERROR_PARSE, action);
    if (auto rc = read_one_response(answer); rc != MAILIMAP_NO_ERROR)
      return command_error(rc, action);
    auto line = trim_line(answer);
    if (!line.empty() && line.front() == '+') {
      auto text = line.substr(1);
      if (!text.empty() && text.front() == ' ')
        text.remove_prefix(1);
      if (!response_sent) {
        response_sent = true;
        if (!write(response.reveal() + "\r\n"))
          return command_error(MAILIMAP_ERROR_STREAM, action);
        continue;
      }
      // The error challenge: its status says why; answering ends the
      // exchange with a tagged NO.
      challenge_status = sasl::challenge_status(text);
      if (!write(std::string{sasl::abort_response(options_.sasl)} + "\r\n"))
        return command_error(MAILIMAP_ERROR_STREAM, action);
      continue;
    }
    if (line.size() >= 2 && line[0] == '*' && line[1] == ' ') {
      if (starts_with_word(line.substr(2), "BYE")) {
        close_stream();
        return caf::make_error(ec::connection_failed,
                               "The IMAP server " + host_
                                 + " closed the connection while signing in");
      }
      continue; // CAPABILITY and the like: read again after sign-in
    }
    auto tag_end = line.find(' ');
    if (tag_end == std::string_view::npos || line.substr(0, tag_end) != tag)
      return command_error(MAILIMAP_ERROR_PARSE, action);
    auto rest = line.substr(tag_end + 1);
    if (starts_with_word(rest, "OK")) {
      imap_->imap_state = MAILIMAP_STATE_AUTHENTICATED;
      return {};
    }
    // A server may echo what it got: neither the token nor the SASL
    // response that carries it (base64) reaches the sentence.
    auto text = sanitize_server_text(without_secrets(
      std::string{rest.substr(std::min<size_t>(rest.size(), 3))}));
    close_stream();
    if (!starts_with_word(rest, "NO"))
      return caf::make_error(ec::server_refused,
                             "The IMAP server " + host_ + " refused "
                               + mechanism + " sign-in: " + text);
    return caf::make_error(
      ec::authentication_failed,
      "The IMAP server " + host_ + " did not accept the access token ("
        + mechanism
        + (challenge_status.empty() ? "" : ", " + challenge_status) + ")"
        + (text.empty() ? "" : ": " + text));
  }
}

} // namespace postern::imap
