// SPDX-License-Identifier: Apache-2.0
#include "postern/process/local_node.hpp"

namespace postern {

caf::error local_node::start(config& cfg, size_t hashers) {
  auto keys = storage::ensure_keys(cfg);
  if (!keys)
    return keys.error();
  keys_ = *keys;
  auto env = open_storage(cfg);
  if (!env)
    return env.error();
  env_ = *env;
  sys_ = std::make_unique<caf::actor_system>(actor_cfg_);
  node_setup setup;
  setup.env = env_;
  setup.hashers = hashers;
  if (keys_.encryption_key != storage::key_origin::configured)
    setup.key_file = keys_.encryption_key_file;
  auto comps = spawn_node(*sys_, cfg, setup);
  if (!comps)
    return comps.error();
  comps_ = *comps;
  return caf::none;
}

} // namespace postern
