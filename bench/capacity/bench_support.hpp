// SPDX-License-Identifier: Apache-2.0
#pragma once

// What postern-bench's modes share: the command line, the recorder of
// latencies and its report, server CPU and memory from /proc, and the
// loopback-only URL check. The modes: mcp_load.cpp (run, sessions),
// imap_floor.cpp (imap, raw-imap), setup.cpp (setup), side_loads.cpp
// (responder and the login flood).

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace postern::bench {

using clock_type = std::chrono::steady_clock;

// -- command line -------------------------------------------------------------

struct options {
  std::map<std::string, std::string> values;

  std::string get(const std::string& name,
                  const std::string& fallback = {}) const {
    auto i = values.find(name);
    return i == values.end() ? fallback : i->second;
  }

  long number(const std::string& name, long fallback) const {
    auto text = get(name);
    if (text.empty())
      return fallback;
    char* end = nullptr;
    auto value = std::strtol(text.c_str(), &end, 10);
    if (*end != '\0' || value < 0) {
      std::cerr << "postern-bench: --" << name << " must be a number\n";
      std::exit(2);
    }
    return value;
  }
};

/// The `--name value` pairs from argv[first] on (exits on anything else).
options parse_options(int argc, char** argv, int first);

/// The non-empty lines of a file (exits when it cannot be read).
std::vector<std::string> read_lines(const std::string& path);

// -- latencies and the report -------------------------------------------------

/// Latencies of one operation, and of the whole run per second.
struct recorder {
  std::mutex mtx;
  std::map<std::string, std::vector<uint32_t>> latencies_us;
  std::map<std::string, uint64_t> errors;
  std::map<std::string, uint64_t> error_kinds;
  /// When each operation was first and last recorded (for its own rate:
  /// " +flood" operations cover only part of the run).
  std::map<std::string,
           std::pair<clock_type::time_point, clock_type::time_point>>
    span;
  /// Per second since start: latencies of all operations.
  std::vector<std::vector<uint32_t>> per_second;
  clock_type::time_point start = clock_type::now();
  std::atomic<uint64_t> done{0};
  std::atomic<uint64_t> failed{0};

  void record(const std::string& op, clock_type::duration took,
              const std::string& error) {
    auto us = static_cast<uint32_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(took).count());
    auto second
      = static_cast<size_t>(std::chrono::duration_cast<std::chrono::seconds>(
                              clock_type::now() - start)
                              .count());
    std::lock_guard<std::mutex> guard{mtx};
    auto now = clock_type::now();
    auto [at, fresh] = span.try_emplace(op, now - took, now);
    if (!fresh)
      at->second.second = now;
    latencies_us[op].push_back(us);
    if (per_second.size() <= second)
      per_second.resize(second + 1);
    per_second[second].push_back(us);
    ++done;
    if (!error.empty()) {
      ++errors[op];
      ++error_kinds[op + ": " + error];
      ++failed;
    }
  }
};

/// The p-th percentile of sorted latencies in microseconds, in milliseconds.
double percentile(std::vector<uint32_t>& sorted, double p);

/// Prints the table (and writes --json and --svg when asked); 0 unless
/// every request failed.
int report(recorder& rec, double seconds, const options& opts);

// -- the server process -------------------------------------------------------

/// User + system CPU seconds a process has used so far (/proc/PID/stat),
/// or -1.
double cpu_seconds(long pid);

/// User + system CPU seconds used so far by every process whose name
/// (/proc/PID/comm) is one of the comma-separated `names` ("imap,imap-login"
/// for Dovecot, whose login processes carry the TLS).
double cpu_seconds_of(const std::string& names);

/// Resident memory of a process in KiB (/proc/PID/status), or -1.
long rss_kib(long pid);

/// Voluntary + involuntary context switches of every thread a process has
/// now (/proc/PID/task/*/status), or -1. Threads that ended are not counted:
/// compare two readings over a span in which the server's threads live on.
long context_switches(long pid);

// -- loopback URLs ------------------------------------------------------------

struct parsed_url {
  std::string host;
  std::string port;
  std::string target;
};

/// Splits http://127.0.0.1:PORT/path; exits on any other host.
parsed_url parse_url(const std::string& url);

// -- the modes ----------------------------------------------------------------

/// run: MCP clients posting the --mix for --duration (mcp_load.cpp).
int run(const options& opts);
/// sessions: the memory of N open MCP sessions (mcp_load.cpp).
int sessions(const options& opts);
/// imap: the same work through Postern's IMAP session (imap_floor.cpp).
int imap_baseline(const options& opts);
/// raw-imap: the floor, a hand-written IMAP client (imap_floor.cpp).
int raw_imap_floor(const options& opts);
/// imap-fill: appends messages to INBOX up to --messages (imap_floor.cpp).
int imap_fill(const options& opts);
/// setup: users, accounts and tokens through `postern admin` (setup.cpp).
int setup(const options& opts);

} // namespace postern::bench
