// SPDX-License-Identifier: Apache-2.0
#include "postern/actors/mail_router.hpp"

#include "postern/actors/connection_probe.hpp"
#include "postern/clock.hpp"
#include "postern/error.hpp"

#include <caf/actor_cast.hpp>
#include <caf/result.hpp>

namespace postern {

namespace {

std::string key_of(const mailbox_ref& ref) {
  return ref.user.value + "/" + ref.account.value;
}

/// The ACCOUNT for `ref`, started on first use.
account_actor
account_for(mail_router_actor::stateful_pointer<mail_router_state> self,
            const mailbox_ref& ref) {
  auto& st = self->state;
  auto key = key_of(ref);
  if (auto i = st.accounts.find(key); i != st.accounts.end())
    return i->second;
  auto hdl = self->spawn(account, ref, st.directory, st.vault,
                         caf::actor_cast<mail_router_actor>(self), st.opts);
  // Linked: when the router ends (shutdown), the accounts end with it.
  self->link_to(hdl);
  self->monitor(hdl);
  st.accounts.emplace(key, hdl);
  st.keys.emplace(hdl.address(), key);
  return hdl;
}

} // namespace

void mail_router_state::release_all(const caf::actor_addr& who) {
  auto i = held.find(who);
  if (i == held.end())
    return;
  auto& [user, count] = i->second;
  per_user[user] -= std::min(per_user[user], count);
  if (per_user[user] == 0)
    per_user.erase(user);
  total -= std::min(total, count);
  held.erase(i);
}

caf::error
mail_router_state::admit_probe(const std::string& user,
                               std::chrono::steady_clock::time_point now) {
  if (probing.count(user) != 0)
    return caf::make_error(ec::too_busy,
                           "a connection test of yours is still running; "
                           "wait for its result before starting another");
  // Forget starts older than an hour, for every user, so the table holds
  // only the last hour's testers.
  for (auto i = probe_starts.begin(); i != probe_starts.end();) {
    auto& starts = i->second;
    while (!starts.empty() && now - starts.front() >= std::chrono::hours{1})
      starts.pop_front();
    i = starts.empty() ? probe_starts.erase(i) : std::next(i);
  }
  auto& mine = probe_starts[user];
  if (mine.size() >= opts.probes_per_hour) {
    if (mine.empty())
      probe_starts.erase(user);
    auto wait = std::chrono::duration_cast<std::chrono::minutes>(
                  mine.front() + std::chrono::hours{1} - now)
                  .count()
                + 1;
    return caf::make_error(ec::too_busy,
                           "you have run " + std::to_string(mine.size())
                             + " connection tests in the last hour, the most "
                               "allowed; try again in "
                             + std::to_string(wait) + " minutes");
  }
  if (total >= opts.max_total)
    return caf::make_error(ec::too_busy,
                           "the server has reached its limit of "
                             + std::to_string(opts.max_total)
                             + " mail connections; try again shortly");
  if (per_user[user] >= opts.max_per_user)
    return caf::make_error(ec::too_busy,
                           "you have " + std::to_string(per_user[user])
                             + " mail connections open, the most allowed; "
                               "try again when a request finishes");
  mine.push_back(now);
  return caf::none;
}

mail_router_actor::behavior_type
mail_router(mail_router_actor::stateful_pointer<mail_router_state> self,
            directory_actor directory, vault_actor vault, mail_options opts) {
  self->state.directory = std::move(directory);
  self->state.vault = std::move(vault);
  self->state.opts = std::move(opts);
  self->set_down_handler([self](const caf::down_msg& msg) {
    auto& st = self->state;
    if (auto i = st.keys.find(msg.source); i != st.keys.end()) {
      st.accounts.erase(i->second);
      st.keys.erase(i);
    }
    st.release_all(msg.source);
    for (auto i = st.probing.begin(); i != st.probing.end(); ++i)
      if (i->second == msg.source) {
        st.probing.erase(i);
        break;
      }
  });
  // An ACCOUNT that ends normally (idle) must not take the router down.
  self->set_exit_handler([self](const caf::exit_msg& msg) {
    if (msg.reason != caf::exit_reason::normal)
      self->quit(msg.reason);
  });
  return {
    [=](atom::folders, const mailbox_ref& ref, bool with_counts) {
      return self->delegate(account_for(self, ref), atom::folders_v, ref,
                            with_counts);
    },
    [=](atom::messages, const mailbox_ref& ref, const std::string& folder,
        const imap::page_request& req) {
      return self->delegate(account_for(self, ref), atom::messages_v, ref,
                            folder, req);
    },
    [=](atom::read, const mailbox_ref& ref, const std::string& folder,
        const std::vector<uint32_t>& uids, const imap::read_options& options) {
      return self->delegate(account_for(self, ref), atom::read_v, ref, folder,
                            uids, options);
    },
    [=](atom::search, const mailbox_ref& ref, const std::string& folder,
        const imap::search_query& query) {
      return self->delegate(account_for(self, ref), atom::search_v, ref,
                            folder, query);
    },
    [=](atom::move, const mailbox_ref& ref, const std::string& folder,
        uint32_t uid, const std::string& destination) {
      return self->delegate(account_for(self, ref), atom::move_v, ref, folder,
                            uid, destination);
    },
    [=](atom::flag, const mailbox_ref& ref, const std::string& folder,
        uint32_t uid, const imap::flag_change& change) {
      return self->delegate(account_for(self, ref), atom::flag_v, ref, folder,
                            uid, change);
    },
    [=](atom::send, const mailbox_ref& ref, const mime::outgoing_message& msg) {
      return self->delegate(account_for(self, ref), atom::send_v, ref, msg);
    },
    [=](atom::thread, const mailbox_ref& ref, const std::string& folder,
        uint32_t uid) {
      return self->delegate(account_for(self, ref), atom::thread_v, ref,
                            folder, uid);
    },
    [=](atom::bulk, const mailbox_ref& ref, const imap::bulk_request& req) {
      return self->delegate(account_for(self, ref), atom::bulk_v, ref, req);
    },
    [=](atom::folder_op, const mailbox_ref& ref,
        const imap::folder_change& change) {
      return self->delegate(account_for(self, ref), atom::folder_op_v, ref,
                            change);
    },
    [=](atom::search_all, const mailbox_ref& ref,
        const imap::search_query& query) {
      return self->delegate(account_for(self, ref), atom::search_all_v, ref,
                            query);
    },
    [=](atom::attachment, const mailbox_ref& ref, const std::string& folder,
        uint32_t uid, const std::string& part_id) {
      return self->delegate(account_for(self, ref), atom::attachment_v, ref,
                            folder, uid, part_id);
    },
    [=](atom::compose, const mailbox_ref& ref,
        const mime::compose_request& request) {
      return self->delegate(account_for(self, ref), atom::compose_v, ref,
                            request);
    },
    [=](atom::probe, const account_settings& settings,
        const account_credentials& creds) -> caf::result<probe_report> {
      // A test holds a thread for up to two connection timeouts: it counts
      // as a connection of its user and of the server while it runs, one
      // at a time per user, and a user has an hourly allowance.
      auto& st = self->state;
      auto user = settings.owner.value;
      if (auto err = st.admit_probe(user, steady_now()))
        return err;
      auto probe = self->spawn<caf::detached>(connection_probe, st.opts.timeout,
                                              st.opts.hosts);
      self->monitor(probe);
      ++st.per_user[user];
      ++st.total;
      st.held[probe.address()] = {user, 1};
      st.probing[user] = probe.address();
      return self->delegate(probe, atom::probe_v, settings, creds);
    },
    [=](atom::forget, const mailbox_ref& ref) {
      auto& st = self->state;
      auto i = st.accounts.find(key_of(ref));
      if (i == st.accounts.end())
        return;
      // The next request starts a fresh ACCOUNT; the down message of this
      // one gives its permits back.
      auto hdl = i->second;
      st.keys.erase(hdl.address());
      st.accounts.erase(i);
      self->unlink_from(hdl);
      self->send_exit(hdl, caf::exit_reason::user_shutdown);
    },
    [=](atom::status) {
      auto& st = self->state;
      mail_status result;
      result.connections = static_cast<int64_t>(st.total);
      result.accounts = static_cast<int64_t>(st.accounts.size());
      if (auto& cache = st.opts.cache) {
        result.cache_hits = static_cast<int64_t>(cache->hits());
        result.cache_misses = static_cast<int64_t>(cache->misses());
        result.cache_bytes = static_cast<int64_t>(cache->bytes());
      }
      return result;
    },
    [=](atom::acquire, const user_id& user) -> caf::result<atom::ok> {
      auto& st = self->state;
      if (st.total >= st.opts.max_total)
        return caf::make_error(ec::too_busy,
                               "the server has reached its limit of "
                                 + std::to_string(st.opts.max_total)
                                 + " mail connections; try again shortly");
      auto& mine = st.per_user[user.value];
      if (mine >= st.opts.max_per_user)
        return caf::make_error(ec::too_busy,
                               "you have " + std::to_string(mine)
                                 + " mail connections open, the most "
                                   "allowed; try again when a request "
                                   "finishes");
      ++mine;
      ++st.total;
      auto& h = st.held[caf::actor_cast<caf::actor_addr>(self->current_sender())];
      h.first = user.value;
      ++h.second;
      return atom::ok_v;
    },
    [=](atom::release, const user_id& user) {
      auto& st = self->state;
      auto i = st.held.find(caf::actor_cast<caf::actor_addr>(self->current_sender()));
      if (i == st.held.end() || i->second.second == 0)
        return;
      --i->second.second;
      if (auto j = st.per_user.find(user.value); j != st.per_user.end()) {
        if (j->second > 0)
          --j->second;
        if (j->second == 0)
          st.per_user.erase(j);
      }
      if (st.total > 0)
        --st.total;
    },
  };
}

mail_router_actor spawn_mail_router(caf::actor_system& sys,
                                    directory_actor directory,
                                    vault_actor vault, mail_options opts) {
  return sys.spawn(mail_router, std::move(directory), std::move(vault),
                   std::move(opts));
}

} // namespace postern
