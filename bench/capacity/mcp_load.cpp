// SPDX-License-Identifier: Apache-2.0
// postern-bench run and sessions: MCP clients over HTTP, one request at a
// time each, on one or more threads of one io_context.

#include "bench_support.hpp"
#include "side_loads.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <iterator>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;
using namespace std::chrono_literals;

namespace postern::bench {

namespace {

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
  /// list_messages asks for a random page from 1 to this (of 20 each).
  uint32_t pages = 1;
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

  std::string random_page() {
    std::uniform_int_distribution<uint32_t> pick(1, plan_.pages);
    return std::to_string(pick(rng_));
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
      body = call("list_messages", R"({"folder":")" + f
                                     + R"(","pageSize":20,"page":)"
                                     + random_page() + "}");
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

} // namespace

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
  plan.pages
    = static_cast<uint32_t>(std::max<long>(opts.number("pages", 1), 1));
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
  login_flood flood{plan.host, plan.port, opts.get("flood-user", "bench-0"),
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
  auto switches_before = pid > 0 ? context_switches(pid) : -1;
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
    auto switches = context_switches(pid) - switches_before;
    if (switches_before >= 0 && calls > 0)
      std::printf("server context switches: %.1f per request (voluntary + "
                  "involuntary, all threads)\n",
                  static_cast<double>(switches) / static_cast<double>(calls));
  }
  return result;
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

} // namespace postern::bench
