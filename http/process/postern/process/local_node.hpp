// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "postern/actors/actor_config.hpp"
#include "postern/actors/node.hpp"
#include "postern/error.hpp"
#include "postern/storage/key_files.hpp"

#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>

#include <chrono>
#include <memory>

namespace postern {

/// An actor system with the NODE's components, for programs that talk to
/// them from a plain thread: `postern admin`, test tools and integration
/// tests. (The server itself never blocks on actors.)
class local_node {
public:
  local_node() = default;
  local_node(const local_node&) = delete;
  local_node& operator=(const local_node&) = delete;

  ~local_node() {
    if (sys_) {
      caf::anon_send_exit(comps_.node, caf::exit_reason::user_shutdown);
      sys_.reset(); // waits for every actor
    }
  }

  /// Fills in the keys (generating them on first use, as the server does),
  /// opens DATA_DIR and spawns the components.
  caf::error start(config& cfg, size_t hashers = 1);

  /// Sends a request and waits for the reply or error.
  template <class T, class Handle, class... Ts>
  caf::expected<T> ask(const Handle& hdl, Ts&&... xs) {
    caf::scoped_actor self{*sys_};
    caf::expected<T> result{caf::make_error(ec::unspecified, "no reply")};
    self->request(hdl, std::chrono::seconds(60), std::forward<Ts>(xs)...)
      .receive([&](T& x) { result = std::move(x); },
               [&](caf::error& e) { result = std::move(e); });
    return result;
  }

  const components& actors() const {
    return comps_;
  }

  const storage::key_setup& keys() const {
    return keys_;
  }

  storage::environment& env() {
    return *env_;
  }

  caf::actor_system& system() {
    return *sys_;
  }

private:
  actor_config actor_cfg_;
  storage::key_setup keys_;
  std::shared_ptr<storage::environment> env_;
  std::unique_ptr<caf::actor_system> sys_;
  components comps_;
};

} // namespace postern
