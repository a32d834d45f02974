// SPDX-License-Identifier: Apache-2.0
#pragma once

// One HTTP/1.1 connection of the server, plain or TLS: reading a request
// within the header and body limits and the timeouts, handing it to the
// router, watching for a client that hangs up while a handler works, and
// writing the response on the connection's own thread. Private to
// server.cpp (which accepts connections and owns the threads); a header of
// its own because the session is a template over its stream.

#include "postern/error.hpp"
#include "postern/http/file_links.hpp"
#include "postern/http/metrics.hpp"
#include "postern/http/responses.hpp"
#include "postern/http/server.hpp"
#include "postern/log.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace postern::http::detail {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace ssl = boost::asio::ssl;
using tcp = net::ip::tcp;

/// Largest request header block; anything bigger is an attack or a bug.
inline constexpr size_t header_limit = 16 * 1024;

/// What every connection of one server shares.
struct shared_state;

/// The part of a connection the server can reach from outside its thread.
class connection : public std::enable_shared_from_this<connection> {
public:
  virtual ~connection() = default;
  /// Asks the connection to finish its current request and close.
  virtual void begin_shutdown() = 0;
};

struct shared_state {
  std::shared_ptr<const router> routes;
  uint64_t max_body_bytes = 0;
  std::chrono::seconds request_timeout{30};
  std::chrono::seconds idle_timeout{60};
  proxy_trust proxies;
  std::atomic<bool> stopping{false};

  mutable std::mutex mtx;
  std::unordered_map<connection*, std::weak_ptr<connection>> live;

  void add(const std::shared_ptr<connection>& c) {
    std::lock_guard<std::mutex> guard{mtx};
    live.emplace(c.get(), c);
  }

  void remove(connection* c) {
    std::lock_guard<std::mutex> guard{mtx};
    live.erase(c);
  }

  std::vector<std::shared_ptr<connection>> snapshot() const {
    std::vector<std::shared_ptr<connection>> result;
    std::lock_guard<std::mutex> guard{mtx};
    for (auto& [ptr, weak] : live)
      if (auto strong = weak.lock())
        result.push_back(std::move(strong));
    return result;
  }

  size_t count() const {
    std::lock_guard<std::mutex> guard{mtx};
    return live.size();
  }
};

inline bool is_timeout(const beast::error_code& ec) {
  return ec == beast::error::timeout;
}

/// One HTTP/1.1 connection, plain or TLS (CRTP, as Beast's
/// advanced_server_flex). All members are touched on the thread of its
/// io_context only.
template <class Derived>
class session : public connection {
public:
  session(std::shared_ptr<shared_state> shared, std::string peer)
    : shared_(std::move(shared)), peer_(std::move(peer)) {
    // nop
  }

  ~session() override {
    shared_->remove(this);
  }

  void begin_shutdown() override {
    net::post(derived().stream().get_executor(),
              [self = derived().shared_from_this()] { self->on_shutdown(); });
  }

protected:
  Derived& derived() {
    return static_cast<Derived&>(*this);
  }

  auto& lowest_layer() {
    return beast::get_lowest_layer(derived().stream());
  }

  void do_read() {
    if (closing_ || shared_->stopping) {
      closing_ = true;
      derived().do_close();
      return;
    }
    reading_idle_ = true;
    parser_.emplace();
    parser_->header_limit(header_limit);
    parser_->body_limit(shared_->max_body_bytes);
    // The first request gets the request timeout; a keep-alive connection
    // waiting for its next request gets the idle timeout.
    lowest_layer().expires_after(first_request_ ? shared_->request_timeout
                                                : shared_->idle_timeout);
    bhttp::async_read_header(
      derived().stream(), buffer_, *parser_,
      beast::bind_front_handler(&session::on_read_header,
                                derived().shared_from_this()));
  }

private:
  void on_shutdown() {
    closing_ = true;
    // Idle between requests: stop waiting. Busy: close after the response.
    // The socket may be closed already (a timeout closes it before the
    // read's handler has run): then there is nothing to cancel.
    if (reading_idle_) {
      beast::error_code ec;
      lowest_layer().socket().cancel(ec);
    }
  }

  void on_read_header(beast::error_code ec, size_t) {
    reading_idle_ = false;
    started_ = std::chrono::steady_clock::now();
    if (ec)
      return on_read_error(ec);
    auto& req = parser_->get();
    // Refuse an oversized body before reading it.
    if (auto len = parser_->content_length();
        len && *len > shared_->max_body_bytes)
      return reject(bhttp::status::payload_too_large, "request_too_large",
                    "The request body exceeds "
                      + std::to_string(shared_->max_body_bytes) + " bytes.");
    if (beast::iequals(req[bhttp::field::expect], "100-continue")) {
      // Clients such as curl wait for this before sending larger bodies.
      auto cont = std::make_shared<bhttp::response<bhttp::empty_body>>(
        bhttp::status::continue_, req.version());
      lowest_layer().expires_after(shared_->request_timeout);
      bhttp::async_write(derived().stream(), *cont,
                         [self = derived().shared_from_this(),
                          cont](beast::error_code wec, size_t) {
                           if (wec)
                             return self->derived().do_close();
                           self->do_read_body();
                         });
      return;
    }
    do_read_body();
  }

