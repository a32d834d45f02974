// SPDX-License-Identifier: Apache-2.0
#include "side_loads.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <cctype>
#include <chrono>
#include <cstdio>
#include <random>

namespace postern::bench {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;

// -- login flood
// -----------------------------------------------------------------

login_flood::login_flood(std::string host, std::string port,
                         std::string username, bool spoof)
  : host_(std::move(host)),
    port_(std::move(port)),
    username_(std::move(username)),
    spoof_(spoof) {
  // nop
}

login_flood::~login_flood() {
  stop();
}

void login_flood::start(unsigned loops) {
  running_ = true;
  for (unsigned i = 0; i < loops; ++i)
    threads_.emplace_back([this, i] { loop(i + 1); });
}

void login_flood::stop() {
  running_ = false;
  for (auto& t : threads_)
    t.join();
  threads_.clear();
}

namespace {

/// "name=value" of every Set-Cookie, joined for a Cookie header.
std::string cookies_of(const bhttp::response<bhttp::string_body>& res) {
  std::string jar;
  for (auto& field : res) {
    if (field.name() != bhttp::field::set_cookie)
      continue;
    auto v = std::string{field.value()};
    if (!jar.empty())
      jar += "; ";
    jar += v.substr(0, v.find(';'));
  }
  return jar;
}

/// The value of the hidden `csrf` input of a form page, or empty.
std::string csrf_of(const std::string& page) {
  auto at = page.find("name=\"csrf\"");
  if (at == std::string::npos)
    return {};
  auto value = page.find("value=\"", at);
  if (value == std::string::npos)
    return {};
  value += 7;
  return page.substr(value, page.find('"', value) - value);
}

std::string form_escape(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.')
      out += ch;
    else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

} // namespace

void login_flood::loop(unsigned seed) {
  std::mt19937 rng{seed};
  net::io_context ioc;
  tcp::resolver resolver{ioc};
  beast::tcp_stream stream{ioc};
  beast::flat_buffer buffer;
  bool connected = false;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(10);
  while (running_ && std::chrono::steady_clock::now() < deadline) {
    try {
      if (!connected) {
        stream.expires_after(std::chrono::seconds(10));
        stream.connect(resolver.resolve(host_, port_));
        connected = true;
      }
      std::string address = "198.51.100." + std::to_string(rng() % 250 + 1);
      auto who = spoof_ ? "nobody-" + std::to_string(rng()) : username_;
      bhttp::request<bhttp::string_body> get{bhttp::verb::get, "/login", 11};
      get.set(bhttp::field::host, host_);
      if (spoof_)
        get.set("X-Forwarded-For", address);
      stream.expires_after(std::chrono::seconds(30));
      bhttp::write(stream, get);
      bhttp::response<bhttp::string_body> page;
      bhttp::read(stream, buffer, page);
      bhttp::request<bhttp::string_body> post{bhttp::verb::post, "/login", 11};
      post.set(bhttp::field::host, host_);
      post.set(bhttp::field::cookie, cookies_of(page));
      post.set(bhttp::field::content_type, "application/x-www-form-urlencoded");
      if (spoof_)
        post.set("X-Forwarded-For", address);
      post.body() = "csrf=" + form_escape(csrf_of(page.body()))
                    + "&username=" + form_escape(who) + "&password=wrong-"
                    + std::to_string(rng());
      post.prepare_payload();
      bhttp::write(stream, post);
      bhttp::response<bhttp::string_body> answer;
      bhttp::read(stream, buffer, answer);
      ++attempts_;
      switch (answer.result_int()) {
        case 401:
          ++rejected_;
          break;
        case 429:
          ++throttled_;
          break;
        default:
          ++other_;
      }
      if (!answer.keep_alive()) {
        beast::error_code ec;
        stream.socket().close(ec);
        connected = false;
      }
    } catch (const std::exception&) {
      ++other_;
      beast::error_code ec;
      stream.socket().close(ec);
      connected = false;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
}

// -- trivial responder
// ---------------------------------------------------------------

namespace {

class responder_session
  : public std::enable_shared_from_this<responder_session> {
public:
  responder_session(tcp::socket socket, const std::string& body)
    : stream_(std::move(socket)), body_(body) {
    // nop
  }

  void read() {
    req_ = {};
    bhttp::async_read(stream_, buffer_, req_,
                      [self = shared_from_this()](beast::error_code ec,
                                                  size_t) {
                        if (!ec)
                          self->write();
                      });
  }

private:
  void write() {
    res_ = {bhttp::status::ok, 11};
    res_.set(bhttp::field::content_type, "application/json");
    res_.set("Mcp-Session-Id", "trivial");
    res_.body() = body_;
    res_.keep_alive(req_.keep_alive());
    res_.prepare_payload();
    bhttp::async_write(
      stream_, res_, [self = shared_from_this()](beast::error_code ec, size_t) {
        if (!ec)
          self->read();
      });
  }

  beast::tcp_stream stream_;
  const std::string& body_;
  beast::flat_buffer buffer_;
  bhttp::request<bhttp::string_body> req_;
  bhttp::response<bhttp::string_body> res_;
};

void accept(tcp::acceptor& acceptor, const std::string& body) {
  acceptor.async_accept(
    [&acceptor, &body](beast::error_code ec, tcp::socket socket) {
      if (ec)
        return;
      socket.set_option(tcp::no_delay{true});
      std::make_shared<responder_session>(std::move(socket), body)->read();
      accept(acceptor, body);
    });
}

} // namespace

int trivial_responder(uint16_t port, size_t body_bytes, unsigned seconds) {
  std::string body = R"({"jsonrpc":"2.0","id":1,"result":{"padding":")";
  while (body.size() + 4 < body_bytes)
    body += 'x';
  body += "\"}}";
  net::io_context ioc{1};
  tcp::acceptor acceptor{ioc, {net::ip::make_address("127.0.0.1"), port}};
  std::printf("trivial responder on 127.0.0.1:%u, %zu-byte answers, for %u s\n",
              acceptor.local_endpoint().port(), body.size(), seconds);
  std::fflush(stdout);
  accept(acceptor, body);
  net::steady_timer stop{ioc, std::chrono::seconds(seconds)};
  stop.async_wait([&ioc](beast::error_code) { ioc.stop(); });
  ioc.run();
  return 0;
}

} // namespace postern::bench
