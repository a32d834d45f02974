// SPDX-License-Identifier: Apache-2.0
#include "postern/http/metrics.hpp"

#include <fmt/format.h>

#include <mutex>

namespace postern::http {

void histogram::observe(std::chrono::microseconds took) {
  auto seconds = static_cast<double>(took.count()) / 1e6;
  size_t i = 0;
  while (i < bounds.size() && seconds > bounds[i])
    ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  sum_us_.fetch_add(static_cast<uint64_t>(took.count()),
                    std::memory_order_relaxed);
}

void histogram::render(std::string& out, const std::string& name,
                       const std::string& labels) const {
  uint64_t cumulative = 0;
  auto sep = labels.empty() ? "" : ",";
  for (size_t i = 0; i < bounds.size(); ++i) {
    cumulative += buckets_[i].load(std::memory_order_relaxed);
    out += fmt::format("{}_bucket{{{}{}le=\"{}\"}} {}\n", name, labels, sep,
                       bounds[i], cumulative);
  }
  cumulative += buckets_[bounds.size()].load(std::memory_order_relaxed);
  out += fmt::format("{}_bucket{{{}{}le=\"+Inf\"}} {}\n", name, labels, sep,
                     cumulative);
  out += fmt::format("{}_sum{{{}}} {}\n", name, labels,
                     static_cast<double>(sum_us_.load()) / 1e6);
  out += fmt::format("{}_count{{{}}} {}\n", name, labels, count_.load());
}

metrics& metrics::instance() {
  static metrics registry;
  return registry;
}

metrics::series&
metrics::find(std::map<std::string, std::unique_ptr<series>>& table,
              const std::string& key) {
  {
    std::shared_lock<std::shared_mutex> guard{mtx_};
    if (auto i = table.find(key); i != table.end())
      return *i->second;
  }
  std::unique_lock<std::shared_mutex> guard{mtx_};
  auto& slot = table[key];
  if (!slot)
    slot = std::make_unique<series>();
  return *slot;
}

std::atomic<uint64_t>& metrics::counter(const std::string& key) {
  {
    std::shared_lock<std::shared_mutex> guard{mtx_};
    if (auto i = errors_.find(key); i != errors_.end())
      return *i->second;
  }
  std::unique_lock<std::shared_mutex> guard{mtx_};
  auto& slot = errors_[key];
  if (!slot)
    slot = std::make_unique<std::atomic<uint64_t>>(0);
  return *slot;
}

void metrics::observe_request(std::string_view route, unsigned status,
                              std::chrono::microseconds took) {
  auto key = std::string{route} + "|" + std::to_string(status);
  find(requests_, key).count.fetch_add(1, std::memory_order_relaxed);
  find(routes_, std::string{route}).latency.observe(took);
}

void metrics::observe_tool(std::string_view tool, std::string_view outcome,
                           std::chrono::microseconds took) {
  auto key = std::string{tool} + "|" + std::string{outcome};
  find(tools_, key).count.fetch_add(1, std::memory_order_relaxed);
  find(tool_latency_, std::string{tool}).latency.observe(took);
}

void metrics::count_error(std::string_view kind) {
  counter(std::string{kind}).fetch_add(1, std::memory_order_relaxed);
}

void metrics::add_gauge(const std::string& name,
                        std::function<double()> source) {
  std::unique_lock<std::shared_mutex> guard{mtx_};
  gauges_[name] = std::move(source);
}

void metrics::remove_gauge(const std::string& name) {
  std::unique_lock<std::shared_mutex> guard{mtx_};
  gauges_.erase(name);
}

std::string metrics::render(const std::map<std::string, double>& extra) const {
  std::string out;
  std::shared_lock<std::shared_mutex> guard{mtx_};
  auto gauges = extra;
  for (auto& [name, source] : gauges_)
    gauges[name] = source();
  auto split = [](const std::string& key) {
    auto bar = key.find('|');
    return std::make_pair(key.substr(0, bar), key.substr(bar + 1));
  };
  out
    += "# HELP postern_http_requests_total HTTP requests by route and status.\n"
       "# TYPE postern_http_requests_total counter\n";
  for (auto& [key, s] : requests_) {
    auto [route, status] = split(key);
    out += fmt::format(
      "postern_http_requests_total{{route=\"{}\",status=\"{}\"}} {}\n", route,
      status, s->count.load());
  }
  out += "# HELP postern_http_request_duration_seconds HTTP latency by route.\n"
         "# TYPE postern_http_request_duration_seconds histogram\n";
  for (auto& [route, s] : routes_)
    s->latency.render(out, "postern_http_request_duration_seconds",
                      "route=\"" + route + "\"");
  out += "# HELP postern_tool_calls_total MCP tool calls by tool and outcome.\n"
         "# TYPE postern_tool_calls_total counter\n";
  for (auto& [key, s] : tools_) {
    auto [tool, outcome] = split(key);
    out += fmt::format(
      "postern_tool_calls_total{{tool=\"{}\",outcome=\"{}\"}} {}\n", tool,
      outcome, s->count.load());
  }
  out += "# HELP postern_tool_duration_seconds MCP tool latency by tool.\n"
         "# TYPE postern_tool_duration_seconds histogram\n";
  for (auto& [tool, s] : tool_latency_)
    s->latency.render(out, "postern_tool_duration_seconds",
                      "tool=\"" + tool + "\"");
  out += "# HELP postern_errors_total Errors by kind.\n"
         "# TYPE postern_errors_total counter\n";
  for (auto& [kind, n] : errors_)
    out += fmt::format("postern_errors_total{{kind=\"{}\"}} {}\n", kind,
                       n->load());
  for (auto& [name, value] : gauges)
    out += fmt::format("# TYPE {} gauge\n{} {}\n", name, name, value);
  return out;
}

} // namespace postern::http