  void do_read_body() {
    lowest_layer().expires_after(shared_->request_timeout);
    bhttp::async_read(derived().stream(), buffer_, *parser_,
                      beast::bind_front_handler(&session::on_read,
                                                derived().shared_from_this()));
  }

  void on_read(beast::error_code ec, size_t) {
    if (ec)
      return on_read_error(ec);
    handle_request();
  }

  void on_read_error(const beast::error_code& ec) {
    // The client went away, we are closing, or it was idle too long.
    if (ec == bhttp::error::end_of_stream || ec == net::error::operation_aborted
        || ec == net::error::connection_reset
        || ec == net::ssl::error::stream_truncated || is_timeout(ec)
        || ec == net::error::eof) {
      if (is_timeout(ec) && !first_request_ && buffer_.size() == 0)
        POSTERN_DEBUG("http: closing idle connection from {}", peer_);
      return derived().do_close();
    }
    if (ec == bhttp::error::body_limit)
      return reject(bhttp::status::payload_too_large, "request_too_large",
                    "The request body exceeds "
                      + std::to_string(shared_->max_body_bytes) + " bytes.");
    if (ec == bhttp::error::header_limit)
      return reject(bhttp::status::request_header_fields_too_large,
                    "invalid_request", "The request headers are too large.");
    if (ec.category()
        == bhttp::make_error_code(bhttp::error::bad_target).category())
      return reject(bhttp::status::bad_request, "invalid_request",
                    "The request is not valid HTTP/1.1.");
    POSTERN_DEBUG("http: read from {} failed: {}", peer_, ec.message());
    derived().do_close();
  }

  /// Answers a request we could not parse and closes the connection, since
  /// the rest of the stream cannot be trusted.
  void reject(bhttp::status status, std::string_view code,
              std::string_view description) {
    closing_ = true;
    keep_alive_ = false;
    head_ = false;
    version_ = 11;
    client_ = peer_;
    method_ = "-";
    path_ = "-";
    send(json_error(status, code, description));
  }

  void handle_request() {
    request req;
    req.raw = parser_->release();
    req.secure = Derived::secure;
    req.client_address = client_address(peer_, req.raw, shared_->proxies);
    version_ = req.raw.version();
    keep_alive_ = req.raw.keep_alive();
    head_ = req.raw.method() == bhttp::verb::head;
    method_ = std::string{req.raw.method_string()};
    client_ = req.client_address;
    // Never a download link's capability in the log.
    path_ = loggable_path(req.path());
    // The responder may run on a CAF thread: hop back onto our thread.
    auto self = derived().shared_from_this();
    responder respond{[self](response_type response) {
      net::post(self->stream().get_executor(),
                [self, response = std::move(response)]() mutable {
                  self->send(std::move(response));
                });
    }};
    responded_ = false;
    gone_ = req.gone;
    shared_->routes->dispatch(req, respond);
    // Posted after any response the handler gave at once, so only requests
    // still being worked on are watched.
    net::post(derived().stream().get_executor(), [self] {
      if (!self->responded_)
        self->watch_for_hang_up();
    });
  }

  /// While a handler works, notices a client that hangs up (its side of the
  /// connection reaches end of stream) and fires the request's client_gone.
  /// Bytes arriving instead (a pipelined request, a TLS record) end the
  /// watch untouched: they belong to the next read.
  void watch_for_hang_up() {
    watching_ = true;
    lowest_layer().socket().async_wait(net::socket_base::wait_read,
                                       [self = derived().shared_from_this(),
                                        gone = gone_](beast::error_code ec) {
                                         self->on_readable(ec, gone);
                                       });
  }

  void on_readable(beast::error_code ec,
                   const std::shared_ptr<client_gone>& gone) {
    watching_ = false;
    if (ec == net::error::operation_aborted || responded_)
      return; // the response is on its way
    if (!ec) {
      char byte = 0;
      beast::error_code peek;
      auto n = lowest_layer().socket().receive(
        net::buffer(&byte, 1), net::socket_base::message_peek, peek);
      if (n > 0)
        return;
      // A wake-up with nothing to read yet is not a hang-up: wait again.
      if (peek == net::error::would_block || peek == net::error::try_again)
        return watch_for_hang_up();
    }
    POSTERN_DEBUG("http: {} hung up before the answer to {} {}", client_,
                  method_, path_);
    closing_ = true;
    if (gone)
      gone->fire();
  }

