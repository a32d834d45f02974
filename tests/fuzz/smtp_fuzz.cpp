// SPDX-License-Identifier: Apache-2.0
// SMTP replies: what a submission server says, through a memory mailstream
// (memory_stream.hpp) into the byte budget, libetpan's reply parser and
// smtp::client (greeting, EHLO and its extensions, AUTH, MAIL/RCPT/DATA
// and the errors made of the server's text).
//
// Input: byte 0 picks whether to log in and how many recipients, byte 1
// the size of the reads; the rest is everything the server says.
#include "fuzz_check.hpp"
#include "memory_stream.hpp"

#include "postern/error.hpp"
#include "postern/mime/charset.hpp"
#include "postern/smtp/client.hpp"

#include <cstdint>

using namespace postern;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2)
    return 0;
  bool login = (data[0] & 1) != 0;
  size_t recipients = 1 + ((data[0] >> 1) & 3);
  size_t chunk = size_t{1} + data[1] * 64u;
  auto server_bytes = fuzz::as_text(data + 2, size - 2);
  smtp::client_options options;
  options.timeout = std::chrono::seconds{5};
  options.operation_timeout = std::chrono::seconds{30};
  options.budget.max_response = 16 * 1024;
  options.budget.max_operation = 64 * 1024;
  options.open_stream = [server_bytes, chunk] {
    return fuzz::open_memory_stream(server_bytes, chunk);
  };
  smtp::client c{options};
  server_settings server{"smtp.fuzz.test", 587, transport_security::plain,
                         login ? "alice@example.test" : ""};
  auto err = c.connect(server, secret{"password-never-in-errors"});
  if (err) {
    // Once the password was sent, the server may echo it; the errors of the
    // login never show it. (Before AUTH, a server that happens to say the
    // same bytes cannot know them: no promise there.)
    auto text = caf::to_string(err);
    if (err == ec::authentication_failed
        || text.find("log in") != std::string::npos)
      fuzz::require(text.find("password-never-in-errors") == std::string::npos,
                    "the password never reaches an error of the login");
    return 0;
  }
  std::vector<std::string> to = {"bob@example.test", "carol@example.test",
                                 "dave@example.test", "erin@example.test"};
  to.resize(recipients);
  err = c.send("alice@example.test", to,
               "Subject: hi\r\n\r\n.leading dot\r\nbody\r\n");
  if (err)
    fuzz::require(mime::is_valid_utf8(caf::to_string(err)),
                  "an error sentence is UTF-8");
  c.quit();
  return 0;
}
