// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>

namespace postern::http {

/// A latency histogram with fixed buckets (seconds), safe to update from
/// any thread without locks.
class histogram {
public:
  static constexpr std::array<double, 12> bounds{
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5};

  void observe(std::chrono::microseconds took);

  /// Appends the Prometheus text lines of this histogram.
  void render(std::string& out, const std::string& name,
              const std::string& labels) const;

private:
  std::array<std::atomic<uint64_t>, bounds.size() + 1> buckets_{};
  std::atomic<uint64_t> count_{0};
  std::atomic<uint64_t> sum_us_{0};
};

/// The process-wide metrics that `/metrics` exposes in Prometheus text
/// format. Series are created on first use; labels come from bounded sets
/// (route patterns, tool names, status classes), never from raw input.
class metrics {
public:
  /// The one registry of the process.
  static metrics& instance();

  /// One HTTP request: its route pattern ("/mcp", "other"), status code and
  /// duration.
  void observe_request(std::string_view route, unsigned status,
                       std::chrono::microseconds took);

  /// One MCP tool call and its outcome ("ok", "tool_error", "denied",
  /// "rate_limited", ...).
  void observe_tool(std::string_view tool, std::string_view outcome,
                    std::chrono::microseconds took);

  /// Counts one error of a kind (e.g. "imap:authentication_failed").
  void count_error(std::string_view kind);

  /// Registers a gauge sampled at every scrape (e.g. open connections).
  /// Re-registering a name replaces its source.
  void add_gauge(const std::string& name, std::function<double()> source);

  /// Removes a gauge (its source is going away).
  void remove_gauge(const std::string& name);

  /// The Prometheus text of every series and gauge, plus `extra` gauges
  /// sampled by the caller.
  std::string render(const std::map<std::string, double>& extra) const;

private:
  struct series {
    std::atomic<uint64_t> count{0};
    histogram latency;
  };

  series& find(std::map<std::string, std::unique_ptr<series>>& table,
               const std::string& key);
  std::atomic<uint64_t>& counter(const std::string& key);

  mutable std::shared_mutex mtx_;
  std::map<std::string, std::unique_ptr<series>> requests_;     // route|status
  std::map<std::string, std::unique_ptr<series>> routes_;       // route
  std::map<std::string, std::unique_ptr<series>> tools_;        // tool|outcome
  std::map<std::string, std::unique_ptr<series>> tool_latency_; // tool
  std::map<std::string, std::unique_ptr<std::atomic<uint64_t>>> errors_;
  std::map<std::string, std::function<double()>> gauges_;
};

} // namespace postern::http
