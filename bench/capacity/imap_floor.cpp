// SPDX-License-Identifier: Apache-2.0
// The floor of a mail call: the same IMAP work without Postern's HTTP, MCP
// and actors in between. `imap` goes through Postern's own libetpan session;
// `raw-imap` is a hand-written client doing the least any client must (one
// FETCH per call), the floor issue 18 measures Postern against.

#include "bench_support.hpp"
#include "postern/error.hpp"
#include "postern/imap/session.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace net = boost::asio;
using tcp = net::ip::tcp;
using namespace std::chrono_literals;

namespace postern::bench {

int imap_baseline(const options& opts) {
  postern::server_settings server;
  server.host = opts.get("host", "127.0.0.1");
  if (server.host != "127.0.0.1" && server.host != "localhost") {
    std::cerr << "postern-bench: loopback addresses only\n";
    return 2;
  }
  server.port = static_cast<uint16_t>(opts.number("port", 993));
  server.security
    = postern::parse_transport_security(opts.get("security", "tls"))
        .value_or(postern::transport_security::tls);
  server.username = opts.get("user");
  auto password_lines = read_lines(opts.get("password-file"));
  if (password_lines.empty()) {
    std::cerr << "postern-bench: --password-file is empty\n";
    return 2;
  }
  postern::secret password{password_lines.front()};
  auto clients = static_cast<size_t>(opts.number("clients", 10));
  auto duration = std::min<std::chrono::seconds>(
    std::chrono::seconds(opts.number("duration", 10)), 600s);
  auto what = opts.get("operation", "list_messages");
  recorder rec;
  auto deadline = clock_type::now() + duration;
  std::vector<std::thread> threads;
  for (size_t i = 0; i < clients; ++i)
    threads.emplace_back([&, i] {
      postern::imap::session_options so;
      so.ca_file = opts.get("ca-file");
      postern::imap::session s{so};
      if (auto err = s.connect(server, password)) {
        rec.record("connect", 0s, postern::describe(err));
        return;
      }
      std::mt19937 rng{static_cast<unsigned>(i)};
      postern::imap::page_request page;
      page.page_size = 20;
      auto first = s.list_messages("INBOX", page);
      std::vector<uint32_t> uids;
      if (first)
        for (auto& m : first->messages)
          uids.push_back(m.uid);
      while (clock_type::now() < deadline) {
        auto start = clock_type::now();
        std::string error;
        if (what == "read_message" && !uids.empty()) {
          std::uniform_int_distribution<size_t> pick(0, uids.size() - 1);
          auto r = s.read_message("INBOX", uids[pick(rng)]);
          if (!r)
            error = postern::describe(r.error());
        } else {
          auto r = s.list_messages("INBOX", page);
          if (!r)
            error = postern::describe(r.error());
        }
        rec.record(what, clock_type::now() - start, error);
        if (!s.usable())
          break;
      }
      s.logout();
    });
  for (auto& t : threads)
    t.join();
  auto seconds
    = std::chrono::duration<double>(clock_type::now() - rec.start).count();
  return report(rec, seconds, opts);
}

// -- raw IMAP: the physical floor ---------------------------------------------

namespace {

/// One IMAP connection written by hand, over TLS or in the clear, blocking:
/// commands go out as one write, responses are read into one buffer with
/// literals taken whole. No parsing beyond finding line ends, literal
/// sizes and the tagged line: the least any client must do.
class raw_imap {
public:
  raw_imap(const std::string& host, uint16_t port, bool tls,
           const std::string& ca_file)
    : ctx_(net::ssl::context::tls_client), socket_(ioc_) {
    tcp::resolver resolver{ioc_};
    net::connect(socket_, resolver.resolve(host, std::to_string(port)));
    socket_.set_option(tcp::no_delay{true});
    if (tls) {
      if (!ca_file.empty())
        ctx_.load_verify_file(ca_file);
      ctx_.set_verify_mode(net::ssl::verify_peer);
      tls_.emplace(socket_, ctx_);
      tls_->handshake(net::ssl::stream_base::client);
    }
    read_until_line(); // the greeting
    buffer_.erase(0, line_end_);
  }

