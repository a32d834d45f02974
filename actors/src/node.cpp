// SPDX-License-Identifier: Apache-2.0
#include "postern/actors/node.hpp"

#include "postern/actors/outbox.hpp"
#include "postern/actors/token_authority.hpp"
#include "postern/actors/vault.hpp"
#include "postern/error.hpp"
#include "postern/version.hpp"

#include <caf/actor_cast.hpp>
#include <caf/send.hpp>

namespace postern {

node_status node_state::status() const {
  auto uptime = steady_now() - started;
  return node_status{
    version,
    std::chrono::duration_cast<std::chrono::seconds>(uptime).count(),
    components,
  };
}

node_actor::behavior_type node(node_actor::stateful_pointer<node_state> self,
                               std::vector<caf::actor> children) {
  for (auto& child : children)
    self->link_to(child);
  self->state.components = static_cast<int64_t>(children.size());
  return {
    [=](atom::status) { return self->state.status(); },
  };
}

caf::expected<std::shared_ptr<storage::environment>>
open_storage(const config& cfg) {
  storage::environment::options opts;
  opts.dir = cfg.data_dir;
  return storage::environment::open(opts);
}

mail_options mail_options_from(const config& cfg) {
  mail_options opts;
  opts.max_total = cfg.max_imap_connections;
  opts.max_per_user = cfg.max_connections_per_user;
  // An account never holds more connections than its user may.
  opts.pool_size = std::min(cfg.account_pool_size,
                            cfg.max_connections_per_user);
  opts.timeout = std::chrono::seconds(cfg.mail_timeout_seconds);
  // A whole operation may take several network steps.
  opts.operation_timeout = std::chrono::seconds(cfg.mail_timeout_seconds * 4);
  opts.idle = std::chrono::seconds(cfg.mail_idle_seconds);
  opts.login_failure_cache
    = std::chrono::seconds(cfg.login_failure_cache_seconds);
  if (auto hosts = host_policy::parse(cfg.account_host_deny))
    opts.hosts = std::move(*hosts);
  opts.cache = std::make_shared<imap::message_cache>(
    static_cast<size_t>(cfg.message_cache_mb) * 1024 * 1024);
  opts.attachment_limits.text = cfg.attachment_max_text_bytes;
  opts.attachment_limits.image = cfg.attachment_max_image_bytes;
  opts.attachment_limits.file = cfg.attachment_max_file_bytes;
  opts.max_send_attachment_bytes = cfg.send_attachments_max_bytes;
  opts.sends_per_minute = cfg.send_rate_limit;
  opts.probes_per_hour = cfg.connection_tests_per_hour;
  opts.imap_budget.max_literal = cfg.imap_max_literal_bytes;
  opts.imap_budget.max_response = cfg.imap_max_response_bytes;
  opts.imap_budget.max_operation = cfg.imap_max_operation_bytes;
  opts.imap_budget.max_items = cfg.imap_max_items;
  opts.smtp_budget.max_response = cfg.smtp_max_reply_bytes;
  opts.smtp_budget.max_operation = cfg.smtp_max_operation_bytes;
  return opts;
}

oauth::provider_settings provider_settings_from(const config& cfg) {
  oauth::provider_settings s;
  s.microsoft_client_id = cfg.microsoft_client_id;
  if (cfg.microsoft_client_secret)
    s.microsoft_client_secret = *cfg.microsoft_client_secret;
  s.microsoft_tenant = cfg.microsoft_tenant;
  s.google_client_id = cfg.google_client_id;
  if (cfg.google_client_secret)
    s.google_client_secret = *cfg.google_client_secret;
  s.providers_file = cfg.mail_oauth_providers;
  return s;
}

caf::expected<components> spawn_node(caf::actor_system& sys, const config& cfg,
                                     const node_setup& setup) {
  if (!cfg.encryption_key)
    return caf::make_error(ec::invalid_configuration, "no ENCRYPTION_KEY");
  // A malformed provider list is a startup error naming the field.
  auto loaded = oauth::load_mail_providers(provider_settings_from(cfg));
  if (!loaded)
    return loaded.error();
  auto providers
    = std::make_shared<const oauth::mail_providers>(std::move(*loaded));
  auto vault = spawn_vault(sys, setup.env, *cfg.encryption_key, setup.key_file);
  if (!vault)
    return vault.error();
  directory_options dopts;
  dopts.signup = cfg.signup;
  auto hosts = host_policy::parse(cfg.account_host_deny);
  if (!hosts) {
    caf::anon_send_exit(*vault, caf::exit_reason::user_shutdown);
    return hosts.error();
  }
  dopts.hosts = std::move(*hosts);
  dopts.session_ttl = std::chrono::hours(cfg.session_ttl_hours);
  dopts.audit_retention = std::chrono::hours(24) * cfg.audit_retention_days;
  auto directory = spawn_directory(sys, setup.env, *vault, std::move(dopts),
                                   setup.hashers, setup.background_hashing);
  if (!directory) {
    caf::anon_send_exit(*vault, caf::exit_reason::user_shutdown);
    return directory.error();
  }
  auto mopts = mail_options_from(cfg);
  mopts.providers = providers;
  auto accounts = std::make_shared<account_index>();
  auto mail
    = spawn_mail_router(sys, *directory, *vault, std::move(mopts), accounts);
  auto tokens = spawn_token_authority(sys, setup.env);
  outbox_options oopts;
  oopts.ttl = std::chrono::hours(cfg.outbox_ttl_hours);
  auto out = spawn_outbox(sys, setup.env, mail, *directory, oopts);
  std::vector<caf::actor> children{caf::actor_cast<caf::actor>(*vault),
                                   caf::actor_cast<caf::actor>(*directory),
                                   caf::actor_cast<caf::actor>(mail),
                                   caf::actor_cast<caf::actor>(tokens),
                                   caf::actor_cast<caf::actor>(out)};
  auto n = sys.spawn(node, std::move(children));
  return components{n,      *vault, *directory, mail,
                    tokens, out,    providers,  std::move(accounts)};
}

} // namespace postern
