// SPDX-License-Identifier: Apache-2.0
// postern-bench: the capacity benchmark operators size deployments with.
//
//   postern-bench setup  --users N --tokens FILE [--postern BIN] [account
//   flags] postern-bench run    --url URL --tokens FILE --clients C
//                        [--duration S | --requests N] [--mix SPEC]
//                        [--json FILE] [--svg FILE] [--threads T]
//                        [--era legacy|legacy-padded|modern] [--pid PID]
//                        (server CPU per call)
//                        [--flood-loops L [--flood-after S] [--flood-user U]
//                         [--flood-spoof 1]]   (wrong-password logins
//                         meanwhile)
//   postern-bench sessions --url URL --tokens FILE --sessions S --pid PID
//   postern-bench imap   --host H --port P --user U --password-file F
//                        --clients C --duration S   (direct-IMAP baseline)
//   postern-bench responder --port P [--body-bytes N] [--duration S]
//                        (a trivial server: the load generator's ceiling)
//
// Everything talks to loopback only, and every loop is bounded by a count
// and a time limit. See bench/README.md.

#include "postern/error.hpp"
#include "postern/imap/session.hpp"
#include "side_loads.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;
using clock_type = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

// -- command line
// ---------------------------------------------------------------

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

options parse_options(int argc, char** argv, int first) {
  options result;
  for (int i = first; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.rfind("--", 0) != 0 || i + 1 >= argc) {
      std::cerr << "postern-bench: expected --name value, got " << arg << "\n";
      std::exit(2);
    }
    result.values[arg.substr(2)] = argv[++i];
  }
  return result;
}

std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream in{path};
  if (!in) {
    std::cerr << "postern-bench: cannot read " << path << "\n";
    std::exit(1);
  }
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line))
    if (!line.empty())
      lines.push_back(line);
  return lines;
}

// -- the load
// -------------------------------------------------------------------

/// One kind of request in the mix.
struct operation {
  std::string name; // "tools/list" or a tool name
  unsigned weight = 0;
};

std::vector<operation> parse_mix(const std::string& spec) {
  std::vector<operation> ops;
  std::stringstream in{spec};
  std::string item;
  while (std::getline(in, item, ',')) {
    auto eq = item.find('=');
    operation op;
    op.name = item.substr(0, eq);
    op.weight = eq == std::string::npos
                  ? 1u
                  : static_cast<unsigned>(
                    std::strtoul(item.c_str() + eq + 1, nullptr, 10));
    static const char* known[] = {"tools/list",   "list_messages",
                                  "read_message", "search_messages",
                                  "flag_message", "list_folders"};
    if (std::find(std::begin(known), std::end(known), op.name)
        == std::end(known)) {
      std::cerr << "postern-bench: unknown operation in --mix: " << op.name
                << "\n";
      std::exit(2);
    }
    if (op.weight > 0)
      ops.push_back(op);
  }
  if (ops.empty()) {
    std::cerr << "postern-bench: --mix has no operation\n";
    std::exit(2);
  }
  return ops;
}

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

double percentile(std::vector<uint32_t>& sorted, double p) {
  if (sorted.empty())
    return 0;
  auto index = static_cast<size_t>(
    std::ceil(p / 100.0 * static_cast<double>(sorted.size())));
  index = std::min(sorted.size(), std::max<size_t>(index, 1)) - 1;
  return sorted[index] / 1000.0;
}

/// Shared by all clients of a run.
struct run_plan {
  std::string host;
  std::string port;
  std::string target;
  std::string origin;
  std::vector<operation> mix;
  unsigned total_weight = 0;
  uint64_t max_requests = 0; // 0: no limit
  clock_type::time_point deadline;
  std::atomic<uint64_t> issued{0};
  recorder rec;
  std::string folder = "INBOX";
  /// --era modern: protocol 2026-07-28, no initialize and no session; every
  /// request carries `_meta` and the Mcp-Method / Mcp-Name headers.
  bool modern = false;
  /// --era legacy-padded: the legacy era with requests as large as modern
  /// ones (a `_meta` of the same size under keys nobody reads, and the
  /// Mcp-Method / Mcp-Name headers, which the legacy era ignores): what the
  /// modern era costs beyond parsing its larger requests.
  bool padded = false;
  /// True while the login flood runs: requests started then are reported
  /// apart (" +flood").
  std::atomic<bool> flooding{false};
};

