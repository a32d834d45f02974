// SPDX-License-Identifier: Apache-2.0
// IMAP responses: the bytes a server sends, through a memory mailstream
// (memory_stream.hpp) into the byte budget (budget_stream.cpp), libetpan's
// parser and Postern's session (imap::session, which converts every answer:
// folders, envelopes, BODYSTRUCTURE, sections, threads, UIDs).
//
// Input: byte 0 picks two operations run after connecting (greeting, LOGIN
// or AUTHENTICATE, CAPABILITY), byte 1 how Postern signs in (below 128:
// LOGIN; else XOAUTH2 when even, OAUTHBEARER when odd, the "password"
// being the access token) and the size of the reads (how the bytes
// arrive); the rest is everything the server says, in order. libetpan does not match
// tags, so a transcript is just the responses one after the other.
#include "fuzz_check.hpp"
#include "memory_stream.hpp"
#include "postern/imap/session.hpp"
#include "postern/mime/charset.hpp"
#include "postern/sasl.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>

using namespace postern;

namespace {

// POSTERN_FUZZ_VERBOSE=1 says how each step ended (to check seeds).
const bool verbose = std::getenv("POSTERN_FUZZ_VERBOSE") != nullptr;

/// Long enough to be redacted (shorter secrets are not searched for).
constexpr std::string_view password = "password-never-in-errors";

void report(int op, const caf::error& err) {
  if (verbose)
    std::fprintf(stderr, "imap fuzz: operation %d: %s\n", op,
                 err ? caf::to_string(err).c_str() : "ok");
  // Once the password was sent (LOGIN), the server may echo it in any
  // response; no error shows it. (Decided by what the client wrote.)
  const auto& said = fuzz::client_said();
  if (err
      && (said.find(" LOGIN ") != std::string::npos
          || said.find(" AUTHENTICATE ") != std::string::npos)) {
    auto text = caf::to_string(err);
    fuzz::require(text.find(password) == std::string::npos,
                  "the password or token never reaches an error");
    // Nor the SASL response that carries the token, in either mechanism.
    for (auto mech : {sasl_mechanism::xoauth2, sasl_mechanism::oauthbearer}) {
      auto response = sasl::initial_response(mech, "alice@example.test",
                                             "imap.fuzz.test", 143,
                                             secret{std::string{password}});
      fuzz::require(text.find(response.reveal()) == std::string::npos,
                    "the SASL response never reaches an error");
    }
  }
}

template <class T>
void report(int op, const caf::expected<T>& result) {
  report(op, result ? caf::error{} : result.error());
}

void run(imap::session& s, int op) {
  const std::string inbox = "INBOX";
  switch (op) {
    case 0:
      report(op, s.list_folders(true));
      break;
    case 1: {
      imap::page_request page;
      page.page_size = 5;
      report(op, s.list_messages(inbox, page));
      break;
    }
    case 2: {
      auto m = s.read_message(inbox, 1);
      report(op, m);
      if (m)
        fuzz::require(mime::is_valid_utf8(m->body), "message text is UTF-8");
      break;
    }
    case 3: {
      imap::read_options window;
      window.offset = 10;
      window.max_length = 100;
      report(op, s.read_messages(inbox, {1, 2, 3}, window));
      break;
    }
    case 4: {
      imap::search_query q;
      q.text = "caf\xc3\xa9";
      q.since = "2024-01-01";
      report(op, s.search(inbox, q));
      break;
    }
    case 5:
      report(op, s.move(inbox, 1, "Archive"));
      break;
    case 6: {
      imap::flag_change c;
      c.seen = imap::flag_action::add;
      c.flagged = imap::flag_action::remove;
      report(op, s.set_flags(inbox, 1, c));
      break;
    }
    case 7:
      report(op, s.append("Sent", "Subject: x\r\n\r\nbody\r\n", {"\\Seen"}));
      break;
    case 8:
      report(op, s.thread(inbox, 1));
      break;
    case 9: {
      imap::bulk_request r;
      r.kind = imap::bulk_kind::remove;
      r.folder = inbox;
      r.uids = {1, 2};
      report(op, s.change_messages(r));
      break;
    }
    case 10: {
      imap::folder_change c;
      c.action = imap::folder_action::rename;
      c.name = "Projekte";
      c.new_name = "Entw\xc3\xbc"
                   "rfe";
      report(op, s.change_folder(c));
      break;
    }
    case 11: {
      imap::search_query q;
      q.from = "alice";
      report(op, s.search_everywhere(q));
      break;
    }
    case 12:
      report(op, s.fetch_attachment(inbox, 1, "2", mime::attachment_limits{}));
      break;
    case 13:
      report(op, s.fetch_original(inbox, 1, true, 100000));
      break;
    case 14:
      report(op, s.find_special_use("\\Sent"));
      break;
    default:
      report(op, s.noop());
      break;
  }
}

constexpr int operations = 16;

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2)
    return 0;
  auto first = data[0] % operations;
  auto second = (data[0] / operations) % operations;
  size_t chunk = size_t{1} + (data[1] % 128u) * 128u;
  auto server_bytes = fuzz::as_text(data + 2, size - 2);
  imap::session_options options;
  options.timeout = std::chrono::seconds{5};
  options.operation_timeout = std::chrono::seconds{30};
  // Small budgets, so that the fuzzer can reach them.
  options.budget.max_literal = 64 * 1024;
  options.budget.max_response = 128 * 1024;
  options.budget.max_operation = 256 * 1024;
  options.budget.max_items = 2000;
  options.budget.max_depth = 64;
  options.fetch_chunk_bytes = 4096;
  options.max_text_part_bytes = 64 * 1024;
  options.max_folders = 100;
  options.max_parts = 100;
  if (data[1] >= 128)
    options.sasl = data[1] % 2 == 0 ? sasl_mechanism::xoauth2
                                    : sasl_mechanism::oauthbearer;
  options.open_stream = [server_bytes, chunk] {
    return fuzz::open_memory_stream(server_bytes, chunk);
  };
  imap::session s{options};
  server_settings server{"imap.fuzz.test", 143, transport_security::plain,
                         "alice@example.test"};
  if (auto err = s.connect(server, secret{std::string{password}})) {
    report(-1, err);
    return 0;
  }
  run(s, first);
  if (s.usable())
    run(s, second);
  return 0;
}
