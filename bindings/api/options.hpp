#pragma once
// A call's options table, read strictly: every key must be one the call
// knows and every value of the type it expects. The first problem is a
// `config` error that names the call and the valid keys, with a near miss:
//   unknown option 'fullPage' for page:screenshot (did you mean 'full_page'?);
//   valid: full_page, selector, format, quality, timeout
//
//   Options o(L, 3, "page:click", {"button", "count", "timeout"});
//   auto button = o.one_of("button", {"left", "right", "middle"}, "left");
//   uint64_t timeout = o.timeout(defaults.action);
//   if (!o.ok()) return o.push_error();   // pushes the error, returns false

#include "core/error.hpp"

#include <lua.hpp>
#include <nlohmann/json.hpp>

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace belay::lua {

// Options that may hold only `timeout`: *out gets it, or `fallback`.
// False with the `config` error pushed.
bool read_timeout_option(lua_State* L, int idx, const char* op, uint64_t fallback, uint64_t* out);

class Options {
 public:
  // `idx` is where the table is (absent or nil: no options). `keys` are the
  // call's valid keys; "timeout" is one only if listed.
  Options(lua_State* L, int idx, const char* op, std::initializer_list<std::string_view> keys);

  bool ok() const { return !error_; }
  // Pushes the error table; returns false, for `return o.push_error();`.
  bool push_error();
  const Error& error() const { return *error_; }

  std::optional<bool> boolean(const char* key);
  bool boolean(const char* key, bool fallback) { return boolean(key).value_or(fallback); }
  std::optional<std::string> string(const char* key);
  // A table of string keys to string values (headers), as a JSON object.
  std::optional<nlohmann::json> string_map(const char* key);
  // A number in [min, max]; `integer` also refuses fractions.
  std::optional<double> number(const char* key, double min, double max, bool integer = false);
  // A string from `choices`.
  std::optional<std::string> one_of(const char* key,
                                    std::initializer_list<std::string_view> choices);
  std::string one_of(const char* key, std::initializer_list<std::string_view> choices,
                     std::string fallback) {
    return one_of(key, choices).value_or(std::move(fallback));
  }
  // A string or a list of strings from `choices` (modifiers = {"Shift"}).
  std::vector<std::string> string_list(const char* key,
                                       std::initializer_list<std::string_view> choices = {});
  // {x = , y = } numbers.
  std::optional<std::pair<double, double>> point(const char* key);
  // timeout in ms: a positive integer; `fallback` when absent.
  uint64_t timeout(uint64_t fallback);

 private:
  int push_field(const char* key);  // pushes t[key]; returns its type
  void fail(const std::string& message);
  void fail_type(const char* key, const char* expected);

  lua_State* L_;
  int idx_;
  const char* op_;
  std::optional<Error> error_;
};

}  // namespace belay::lua
