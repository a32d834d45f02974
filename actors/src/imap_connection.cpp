// SPDX-License-Identifier: Apache-2.0
#include "postern/actors/imap_connection.hpp"

#include "postern/error.hpp"
#include "postern/log.hpp"

#include <caf/result.hpp>

namespace postern {

namespace {

/// Turns an expected value into a handler result.
template <class T>
caf::result<T> to_result(caf::expected<T>&& x) {
  if (!x)
    return std::move(x.error());
  return std::move(*x);
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
imap_connection(imap_connection_actor::stateful_pointer<imap_connection_state> self,
                std::shared_ptr<imap::session> session, server_settings server,
                secret password) {
  auto& st = self->state;
  st.session = std::move(session);
  st.server = std::move(server);
  st.password = std::move(password);
  self->set_exit_handler([self](const caf::exit_msg& msg) {
    self->state.session->logout();
    self->quit(msg.reason);
  });
  // Runs `f` on a logged-in session; a dead connection ends the actor after
  // the reply, so the ACCOUNT opens a fresh one next time.
  auto run = [self](auto f) -> decltype(f(std::declval<imap::session&>())) {
    auto& s = self->state;
    if (auto err = s.ensure_connected()) {
      self->quit(caf::exit_reason::normal);
      return err;
    }
    auto result = f(*s.session);
    if (!s.session->usable())
      self->quit(caf::exit_reason::normal);
    return result;
  };
  return {
    [=](atom::folders, bool with_counts)
      -> caf::result<std::vector<imap::folder>> {
      return to_result(run([&](imap::session& s) {
        return s.list_folders(with_counts);
      }));
    },
    [=](atom::messages, const std::string& folder,
        const imap::page_request& req) -> caf::result<imap::message_page> {
      return to_result(run([&](imap::session& s) {
        return s.list_messages(folder, req);
      }));
    },
    [=](atom::read, const std::string& folder,
        const std::vector<uint32_t>& uids, const imap::read_options& opts)
      -> caf::result<std::vector<imap::read_outcome>> {
      return to_result(run([&](imap::session& s) {
        return s.read_messages(folder, uids, opts);
      }));
    },
    [=](atom::search, const std::string& folder,
        const imap::search_query& query) -> caf::result<imap::search_result> {
      return to_result(run([&](imap::session& s) {
        return s.search(folder, query);
      }));
    },
    [=](atom::move, const std::string& folder, uint32_t uid,
        const std::string& destination) -> caf::result<imap::move_result> {
      return to_result(run([&](imap::session& s) {
        return s.move(folder, uid, destination);
      }));
    },
    [=](atom::flag, const std::string& folder, uint32_t uid,
        const imap::flag_change& change) -> caf::result<imap::flag_result> {
      return to_result(run([&](imap::session& s) {
        return s.set_flags(folder, uid, change);
      }));
    },
    [=](atom::thread, const std::string& folder,
        uint32_t uid) -> caf::result<imap::thread_result> {
      return to_result(run([&](imap::session& s) {
        return s.thread(folder, uid);
      }));
    },
    [=](atom::bulk,
        const imap::bulk_request& req) -> caf::result<imap::bulk_result> {
      return to_result(run([&](imap::session& s) {
        return s.change_messages(req);
      }));
    },
    [=](atom::folder_op,
        const imap::folder_change& change) -> caf::result<imap::folder> {
      return to_result(run([&](imap::session& s) {
        return s.change_folder(change);
      }));
    },
    [=](atom::search_all, const imap::search_query& query)
      -> caf::result<imap::multi_search_result> {
      return to_result(run([&](imap::session& s) {
        return s.search_everywhere(query);
      }));
    },
    [=](atom::save_sent,
        const std::string& data) -> caf::result<imap::append_result> {
      return to_result(run([&](imap::session& s) -> caf::expected<imap::append_result> {
        auto sent = s.find_special_use("\\Sent");
        if (!sent)
          return sent.error();
        return s.append(*sent, data, {"\\Seen"});
      }));
    },
    [=](atom::attachment, const std::string& folder, uint32_t uid,
        const std::string& part_id, const mime::attachment_limits& limits)
      -> caf::result<mime::attachment_content> {
      return to_result(run([&](imap::session& s) {
        return s.fetch_attachment(folder, uid, part_id, limits);
      }));
    },
    [=](atom::original, const std::string& folder, uint32_t uid,
        bool with_files,
        uint64_t max_file_bytes) -> caf::result<mime::original_message> {
      return to_result(run([&](imap::session& s) {
        return s.fetch_original(folder, uid, with_files, max_file_bytes);
      }));
    },
    [=](atom::save_draft,
        const std::string& data) -> caf::result<imap::append_result> {
      return to_result(run([&](imap::session& s) -> caf::expected<imap::append_result> {
        auto drafts = s.find_special_use("\\Drafts");
        if (!drafts)
          return drafts.error();
        return s.append(*drafts, data, {"\\Draft", "\\Seen"});
      }));
    },
    [=](atom::ping) -> caf::result<atom::ok> {
      auto result = run([&](imap::session& s) -> caf::expected<atom::ok> {
        if (auto err = s.noop())
          return err;
        return atom::ok_v;
      });
      return to_result(std::move(result));
    },
  };
}

} // namespace postern
