// SPDX-License-Identifier: Apache-2.0
#include "postern/actors/smtp_sender.hpp"

#include <caf/result.hpp>

namespace postern {

smtp_sender_actor::behavior_type
smtp_sender(smtp_sender_actor::pointer self,
            std::shared_ptr<smtp::client> client, server_settings server,
            secret password) {
  return {
    [=](atom::send, const std::string& sender,
        const std::vector<std::string>& recipients,
        const std::string& data) mutable -> caf::result<atom::ok> {
      // One message per actor: it ends after this reply.
      self->quit(caf::exit_reason::normal);
      auto err = client->connect(server, password);
      password.wipe();
      if (err)
        return err;
      err = client->send(sender, recipients, data);
      client->quit();
      if (err)
        return err;
      return atom::ok_v;
    },
  };
}

} // namespace postern