/// One MCP client: its own connection and session, one request at a time.
class client : public std::enable_shared_from_this<client> {
public:
  client(net::io_context& ioc, run_plan& plan, std::string token, unsigned seed)
    : stream_(net::make_strand(ioc)),
      plan_(plan),
      token_(std::move(token)),
      rng_(seed) {
    // nop
  }

  void start(const tcp::resolver::results_type& endpoints) {
    stream_.expires_after(10s);
    stream_.async_connect(
      endpoints,
      [self = shared_from_this()](beast::error_code ec, const tcp::endpoint&) {
        if (ec)
          return self->fail_setup("connect: " + ec.message());
        if (self->plan_.modern)
          return self->learn_uids();
        self->initialize();
      });
  }

private:
  using handler = void (client::*)();

  void fail_setup(const std::string& why) {
    plan_.rec.record("setup", 0s, why);
  }

  void post(const std::string& body, handler then, bool track = true,
            std::string op = {}) {
    req_ = {};
    req_.method(bhttp::verb::post);
    req_.target(plan_.target);
    req_.version(11);
    req_.set(bhttp::field::host, plan_.host + ":" + plan_.port);
    req_.set(bhttp::field::content_type, "application/json");
    req_.set(bhttp::field::accept, "application/json, text/event-stream");
    req_.set(bhttp::field::authorization, "Bearer " + token_);
    if (!plan_.origin.empty())
      req_.set(bhttp::field::origin, plan_.origin);
    if (plan_.modern) {
      req_.set("MCP-Protocol-Version", "2026-07-28");
      req_.set("Mcp-Method", method_);
      if (!name_.empty())
        req_.set("Mcp-Name", name_);
    } else if (!session_.empty()) {
      if (plan_.padded) {
        req_.set("Mcp-Method", method_);
        if (!name_.empty())
          req_.set("Mcp-Name", name_);
      }
      req_.set("Mcp-Session-Id", session_);
      req_.set("MCP-Protocol-Version", "2025-06-18");
    }
    req_.body() = body;
    req_.prepare_payload();
    op_ = plan_.flooding ? op + " +flood" : std::move(op);
    track_ = track;
    next_ = then;
    started_ = clock_type::now();
    stream_.expires_after(60s);
    bhttp::async_write(
      stream_, req_, [self = shared_from_this()](beast::error_code ec, size_t) {
        if (ec)
          return self->finish("write: " + ec.message());
        self->res_ = {};
        bhttp::async_read(self->stream_, self->buffer_, self->res_,
                          [self](beast::error_code rec, size_t) {
                            if (rec)
                              return self->finish("read: " + rec.message());
                            self->finish({});
                          });
      });
  }

  void finish(std::string error) {
    auto took = clock_type::now() - started_;
    if (error.empty()) {
      auto status = res_.result_int();
      if (status != 200 && status != 202)
        error = "HTTP " + std::to_string(status);
      else if (status == 200
               && res_.body().find("\"result\":") == std::string::npos)
        error = "JSON-RPC error";
      else if (res_.body().find("\"isError\":true") != std::string::npos)
        error = "tool error";
    }
    if (track_)
      plan_.rec.record(op_, took, error);
    else if (!error.empty())
      plan_.rec.record("setup", took, error);
    if (!error.empty()
        && (error.rfind("read:", 0) == 0 || error.rfind("write:", 0) == 0))
      return; // the connection is gone: this client stops
    if (!track_ && !error.empty())
      return;
    (this->*next_)();
  }

  void initialize() {
    post(R"({"jsonrpc":"2.0","id":1,"method":"initialize","params":{)"
         R"("protocolVersion":"2025-06-18","capabilities":{},)"
         R"("clientInfo":{"name":"postern-bench","version":"1"}}})",
         &client::initialized, false);
  }

