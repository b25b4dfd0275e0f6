#include "adapters/http/http_server.h"

#include <sys/socket.h>

#include <cctype>
#include <exception>

#include "adapters/http/http_status.h"
#include "adapters/http/reply.h"

namespace gh::http {
namespace {

// httplib 0.11 bounds a body by its Content-Length only: a chunked body, or a gzip/brotli
// body that it inflates, could grow without limit. Such requests are refused before any
// byte of their body is read (the pre-routing handler runs first). 0: acceptable.
int refused_framing(const httplib::Request& req, std::string& why) {
  if (req.has_header("Transfer-Encoding")) {
    why = "request bodies must have a Content-Length (no Transfer-Encoding)";
    return 411;
  }
  std::string encoding = req.get_header_value("Content-Encoding");
  for (char& c : encoding) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (!encoding.empty() && encoding != "identity") {
    why = "compressed request bodies are not accepted";
    return 415;
  }
  return 0;
}

GateOptions gate_options(const ServerOptions& options) {
  GateOptions gate;
  gate.head.max_bytes = options.max_header_bytes;
  gate.head.max_headers = options.max_headers;
  gate.header_timeout = options.header_timeout;
  gate.keep_alive_timeout = options.keep_alive_timeout;
  gate.max_connections = options.max_connections;
  gate.max_connections_per_source = options.max_connections_per_source;
  return gate;
}

}  // namespace

HttpServer::HttpServer(ServerOptions options)
    : options_(std::move(options)), server_(gate_options(options_), options_.threads, refusals_) {
  server_.set_tcp_nodelay(true);
  server_.set_keep_alive_max_count(options_.keep_alive_max_count);
  server_.set_keep_alive_timeout(options_.keep_alive_timeout.count());
  server_.set_read_timeout(options_.read_timeout);
  server_.set_write_timeout(options_.write_timeout);
  server_.set_payload_max_length(options_.max_body_bytes);

  server_.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    // RFC 9112 6.3: a request with neither Content-Length nor Transfer-Encoding has an empty
    // body. httplib 0.11 instead reads such a POST "until close" and answers 400, which
    // breaks `curl -X POST URL` and the seed's own clients. The request object is ours
    // (httplib's local, not const); saying its length is 0 is what the RFC says it is.
    if (!req.has_header("Content-Length") && !req.has_header("Transfer-Encoding"))
      const_cast<httplib::Request&>(req).headers.emplace("Content-Length", "0");
    std::string why;
    int status = refused_framing(req, why);
    if (status == 0) return httplib::Server::HandlerResponse::Unhandled;
    refusals_.count(Refusal::kBodyFraming);
    send_error(res, invalid_argument(std::move(why)));
    res.status = status;
    // The body was not read: the connection cannot carry another request.
    res.set_header("Connection", "close");
    return httplib::Server::HandlerResponse::Handled;
  });

  // Runs after httplib added its own connection headers, just before the answer is written.
  // httplib 0.11 adds Keep-Alive unless it decided to close; an answer that says
  // `Connection: close` must not promise more, and its connection must really close.
  server_.set_post_routing_handler([](const httplib::Request&, httplib::Response& res) {
    if (res.get_header_value("Connection") != "close") return;
    res.headers.erase("Keep-Alive");
    GatedServer::close_after_this_request();
  });

  server_.set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, std::exception_ptr error) {
        std::string what = "unexpected exception";
        try {
          if (error) std::rethrow_exception(error);
        } catch (const std::exception& e) {
          what = e.what();
        } catch (...) {
        }
        res.headers.clear();
        send_error(res, internal_error("request handler failed: " + what));
      });

  // httplib calls this for every status >= 400, including ours: a handler's JSON body is
  // kept; only bodiless answers (no route, 413, parse errors) get one here.
  server_.set_error_handler(
      httplib::Server::HandlerWithResponse([](const httplib::Request& req, httplib::Response& res) {
        if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
        Code code = code_for_http_status(res.status);
        std::string message = res.status == 404   ? "no route " + req.method + " " + req.path
                              : res.status == 413 ? "request body exceeds the size limit"
                                                  : "request rejected by the HTTP layer";
        int status = res.status;
        send_error(res, Status(code, std::move(message)));
        res.status = status;  // keep httplib's own status (405, 414, ...)
        return httplib::Server::HandlerResponse::Handled;
      }));
}

HttpServer::~HttpServer() { stop(); }

Result<int> HttpServer::start() {
  if (thread_.joinable()) return failed_precondition("HTTP server already started");
  int port = 0;
  if (options_.port == 0) {
    port = server_.bind_to_any_port(options_.address);
  } else if (server_.bind_to_port(options_.address, options_.port)) {
    port = options_.port;
  } else {
    port = -1;
  }
  if (port <= 0) {
    return unavailable("cannot listen on " + options_.address + ":" +
                       std::to_string(options_.port));
  }
  port_ = port;
  server_.set_listen_backlog(SOMAXCONN);
  listen_returned_ = false;
  thread_ = std::thread([this] {
    server_.listen_after_bind();
    listen_returned_ = true;
  });
  // httplib's stop() does nothing until the accept loop has marked itself running; waiting
  // for that here means a stop() right after start() cannot leave the thread in accept().
  while (!server_.is_running() && !listen_returned_)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return port;
}

void HttpServer::stop() {
  if (!thread_.joinable()) return;
  server_.stop();
  thread_.join();
}

}  // namespace gh::http
