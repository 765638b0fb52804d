#include "daemon/journal/journal_format.hpp"

#include <nlohmann/json.hpp>

#include "daemon/base/hash.hpp"
#include "daemon/base/result.hpp"

namespace calloutd {
namespace {

using nlohmann::json;

// 64 bits of SHA-256: plenty to tell a damaged record from a good one.
constexpr std::size_t k_sum_hex_digits = 16;

// The text the checksum covers: the record without "sum", with sorted keys
// (nlohmann's objects are ordered) and no spaces. Both the writer and the
// reader produce it from a json object, so the reader reproduces the
// writer's bytes for any record the writer made.
std::string canonical(const json& record_without_sum) {
  return record_without_sum.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string checksum(const json& record_without_sum) {
  return sha256_hex(canonical(record_without_sum)).substr(0, k_sum_hex_digits);
}

// `text` quoted for a message, cut short: a damaged line may be huge.
std::string shown(std::string_view text) {
  constexpr std::size_t k_max = 40;
  std::string cut(text.substr(0, k_max));
  return json(cut).dump(-1, ' ', false, json::error_handler_t::replace) +
         (text.size() > k_max ? "..." : "");
}

// Verifies and removes "sum"; "" when it holds or is absent (a record of
// the version before checksums).
std::string check_and_strip_sum(json& j) {
  auto it = j.find("sum");
  if (it == j.end()) {
    return "";
  }
  if (!it->is_string()) {
    return "\"sum\" is not a string";
  }
  std::string stored = it->get<std::string>();
  j.erase(it);
  std::string computed = checksum(j);
  if (stored != computed) {
    return "checksum mismatch: \"sum\" is " + shown(stored) + ", the record hashes to \"" +
           computed + "\"";
  }
  return "";
}

Result<std::string> string_field(const json& j, const char* name) {
  auto it = j.find(name);
  if (it == j.end()) {
    return Error{"\"" + std::string(name) + "\" is missing"};
  }
  if (!it->is_string()) {
    return Error{"\"" + std::string(name) + "\" is not a string"};
  }
  return it->get<std::string>();
}

Result<std::uint64_t> sequence_field(const json& j) {
  auto it = j.find("seq");
  if (it == j.end()) {
    return Error{"\"seq\" is missing"};
  }
  if (!it->is_number()) {
    return Error{"\"seq\" is not a number"};
  }
  if (!it->is_number_unsigned() || it->get<std::uint64_t>() == 0) {
    return Error{"\"seq\" is not a whole number from 1"};
  }
  return it->get<std::uint64_t>();
}

// The record's fields, each present with its type.
Result<JournalRecord> record_fields(const json& j) {
  auto seq = sequence_field(j);
  if (!seq) {
    return Error{seq.error()};
  }
  JournalRecord r;
  r.sequence = *seq;
  auto received = string_field(j, "received");
  auto source = string_field(j, "source");
  auto body = string_field(j, "body");
  for (const auto* field : {&received, &source, &body}) {
    if (!*field) {
      return Error{field->error()};
    }
  }
  auto t = parse_rfc3339(*received);
  if (!t) {
    return Error{"\"received\" is not an RFC 3339 time: " + shown(*received)};
  }
  r.received_at = *t;
  r.source = std::move(*source);
  r.body = std::move(*body);
  // The first version wrote no "verified".
  auto verified = j.find("verified");
  if (verified != j.end() && !verified->is_boolean()) {
    return Error{"\"verified\" is not true or false"};
  }
  r.verified = verified != j.end() && verified->get<bool>();
  return r;
}

Result<JournalRecord> parse_record(std::string_view line) {
  if (line.find_first_not_of(" \t\r") == std::string_view::npos) {
    return Error{"blank line"};
  }
  json j = json::parse(line.begin(), line.end(), nullptr, false);
  if (j.is_discarded()) {
    return Error{"not valid JSON"};
  }
  if (!j.is_object()) {
    return Error{"not a JSON object"};
  }
  if (auto bad = check_and_strip_sum(j); !bad.empty()) {
    return Error{bad};
  }
  return record_fields(j);
}

}  // namespace

ParsedJournal parse_journal(std::string_view content) {
  ParsedJournal out;
  std::size_t start = 0;
  std::size_t line = 0;
  while (start < content.size()) {
    ++line;
    auto nl = content.find('\n', start);
    if (nl == std::string_view::npos) {
      out.torn_line = line;
      out.torn_bytes = content.size() - start;
      break;
    }
    auto text = content.substr(start, nl - start);
    auto record = parse_record(text);
    if (record) {
      out.records.push_back(std::move(*record));
      out.kept.append(text).push_back('\n');
      out.last_record_line = line;
    } else {
      out.problems.push_back({line, record.error(), std::string(text)});
    }
    start = nl + 1;
  }
  return out;
}

std::string encode_journal_record(const JournalRecord& record) {
  json j = {{"seq", record.sequence},
            {"received", format_rfc3339_millis(record.received_at)},
            {"source", record.source},
            {"body", record.body},
            {"verified", record.verified}};
  j["sum"] = checksum(j);
  return j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
}

}  // namespace calloutd
