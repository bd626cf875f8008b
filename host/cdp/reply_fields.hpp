#pragma once
// Reading fields of what a CDP peer sent. The peer may be Chromium, or
// whatever answers a --connect URL: a field of the wrong type is its fault,
// not ours to crash on (nlohmann's json::value throws on one). Each reader
// gives the fallback for an absent field, a field of the wrong type, or a
// message that is no object at all.

#include "core/error.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace belay::cdp {

std::string string_field(const nlohmann::json& message, const char* key,
                         const std::string& fallback = "");
double number_field(const nlohmann::json& message, const char* key, double fallback);
// An integer that fits in int64_t; fractions and out-of-range numbers are
// the wrong type.
int64_t integer_field(const nlohmann::json& message, const char* key, int64_t fallback);
// The field when it is an array, else an empty array.
const nlohmann::json& array_field(const nlohmann::json& message, const char* key);

// The remote object a Runtime.evaluate without returnByValue gave back:
// result.objectId, or "" (null, undefined, a reply of the wrong shape).
std::string result_object_id(const nlohmann::json& reply);

// A field the command cannot do without: its string, or a `protocol` error
// naming the method and the field.
Result<std::string> required_string(const nlohmann::json& reply, const char* key,
                                    const std::string& method, const std::string& op);

}  // namespace belay::cdp
