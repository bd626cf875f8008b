#include "cdp/reply_fields.hpp"

#include <cmath>

namespace belay::cdp {

using nlohmann::json;

namespace {

const json* field(const json& message, const char* key) {
  if (!message.is_object()) return nullptr;
  auto it = message.find(key);
  return it == message.end() ? nullptr : &*it;
}

}  // namespace

std::string string_field(const json& message, const char* key, const std::string& fallback) {
  const json* value = field(message, key);
  return value != nullptr && value->is_string() ? value->get<std::string>() : fallback;
}

std::string result_object_id(const json& reply) {
  const json* result = field(reply, "result");
  return result != nullptr ? string_field(*result, "objectId") : std::string();
}

double number_field(const json& message, const char* key, double fallback) {
  const json* value = field(message, key);
  return value != nullptr && value->is_number() ? value->get<double>() : fallback;
}

int64_t integer_field(const json& message, const char* key, int64_t fallback) {
  const json* value = field(message, key);
  if (value == nullptr) return fallback;
  if (value->is_number_integer()) {
    if (value->is_number_unsigned() && value->get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) {
      return fallback;
    }
    return value->get<int64_t>();
  }
  if (value->is_number_float()) {
    const double d = value->get<double>();
    // 2^63 is the first double past INT64_MAX.
    if (std::isfinite(d) && std::trunc(d) == d && d >= -9223372036854775808.0 &&
        d < 9223372036854775808.0) {
      return static_cast<int64_t>(d);
    }
  }
  return fallback;
}

const json& array_field(const json& message, const char* key) {
  static const json kEmpty = json::array();
  const json* value = field(message, key);
  return value != nullptr && value->is_array() ? *value : kEmpty;
}

Result<std::string> required_string(const json& reply, const char* key, const std::string& method,
                                    const std::string& op) {
  const json* value = field(reply, key);
  if (value != nullptr && value->is_string() && !value->get_ref<const std::string&>().empty()) {
    return value->get<std::string>();
  }
  const std::string what = value == nullptr     ? std::string("no ") + key
                           : value->is_string() ? std::string("an empty ") + key
                                                : std::string("a ") + key + " that is no string";
  return Error{Kind::protocol, "CDP reply to " + method + " has " + what, op, {}};
}

}  // namespace belay::cdp
