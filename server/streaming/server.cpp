#include "server/streaming/server.h"

#include "server/streaming/beast_streams.h"

#include <optional>
#include <thread>

#include "base/error.h"
#include "base/log.h"
#include "base/strings.h"
#include "server/streaming/context.h"
#include "server/streaming/handlers.h"
#include "server/streaming/spdy/session.h"
#include "server/streaming/tokens.h"

namespace crius::streaming {

namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

namespace {

constexpr size_t kMaxWsMessage = 1 << 20;
constexpr std::chrono::seconds kRequestTimeout{30};
// The remotecommand and portforward subprotocols, most preferred first
// where the client's own order does not decide.
const std::vector<std::string> kSpdyRemoteCommand = {"v4.channel.k8s.io", "v3.channel.k8s.io", "v2.channel.k8s.io",
                                                     "channel.k8s.io"};
const std::vector<std::string> kSpdyPortForward = {"portforward.k8s.io"};
const std::vector<std::string> kWsRemoteCommand = {"v5.channel.k8s.io",        "v4.channel.k8s.io",
                                                   "v4.base64.channel.k8s.io", "channel.k8s.io",
                                                   "base64.channel.k8s.io",    ""};
const char* const kTunnel = "SPDY/3.1+portforward.k8s.io";
const std::vector<std::string> kWsPortForward = {kTunnel, "v4.channel.k8s.io", "v4.base64.channel.k8s.io", ""};

// A new SPDY session, noted for ~Server (Context::spdy_sessions).
std::shared_ptr<spdy::Session> tracked(Context& ctx, std::shared_ptr<spdy::Session> s) {
  std::erase_if(ctx.spdy_sessions, [](const auto& w) { return w.expired(); });
  ctx.spdy_sessions.push_back(s);
  return s;
}

std::string lower(std::string_view s) {
  std::string r(s);
  for (auto& c : r) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return r;
}

// Every value of a header that may repeat, split at commas.
std::vector<std::string> header_list(const http::request<http::string_body>& req, std::string_view name) {
  std::vector<std::string> out;
  for (const auto& f : req)
    if (beast::iequals(f.name_string(), beast::string_view(name.data(), name.size())))
      for (auto& v : split(std::string(f.value()), ','))
        if (auto t = trim(v); !t.empty()) out.push_back(std::string(t));
  return out;
}

// The first of the client's protocols that the server speaks (the client's
// order decides, as Kubernetes' handshake does).
std::optional<std::string> negotiate(const std::vector<std::string>& client, const std::vector<std::string>& server) {
  for (const auto& c : client)
    for (const auto& s : server)
      if (c == s) return c;
  return std::nullopt;
}

int remotecommand_version(const std::string& p) {
  if (p == "v4.channel.k8s.io") return 4;
  if (p == "v3.channel.k8s.io") return 3;
  if (p == "v2.channel.k8s.io") return 2;
  return 1;
}

template <class S>
class HttpConn : public std::enable_shared_from_this<HttpConn<S>> {
 public:
  HttpConn(S stream, std::shared_ptr<Context> ctx, Tokens* tokens, std::string peer)
      : stream_(std::move(stream)), ctx_(std::move(ctx)), tokens_(tokens), peer_(std::move(peer)) {}

  void start() {
    parser_.emplace();
    parser_->header_limit(16 * 1024);
    parser_->body_limit(64 * 1024);
    beast::get_lowest_layer(stream_).expires_after(kRequestTimeout);
    http::async_read(stream_, buf_, *parser_, [self = this->shared_from_this()](beast::error_code ec, size_t) {
      if (!ec) self->route();
    });
  }

 private:
  using Response = http::response<http::string_body>;

  void answer(http::status status, std::string body, std::function<void(Response&)> more = {}) {
    auto res = std::make_shared<Response>(status, 11);
    res->set(http::field::server, "crius");
    res->set(http::field::content_type, "text/plain; charset=utf-8");
    res->body() = body + "\n";
    if (more) more(*res);
    res->keep_alive(false);
    res->prepare_payload();
    http::async_write(stream_, *res, [self = this->shared_from_this(), res](beast::error_code, size_t) {
      close_lowest(self->stream_);
    });
  }

