// SPDX-License-Identifier: Apache-2.0
#include "postern/http/guarded_fetch.hpp"

#include "postern/error.hpp"
#include "postern/host_policy.hpp"
#include "postern/imap/tls_verify.hpp"
#include "postern/oauth/uri.hpp"
#include "postern/text.hpp"
#include "postern/version.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <atomic>
#include <cctype>
#include <optional>
#include <thread>

namespace postern::http {

namespace {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;

caf::error refused(std::string sentence) {
  return caf::make_error(ec::invalid_argument, std::move(sentence));
}

/// "the client_id URL" -> "The client_id URL", to start a sentence.
std::string capitalized(std::string noun) {
  if (!noun.empty())
    noun[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(noun[0])));
  return noun;
}

/// The address as host_policy reads it; IPv4-mapped IPv6 as IPv4.
net::ip::address plain(const net::ip::address& a) {
  if (a.is_v6() && a.to_v6().is_v4_mapped())
    return net::ip::make_address_v4(net::ip::v4_mapped, a.to_v6());
  return a;
}

} // namespace

struct guarded_fetcher::impl {
  options opts;
  host_policy deny = host_policy::deny_private();
  // Declared before the io_context: operations still queued in it when it
  // is destroyed hold streams that use the TLS context.
  ssl::context tls{ssl::context::tls_client};
  net::io_context ioc{1};
  net::executor_work_guard<net::io_context::executor_type> work{
    ioc.get_executor()};
  std::thread thread;
  std::atomic<size_t> fetched{0};

  bool allowed(const net::ip::address& address) const {
    auto a = plain(address);
    if (opts.allow_loopback && a.is_loopback())
      return true;
    return deny.allows_address(a.to_string());
  }
};

namespace {

/// One fetch: resolve (or take the given addresses), check them, connect,
/// TLS, GET, read.
class fetch_op : public std::enable_shared_from_this<fetch_op> {
public:
  using impl = guarded_fetcher::impl;

  fetch_op(std::shared_ptr<impl> owner, fetch_request req,
           oauth::uri_parts parts, guarded_fetcher::callback done)
    : owner_(std::move(owner)),
      req_(std::move(req)),
      parts_(std::move(parts)),
      resolver_(owner_->ioc),
      stream_(owner_->ioc, owner_->tls),
      deadline_(owner_->ioc),
      done_(std::move(done)) {
    // Hosts are written as in the URL; IPv6 literals without brackets.
    host_ = parts_.host;
    if (host_.size() > 2 && host_.front() == '[')
      host_ = host_.substr(1, host_.size() - 2);
    port_ = parts_.port.empty() ? "443" : parts_.port;
  }

  void start() {
    deadline_.expires_after(req_.timeout);
    deadline_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (!ec)
        self->finish(refused(
          capitalized(self->req_.document_noun) + " did not arrive within "
          + std::to_string(std::chrono::duration_cast<std::chrono::seconds>(
                             self->req_.timeout)
                             .count())
          + " seconds."));
    });
    if (!req_.addresses.empty()) {
      auto port = parse_port(port_);
      if (!port) {
        finish(refused(capitalized(req_.url_noun) + " has no valid port."));
        return;
      }
      std::vector<tcp::endpoint> given;
      for (auto& a : req_.addresses) {
        beast::error_code ec;
        auto address = net::ip::make_address(a, ec);
        if (!ec)
          given.emplace_back(address, *port);
      }
      connect_to(std::move(given));
      return;
    }
    resolver_.async_resolve(
      host_, port_,
      [self = shared_from_this()](beast::error_code ec,
                                  tcp::resolver::results_type results) {
        if (self->finished_)
          return;
        if (ec) {
          self->finish(refused("The host of " + self->req_.url_noun
                               + " cannot be resolved."));
          return;
        }
        std::vector<tcp::endpoint> found;
        for (auto& r : results)
          found.push_back(r.endpoint());
        self->connect_to(std::move(found));
      });
  }