  /// Sends one command and reads its whole answer; false unless OK. The
  /// answer is in `answer()` until the next command.
  bool command(const std::string& text) {
    auto tag = "t" + std::to_string(++tag_);
    write(tag + " " + text + "\r\n");
    answer_.clear();
    for (;;) {
      read_until_line();
      auto line_start = answer_.size();
      answer_.append(buffer_, 0, line_end_);
      buffer_.erase(0, line_end_);
      if (answer_.compare(line_start, tag.size() + 1, tag + " ") == 0)
        return answer_.compare(line_start + tag.size() + 1, 2, "OK") == 0;
    }
  }

  /// Appends a message to `folder` in one write (a LITERAL+ literal:
  /// Dovecot, like most servers, takes it without a continuation).
  bool append(const std::string& folder, const std::string& message) {
    return command("APPEND " + folder + " {" + std::to_string(message.size())
                   + "+}\r\n" + message);
  }

  const std::string& answer() const {
    return answer_;
  }

  uint64_t bytes_read() const {
    return bytes_read_;
  }

private:
  void write(const std::string& data) {
    if (tls_)
      net::write(*tls_, net::buffer(data));
    else
      net::write(socket_, net::buffer(data));
  }

  void read_more() {
    char chunk[16384];
    auto n = tls_ ? tls_->read_some(net::buffer(chunk))
                  : socket_.read_some(net::buffer(chunk));
    bytes_read_ += n;
    buffer_.append(chunk, n);
  }

  /// Sets line_end_ past the CRLF of the first line in the buffer, taking a
  /// literal announced at a line's end ("{N}" CRLF) and the line after it.
  void read_until_line() {
    size_t from = 0;
    for (;;) {
      auto lf = buffer_.find('\n', from);
      while (lf == std::string::npos) {
        read_more();
        lf = buffer_.find('\n', from);
      }
      size_t end = lf + 1;
      auto close = lf >= 2 ? lf - 2 : std::string::npos; // before "}\r"
      if (close != std::string::npos && buffer_[close] == '}') {
        auto open = buffer_.rfind('{', close);
        if (open != std::string::npos && open >= from) {
          auto n = std::strtoull(buffer_.c_str() + open + 1, nullptr, 10);
          while (buffer_.size() < end + n)
            read_more();
          from = end + n; // the line goes on after the literal
          continue;
        }
      }
      line_end_ = end;
      return;
    }
  }

