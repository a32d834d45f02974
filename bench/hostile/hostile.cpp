// SPDX-License-Identifier: Apache-2.0
// One hostile mail server case against imap::session / smtp::client, in
// this process: prints the outcome and the process's peak RSS (VmHWM).
// Compiles against trees with and without byte budgets (bench/hostile/run.sh
// builds it against main too).
//
//   postern-hostile CASE    (endless-line, huge-literal, list-lines,
//                            search-uids, lying-part, nested, endless-ehlo)

#include "../../tests/support/fake_server.hpp"
#include "postern/error.hpp"
#include "postern/imap/session.hpp"
#include "postern/smtp/client.hpp"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <functional>
#include <string>

using namespace postern;
using postern::test::fake_connection;
using postern::test::fake_server;

namespace {

uint64_t status_kb(const char* field) {
  std::ifstream in{"/proc/self/status"};
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(field, 0) == 0)
      return std::stoull(line.substr(std::string{field}.size()));
  return 0;
}

std::string upper(std::string x) {
  for (auto& c : x)
    c = static_cast<char>(toupper(static_cast<unsigned char>(c)));
  return x;
}

using hook = std::function<bool(fake_connection&, const std::string&,
                                const std::string&, const std::string&)>;

fake_server::script imap_script(hook h) {
  return [h](fake_connection& c) {
    if (!c.send("* OK fake IMAP ready\r\n"))
      return;
    while (auto line = c.read_line(std::chrono::seconds{120})) {
      auto sp = line->find(' ');
      if (sp == std::string::npos)
        continue;
      auto tag = line->substr(0, sp);
      auto rest = line->substr(sp + 1);
      auto command = upper(rest.substr(0, rest.find(' ')));
      if (command == "UID")
        command += " " + upper(rest.substr(4, rest.find(' ', 4) - 4));
      if (h(c, tag, command, *line))
        continue;
      if (command == "CAPABILITY")
        c.send("* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n" + tag + " OK done\r\n");
      else if (command == "LOGOUT") {
        c.send("* BYE bye\r\n" + tag + " OK done\r\n");
        return;
      } else if (command == "SELECT")
        c.send("* 1 EXISTS\r\n* OK [UIDVALIDITY 7] ok\r\n" + tag
               + " OK [READ-WRITE] done\r\n");
      else
        c.send(tag + " OK done\r\n");
    }
  };
}

// Sends `unit` until `max` bytes went out or the client hung up.
bool flood(fake_connection& c, const std::string& unit, uint64_t max) {
  for (uint64_t sent = 0; sent < max; sent += unit.size())
    if (!c.send(std::string_view{unit}.substr(
          0, static_cast<size_t>(std::min<uint64_t>(unit.size(), max - sent)))))
      return false;
  return true;
}

constexpr uint64_t mb = 1000 * 1000;