  void initialized() {
    auto id = res_.find("Mcp-Session-Id");
    if (id == res_.end())
      return fail_setup("no Mcp-Session-Id in the initialize response");
    session_ = std::string{id->value()};
    post(R"({"jsonrpc":"2.0","method":"notifications/initialized"})",
         &client::learn_uids, false);
  }

  void learn_uids() {
    post(call("list_messages",
              R"({"folder":")" + plan_.folder + R"(","pageSize":50})"),
         &client::remember_uids, false);
  }

  void remember_uids() {
    // Cheap scan of the structured result for "uid":N.
    const auto& body = res_.body();
    for (size_t pos = 0;
         (pos = body.find("\"uid\":", pos)) != std::string::npos;) {
      pos += 6;
      auto uid = std::strtoul(body.c_str() + pos, nullptr, 10);
      if (uid > 0 && std::find(uids_.begin(), uids_.end(), uid) == uids_.end())
        uids_.push_back(uid);
    }
    next();
  }

  /// What a modern request carries in params._meta.
  static constexpr const char* modern_meta
    = R"("_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28",)"
      R"("io.modelcontextprotocol/clientInfo":{"name":"postern-bench","version":"1"},)"
      R"("io.modelcontextprotocol/clientCapabilities":{}},)";

  /// modern_meta with the same bytes but keys no era reads.
  static constexpr const char* padded_meta
    = R"("_meta":{"io.modelcontextprotocol/protocolVersiox":"2026-07-28",)"
      R"("io.modelcontextprotocol/clientInfx":{"name":"postern-bench","version":"1"},)"
      R"("io.modelcontextprotocol/clientCapabilitiex":{}},)";

  const char* meta() const {
    return plan_.modern ? modern_meta : plan_.padded ? padded_meta : "";
  }

  std::string call(const std::string& tool, const std::string& args) {
    method_ = "tools/call";
    name_ = tool;
    return R"({"jsonrpc":"2.0","id":)" + std::to_string(++id_)
           + R"(,"method":"tools/call","params":{)" + meta() + R"("name":")"
           + tool + R"(","arguments":)" + args + "}}";
  }

  std::string tools_list() {
    method_ = "tools/list";
    name_.clear();
    auto head = R"({"jsonrpc":"2.0","id":)" + std::to_string(++id_)
                + R"(,"method":"tools/list")";
    if (!plan_.modern && !plan_.padded)
      return head + "}";
    std::string m = meta();
    m.pop_back(); // the trailing comma
    return head + R"(,"params":{)" + m + "}}";
  }

  std::string random_uid() {
    if (uids_.empty())
      return "1";
    std::uniform_int_distribution<size_t> pick(0, uids_.size() - 1);
    return std::to_string(uids_[pick(rng_)]);
  }

  void next() {
    auto n = plan_.issued.fetch_add(1);
    if ((plan_.max_requests > 0 && n >= plan_.max_requests)
        || clock_type::now() >= plan_.deadline)
      return;
    std::uniform_int_distribution<unsigned> pick(0, plan_.total_weight - 1);
    auto w = pick(rng_);
    const operation* op = &plan_.mix.front();
    for (auto& o : plan_.mix) {
      if (w < o.weight) {
        op = &o;
        break;
      }
      w -= o.weight;
    }
    std::string body;
    const auto& f = plan_.folder;
    if (op->name == "tools/list")
      body = tools_list();
    else if (op->name == "list_folders")
      body = call("list_folders", "{}");
    else if (op->name == "list_messages")
      body = call("list_messages",
                  R"({"folder":")" + f + R"(","pageSize":20})");
    else if (op->name == "read_message")
      body = call("read_message",
                  R"({"folder":")" + f + R"(","uid":)" + random_uid() + "}");
    else if (op->name == "search_messages")
      body = call("search_messages",
                  R"({"folder":")" + f + R"(","query":"report","limit":20})");
    else // flag_message: toggles \Flagged back and forth
      body = call("flag_message", R"({"folder":")" + f + R"(","uid":)"
                                    + random_uid() + R"(,"flagged":)"
                                    + ((id_ % 2) ? "true" : "false") + "}");
    post(body, &client::next, true, op->name);
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  bhttp::request<bhttp::string_body> req_;
  bhttp::response<bhttp::string_body> res_;
  run_plan& plan_;
  std::string token_;
  std::string session_;
  /// Mirrored into Mcp-Method and Mcp-Name (modern era).
  std::string method_;
  std::string name_;
  std::mt19937 rng_;
  std::vector<unsigned long> uids_;
  uint64_t id_ = 1;
  std::string op_;
  bool track_ = false;
  handler next_ = nullptr;
  clock_type::time_point started_;
};

