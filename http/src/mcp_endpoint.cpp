// SPDX-License-Identifier: Apache-2.0
#include "postern/http/mcp_endpoint.hpp"

#include "mcp_era.hpp"
#include "mcp_internal.hpp"
#include "postern/directory_types.hpp"
#include "postern/error.hpp"
#include "postern/http/responses.hpp"
#include "postern/log.hpp"
#include "postern/mcp/json.hpp"
#include "postern/storage/crypto.hpp"
#include "postern/storage/grant_store.hpp"
#include "postern/text.hpp"

#include <caf/event_based_actor.hpp>
#include <caf/sec.hpp>
#include <caf/send.hpp>

#include <algorithm>
#include <cctype>

namespace postern::http {

namespace {

std::string_view header(const request& req, std::string_view name) {
  auto i = req.raw.find(boost::beast::string_view{name.data(), name.size()});
  if (i == req.raw.end())
    return {};
  auto v = i->value();
  return {v.data(), v.size()};
}

/// A JSON-RPC error as an HTTP response.
response_type rpc_response(bhttp::status status, std::string body) {
  return json_response(status, std::move(body));
}

response_type rpc_failure(bhttp::status status, std::string_view id, int code,
                          std::string_view text) {
  return rpc_response(status, mcp::make_error(id, code, text));
}

/// True when an Accept header admits application/json (absent admits all).
bool accepts_json(std::string_view accept) {
  if (trim_blanks(accept).empty())
    return true;
  size_t start = 0;
  while (start <= accept.size()) {
    auto end = accept.find(',', start);
    if (end == std::string_view::npos)
      end = accept.size();
    auto range = accept.substr(start, end - start);
    range = trim_blanks(range.substr(0, range.find(';')));
    auto r = ascii_lower(range);
    if (r == "application/json" || r == "application/*" || r == "*/*")
      return true;
    start = end + 1;
  }
  return false;
}

bool is_json_content(std::string_view content_type) {
  auto type
    = ascii_lower(trim_blanks(content_type.substr(0, content_type.find(';'))));
  return type == "application/json";
}

} // namespace

// -- the endpoint
// ----------------------------------------------------------------

namespace {

/// Most events in one batch, and how long an event may wait for its batch.
constexpr size_t audit_batch = 256;
constexpr auto audit_delay = std::chrono::milliseconds(20);

/// The AUDIT BATCHER: hands the events queued in `queue` (by
/// mcp_endpoint::impl::audit) to the DIRECTORY when it is told to, that is
/// `audit_delay` after the first event of a batch or when `audit_batch`
/// are waiting. Ends with the DIRECTORY, or when the endpoint goes
/// (flushing first).
caf::behavior audit_batcher(caf::event_based_actor* self,
                            directory_actor directory,
                            std::shared_ptr<mcp_endpoint::impl::audit_queue> queue) {
  auto flush = [self, queue, directory] {
    std::vector<audit_event> batch;
    {
      std::lock_guard<std::mutex> guard{queue->lock};
      batch.swap(queue->events);
    }
    if (!batch.empty())
      self->send(directory, atom::audit_v, std::move(batch));
  };
  self->monitor(directory);
  self->set_down_handler([self](caf::down_msg&) { self->quit(); });
  self->set_exit_handler([self, flush](caf::exit_msg& msg) {
    flush();
    self->quit(msg.reason);
  });
  return {
    [=](atom::tick) { flush(); },
  };
}

/// How late the CALL WATCHER may end a call past its deadline, at most:
/// it wakes at most this often while calls run.
constexpr auto watch_granularity = std::chrono::milliseconds(100);

/// The CALL WATCHER: ends the calls past their deadline (call_deadlines).
/// The first call after a quiet spell wakes it; then its own tick, at most
/// once per watch_granularity, until no call is left. It ends with the MAIL
/// ROUTER (the server is stopping) or the endpoint, and ends every call
/// still waiting as it goes: their mail requests may never be answered.
caf::behavior call_watcher(caf::event_based_actor* self, mail_actor mail,
                           std::shared_ptr<call_deadlines> deadlines) {
  auto end_all = [self, deadlines] {
    for (auto& call : deadlines->close())
      self->send_exit(call, caf::exit_reason::user_shutdown);
  };
  if (mail) {
    self->monitor(mail);
    self->set_down_handler([self, end_all](caf::down_msg&) {
      end_all();
      self->quit();
    });
  }
  self->set_exit_handler([self, end_all](caf::exit_msg& msg) {
    end_all();
    self->quit(msg.reason);
  });
  return {
    [=](atom::tick) {
      std::optional<call_deadlines::clock::time_point> next;
      auto now = call_deadlines::clock::now();
      // An address whose actor has ended (the call answered) takes the
      // message as a no-op.
      for (auto& call : deadlines->due(now, next))
        self->send_exit(call, caf::make_error(caf::sec::request_timeout));
      if (next)
        self->delayed_send(self, *next - now, atom::tick_v);
    },
  };
}

} // namespace

mcp_endpoint::impl::impl(caf::actor_system& s, mcp_actors a, mcp_settings st)
  : sys(&s),
    actors(std::move(a)),
    settings(std::move(st)),
    sessions(settings.session_idle, settings.sessions_per_grant, 100000,
             settings.sessions_per_user),
    limiter(settings.tool_rate_limit),
    tokens(settings.token_recheck, 100000) {
  if (auto own = normalize_origin(settings.base_url); !own.empty())
    origins.push_back(own);
  for (auto& o : settings.extra_origins)
    origins.push_back(o);
  if (actors.directory)
    auditor = s.spawn(audit_batcher, actors.directory, audit_events);
  deadlines = std::make_shared<call_deadlines>(settings.tool_timeout,
                                               watch_granularity);
  watcher = s.spawn(call_watcher, actors.mail, deadlines);
}

uint64_t mcp_endpoint::impl::watch(const caf::actor_addr& call) const {
  auto t = deadlines->add(call, call_deadlines::clock::now());
  switch (t.what) {
    case call_deadlines::added::watched:
      break;
    case call_deadlines::added::wake_watcher:
      caf::anon_send(watcher, atom::tick_v);
      break;
    case call_deadlines::added::closed:
      if (auto hdl = caf::actor_cast<caf::actor>(call))
        caf::anon_send_exit(hdl, caf::exit_reason::user_shutdown);
      break;
  }
  return t.id;
}

void mcp_endpoint::impl::audit(audit_event event) const {
  if (!auditor)
    return;
  size_t waiting = 0;
  {
    std::lock_guard<std::mutex> guard{audit_events->lock};
    audit_events->events.push_back(std::move(event));
    waiting = audit_events->events.size();
  }
  // A flush empties the queue, so every event either starts a batch (and
  // asks for its flush) or joins one whose flush is asked for already.
  if (waiting == 1)
    caf::delayed_anon_send(auditor, audit_delay, atom::tick_v);
  else if (waiting == audit_batch)
    caf::anon_send(auditor, atom::tick_v);
}

mcp_endpoint::impl::~impl() {
  if (auditor)
    caf::anon_send_exit(auditor, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(watcher, caf::exit_reason::user_shutdown);
}

mcp_endpoint::mcp_endpoint(caf::actor_system& sys, mcp_actors actors,
                           mcp_settings settings)
  : impl_(std::make_shared<impl>(sys, std::move(actors), std::move(settings))) {
  // nop
}

mcp_endpoint::~mcp_endpoint() = default;

mcp_session_table& mcp_endpoint::sessions() {
  return impl_->sessions;
}

const mcp_settings& mcp_endpoint::settings() const {
  return impl_->settings;
}

bool mcp_endpoint::origin_allowed(std::string_view origin) const {
  if (origin.empty())
    return true; // not a browser: nothing to rebind
  auto o = normalize_origin(origin);
  if (o.empty())
    return false; // "null", garbage
  if (std::find(impl_->origins.begin(), impl_->origins.end(), o)
      != impl_->origins.end())
    return true;
  // localhost, 127.0.0.1 and [::1] on one port are one origin: a browser
  // page on http://localhost:3000 talks to a BASE_URL of
  // http://127.0.0.1:3000 (a rebinding attacker's name is never loopback).
  auto key = loopback_key(o);
  return !key.empty()
         && std::any_of(impl_->origins.begin(), impl_->origins.end(),
                        [&](const std::string& own) {
                          return loopback_key(own) == key;
                        });
}

namespace {

/// For a browser origin that is allowed, a responder that adds the CORS
/// headers a browser needs to read the answer (and the session id).
responder with_cors(const mcp_endpoint& ep, const request& req,
                    const responder& respond) {
  auto origin = std::string{header(req, "Origin")};
  if (origin.empty() || !ep.origin_allowed(origin))
    return respond;
  return responder{[respond, origin](response_type response) {
    response.set(bhttp::field::access_control_allow_origin, origin);
    response.set(bhttp::field::access_control_expose_headers,
                 "Mcp-Session-Id, WWW-Authenticate");
    response.set(bhttp::field::vary, "Origin");
    respond(std::move(response));
  }};
}

/// 401 with the RFC 6750/9728 challenge.
response_type unauthorized(const mcp_settings& s, bool token_sent,
                           std::string_view description) {
  auto challenge = "Bearer resource_metadata=\"" + s.resource_metadata() + "\"";
  if (token_sent)
    challenge += ", error=\"invalid_token\", error_description=\""
                 + std::string{description} + "\"";
  auto response = json_error(bhttp::status::unauthorized,
                             token_sent ? "invalid_token" : "unauthorized",
                             description);
  response.set(bhttp::field::www_authenticate, challenge);
  return response;
}

response_type forbidden_origin(std::string_view origin) {
  return rpc_failure(bhttp::status::forbidden, "null", mcp::rpc::forbidden,
                     "Forbidden: requests from the origin "
                       + mcp::quote(origin.substr(0, 200))
                       + " are not allowed; set ALLOWED_ORIGINS to allow a "
                         "browser application");
}

/// Checks what every method needs: Origin and a Bearer token. Answers and
/// returns false when the request cannot go on.
bool precheck(const mcp_endpoint& ep, const mcp_settings& s, const request& req,
              const responder& respond, std::string& token) {
  auto origin = header(req, "Origin");
  if (!ep.origin_allowed(origin)) {
    respond(forbidden_origin(origin));
    return false;
  }
  // The header only: a token in the query string is ignored (RFC 6750 §2.3
  // is not offered; MCP forbids it).
  bool malformed = false;
  token = bearer_token(header(req, "Authorization"), malformed);
  if (malformed) {
    respond(unauthorized(s, true, "The access token is malformed."));
    return false;
  }
  if (token.empty()) {
    respond(unauthorized(s, false,
                         "This endpoint needs an access token: send "
                         "Authorization: Bearer <token>."));
    return false;
  }
  return true;
}

/// True if a GET or DELETE names a modern protocol version.
bool modern_request(const request& req) {
  bool has = req.raw.find("MCP-Protocol-Version") != req.raw.end();
  return era_of_header(
           has, collapse_header_value(header(req, "MCP-Protocol-Version")))
         == mcp_era::modern;
}

/// GET and DELETE in 2026-07-28: no stream to open, no session to end.
response_type modern_method_not_allowed() {
  auto response = rpc_failure(bhttp::status::method_not_allowed, "null",
                              mcp::rpc::server_error,
                              "Method Not Allowed: protocol 2026-07-28 has no "
                              "GET stream and no sessions; use POST");
  response.set(bhttp::field::allow, "POST");
  return response;
}

/// Maps a failed validate to a response.
response_type auth_failure(const mcp_settings& s, const caf::error& err) {
  if (err == ec::invalid_token)
    return unauthorized(s, true, describe(err));
  return error_response(err); // 503 on timeouts, 500 otherwise
}

/// POST after the token was accepted: on the connection's thread (`self`
/// null) or in the actor that asked the TOKEN AUTHORITY.
void on_authorized(const std::shared_ptr<mcp_endpoint::impl>& state,
                   caf::event_based_actor* self, const mcp_call& c,
                   access_grant grant, const responder& respond) {
  auto& ep = *state;
  auto fail = [&](bhttp::status status, std::string_view id, int code,
                  std::string_view text) {
    respond(rpc_failure(status, id, code, text));
  };
  if (!accepts_json(c.accept))
    return fail(bhttp::status::not_acceptable, "null", mcp::rpc::server_error,
                "Not Acceptable: the client must accept application/json");
  if (!is_json_content(c.content_type))
    return fail(bhttp::status::unsupported_media_type, "null",
                mcp::rpc::server_error,
                "Unsupported Media Type: send Content-Type: application/json");
  auto decoded = mcp::decode(c.body);
  if (!decoded.msg)
    return fail(bhttp::status::bad_request, decoded.error.id,
                decoded.error.code, decoded.error.message);
  auto& msg = *decoded.msg;
  mcp_context ctx;
  ctx.grant_key = grant_key_of(grant.grant);
  ctx.grant = std::move(grant);
  ctx.client_address = c.client_address;
  // The one place the era is decided: everything modern goes to
  // mcp_modern.cpp, everything else on as before.
  if (era_of(msg, c.has_protocol_version, c.protocol_version)
      == mcp_era::modern) {
    ctx.cancelled_by_hang_up = c.gone;
    return serve_modern(state, self, c, std::move(ctx), std::move(msg),
                        respond);
  }
  bool initialize = msg.kind == mcp::message_kind::request
                    && msg.method == "initialize";
  if (!initialize) {
    // After initialize the client names the version; one we never agreed
    // to is an error (absent means 2025-03-26, or the session's).
    if (c.has_protocol_version && !supported_mcp_version(c.protocol_version))
      return fail(bhttp::status::bad_request, msg.id, mcp::rpc::server_error,
                  "Bad Request: unsupported MCP-Protocol-Version "
                    + mcp::quote(c.protocol_version.substr(0, 100))
                    + "; supported: 2025-11-25, 2025-06-18, 2025-03-26");
    if (!c.has_session_id)
      return fail(bhttp::status::bad_request, msg.id, mcp::rpc::server_error,
                  "Bad Request: Mcp-Session-Id header is required; call "
                  "initialize first");
    auto session = ep.sessions.touch(c.session_id, ctx.grant_key);
    if (!session)
      return fail(bhttp::status::not_found, msg.id, mcp::rpc::session_not_found,
                  "Session not found: it ended or expired; initialize a new "
                  "one");
    ctx.session_id = c.session_id;
    ctx.protocol_version = c.has_protocol_version ? c.protocol_version
                                                  : session->protocol_version;
    ctx.url_elicitation = session->url_elicitation
                          && ascii_lower(c.accept).find("text/event-stream")
                               != std::string::npos;
  }
  dispatch_mcp(state, self, std::move(ctx), std::move(msg),
               [respond](mcp_reply reply) {
                 respond(to_http(std::move(reply)));
               });
}

} // namespace

void mcp_endpoint::post(const request& req, const responder& plain) {
  auto respond = with_cors(*this, req, plain);
  auto& ep = *impl_;
  std::string token;
  if (!precheck(*this, ep.settings, req, respond, token))
    return;
  auto c = std::make_shared<mcp_call>();
  c->body = req.raw.body();
  c->accept = std::string{header(req, "Accept")};
  c->content_type = std::string{header(req, "Content-Type")};
  if (req.raw.find("MCP-Protocol-Version") != req.raw.end()) {
    c->has_protocol_version = true;
    c->protocol_version
      = collapse_header_value(header(req, "MCP-Protocol-Version"));
  }
  if (req.raw.find("Mcp-Session-Id") != req.raw.end()) {
    c->has_session_id = true;
    c->session_id = std::string{trim_blanks(header(req, "Mcp-Session-Id"))};
  }
  if (req.raw.find("Mcp-Method") != req.raw.end()) {
    c->has_mcp_method = true;
    c->mcp_method = std::string{trim_blanks(header(req, "Mcp-Method"))};
  }
  if (req.raw.find("Mcp-Name") != req.raw.end()) {
    c->has_mcp_name = true;
    c->mcp_name = std::string{trim_blanks(header(req, "Mcp-Name"))};
  }
  c->client_address = req.client_address;
  // Only the digest travels: the token itself never enters a message.
  c->digest = storage::sha256(token);
  c->gone = req.gone;
  auto state = impl_;
  if (auto grant = ep.tokens.find(c->digest)) {
    on_authorized(state, nullptr, *c, std::move(*grant), respond);
    return;
  }
  // Read before asking: a revocation committed meanwhile bumps it again.
  auto epoch = storage::grants_epoch();
  ep.sys->spawn([state, c, respond, epoch](caf::event_based_actor* self) {
    self
      ->request(state->actors.tokens, state->settings.auth_timeout,
                atom::validate_v, c->digest, state->settings.resource())
      .then(
        [state, c, respond, self, epoch](access_grant& grant) {
          state->tokens.remember(c->digest, grant, epoch);
          on_authorized(state, self, *c, std::move(grant), respond);
        },
        [state, respond](const caf::error& err) {
          respond(auth_failure(state->settings, err));
        });
  });
}

void mcp_endpoint::get(const request& req, const responder& plain) {
  auto respond = with_cors(*this, req, plain);
  auto origin = header(req, "Origin");
  if (!origin_allowed(origin)) {
    respond(forbidden_origin(origin));
    return;
  }
  if (modern_request(req)) {
    respond(modern_method_not_allowed());
    return;
  }
  // No server-initiated messages: Postern has nothing to push, and the
  // spec allows 405 here.
  auto response = rpc_failure(bhttp::status::method_not_allowed, "null",
                              mcp::rpc::server_error,
                              "Method Not Allowed: this server sends no "
                              "messages on a GET stream; use POST");
  response.set(bhttp::field::allow, "POST, DELETE");
  respond(std::move(response));
}

void mcp_endpoint::remove(const request& req, const responder& plain) {
  auto respond = with_cors(*this, req, plain);
  auto& ep = *impl_;
  if (modern_request(req)) {
    auto origin = header(req, "Origin");
    respond(origin_allowed(origin) ? modern_method_not_allowed()
                                   : forbidden_origin(origin));
    return;
  }
  std::string token;
  if (!precheck(*this, ep.settings, req, respond, token))
    return;
  if (req.raw.find("Mcp-Session-Id") == req.raw.end()) {
    respond(rpc_failure(bhttp::status::bad_request, "null",
                        mcp::rpc::server_error,
                        "Bad Request: Mcp-Session-Id header is required"));
    return;
  }
  auto session_id = std::string{trim_blanks(header(req, "Mcp-Session-Id"))};
  auto digest = storage::sha256(token);
  auto state = impl_;
  ep.sys->spawn([state, digest, session_id,
                 respond](caf::event_based_actor* self) {
    self
      ->request(state->actors.tokens, state->settings.auth_timeout,
                atom::validate_v, digest, state->settings.resource())
      .then(
        [state, session_id, respond](access_grant& grant) {
          if (!state->sessions.remove(session_id, grant_key_of(grant.grant))) {
            respond(rpc_failure(bhttp::status::not_found, "null",
                                mcp::rpc::session_not_found,
                                "Session not found: it ended or expired"));
            return;
          }
          response_type response{bhttp::status::no_content, 11};
          response.prepare_payload();
          respond(std::move(response));
        },
        [state, respond](const caf::error& err) {
          respond(auth_failure(state->settings, err));
        });
  });
}

void mcp_endpoint::preflight(const request& req, const responder& respond) {
  auto origin = header(req, "Origin");
  if (origin.empty() || !origin_allowed(origin)) {
    respond(forbidden_origin(origin));
    return;
  }
  response_type response{bhttp::status::no_content, 11};
  response.set(bhttp::field::access_control_allow_origin, origin);
  response.set(bhttp::field::access_control_allow_methods, "POST, DELETE");
  response.set(bhttp::field::access_control_allow_headers,
               "Authorization, Content-Type, Accept, Mcp-Session-Id, "
               "MCP-Protocol-Version, Last-Event-ID");
  response.set(bhttp::field::access_control_max_age, "600");
  response.set(bhttp::field::vary, "Origin");
  response.prepare_payload();
  respond(std::move(response));
}

void add_mcp_routes(router& r, std::shared_ptr<mcp_endpoint> endpoint) {
  r.add(bhttp::verb::options, "/mcp",
        [endpoint](const request& req, const responder& respond) {
          endpoint->preflight(req, respond);
        });
  r.add(bhttp::verb::post, "/mcp",
        [endpoint](const request& req, const responder& respond) {
          endpoint->post(req, respond);
        });
  r.add(bhttp::verb::get, "/mcp",
        [endpoint](const request& req, const responder& respond) {
          endpoint->get(req, respond);
        });
  r.add(bhttp::verb::delete_, "/mcp",
        [endpoint](const request& req, const responder& respond) {
          endpoint->remove(req, respond);
        });
}

} // namespace postern::http