  void send(response_type response) {
    responded_ = true;
    if (watching_) {
      beast::error_code ignored;
      lowest_layer().socket().cancel(ignored);
    }
    if (auto hold = take_hold(response); hold.count() > 0) {
      // A refusal held back on a timer (hold_response): nothing blocks.
      auto timer = std::make_shared<net::steady_timer>(
        derived().stream().get_executor());
      timer->expires_after(hold);
      timer->async_wait(
        [self = derived().shared_from_this(), timer,
         response = std::move(response)](beast::error_code) mutable {
          self->send(std::move(response));
        });
      return;
    }
    response.version(version_);
    response.keep_alive(keep_alive_ && !closing_ && !shared_->stopping);
    add_standard_headers(response);
    if (head_) {
      auto length = response.body().size();
      response.body().clear();
      response.content_length(length);
    }
    auto elapsed = std::chrono::duration_cast<std::chrono::microseconds>(
      std::chrono::steady_clock::now() - started_);
    metrics::instance().observe_request(shared_->routes
                                          ? shared_->routes->label(path_)
                                          : std::string_view{"other"},
                                        response.result_int(), elapsed);
    // The query string is never logged: it can carry OAuth codes and state.
    POSTERN_DEBUG("http: {} {} {} -> {} in {} us", client_, method_, path_,
                  response.result_int(), elapsed.count());
    response_ = std::make_shared<response_type>(std::move(response));
    lowest_layer().expires_after(shared_->request_timeout);
    bhttp::async_write(derived().stream(), *response_,
                       beast::bind_front_handler(&session::on_write,
                                                 derived().shared_from_this()));
  }

  void on_write(beast::error_code ec, size_t) {
    auto keep_alive = response_->keep_alive();
    response_.reset();
    if (ec || !keep_alive)
      return derived().do_close();
    first_request_ = false;
    do_read();
  }

protected:
  std::shared_ptr<shared_state> shared_;
  std::string peer_;
  beast::flat_buffer buffer_;

private:
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::shared_ptr<response_type> response_;
  std::chrono::steady_clock::time_point started_;
  std::string method_;
  std::string path_;
  std::string client_;
  unsigned version_ = 11;
  bool keep_alive_ = false;
  bool head_ = false;
  bool first_request_ = true;
  bool reading_idle_ = false;
  bool closing_ = false;
  /// A response to the current request was handed to send().
  bool responded_ = false;
  /// watch_for_hang_up's wait is pending.
  bool watching_ = false;
  std::shared_ptr<client_gone> gone_;
};

class plain_session final : public session<plain_session> {
public:
  static constexpr bool secure = false;

  plain_session(tcp::socket&& socket, std::shared_ptr<shared_state> shared,
                std::string peer)
    : session(std::move(shared), std::move(peer)), stream_(std::move(socket)) {
    // nop
  }

  beast::tcp_stream& stream() {
    return stream_;
  }

  std::shared_ptr<plain_session> shared_from_this() {
    return std::static_pointer_cast<plain_session>(
      connection::shared_from_this());
  }

  void run() {
    do_read();
  }

  void do_close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream_.socket().close(ec);
  }

private:
  beast::tcp_stream stream_;
};

class tls_session final : public session<tls_session> {
public:
  static constexpr bool secure = true;

  tls_session(tcp::socket&& socket, ssl::context& ctx,
              std::shared_ptr<shared_state> shared, std::string peer)
    : session(std::move(shared), std::move(peer)),
      stream_(std::move(socket), ctx) {
    // nop
  }

  beast::ssl_stream<beast::tcp_stream>& stream() {
    return stream_;
  }

  std::shared_ptr<tls_session> shared_from_this() {
    return std::static_pointer_cast<tls_session>(
      connection::shared_from_this());
  }

  void run() {
    beast::get_lowest_layer(stream_).expires_after(shared_->request_timeout);
    stream_.async_handshake(ssl::stream_base::server,
                            [self = shared_from_this()](beast::error_code ec) {
                              if (ec) {
                                POSTERN_DEBUG(
                                  "https: handshake with {} failed: {}",
                                  self->peer_, ec.message());
                                return;
                              }
                              self->do_read();
                            });
  }

  void do_close() {
    if (closed_)
      return;
    closed_ = true;
    // Say goodbye properly, but never wait long for a peer that won't.
    beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(1));
    stream_.async_shutdown([self = shared_from_this()](beast::error_code) {
      beast::error_code ec;
      beast::get_lowest_layer(self->stream_).socket().close(ec);
    });
  }

private:
  beast::ssl_stream<beast::tcp_stream> stream_;
  bool closed_ = false;
};

} // namespace postern::http::detail