struct parsed_url {
  std::string host;
  std::string port;
  std::string target;
};

parsed_url parse_url(const std::string& url) {
  // Loopback only: this tool never sends load anywhere else.
  const std::string prefix = "http://";
  if (url.rfind(prefix, 0) != 0) {
    std::cerr << "postern-bench: --url must be http://127.0.0.1:PORT/mcp\n";
    std::exit(2);
  }
  auto rest = url.substr(prefix.size());
  auto slash = rest.find('/');
  auto authority = rest.substr(0, slash);
  parsed_url result;
  result.target = slash == std::string::npos ? "/" : rest.substr(slash);
  auto colon = authority.rfind(':');
  result.host = authority.substr(0, colon);
  result.port = colon == std::string::npos ? "80" : authority.substr(colon + 1);
  if (result.host != "127.0.0.1" && result.host != "localhost"
      && result.host != "[::1]") {
    std::cerr << "postern-bench: refusing to load " << result.host
              << ": loopback addresses only\n";
    std::exit(2);
  }
  return result;
}

void write_svg(const std::string& path, recorder& rec) {
  // p50 and p99 per second as two polylines.
  std::vector<std::pair<double, double>> points;
  double top = 1;
  for (auto& bucket : rec.per_second) {
    std::sort(bucket.begin(), bucket.end());
    auto p50 = percentile(bucket, 50);
    auto p99 = percentile(bucket, 99);
    points.emplace_back(p50, p99);
    top = std::max(top, p99);
  }
  const double w = 800, h = 300, left = 60, bottom = 30;
  auto x = [&](size_t i) {
    return left
           + (w - left - 10) * static_cast<double>(i)
               / std::max<double>(1, static_cast<double>(points.size() - 1));
  };
  auto y = [&](double ms) { return h - bottom - (h - bottom - 10) * ms / top; };
  std::ofstream out{path};
  out << R"(<svg xmlns="http://www.w3.org/2000/svg" width=")" << w
      << R"(" height=")" << h << R"(" font-family="sans-serif" font-size="12">)"
      << "\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  out << "<text x=\"" << left << "\" y=\"14\">latency per second (ms): p50 "
      << "(blue), p99 (red); top = " << top << " ms</text>\n";
  out << "<line x1=\"" << left << "\" y1=\"" << h - bottom << "\" x2=\""
      << w - 10 << "\" y2=\"" << h - bottom << "\" stroke=\"black\"/>\n";
  for (int which = 0; which < 2; ++which) {
    out << "<polyline fill=\"none\" stroke=\"" << (which ? "red" : "blue")
        << "\" points=\"";
    for (size_t i = 0; i < points.size(); ++i)
      out << x(i) << "," << y(which ? points[i].second : points[i].first)
          << " ";
    out << "\"/>\n";
  }
  out << "<text x=\"" << left << "\" y=\"" << h - 8 << "\">0 s</text>\n";
  out << "<text x=\"" << w - 60 << "\" y=\"" << h - 8 << "\">" << points.size()
      << " s</text>\n</svg>\n";
}

