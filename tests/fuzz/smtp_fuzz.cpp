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
    // Once the password was sent (AUTH), the server may echo it; no error
    // shows it then. (Before AUTH, a server that happens to say the same
    // bytes cannot know them: no promise there. Deciding by what the client
    // wrote, not by the sentence: a server's text may say "log in" too.)
    auto text = caf::to_string(err);
    if (fuzz::client_said().find("AUTH ") != std::string::npos)
      fuzz::require(text.find("password-never-in-errors") == std::string::npos,
                    "the password never reaches an error after AUTH");
    return 0;
  }
  std::vector<std::string> to = {"bob@example.test", "carol@example.test",
                                 "dave@example.test", "erin@example.test"};
  to.resize(recipients);
  err = c.send("alice@example.test", to,
               "Subject: hi\r\n\r\n.leading dot\r\nbody\r\n");
  if (err) {
    auto text = caf::to_string(err);
    fuzz::require(mime::is_valid_utf8(text), "an error sentence is UTF-8");
    if (fuzz::client_said().find("AUTH ") != std::string::npos)
      fuzz::require(text.find("password-never-in-errors") == std::string::npos,
                    "the password never reaches an error after AUTH");
  }
  c.quit();
  return 0;
}
