// SPDX-License-Identifier: Apache-2.0
#include "postern/actors/connection_probe.hpp"

#include "postern/error.hpp"
#include "postern/imap/session.hpp"
#include "postern/smtp/client.hpp"

#include <string>

namespace postern {

probe_actor::behavior_type
connection_probe(probe_actor::pointer self, std::chrono::seconds timeout,
                 host_policy hosts,
                 std::shared_ptr<const oauth::mail_providers> providers) {
  return {
    [=](atom::probe, const account_settings& settings,
        const account_credentials& creds) {
      self->quit(caf::exit_reason::normal);
      probe_report report;
      auto sasl = sasl_mechanism::password;
      if (uses_oauth(settings)) {
        auto* p = providers ? providers->find(settings.oauth_provider)
                            : nullptr;
        sasl = p != nullptr ? p->sasl : sasl_mechanism::xoauth2;
      }
      auto where = [](const server_settings& s) {
        return s.host + ":" + std::to_string(s.port) + " ("
               + std::string{to_string(s.security)} + ")";
      };
      imap::session_options so;
      so.ca_file = settings.ca_file;
      so.timeout = timeout;
      so.operation_timeout = timeout * 2;
      so.hosts = hosts;
      so.sasl = sasl;
      imap::session session{so};
      auto err = session.connect(settings.imap, creds.imap_password);
      if (!err)
        session.logout();
      report.imap_ok = !err;
      report.imap_message = err ? describe(err)
                                : "Logged in to " + where(settings.imap) + ".";
      if (settings.has_smtp) {
        report.smtp_tested = true;
        smtp::client_options co;
        co.ca_file = settings.ca_file;
        co.timeout = timeout;
        co.operation_timeout = timeout * 2;
        co.hosts = hosts;
        co.sasl = sasl;
        smtp::client client{co};
        const auto& password = settings.smtp_own_password ? creds.smtp_password
                                                          : creds.imap_password;
        auto serr = client.connect(settings.smtp, password);
        if (!serr)
          client.quit();
        report.smtp_ok = !serr;
        report.smtp_message = serr
                                ? describe(serr)
                                : "Logged in to " + where(settings.smtp) + ".";
      }
      return report;
    },
  };
}

} // namespace postern