int report(recorder& rec, double seconds, const options& opts) {
  std::printf("\n%-16s %9s %10s %9s %9s %9s %9s %8s\n", "operation", "requests",
              "req/s", "p50 ms", "p90 ms", "p99 ms", "max ms", "errors");
  std::ostringstream json;
  json << "{\"seconds\":" << seconds << ",\"operations\":{";
  bool first = true;
  uint64_t total = 0;
  for (auto& [op, lat] : rec.latencies_us) {
    std::sort(lat.begin(), lat.end());
    auto n = lat.size();
    total += n;
    // Over the operation's own span when it covered part of the run only.
    auto& [from, to] = rec.span[op];
    auto own = std::chrono::duration<double>(to - from).count();
    auto rate = static_cast<double>(n)
                / (own > 0.5 && own < seconds ? own : seconds);
    auto errors = rec.errors[op];
    std::printf("%-16s %9zu %10.1f %9.2f %9.2f %9.2f %9.2f %8lu\n", op.c_str(),
                n, rate, percentile(lat, 50), percentile(lat, 90),
                percentile(lat, 99), lat.empty() ? 0.0 : lat.back() / 1000.0,
                static_cast<unsigned long>(errors));
    json << (first ? "" : ",") << "\"" << op << "\":{\"requests\":" << n
         << ",\"rate\":" << rate << ",\"p50_ms\":" << percentile(lat, 50)
         << ",\"p90_ms\":" << percentile(lat, 90)
         << ",\"p99_ms\":" << percentile(lat, 99)
         << ",\"max_ms\":" << (lat.empty() ? 0.0 : lat.back() / 1000.0)
         << ",\"errors\":" << errors << "}";
    first = false;
  }
  json << "},\"total_requests\":" << total << ",\"errors\":{";
  first = true;
  for (auto& [kind, count] : rec.error_kinds) {
    std::printf("  error %s: %lu\n", kind.c_str(),
                static_cast<unsigned long>(count));
    std::string escaped;
    for (auto c : kind)
      if (c != '"' && c != '\\' && static_cast<unsigned char>(c) >= 0x20)
        escaped += c;
    json << (first ? "" : ",") << "\"" << escaped << "\":" << count;
    first = false;
  }
  json << "}}\n";
  std::printf("total %lu requests in %.1f s = %.1f req/s\n",
              static_cast<unsigned long>(total), seconds,
              static_cast<double>(total) / seconds);
  if (auto path = opts.get("json"); !path.empty())
    std::ofstream{path} << json.str();
  if (auto path = opts.get("svg"); !path.empty())
    write_svg(path, rec);
  // A run whose every request failed is a failed run.
  return total > 0 && rec.failed < total ? 0 : 1;
}

/// User + system CPU seconds a process has used so far (/proc/PID/stat),
/// or -1.
double cpu_seconds(long pid) {
  std::ifstream in{"/proc/" + std::to_string(pid) + "/stat"};
  std::string stat{std::istreambuf_iterator<char>{in}, {}};
  // Fields after the command name (which may hold spaces) in parentheses.
  auto close = stat.rfind(')');
  if (close == std::string::npos)
    return -1;
  std::istringstream fields{stat.substr(close + 2)};
  std::string field;
  unsigned long utime = 0;
  unsigned long stime = 0;
  // state is field 3; utime and stime are fields 14 and 15.
  for (int i = 3; i <= 15 && fields >> field; ++i) {
    if (i == 14)
      utime = std::stoul(field);
    if (i == 15)
      stime = std::stoul(field);
  }
  return static_cast<double>(utime + stime)
         / static_cast<double>(sysconf(_SC_CLK_TCK));
}

