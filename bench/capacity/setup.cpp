// SPDX-License-Identifier: Apache-2.0
// postern-bench setup: users, accounts and tokens for a run, made with the
// server's own `postern admin` commands.

#include "bench_support.hpp"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>

namespace postern::bench {

namespace {

/// Runs a command with a file as standard input and returns its output.
std::string run_command(const std::string& command, const std::string& input) {
  char path[] = "/tmp/postern-bench-XXXXXX";
  auto fd = mkstemp(path);
  if (fd < 0)
    return {};
  // The file holds passwords: 0600 from mkstemp, removed right after.
  if (::write(fd, input.data(), input.size()) < 0)
    std::perror("write");
  ::close(fd);
  std::string output;
  if (auto pipe = popen((command + " < " + path).c_str(), "r")) {
    char buf[512];
    while (auto n = fread(buf, 1, sizeof(buf), pipe))
      output.append(buf, n);
    pclose(pipe);
  }
  std::remove(path);
  while (!output.empty() && (output.back() == '\n' || output.back() == '\r'))
    output.pop_back();
  return output;
}

} // namespace

int setup(const options& opts) {
  auto postern = opts.get("postern", "postern");
  auto users = opts.number("users", 10);
  auto tokens_path = opts.get("tokens", "tokens.txt");
  auto password_lines = read_lines(opts.get("imap-password-file"));
  if (password_lines.empty()) {
    std::cerr << "postern-bench: --imap-password-file is empty\n";
    return 2;
  }
  auto prefix = opts.get("prefix", "bench");
  auto scopes = opts.get("scopes",
                         "mail:folders mail:read mail:search mail:modify");
  std::ofstream tokens{tokens_path, std::ios::trunc};
  for (long i = 0; i < users; ++i) {
    auto name = prefix + "-" + std::to_string(i);
    run_command(postern + " admin create-user " + name,
                "bench-password-" + name + "\n");
    std::string cmd = postern + " admin add-account " + name + " --label bench"
                      + " --imap-host " + opts.get("imap-host", "127.0.0.1")
                      + " --imap-port " + opts.get("imap-port", "993")
                      + " --imap-security " + opts.get("imap-security", "tls")
                      + " --imap-user " + opts.get("imap-user", "alice");
    if (auto ca = opts.get("ca-file"); !ca.empty())
      cmd += " --ca-file " + ca;
    auto account = run_command(cmd, password_lines.front() + "\n");
    if (account.size() != 36) {
      std::cerr << "postern-bench: add-account for " << name << " failed\n";
      return 1;
    }
    auto token = run_command(postern + " admin issue-token " + name
                               + " --account " + account + " --scopes \""
                               + scopes + "\"",
                             "");
    if (token.empty()) {
      std::cerr << "postern-bench: issue-token for " << name << " failed\n";
      return 1;
    }
    tokens << token << "\n";
  }
  std::cerr << "postern-bench: " << users << " users with tokens in "
            << tokens_path << "\n";
  return 0;
}

} // namespace postern::bench
