// SPDX-License-Identifier: Apache-2.0
#include "postern/actors/imap_connection.hpp"

#include "postern/error.hpp"
#include "postern/log.hpp"

#include <caf/result.hpp>

#include <functional>

#include <pthread.h>
#include <type_traits>

namespace postern {

namespace {

using connection_self
  = imap_connection_actor::stateful_pointer<imap_connection_state>;

/// Turns an expected value into a handler result.
template <class T>
caf::result<T> to_result(caf::expected<T>&& x) {
  if (!x)
    return std::move(x.error());
  return std::move(*x);
}

/// Runs `f(session, xs...)` on a logged-in session (`f`: a member of
/// imap::session or one of the functions below) and answers with its
/// result. A dead connection ends the actor after the reply, so the ACCOUNT
/// opens a fresh one next time.
template <class F, class... Ts>
auto run(connection_self self, F f, const Ts&... xs) -> caf::result<
  typename std::invoke_result_t<F, imap::session&, const Ts&...>::value_type> {
  auto& s = self->state;
  if (auto err = s.ensure_connected()) {
    self->quit(caf::exit_reason::normal);
    return err;
  }
  auto result = std::invoke(f, *s.session, xs...);
  if (!s.session->usable())
    self->quit(caf::exit_reason::normal);
  return to_result(std::move(result));
}

/// Appends a sent message to the special-use Sent folder, seen.
caf::expected<imap::append_result> save_sent(imap::session& s,
                                             const std::string& data) {
  auto sent = s.find_special_use("\\Sent");
  if (!sent)
    return sent.error();
  return s.append(*sent, data, {"\\Seen"});
}

/// Appends a draft to the special-use Drafts folder.
caf::expected<imap::append_result> save_draft(imap::session& s,
                                              const std::string& data) {
  auto drafts = s.find_special_use("\\Drafts");
  if (!drafts)
    return drafts.error();
  return s.append(*drafts, data, {"\\Draft", "\\Seen"});
}

/// Checks that the server still answers (NOOP).
caf::expected<atom::ok> ping(imap::session& s) {
  if (auto err = s.noop())
    return err;
  return atom::ok_v;
}

} // namespace

caf::error imap_connection_state::ensure_connected() {
  if (session->usable())
    return caf::none;
  if (password.empty())
    // A session that died after login cannot log in again by itself: the
    // password is gone. The ACCOUNT replaces this actor.
    return caf::make_error(ec::connection_failed,
                           "the connection to the IMAP server was lost");
  auto err = session->connect(server, password);
  password.wipe();
  return err;
}

imap_connection_actor::behavior_type
imap_connection(connection_self self, std::shared_ptr<imap::session> session,
                server_settings server, secret password) {
  // A detached actor runs its behavior on its own thread: name it for top,
  // perf and /proc/PID/task.
  pthread_setname_np(pthread_self(), "postern-imap");
  auto& st = self->state;
  st.session = std::move(session);
  st.server = std::move(server);
  st.password = std::move(password);
  self->set_exit_handler([self](const caf::exit_msg& msg) {
    self->state.session->logout();
    self->quit(msg.reason);
  });
  return {
    [=](atom::folders, bool with_counts) {
      return run(self, &imap::session::list_folders, with_counts);
    },
    [=](atom::messages, const std::string& folder,
        const imap::page_request& req) {
      return run(self, &imap::session::list_messages, folder, req);
    },
    [=](atom::read, const std::string& folder,
        const std::vector<uint32_t>& uids, const imap::read_options& opts) {
      return run(self, &imap::session::read_messages, folder, uids, opts);
    },
    [=](atom::search, const std::string& folder,
        const imap::search_query& query) {
      return run(self, &imap::session::search, folder, query);
    },
    [=](atom::move, const std::string& folder, uint32_t uid,
        const std::string& destination) {
      return run(self, &imap::session::move, folder, uid, destination);
    },
    [=](atom::flag, const std::string& folder, uint32_t uid,
        const imap::flag_change& change) {
      return run(self, &imap::session::set_flags, folder, uid, change);
    },
    [=](atom::thread, const std::string& folder, uint32_t uid) {
      return run(self, &imap::session::thread, folder, uid);
    },
    [=](atom::bulk, const imap::bulk_request& req) {
      return run(self, &imap::session::change_messages, req);
    },
    [=](atom::folder_op, const imap::folder_change& change) {
      return run(self, &imap::session::change_folder, change);
    },
    [=](atom::search_all, const imap::search_query& query) {
      return run(self, &imap::session::search_everywhere, query);
    },
    [=](atom::save_sent, const std::string& data) {
      return run(self, save_sent, data);
    },
    [=](atom::attachment, const std::string& folder, uint32_t uid,
        const std::string& part_id, const mime::attachment_limits& limits) {
      return run(self, &imap::session::fetch_attachment, folder, uid, part_id,
                 limits);
    },
    [=](atom::original, const std::string& folder, uint32_t uid,
        bool with_files, uint64_t max_file_bytes) {
      return run(self, &imap::session::fetch_original, folder, uid, with_files,
                 max_file_bytes);
    },
    [=](atom::save_draft, const std::string& data) {
      return run(self, save_draft, data);
    },
    [=](atom::ping) { return run(self, ping); },
  };
}

} // namespace postern