  net::io_context ioc_;
  net::ssl::context ctx_;
  tcp::socket socket_;
  std::optional<net::ssl::stream<tcp::socket&>> tls_;
  std::string buffer_;
  std::string answer_;
  size_t line_end_ = 0;
  uint64_t tag_ = 0;
  uint64_t bytes_read_ = 0;
};

std::string imap_quoted(const std::string& text) {
  std::string out = "\"";
  for (auto c : text) {
    if (c == '"' || c == '\\')
      out += '\\';
    out += c;
  }
  return out + "\"";
}

/// The number after "* " and before " EXISTS" in a SELECT answer, or 0.
uint32_t exists_in(const std::string& answer) {
  auto at = answer.find(" EXISTS");
  if (at == std::string::npos)
    return 0;
  auto start = answer.rfind("* ", at);
  return start == std::string::npos
           ? 0
           : static_cast<uint32_t>(
             std::strtoul(answer.c_str() + start + 2, nullptr, 10));
}

/// Every "UID n" in a FETCH answer.
std::vector<uint32_t> uids_in(const std::string& answer) {
  std::vector<uint32_t> uids;
  for (size_t pos = 0; (pos = answer.find("UID ", pos)) != std::string::npos;) {
    pos += 4;
    if (auto uid = std::strtoul(answer.c_str() + pos, nullptr, 10); uid > 0)
      uids.push_back(static_cast<uint32_t>(uid));
  }
  return uids;
}

} // namespace

namespace {

/// Message i of a filled mailbox: a plain text mail of about 1.5 KB, with
/// the envelope fields a listing shows.
std::string filler_message(long i) {
  std::string body;
  for (int line = 0; line < 20; ++line)
    body += "Line " + std::to_string(line) + " of message " + std::to_string(i)
            + ": the quarterly report, as discussed.\r\n";
  return "From: Sender " + std::to_string(i % 37) + " <sender"
         + std::to_string(i % 37)
         + "@example.test>\r\n"
           "To: alice@example.test\r\n"
           "Subject: Bench message "
         + std::to_string(i)
         + "\r\n"
           "Date: Tue, 1 Dec 2026 12:00:00 +0000\r\n"
           "Message-ID: <bench-"
         + std::to_string(i)
         + "@example.test>\r\n"
           "Content-Type: text/plain; charset=utf-8\r\n\r\n"
         + body;
}

} // namespace

int imap_fill(const options& opts) {
  auto host = opts.get("host", "127.0.0.1");
  if (host != "127.0.0.1" && host != "localhost") {
    std::cerr << "postern-bench: loopback addresses only\n";
    return 2;
  }
  auto password_lines = read_lines(opts.get("password-file"));
  if (password_lines.empty()) {
    std::cerr << "postern-bench: --password-file is empty\n";
    return 2;
  }
  auto wanted = std::min<long>(opts.number("messages", 2500), 100000);
  try {
    raw_imap c{host, static_cast<uint16_t>(opts.number("port", 993)),
               opts.get("security", "tls") == "tls", opts.get("ca-file")};
    if (!c.command("LOGIN " + imap_quoted(opts.get("user")) + " "
                   + imap_quoted(password_lines.front()))
        || !c.command("SELECT INBOX")) {
      std::cerr << "postern-bench: LOGIN or SELECT refused\n";
      return 1;
    }
    long have = exists_in(c.answer());
    for (long i = have; i < wanted; ++i)
      if (!c.append("INBOX", filler_message(i))) {
        std::cerr << "postern-bench: APPEND refused: " << c.answer() << "\n";
        return 1;
      }
    c.command("LOGOUT");
    std::printf("INBOX holds %ld messages (%ld added)\n",
                std::max(have, wanted), std::max(0L, wanted - have));
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "postern-bench: " << e.what() << "\n";
    return 1;
  }
}

int raw_imap_floor(const options& opts) {
  auto host = opts.get("host", "127.0.0.1");
  if (host != "127.0.0.1" && host != "localhost") {
    std::cerr << "postern-bench: loopback addresses only\n";
    return 2;
  }
  auto port = static_cast<uint16_t>(opts.number("port", 993));
  auto security = opts.get("security", "tls");
  if (security != "tls" && security != "none") {
    std::cerr << "postern-bench: raw-imap takes --security tls or none\n";
    return 2;
  }
  auto user = opts.get("user");
  auto password_lines = read_lines(opts.get("password-file"));
  if (password_lines.empty()) {
    std::cerr << "postern-bench: --password-file is empty\n";
    return 2;
  }
  auto clients = static_cast<size_t>(opts.number("clients", 10));
  auto pages
    = static_cast<uint32_t>(std::max<long>(opts.number("pages", 1), 1));
  auto duration = std::min<std::chrono::seconds>(
    std::chrono::seconds(opts.number("duration", 10)), 600s);
  auto what = opts.get("operation", "list_messages");
  if (what != "list_messages" && what != "read_message") {
    std::cerr << "postern-bench: --operation list_messages or read_message\n";
    return 2;
  }
  auto server_command = opts.get("cpu-of");
  recorder rec;
  std::atomic<size_t> ready{0};
  std::atomic<bool> go{false};
  std::atomic<size_t> finished{0};
  std::atomic<bool> may_leave{false};
  std::vector<std::thread> threads;
  for (size_t i = 0; i < clients; ++i)
    threads.emplace_back([&, i] {
      std::optional<raw_imap> c;
      uint32_t exists = 0;
      std::vector<uint32_t> uids;
      try {
        c.emplace(host, port, security == "tls", opts.get("ca-file"));
        if (!c->command("LOGIN " + imap_quoted(user) + " "
                        + imap_quoted(password_lines.front()))
            || !c->command("SELECT INBOX"))
          throw std::runtime_error("LOGIN or SELECT refused");
        exists = exists_in(c->answer());
        // The newest 50, as postern-bench run reads them.
        auto lo = exists > 50 ? exists - 49 : 1;
        if (exists > 0
            && c->command("FETCH " + std::to_string(lo) + ":"
                          + std::to_string(exists) + " (UID)"))
          uids = uids_in(c->answer());
      } catch (const std::exception& e) {
        rec.record("connect", 0s, e.what());
        c.reset();
      }
      ++ready;
      while (!go)
        std::this_thread::sleep_for(1ms);
      if (!c || exists == 0 || uids.empty()) {
        ++finished;
        return;
      }
      std::mt19937 rng{static_cast<unsigned>(i + 1)};
      auto deadline = clock_type::now() + duration;
      try {
        while (clock_type::now() < deadline) {
          auto start = clock_type::now();
          bool ok;
          if (what == "list_messages") {
            // Page p of 20, newest first, as Postern's list_messages.
            auto p = std::uniform_int_distribution<uint32_t>{1, pages}(rng);
            auto hi = exists > 20 * (p - 1) ? exists - 20 * (p - 1) : 20;
            hi = std::min(hi, exists);
            auto lo = hi > 19 ? hi - 19 : 1;
            ok = c->command("FETCH " + std::to_string(lo) + ":"
                            + std::to_string(hi) + " (UID FLAGS ENVELOPE)");
          } else {
            auto pick
              = std::uniform_int_distribution<size_t>{0, uids.size() - 1}(rng);
            ok = c->command("UID FETCH " + std::to_string(uids[pick])
                            + " (UID FLAGS ENVELOPE BODY.PEEK[])");
          }
          rec.record(what, clock_type::now() - start,
                     ok ? std::string{} : "not OK");
        }
      } catch (const std::exception& e) {
        rec.record(what, 0s, e.what());
        c.reset();
      }
      // The server's processes end with their connections: its CPU is
      // read before any logs out.
      ++finished;
      while (!may_leave)
        std::this_thread::sleep_for(1ms);
      if (c)
        c->command("LOGOUT");
    });
  while (ready < clients)
    std::this_thread::sleep_for(1ms);
  // CPU of the mail server's processes over the measured part only (the
  // connections are open and selected by now).
  auto cpu_before = server_command.empty() ? -1
                                           : cpu_seconds_of(server_command);
  rec.start = clock_type::now();
  go = true;
  while (finished < clients)
    std::this_thread::sleep_for(1ms);
  auto seconds
    = std::chrono::duration<double>(clock_type::now() - rec.start).count();
  auto cpu_after = cpu_before >= 0 ? cpu_seconds_of(server_command) : -1;
  may_leave = true;
  for (auto& t : threads)
    t.join();
  auto result = report(rec, seconds, opts);
  if (cpu_before >= 0) {
    auto used = cpu_after - cpu_before;
    auto calls = rec.done.load();
    std::printf("%s CPU: %.2f s for %lu calls = %.1f us per call\n",
                server_command.c_str(), used, static_cast<unsigned long>(calls),
                calls > 0 ? used * 1e6 / static_cast<double>(calls) : 0.0);
  }
  return result;
}

} // namespace postern::bench
