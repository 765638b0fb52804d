// Result<T>: a value or an error message, for failures that are expected
// (bad payloads, rejected commits, bad config values). Exceptions are kept for
// startup and fatal errors.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace calloutd {

struct Error {
  std::string message;
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : m_v(std::move(value)) {}
  Result(Error error) : m_v(std::move(error)) {}

  bool ok() const { return std::holds_alternative<T>(m_v); }
  explicit operator bool() const { return ok(); }
  T& value() { return std::get<T>(m_v); }
  const T& value() const { return std::get<T>(m_v); }
  T& operator*() { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const std::string& error() const { return std::get<Error>(m_v).message; }

 private:
  std::variant<T, Error> m_v;
};

struct Ok {};

}  // namespace calloutd
