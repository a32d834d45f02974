// SPDX-License-Identifier: Apache-2.0
#include "postern/process/run_server.hpp"

#include "postern/actors/actor_config.hpp"
#include "postern/actors/node.hpp"
#include "postern/clock.hpp"
#include "postern/error.hpp"
#include "postern/http/metrics.hpp"
#include "postern/http/metrics_route.hpp"
#include "postern/http/routes.hpp"
#include "postern/http/server.hpp"
#include "postern/log.hpp"
#include "postern/mcp/tools.hpp"
#include "postern/storage/key_files.hpp"
#include "postern/version.hpp"

#include <caf/actor_system.hpp>
#include <caf/send.hpp>

namespace postern {

using http::add_metrics_route;
using http::add_routes;
using http::endpoints;
using http::metrics;
using http::router;
using http::server;

namespace {

/// How long in-flight requests may take to finish at shutdown; the whole
/// stop must stay under 2 s.
constexpr auto shutdown_grace = std::chrono::milliseconds(1500);

void announce_keys(const storage::key_setup& keys) {
  for (auto& warning : keys.warnings)
    POSTERN_WARN("{}", warning);
  auto generated = [](storage::key_origin o) {
    return o == storage::key_origin::generated;
  };
  if (generated(keys.encryption_key) || generated(keys.session_secret)) {
    POSTERN_WARN(
      "**************************************************************");
    if (generated(keys.encryption_key))
      POSTERN_WARN("* Generated a new ENCRYPTION_KEY in {}",
                   keys.encryption_key_file);
    if (generated(keys.session_secret))
      POSTERN_WARN("* Generated a new SESSION_SECRET in {}",
                   keys.session_secret_file);
    POSTERN_WARN(
      "* BACK THESE FILES UP. Without ENCRYPTION_KEY the stored mail");
    POSTERN_WARN("* passwords cannot be decrypted. In production, set");
    POSTERN_WARN("* ENCRYPTION_KEY and SESSION_SECRET from a secret store.");
    POSTERN_WARN(
      "**************************************************************");
  } else if (keys.encryption_key == storage::key_origin::key_file) {
    POSTERN_WARN(
      "using keys from key files in DATA_DIR; set ENCRYPTION_KEY and "
      "SESSION_SECRET in production");
  }
}

} // namespace

int run_server(config cfg, const std::function<void()>& wait_for_stop) {
  // The tool schemas are part of the build: one that does not load is a
  // defect to report now, not on the first tools/list.
  if (auto err = mcp::check_tool_catalogue()) {
    POSTERN_ERROR("{}", describe(err));
    return 1;
  }
  if (cfg.secret_on_command_line)
    POSTERN_WARN("a key was given on the command line, where other local users "
                 "can read it (ps, /proc); prefer the environment variables");
  if (cfg.cors_origin_ignored)
    POSTERN_WARN("CORS_ORIGIN asks for every browser origin, which /mcp never "
                 "admits (DNS rebinding); it is ignored: list the origins in "
                 "ALLOWED_ORIGINS");
  if (!cfg.test_clock_file.empty()) {
    POSTERN_WARN("TEST_CLOCK_FILE is set: time stands still except as {} "
                 "says (tests only)",
                 cfg.test_clock_file);
    set_test_clock_file(cfg.test_clock_file);
  }
  auto keys = storage::ensure_keys(cfg);
  if (!keys) {
    POSTERN_ERROR("{}", describe(keys.error()));
    return 1;
  }
  announce_keys(*keys);
  auto env = open_storage(cfg);
  if (!env) {
    POSTERN_ERROR("{}", describe(env.error()));
    return 1;
  }
  actor_config actor_cfg;
  caf::actor_system sys{actor_cfg};
  node_setup setup;
  setup.env = *env;
  setup.background_hashing = true;
  if (keys->encryption_key != storage::key_origin::configured)
    setup.key_file = keys->encryption_key_file;
  auto comps = spawn_node(sys, cfg, setup);
  if (!comps) {
    POSTERN_ERROR("{}", describe(comps.error()));
    return 1;
  }
  auto node = comps->node;
  server srv{cfg};
  if (auto err = srv.bind()) {
    POSTERN_ERROR("{}", describe(err));
    caf::anon_send_exit(node, caf::exit_reason::user_shutdown);
    return 1;
  }
  // PORT=0 (tests) picks a free port: the default public URL follows it.
  if (cfg.base_url == "http://localhost:0")
    cfg.base_url = "http://localhost:" + std::to_string(srv.port());
  auto routes = std::make_shared<router>();
  add_routes(*routes, cfg, endpoints{&sys, *comps, nullptr});
  add_metrics_route(*routes, cfg, endpoints{&sys, *comps, nullptr});
  metrics::instance().add_gauge("postern_http_connections", [&srv] {
    return static_cast<double>(srv.connections());
  });
  srv.run(routes);
  POSTERN_INFO("Postern {} listening on {}://{}:{} (public URL {})", version,
               cfg.tls_enabled() ? "https" : "http", cfg.bind, srv.port(),
               cfg.base_url);
  wait_for_stop();
  POSTERN_INFO("shutting down: draining {} connection(s)", srv.connections());
  srv.shutdown(shutdown_grace);
  metrics::instance().remove_gauge("postern_http_connections");
  caf::anon_send_exit(node, caf::exit_reason::user_shutdown);
  // Wait for every actor while the server (and its io_context) still
  // exists: a request actor whose mail or token request fails at shutdown
  // still posts its response to a session's strand, which must not be a
  // destroyed io_context.
  sys.await_all_actors_done();
  return 0;
}

} // namespace postern
