// SPDX-License-Identifier: Apache-2.0
#include "bench_support.hpp"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

namespace postern::bench {

namespace {

/// User + system CPU seconds in a /proc/PID/stat file, or -1.
double cpu_seconds_in(const std::string& stat_path) {
  std::ifstream in{stat_path};
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

} // namespace

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

double percentile(std::vector<uint32_t>& sorted, double p) {
  if (sorted.empty())
    return 0;
  auto index = static_cast<size_t>(
    std::ceil(p / 100.0 * static_cast<double>(sorted.size())));
  index = std::min(sorted.size(), std::max<size_t>(index, 1)) - 1;
  return sorted[index] / 1000.0;
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
  return cpu_seconds_in("/proc/" + std::to_string(pid) + "/stat");
}

double cpu_seconds_of(const std::string& names) {
  std::vector<std::string> wanted;
  std::stringstream list{names};
  for (std::string name; std::getline(list, name, ',');)
    wanted.push_back(name);
  double total = 0;
  std::error_code ec;
  for (auto& entry : std::filesystem::directory_iterator{"/proc", ec}) {
    auto pid = entry.path().filename().string();
    if (pid.find_first_not_of("0123456789") != std::string::npos)
      continue;
    std::ifstream comm{entry.path() / "comm"};
    std::string name;
    std::getline(comm, name);
    if (std::find(wanted.begin(), wanted.end(), name) == wanted.end())
      continue;
    if (auto s = cpu_seconds_in(entry.path() / "stat"); s > 0)
      total += s;
  }
  return total;
}

long rss_kib(long pid) {
  std::ifstream in{"/proc/" + std::to_string(pid) + "/status"};
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0)
      return std::strtol(line.c_str() + 6, nullptr, 10);
  return -1;
}

long context_switches(long pid) {
  long total = 0;
  std::error_code ec;
  auto dir = "/proc/" + std::to_string(pid) + "/task";
  for (auto& task : std::filesystem::directory_iterator{dir, ec}) {
    std::ifstream in{task.path() / "status"};
    std::string line;
    while (std::getline(in, line))
      if (line.rfind("voluntary_ctxt_switches:", 0) == 0
          || line.rfind("nonvoluntary_ctxt_switches:", 0) == 0)
        total += std::strtol(line.c_str() + line.find(':') + 1, nullptr, 10);
  }
  return ec ? -1 : total;
}

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

} // namespace postern::bench
