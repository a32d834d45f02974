// SPDX-License-Identifier: Apache-2.0
// GET /files/<opaque>: the person downloads one attachment through a link
// get_attachment made (file_links.hpp). The link is checked (seal, expiry),
// then its grant (still live, still reaching the account: a revoked
// connection's links die with it), then the part is fetched whole from
// the mail server and served as a download. Every download, refused or
// not, is in the audit log.

#include "postern/clock.hpp"
#include "postern/directory_types.hpp"
#include "postern/error.hpp"
#include "postern/http/bridge.hpp"
#include "postern/http/file_links.hpp"
#include "postern/http/mcp_endpoint.hpp"
#include "postern/log.hpp"
#include "postern/mime/attachment.hpp"
#include "postern/mime/message_builder.hpp"

#include <caf/event_based_actor.hpp>
#include <caf/sec.hpp>

#include <chrono>

namespace postern::http {

namespace {

/// A short sentence for the person, as plain text (a browser shows it).
response_type sentence(bhttp::status status, std::string text) {
  response_type response{status, 11};
  response.set(bhttp::field::content_type, "text/plain; charset=utf-8");
  response.set(bhttp::field::cache_control, "no-store");
  response.set("X-Content-Type-Options", "nosniff");
  response.body() = std::move(text) + "\n";
  response.prepare_payload();
  return response;
}

/// `attachment` with the name as an ASCII fallback and as RFC 5987 UTF-8
/// (RFC 6266), so no byte of a hostile name reaches the header raw.
std::string content_disposition(const std::string& filename) {
  std::string ascii;
  for (char ch : filename) {
    auto c = static_cast<unsigned char>(ch);
    ascii += (c >= 0x20 && c < 0x7F && c != '"' && c != '\\') ? ch : '_';
  }
  return "attachment; filename=\"" + ascii
         + "\"; filename*=" + mime::rfc2231_value(filename);
}

/// The audit entry of one download (never the link itself).
audit_event download_event(const file_link& link, const std::string& address,
                           std::string outcome) {
  audit_event e;
  e.time_ms = unix_millis();
  e.user = link.user;
  e.actor = "web";
  e.action = "file.download";
  e.target = link.account.value + " " + link.folder + " "
             + std::to_string(link.uid) + "/" + link.part_id;
  e.outcome = std::move(outcome);
  e.address = address;
  return e;
}

/// A failed fetch as the person reads it.
response_type fetch_failure(const caf::error& err) {
  if (err == ec::no_such_message || err == ec::no_such_part
      || err == ec::no_such_folder)
    return sentence(bhttp::status::not_found,
                    "The attachment is no longer in the mailbox: "
                      + describe(err));
  if (err == ec::too_large)
    return sentence(bhttp::status::unprocessable_entity, describe(err));
  if (err == caf::sec::request_timeout)
    return sentence(bhttp::status::gateway_timeout,
                    "The mail server did not answer in time; try again.");
  if (err.category() == caf::atom("postern"))
    return sentence(bhttp::status::bad_gateway, describe(err));
  POSTERN_WARN("files: download failed: {}", render(err));
  return sentence(bhttp::status::service_unavailable,
                  "The download failed; try again later.");
}

/// Whether `grants` still holds the link's grant and it reaches the
/// link's account.
bool still_granted(const std::vector<grant_info>& grants,
                   const file_link& link) {
  for (auto& g : grants)
    if (g.id == link.grant) {
      if (g.expires_at != 0 && g.expires_at <= unix_seconds())
        return false;
      if (!has_scope(g.scopes, scope::read))
        return false;
      for (auto& id : g.accounts.ids)
        if (id == link.account)
          return true;
      return false;
    }
  return false;
}

/// The part as a download: its own type when it is a valid one, its name
/// made safe, and headers that keep a browser from running or caching it.
response_type download_of(mime::attachment_content& part) {
  response_type response{bhttp::status::ok, 11};
  response.set(bhttp::field::content_type,
               mime::is_valid_media_type(part.mime_type)
                 ? part.mime_type
                 : "application/octet-stream");
  response.set(bhttp::field::content_disposition,
               content_disposition(mime::safe_attachment_filename(
                 part.filename, "attachment-" + part.part_id)));
  response.set(bhttp::field::cache_control, "private, no-store");
  response.set("X-Content-Type-Options", "nosniff");
  response.set("Content-Security-Policy", "sandbox");
  response.set("Referrer-Policy", "no-referrer");
  response.body() = std::move(part.data);
  response.prepare_payload();
  return response;
}

/// What one download needs once its link has opened and is in time.
struct download_job {
  mcp_actors actors;
  file_link link;
  std::string address;
  uint64_t max_bytes = 0;
  std::chrono::seconds timeout{0};
  responder respond;

