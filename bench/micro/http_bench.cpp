// SPDX-License-Identifier: Apache-2.0
// Micro-benchmarks of the per-request work that does not touch the network:
// routing and JSON escaping. Run: build/release/bench/postern-microbench
#include "postern/http/responses.hpp"
#include "postern/http/router.hpp"
#include "postern/log.hpp"

#include <benchmark/benchmark.h>

using namespace postern::http;

namespace {

router make_router() {
  router r;
  for (auto path : {"/healthz", "/mcp", "/oauth/token", "/oauth/authorize",
                    "/oauth/register", "/dashboard", "/login", "/signup"})
    r.add(bhttp::verb::get, path, [](const request&, const responder& respond) {
      respond(json_response(bhttp::status::ok, "{}"));
    });
  return r;
}

void route_dispatch(benchmark::State& state) {
  auto r = make_router();
  request req;
  req.raw.method(bhttp::verb::get);
  req.raw.target("/signup?x=1");
  for (auto _ : state) {
    r.dispatch(
      req, responder{[](response_type res) { benchmark::DoNotOptimize(res); }});
  }
}
BENCHMARK(route_dispatch);

void json_escape_mixed(benchmark::State& state) {
  std::string text;
  for (int i = 0; i < 64; ++i)
    text += "Grüße \"quoted\" line\n caf\xE9 ";
  for (auto _ : state) {
    std::string out;
    postern::append_json_escaped(out, text);
    benchmark::DoNotOptimize(out);
  }
  state.SetBytesProcessed(state.iterations()
                          * static_cast<int64_t>(text.size()));
}
BENCHMARK(json_escape_mixed);

} // namespace

// One main for every micro-benchmark file.
BENCHMARK_MAIN();