  void route() {
    req_ = parser_->release();
    const std::string target(req_.target());
    const std::string path = target.substr(0, target.find('?'));
    if (req_.method() != http::verb::get && req_.method() != http::verb::post)
      return answer(http::status::method_not_allowed, "only GET and POST are served");
    const auto parts = split(path, '/');  // "", kind, token
    if (parts.size() != 3 || !parts[0].empty() || (parts[1] != "exec" && parts[1] != "attach" &&
                                                   parts[1] != "portforward"))
      return answer(http::status::not_found, "not found");
    if (ctx_->sessions.load() >= ctx_->opts.max_sessions) {
      log::warn("streaming: too many sessions, request refused",
                {{"peer", peer_}, {"max_sessions", std::to_string(ctx_->opts.max_sessions)}});
      return answer(http::status::too_many_requests, "too many streaming sessions; try again later");
    }
    auto request = tokens_->take(parts[2]);
    if (!request || parts[1] != kind_of(*request)) {
      log::warn("streaming: unknown, used or expired token", {{"peer", peer_}, {"kind", parts[1]}});
      return answer(http::status::not_found, "unknown, used or expired streaming token");
    }
    const bool upgrade = lower(std::string(req_[http::field::connection])).find("upgrade") != std::string::npos;
    if (upgrade && beast::iequals(req_[http::field::upgrade], "websocket")) return websocket(std::move(*request));
    spdy(std::move(*request), upgrade);
  }

  void websocket(Request request) {
    const bool pf = std::holds_alternative<PortForwardRequest>(request);
    auto client = header_list(req_, "Sec-WebSocket-Protocol");
    if (client.empty()) client.push_back("");
    auto proto = negotiate(client, pf ? kWsPortForward : kWsRemoteCommand);
    if (!proto)
      return answer(http::status::bad_request, "requested WebSocket protocol(s) are not supported");
    if (pf && *proto != kTunnel && std::get<PortForwardRequest>(request).ports.empty())
      return answer(http::status::bad_request, "the port-forward request names no port");
    auto slot = std::make_shared<SessionSlot>(ctx_, request.index());
    auto ws = std::make_shared<BeastWs<S>>(std::move(stream_), kMaxWsMessage);
    ws->accept(req_, *proto, ctx_->opts.idle_timeout,
               [self = this->shared_from_this(), ws, proto = *proto, request = std::move(request), ctx = ctx_,
                slot](beast::error_code ec) mutable {
                 if (ec) return log::warn("streaming: WebSocket handshake failed", {{"error", ec.message()}});
                 if (auto* pf = std::get_if<PortForwardRequest>(&request)) {
                   if (proto == kTunnel) {
                     auto session = tracked(*ctx, spdy::Session::make(tunnel_transport(ws, ctx->io), ""));
                     return serve_spdy_port_forward(session, std::move(*pf), ctx, slot);
                   }
                   return serve_ws_port_forward(ws, proto, std::move(*pf), ctx, slot);
                 }
                 serve_ws_remote_command(ws, proto, std::move(request), ctx, slot);
               });
  }

  void spdy(Request request, bool upgrade) {
    if (!upgrade || lower(std::string(req_[http::field::upgrade])).find("spdy/3.1") == std::string::npos)
      return answer(http::status::bad_request, "unable to upgrade: missing upgrade headers in request");
    const bool pf = std::holds_alternative<PortForwardRequest>(request);
    const auto& server = pf ? kSpdyPortForward : kSpdyRemoteCommand;
    const auto client = header_list(req_, "X-Stream-Protocol-Version");
    if (client.empty())
      return answer(http::status::bad_request, "unable to upgrade: header X-Stream-Protocol-Version is missing");
    auto proto = negotiate(client, server);
    if (!proto)
      return answer(http::status::forbidden, "unable to upgrade: unable to negotiate protocol", [&](Response& r) {
        for (const auto& s : server) r.insert("X-Accepted-Stream-Protocol-Versions", s);
      });
    auto slot = std::make_shared<SessionSlot>(ctx_, request.index());
    auto res = std::make_shared<http::response<http::empty_body>>(http::status::switching_protocols, 11);
    res->set(http::field::connection, "Upgrade");
    res->set(http::field::upgrade, "SPDY/3.1");
    res->set("X-Stream-Protocol-Version", *proto);
    http::async_write(stream_, *res,
                      [self = this->shared_from_this(), res, proto = *proto, request = std::move(request),
                       slot](beast::error_code ec, size_t) mutable {
                        if (ec) return;
                        std::string rest = beast::buffers_to_string(self->buf_.data());
                        auto t = std::make_unique<StreamTransport<S>>(std::move(self->stream_),
                                                                      self->ctx_->opts.idle_timeout);
                        auto session = tracked(*self->ctx_, spdy::Session::make(std::move(t), std::move(rest)));
                        if (auto* pf = std::get_if<PortForwardRequest>(&request))
                          return serve_spdy_port_forward(session, std::move(*pf), self->ctx_, slot);
                        serve_spdy_remote_command(session, remotecommand_version(proto), std::move(request),
                                                  self->ctx_, slot);
                      });
  }

  S stream_;
  std::shared_ptr<Context> ctx_;
  Tokens* tokens_;
  std::string peer_;
  beast::flat_buffer buf_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::request<http::string_body> req_;
};

}  // namespace

struct Server::Impl {
  asio::io_context ioc{1};
  asio::thread_pool pool{4};
  tcp::acceptor acceptor{ioc};
  std::optional<ssl::context> tls;
  std::shared_ptr<Context> ctx;
  Tokens tokens;
  std::string url_base;
  uint16_t port = 0;
  std::thread thread;