int run(const options& opts) {
  auto url = parse_url(opts.get("url", "http://127.0.0.1:3000/mcp"));
  auto tokens = read_lines(opts.get("tokens"));
  if (tokens.empty()) {
    std::cerr << "postern-bench: no tokens in --tokens\n";
    return 2;
  }
  auto clients = static_cast<size_t>(opts.number("clients", 10));
  auto threads = static_cast<size_t>(opts.number("threads", 1));
  auto duration = std::chrono::seconds(opts.number("duration", 10));
  run_plan plan;
  plan.host = url.host;
  plan.port = url.port;
  plan.target = url.target;
  plan.origin = opts.get("origin");
  plan.folder = opts.get("folder", "INBOX");
  auto era = opts.get("era", "legacy");
  if (era != "legacy" && era != "modern" && era != "legacy-padded") {
    std::cerr << "postern-bench: --era is legacy, legacy-padded or modern\n";
    return 2;
  }
  plan.modern = era == "modern";
  plan.padded = era == "legacy-padded";
  plan.mix = parse_mix(opts.get("mix", "tools/list=1"));
  for (auto& o : plan.mix)
    plan.total_weight += o.weight;
  plan.max_requests = static_cast<uint64_t>(opts.number("requests", 0));
  // Hard bounds: at most 10 minutes, whatever was asked.
  duration = std::min<std::chrono::seconds>(duration, 600s);
  net::io_context ioc;
  tcp::resolver resolver{ioc};
  auto endpoints = resolver.resolve(plan.host, plan.port);
  plan.rec.start = clock_type::now();
  plan.deadline = plan.rec.start + duration;
  std::vector<std::shared_ptr<client>> all;
  for (size_t i = 0; i < clients; ++i) {
    all.push_back(std::make_shared<client>(ioc, plan, tokens[i % tokens.size()],
                                           static_cast<unsigned>(i + 1)));
    all.back()->start(endpoints);
  }
  all.clear(); // the clients keep themselves alive while they work
  std::atomic<bool> running{true};
  std::thread progress{[&] {
    uint64_t last = 0;
    while (running) {
      std::this_thread::sleep_for(1s);
      auto now = plan.rec.done.load();
      auto elapsed
        = std::chrono::duration<double>(clock_type::now() - plan.rec.start)
            .count();
      std::fprintf(stderr, "\r%6.1f s %9lu requests %8lu req/s  errors %lu   ",
                   elapsed, static_cast<unsigned long>(now),
                   static_cast<unsigned long>(now - last),
                   static_cast<unsigned long>(plan.rec.failed.load()));
      last = now;
    }
  }};
  // The login flood starts halfway (by default), so one run compares the
  // same load without and with it.
  auto flood_loops = static_cast<unsigned>(opts.number("flood-loops", 0));
  postern::bench::login_flood flood{plan.host, plan.port,
                                    opts.get("flood-user", "bench-0"),
                                    opts.get("flood-spoof", "0") == "1"};
  std::thread flood_starter;
  if (flood_loops > 0)
    flood_starter = std::thread{[&] {
      auto at = plan.rec.start
                + std::chrono::seconds(
                  opts.number("flood-after", duration.count() / 2));
      while (running && clock_type::now() < at)
        std::this_thread::sleep_for(10ms);
      if (running) {
        plan.flooding = true;
        flood.start(flood_loops);
      }
    }};
  auto pid = opts.number("pid", 0);
  auto cpu_before = pid > 0 ? cpu_seconds(pid) : -1;
  std::vector<std::thread> pool;
  for (size_t i = 1; i < threads; ++i)
    pool.emplace_back([&] { ioc.run(); });
  ioc.run();
  for (auto& t : pool)
    t.join();
  running = false;
  progress.join();
  if (flood_starter.joinable()) {
    flood_starter.join();
    flood.stop();
    std::fprintf(stderr,
                 "\nlogin flood: %lu attempts (%lu checked and refused, %lu "
                 "throttled, %lu other)",
                 static_cast<unsigned long>(flood.attempts()),
                 static_cast<unsigned long>(flood.rejected()),
                 static_cast<unsigned long>(flood.throttled()),
                 static_cast<unsigned long>(flood.other()));
  }
  auto seconds
    = std::chrono::duration<double>(clock_type::now() - plan.rec.start).count();
  std::fprintf(stderr, "\n");
  auto result = report(plan.rec, seconds, opts);
  if (cpu_before >= 0) {
    // Every request the server answered, setup (initialize, the first
    // listing) included, shares the CPU it used.
    auto used = cpu_seconds(pid) - cpu_before;
    auto calls = plan.rec.done.load();
    std::printf("server CPU (%s era): %.2f s for %lu requests = %.1f us per "
                "request, %.0f %% of one core\n",
                plan.modern   ? "modern"
                : plan.padded ? "legacy-padded"
                              : "legacy",
                used, static_cast<unsigned long>(calls),
                calls > 0 ? used * 1e6 / static_cast<double>(calls) : 0.0,
                100.0 * used / seconds);
  }
  return result;
}

