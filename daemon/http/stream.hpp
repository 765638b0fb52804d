// Internals of http_listener.cpp: a connection's byte stream, plain TCP or
// TLS over it, chosen when the connection is accepted. Beast's HTTP reads
// and writes take it as any stream; deadlines are set on tcp(), under TLS too,
// so that every limit of the listener holds for both.
#pragma once

#include <utility>  // before Asio: Boost 1.74 misses it under C++20 with GCC 12

#include <boost/asio/async_result.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <cstddef>
#include <memory>
#include <variant>

namespace calloutd::http_detail {

class Stream {
 public:
  using Tcp = boost::beast::tcp_stream;
  using Tls = boost::beast::ssl_stream<Tcp>;
  using executor_type = Tcp::executor_type;

  // Plain TCP when `tls` is null; otherwise TLS with `tls`, kept alive as
  // long as the connection (a reload may replace the listener's context).
  Stream(boost::asio::ip::tcp::socket socket, std::shared_ptr<boost::asio::ssl::context> tls)
      : m_context(std::move(tls)),
        m_stream(m_context ? Variant(std::in_place_type<Tls>, std::move(socket), *m_context)
                           : Variant(std::in_place_type<Tcp>, std::move(socket))) {}

  bool tls() const { return m_context != nullptr; }
  Tcp& tcp() {
    return std::visit([](auto& s) -> Tcp& { return boost::beast::get_lowest_layer(s); }, m_stream);
  }
  Tls& tls_stream() { return std::get<Tls>(m_stream); }
  executor_type get_executor() { return tcp().get_executor(); }

  template <typename Buffers, typename Token>
  auto async_read_some(const Buffers& buffers, Token&& token) {
    return boost::asio::async_initiate<Token, void(boost::system::error_code, std::size_t)>(
        [this](auto handler, const Buffers& b) {
          std::visit([&](auto& s) { s.async_read_some(b, std::move(handler)); }, m_stream);
        },
        token, buffers);
  }

  template <typename Buffers, typename Token>
  auto async_write_some(const Buffers& buffers, Token&& token) {
    return boost::asio::async_initiate<Token, void(boost::system::error_code, std::size_t)>(
        [this](auto handler, const Buffers& b) {
          std::visit([&](auto& s) { s.async_write_some(b, std::move(handler)); }, m_stream);
        },
        token, buffers);
  }

 private:
  using Variant = std::variant<Tcp, Tls>;
  std::shared_ptr<boost::asio::ssl::context> m_context;
  Variant m_stream;
};

}  // namespace calloutd::http_detail