  explicit Impl(const ServerOptions& o) : tokens(o.token_ttl) {}

  void accept() {
    acceptor.async_accept([this](beast::error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted) return;
      if (!ec) {
        boost::system::error_code ignored;
        socket.set_option(tcp::no_delay(true), ignored);
        const auto ep = socket.remote_endpoint(ignored);
        std::string peer = ep.address().to_string() + ":" + std::to_string(ep.port());
        if (tls) {
          auto s = std::make_shared<TlsStream>(beast::tcp_stream(std::move(socket)), *tls);
          beast::get_lowest_layer(*s).expires_after(kRequestTimeout);
          s->async_handshake(ssl::stream_base::server, [this, s, peer](beast::error_code ec) {
            if (ec) return log::info("streaming: TLS handshake failed", {{"peer", peer}, {"error", ec.message()}});
            std::make_shared<HttpConn<TlsStream>>(std::move(*s), ctx, &tokens, peer)->start();
          });
        } else {
          std::make_shared<HttpConn<PlainStream>>(PlainStream(std::move(socket)), ctx, &tokens, peer)->start();
        }
      }
      accept();
    });
  }
};

Server::Server(const ServerOptions& o, Backend& backend) : impl_(std::make_shared<Impl>(o)) {
  Impl& m = *impl_;
  boost::system::error_code ec;
  const auto addr = asio::ip::make_address(o.address, ec);
  const std::string where = "streaming server on " + o.address + ":" + std::to_string(o.port);
  if (ec) throw InvalidArgument(where + ": bad address: " + ec.message());
  if (!o.tls_cert.empty() || !o.tls_key.empty()) {
    if (o.tls_cert.empty() || o.tls_key.empty())
      throw InvalidArgument(where + ": TLS needs both streaming.tls_cert and streaming.tls_key");
    m.tls.emplace(ssl::context::tls_server);
    m.tls->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                       ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
    m.tls->use_certificate_chain_file(o.tls_cert, ec);
    if (ec) throw InvalidArgument(where + ": reading streaming.tls_cert " + o.tls_cert + ": " + ec.message());
    m.tls->use_private_key_file(o.tls_key, ssl::context::pem, ec);
    if (ec) throw InvalidArgument(where + ": reading streaming.tls_key " + o.tls_key + ": " + ec.message());
  }
  const tcp::endpoint ep(addr, static_cast<uint16_t>(o.port));
  m.acceptor.open(ep.protocol(), ec);
  if (!ec) m.acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) m.acceptor.bind(ep, ec);
  if (!ec) m.acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) throw Unavailable("binding the " + where + ": " + ec.message());
  m.port = m.acceptor.local_endpoint().port();
  // The URL a client on this node uses: a wildcard address is reached on loopback.
  std::string host = o.address;
  if (addr.is_unspecified()) host = addr.is_v6() ? "::1" : "127.0.0.1";
  if (addr.is_v6()) host = "[" + host + "]";
  m.url_base = std::string(m.tls ? "https" : "http") + "://" + host + ":" + std::to_string(m.port);
  m.ctx = std::make_shared<Context>();
  m.ctx->io = m.ioc.get_executor();
  m.ctx->pool = &m.pool;
  m.ctx->backend = &backend;
  m.ctx->opts = o;
  m.accept();
  m.thread = std::thread([&m] {
    for (;;) {
      try {
        m.ioc.run();
        return;
      } catch (const std::exception& e) {
        // A session's bug must not take every other session down.
        log::error("streaming: a session failed", {{"error", e.what()}});
      }
    }
  });
  log::info("streaming server listening", {{"url", m.url_base}});
}

Server::~Server() {
  Impl& m = *impl_;
  asio::post(m.ioc, [&m] {
    boost::system::error_code ignored;
    m.acceptor.close(ignored);
  });
  m.ioc.stop();
  if (m.thread.joinable()) m.thread.join();
  m.pool.join();
  // Sessions still open never end now: drop their handlers and transports,
  // which own them.
  for (const auto& w : m.ctx->spdy_sessions)
    if (auto s = w.lock()) {
      s->on_stream = nullptr;
      s->on_closed = nullptr;
      s->abandon();
    }
}

std::string Server::url(Request r) {
  const std::string kind = kind_of(r);
  return impl_->url_base + "/" + kind + "/" + impl_->tokens.put(std::move(r));
}

uint16_t Server::port() const { return impl_->port; }

size_t Server::sessions() const { return impl_->ctx->sessions.load(); }

std::map<std::string, size_t> Server::sessions_by_kind() const {
  const auto& n = impl_->ctx->sessions_by_kind;
  return {{"exec", n[0].load()}, {"attach", n[1].load()}, {"portforward", n[2].load()}};
}

}  // namespace crius::streaming