private:
  void connect_to(std::vector<tcp::endpoint> candidates) {
    if (finished_)
      return;
    if (candidates.empty()) {
      finish(refused("The host of " + req_.url_noun + " cannot be resolved."));
      return;
    }
    // Only addresses that pass the policy are connected to, so a name
    // resolving to an internal address is refused, and DNS cannot change
    // between the check and the connection.
    std::vector<tcp::endpoint> ok;
    for (auto& e : candidates)
      if (owner_->allowed(e.address()))
        ok.push_back(e);
    if (ok.empty()) {
      finish(refused(capitalized(req_.url_noun)
                     + " points to a private, loopback or link-local "
                       "address, which Postern does not fetch from."));
      return;
    }
    if (!imap::expect_tls_host(stream_.native_handle(), host_)) {
      finish(refused("The host of " + req_.url_noun
                     + " is not usable for TLS."));
      return;
    }
    beast::get_lowest_layer(stream_).async_connect(
      ok,
      [self = shared_from_this()](beast::error_code e, const tcp::endpoint&) {
        self->on_connect(e);
      });
  }

  void on_connect(beast::error_code ec) {
    if (finished_)
      return;
    if (ec) {
      finish(refused("The server of " + req_.url_noun
                     + " refused the connection."));
      return;
    }
    stream_.async_handshake(ssl::stream_base::client,
                            [self = shared_from_this()](beast::error_code e) {
                              self->on_handshake(e);
                            });
  }

  void on_handshake(beast::error_code ec) {
    if (finished_)
      return;
    if (ec) {
      finish(refused("TLS with the server of " + req_.url_noun + " failed ("
                     + ec.message() + ")."));
      return;
    }
    http_req_.method(bhttp::verb::get);
    http_req_.target(parts_.rest.empty() ? "/" : parts_.rest);
    http_req_.version(11);
    http_req_.set(bhttp::field::host,
                  parts_.host + (parts_.port.empty() ? "" : ":" + parts_.port));
    http_req_.set(bhttp::field::user_agent, std::string{"Postern/"} + version);
    http_req_.set(bhttp::field::accept, req_.accept);
    http_req_.set(bhttp::field::connection, "close");
    bhttp::async_write(stream_, http_req_,
                       [self = shared_from_this()](beast::error_code e,
                                                   size_t) { self->on_write(e); });
  }

  void on_write(beast::error_code ec) {
    if (finished_)
      return;
    if (ec) {
      finish(refused("Sending the request for " + req_.document_noun
                     + " failed."));
      return;
    }
    parser_.emplace();
    parser_->header_limit(16 * 1024);
    parser_->body_limit(req_.max_bytes);
    bhttp::async_read(stream_, buffer_, *parser_,
                      [self = shared_from_this()](beast::error_code e, size_t) {
                        self->on_read(e);
                      });
  }

  void on_read(beast::error_code ec) {
    if (finished_)
      return;
    if (ec == bhttp::error::body_limit || ec == bhttp::error::header_limit) {
      finish(refused(capitalized(req_.document_noun) + " is larger than "
                     + std::to_string(req_.max_bytes / 1024) + " KiB."));
      return;
    }
    if (ec) {
      finish(refused("Reading " + req_.document_noun + " failed."));
      return;
    }
    auto& res = parser_->get();
    auto status = res.result_int();
    if (status >= 300 && status < 400) {
      finish(refused(capitalized(req_.url_noun)
                     + " answered with a redirect, which is not followed."));
      return;
    }
    if (status != 200) {
      finish(refused(capitalized(req_.url_noun) + " answered HTTP "
                     + std::to_string(status) + "."));
      return;
    }
    fetched_document doc;
    doc.body = std::move(res.body());
    auto cc = res[bhttp::field::cache_control];
    doc.cache_control.assign(cc.data(), cc.size());
    finish(std::move(doc));
  }

  void finish(caf::expected<fetched_document> result) {
    if (finished_)
      return;
    finished_ = true;
    deadline_.cancel();
    resolver_.cancel();
    beast::error_code ignored;
    beast::get_lowest_layer(stream_).socket().close(ignored);
    ++owner_->fetched;
    done_(std::move(result));
  }

  std::shared_ptr<impl> owner_;
  fetch_request req_;
  oauth::uri_parts parts_;
  std::string host_;
  std::string port_;
  tcp::resolver resolver_;
  beast::ssl_stream<beast::tcp_stream> stream_;
  net::steady_timer deadline_;
  beast::flat_buffer buffer_;
  bhttp::request<bhttp::empty_body> http_req_;
  std::optional<bhttp::response_parser<bhttp::string_body>> parser_;
  guarded_fetcher::callback done_;
  bool finished_ = false;
};

} // namespace

guarded_fetcher::guarded_fetcher(options opts)
  : impl_(std::make_shared<impl>()) {
  impl_->opts = opts;
  impl_->tls.set_options(ssl::context::default_workarounds
                         | ssl::context::no_sslv2 | ssl::context::no_sslv3
                         | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  impl_->tls.set_default_verify_paths();
  impl_->tls.set_verify_mode(ssl::verify_peer);
  impl_->thread = std::thread{[i = impl_.get()] { i->ioc.run(); }};
}

guarded_fetcher::~guarded_fetcher() {
  impl_->work.reset();
  impl_->ioc.stop();
  // Owners must not be callbacks: the thread cannot join itself.
  if (impl_->thread.joinable())
    impl_->thread.join();
}

void guarded_fetcher::get(fetch_request req, callback done) {
  auto parts = oauth::split_uri(req.url);
  if (!parts || parts->scheme != "https") {
    done(refused(capitalized(req.url_noun) + " is not an https URL."));
    return;
  }
  auto op = std::make_shared<fetch_op>(impl_, std::move(req), std::move(*parts),
                                       std::move(done));
  net::post(impl_->ioc, [op] { op->start(); });
}

size_t guarded_fetcher::fetches() const {
  return impl_->fetched.load();
}

} // namespace postern::http