  void audit(caf::event_based_actor* self, std::string outcome) const {
    self->send(actors.directory, atom::audit_v,
               download_event(link, address, std::move(outcome)));
  }
};

/// Fetches the part whole and answers with it.
void serve_part(caf::event_based_actor* self, const download_job& job) {
  mailbox_ref ref{job.link.user, job.link.account};
  self
    ->request(job.actors.mail, job.timeout, atom::download_v, ref,
              job.link.folder, job.link.uid, job.link.part_id,
              mime::attachment_limits::whole(job.max_bytes))
    .then(
      [self, job](mime::attachment_content& part) {
        job.audit(self, "ok");
        job.respond(download_of(part));
      },
      [self, job](const caf::error& err) {
        job.audit(self, err.category() == caf::atom("postern")
                          ? to_string(static_cast<ec>(err.code()))
                          : std::string{"failed"});
        job.respond(fetch_failure(err));
      });
}

/// Checks that the link's grant still reaches its account, then serves.
void check_grant_then_serve(caf::event_based_actor* self,
                            const download_job& job) {
  self
    ->request(job.actors.tokens, default_actor_timeout, atom::list_v,
              job.link.user)
    .then(
      [self, job](std::vector<grant_info>& grants) {
        if (still_granted(grants, job.link))
          return serve_part(self, job);
        job.audit(self, "revoked");
        job.respond(sentence(bhttp::status::forbidden,
                             "The connection this link was made for no "
                             "longer reaches this account, so the link "
                             "does not work."));
      },
      [job](const caf::error& err) {
        POSTERN_WARN("files: grants unavailable: {}", render(err));
        job.respond(sentence(bhttp::status::service_unavailable,
                             "The download is not available right now; "
                             "try again in a moment."));
      });
}

} // namespace

void add_file_routes(router& r, caf::actor_system& sys,
                     const mcp_actors& actors, const mcp_settings& settings) {
  auto links = settings.links;
  auto max_bytes = settings.link_max_bytes;
  auto timeout = settings.tool_timeout;
  r.add_prefix(
    bhttp::verb::get, "/files/",
    [&sys, actors, links, max_bytes,
     timeout](const request& req, const responder& respond) {
      auto opaque = req.path().substr(std::string_view{"/files/"}.size());
      auto link = links->open(opaque);
      if (!link)
        return respond(sentence(bhttp::status::not_found,
                                "This download link is not valid. Ask the "
                                "agent for a new one."));
      if (link->expires_at <= unix_seconds()) {
        caf::anon_send(actors.directory, atom::audit_v,
                       download_event(*link, req.client_address, "expired"));
        return respond(sentence(bhttp::status::gone,
                                "This download link has expired. Ask the "
                                "agent for a new one."));
      }
      download_job job{actors,    std::move(*link), req.client_address,
                       max_bytes, timeout,          respond};
      sys.spawn([job](caf::event_based_actor* self) {
        check_grant_then_serve(self, job);
      });
    });
}

} // namespace postern::http