hook case_hook(const std::string& name) {
  if (name == "endless-line") // 512 MB without a line end
    return [](fake_connection& c, auto& tag, auto& cmd, auto&) {
      if (cmd != "LIST")
        return false;
      c.send("* LIST () \"/\" ");
      if (flood(c, std::string(64 * 1024, 'a'), 512 * mb))
        c.send("\r\n" + tag + " OK done\r\n");
      return true;
    };
  if (name == "huge-literal") // announces 4 GB, sends 1 GB of it, then hangs up
    return [](fake_connection& c, auto&, auto& cmd, auto&) {
      if (cmd != "LIST")
        return false;
      c.send("* LIST () \"/\" {4000000000}\r\n");
      flood(c, std::string(64 * 1024, 'x'), 1000 * mb);
      c.reset();
      return true;
    };
  if (name == "list-lines") // 6 million folders
    return [](fake_connection& c, auto& tag, auto& cmd, auto&) {
      if (cmd != "LIST")
        return false;
      std::string block;
      for (int i = 0; i < 1000; ++i)
        block += "* LIST (\\HasNoChildren) \"/\" folder" + std::to_string(i)
                 + "\r\n";
      if (flood(c, block, 6000 * block.size()))
        c.send(tag + " OK done\r\n");
      return true;
    };
  if (name == "search-uids") // 8 million UIDs
    return [](fake_connection& c, auto& tag, auto& cmd, auto&) {
      if (cmd != "UID SEARCH")
        return false;
      c.send("* SEARCH");
      std::string block;
      for (int i = 1; i <= 10000; ++i)
        block += " " + std::to_string(1000000 + i);
      if (flood(c, block, 800 * block.size()))
        c.send("\r\n" + tag + " OK done\r\n");
      return true;
    };
  if (name == "lying-part") // BODYSTRUCTURE says 10 bytes, the part is 500 MB
    return [](fake_connection& c, auto& tag, auto& cmd, auto& line) {
      if (cmd != "UID FETCH")
        return false;
      if (line.find("BODYSTRUCTURE") != std::string::npos) {
        c.send("* 1 FETCH (UID 1 BODYSTRUCTURE (\"application\" \"pdf\" NIL "
               "NIL NIL \"base64\" 10))\r\n"
               + tag + " OK done\r\n");
        return true;
      }
      uint64_t real = 500 * mb, offset = 0, length = real;
      if (auto lt = line.find('<'); lt != std::string::npos) {
        offset = std::stoull(line.substr(lt + 1));
        length = std::stoull(line.substr(line.find('.', lt) + 1));
      }
      auto n = offset >= real ? 0 : std::min(length, real - offset);
      c.send("* 1 FETCH (UID 1 BODY[1]"
             + (offset > 0 || length < real ? "<" + std::to_string(offset) + ">"
                                            : std::string{})
             + " {" + std::to_string(n) + "}\r\n");
      if (flood(c, std::string(64 * 1024, 'A'), n))
        c.send(")\r\n" + tag + " OK done\r\n");
      return true;
    };
  if (name == "nested") // 1 million open parentheses in a BODYSTRUCTURE
    return [](fake_connection& c, auto& tag, auto& cmd, auto&) {
      if (cmd != "UID FETCH")
        return false;
      c.send("* 1 FETCH (UID 1 BODYSTRUCTURE ");
      if (flood(c, std::string(4096, '('), 1 * mb))
        c.send(std::string(1 * mb, ')') + ")\r\n" + tag + " OK done\r\n");
      return true;
    };
  return nullptr;
}

server_settings plain(uint16_t port) {
  server_settings s;
  s.host = "127.0.0.1";
  s.port = port;
  s.security = transport_security::plain;
  s.username = "user";
  return s;
}

} // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: postern-hostile CASE\n");
    return 2;
  }
  std::string name = argv[1];
  secret password{"pw"};
  caf::error err;
  if (name == "endless-ehlo") {
    fake_server server{[](fake_connection& c) {
      c.send("220 fake ESMTP\r\n");
      if (!c.read_line())
        return;
      c.send("250-fake\r\n");
      if (flood(c, "250-" + std::string(1000, 'x') + "\r\n", 512 * mb))
        c.send("250 done\r\n");
    }};
    smtp::client_options opts;
    opts.timeout = std::chrono::seconds{60};
    opts.operation_timeout = std::chrono::seconds{300};
    smtp::client client{opts};
    err = client.connect(plain(server.port()), password);
  } else {
    auto h = case_hook(name);
    if (!h) {
      std::fprintf(stderr, "unknown case %s\n", name.c_str());
      return 2;
    }
    fake_server server{imap_script(h)};
    imap::session_options opts;
    opts.timeout = std::chrono::seconds{60};
    opts.operation_timeout = std::chrono::seconds{300};
    imap::session s{opts};
    if (auto e = s.connect(plain(server.port()), password)) {
      std::printf("%s connect failed: %s\n", name.c_str(), describe(e).c_str());
      return 1;
    }
    if (name == "endless-line" || name == "huge-literal"
        || name == "list-lines") {
      auto r = s.list_folders();
      if (!r)
        err = r.error();
    } else if (name == "search-uids") {
      imap::search_query q;
      q.query = "x";
      auto r = s.search("INBOX", q);
      if (!r)
        err = r.error();
    } else {
      mime::attachment_limits limits;
      limits.file = 1024 * 1024;
      auto r = s.fetch_attachment("INBOX", 1, "1", limits);
      if (!r)
        err = r.error();
    }
    s.cancel();
  }
  std::printf("%s\t%llu\t%s\n", name.c_str(),
              static_cast<unsigned long long>(status_kb("VmHWM:") / 1024),
              err ? render(err).c_str() : "ok");
  return 0;
}