// -- sessions
// ---------------------------------------------------------------------

long rss_kib(long pid) {
  std::ifstream in{"/proc/" + std::to_string(pid) + "/status"};
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0)
      return std::strtol(line.c_str() + 6, nullptr, 10);
  return -1;
}

int sessions(const options& opts) {
  auto url = parse_url(opts.get("url", "http://127.0.0.1:3000/mcp"));
  auto tokens = read_lines(opts.get("tokens"));
  auto count = opts.number("sessions", 1000);
  auto pid = opts.number("pid", 0);
  if (tokens.empty() || pid <= 0) {
    std::cerr << "postern-bench: sessions needs --tokens and --pid\n";
    return 2;
  }
  auto before = rss_kib(pid);
  net::io_context ioc;
  tcp::resolver resolver{ioc};
  beast::tcp_stream stream{ioc};
  stream.connect(resolver.resolve(url.host, url.port));
  long opened = 0;
  auto deadline = clock_type::now() + 600s;
  for (long i = 0; i < count && clock_type::now() < deadline; ++i) {
    bhttp::request<bhttp::string_body> req{bhttp::verb::post, url.target, 11};
    req.set(bhttp::field::host, url.host);
    req.set(bhttp::field::content_type, "application/json");
    req.set(bhttp::field::accept, "application/json, text/event-stream");
    req.set(bhttp::field::authorization,
            "Bearer " + tokens[static_cast<size_t>(i) % tokens.size()]);
    req.body() = R"({"jsonrpc":"2.0","id":1,"method":"initialize","params":{)"
                 R"("protocolVersion":"2025-06-18","capabilities":{},)"
                 R"("clientInfo":{"name":"postern-bench","version":"1"}}})";
    req.prepare_payload();
    bhttp::write(stream, req);
    beast::flat_buffer buffer;
    bhttp::response<bhttp::string_body> res;
    bhttp::read(stream, buffer, res);
    if (res.result_int() == 200 && res.find("Mcp-Session-Id") != res.end())
      ++opened;
  }
  std::this_thread::sleep_for(500ms);
  auto after = rss_kib(pid);
  std::printf("opened %ld sessions; RSS %ld KiB -> %ld KiB; %.1f MiB per 1000 "
              "sessions\n",
              opened, before, after,
              opened > 0 ? static_cast<double>(after - before) / 1024.0 * 1000.0
                             / static_cast<double>(opened)
                         : 0.0);
  return opened == count ? 0 : 1;
}

// -- direct IMAP baseline
// -------------------------------------------------------------

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

// -- setup
// ------------------------------------------------------------------------------

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

} // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: postern-bench setup|run|sessions|imap|responder "
                 "[--name value]...\n"
                 "see bench/README.md\n";
    return 2;
  }
  std::string mode = argv[1];
  auto opts = parse_options(argc, argv, 2);
  if (mode == "setup")
    return setup(opts);
  if (mode == "run")
    return run(opts);
  if (mode == "sessions")
    return sessions(opts);
  if (mode == "imap")
    return imap_baseline(opts);
  if (mode == "responder")
    return postern::bench::trivial_responder(
      static_cast<uint16_t>(opts.number("port", 0)),
      static_cast<size_t>(opts.number("body-bytes", 14000)),
      static_cast<unsigned>(std::min<long>(opts.number("duration", 60), 600)));
  std::cerr << "postern-bench: unknown mode " << mode << "\n";
  return 2;
}
