// JSON <-> Lua (bindings/json.cpp): JSON text decoded into Lua values,
// optionally reshaped in Lua (numeric keys, numbers from strings, NaN,
// functions, metatables that raise), and encoded back. Checks that a
// decode->encode round trip keeps the value (up to what DESIGN.md says
// changes: [] becomes {}, integers past 2^63 become floats); that once
// encoded, decode->encode is stable to the byte; that conversion never runs a
// metamethod and fails only with `script` errors; that nesting past 201
// levels is a `script` error both ways; and that belay.json's encode/decode,
// called from Lua, raise error tables rather than crash.
//
// Input: [mode byte] JSON text. Mode bits: 1 numeric keys, 2 numbers from
// strings ("nan", "inf", "fn" too), 4 trapping metatables, 8 through
// belay.json.encode/decode.

#include "api/json.hpp"
#include "core/json_text.hpp"
#include "fuzz_targets.hpp"
#include "vm/error_value.hpp"
#include "vm/json_value.hpp"

#include <lua.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <memory>
#include <optional>
#include <string>

namespace belay::fuzz {
namespace {

using nlohmann::json;

constexpr char kReshape[] = R"lua(
local numeric_keys, numeric_values, trap = ...
local trap_mt = {__index = error, __newindex = error, __pairs = error, __len = error,
                 __tostring = error, __name = "trap"}
local specials = {nan = 0/0, inf = math.huge, ["-inf"] = -math.huge, fn = print}
local function walk(value, depth)
  if type(value) == "string" and numeric_values then
    if specials[value] ~= nil then return specials[value] end
    return tonumber(value) or value
  end
  if type(value) ~= "table" or depth > 250 then return value end
  local out = {}
  for k, v in next, value do
    if numeric_keys and type(k) == "string" then k = tonumber(k) or k end
    if k == k then out[k] = walk(v, depth + 1) end
  end
  if trap then setmetatable(out, trap_mt) end
  return out
end
return walk((select(4, ...)), 0)
)lua";

struct LuaCloser {
  void operator()(lua_State* L) const { lua_close(L); }
};

std::string dump(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

// What a value becomes after one trip through Lua.
json normalized(const json& value) {
  switch (value.type()) {
    case json::value_t::array: {
      if (value.empty()) return json::object();
      json out = json::array();
      for (const json& item : value) out.push_back(normalized(item));
      return out;
    }
    case json::value_t::object: {
      json out = json::object();
      for (const auto& [key, item] : value.items()) out[key] = normalized(item);
      return out;
    }
    case json::value_t::number_unsigned:
      if (value.get<uint64_t>() > static_cast<uint64_t>(LUA_MAXINTEGER)) {
        return json(static_cast<double>(value.get<uint64_t>()));
      }
      return json(static_cast<int64_t>(value.get<uint64_t>()));
    default:
      return value;
  }
}

// How deep a JSON text nests (its strings skipped). Iterative: the input
// may nest deeper than the C stack could recurse.
int nesting(std::string_view text) {
  int depth = 0;
  int deepest = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') ++i;
      in_string = c != '"';
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return deepest;
}

// Pushes `value` in protected mode; false (error popped) if it raised.
bool push_protected(lua_State* L, const json& value) {
  lua_pushcfunction(L, [](lua_State* S) {
    lua::push_json(S, *static_cast<const json*>(lua_touserdata(S, 1)));
    return 1;
  });
  lua_pushlightuserdata(L, const_cast<json*>(&value));
  if (lua_pcall(L, 1, 1, 0) == LUA_OK) return true;
  lua_pop(L, 1);
  return false;
}

// belay.json.FN(arg at top) in protected mode; replaces the argument with
// the result, or with the error table (returns false).
bool call_module(lua_State* L, const char* fn) {
  lua::push_json_module(L);
  lua_getfield(L, -1, fn);
  lua_remove(L, -2);
  lua_insert(L, -2);
  return lua_pcall(L, 1, 1, 0) == LUA_OK;
}

void check_script_error(lua_State* L) {
  const Error e = lua::to_error(L, -1);
  FUZZ_CHECK_MSG(e.kind == Kind::script, e.to_string());
  lua_pop(L, 1);
}

// Lua value at the top -> JSON, by the C++ API or by belay.json.encode.
std::optional<json> encode_top(lua_State* L, bool via_module) {
  if (via_module) {
    if (!call_module(L, "encode")) {
      check_script_error(L);
      return std::nullopt;
    }
    size_t len = 0;
    const char* text = lua_tolstring(L, -1, &len);
    FUZZ_CHECK(text != nullptr);
    json value = json::parse(text, text + len, nullptr, false);
    FUZZ_CHECK_MSG(!value.is_discarded(), std::string(text, len));
    lua_pop(L, 1);
    return value;
  }
  Result<json> value = lua::to_json(L, -1);
  lua_pop(L, 1);
  if (!value) {
    FUZZ_CHECK_MSG(value.error().kind == Kind::script, value.error().to_string());
    return std::nullopt;
  }
  return std::move(value.value());
}

}  // namespace

int fuzz_json_lua(const uint8_t* data, size_t size) {
  InputReader in(data, size);
  const uint8_t mode = in.byte();
  const std::string_view text = in.rest();
  const bool reshape = (mode & 7) != 0;
  const bool via_module = (mode & 8) != 0;
  std::unique_ptr<lua_State, LuaCloser> state(luaL_newstate());
  lua_State* L = state.get();
  luaL_openlibs(L);

  // belay.json.decode refuses a raw NUL that nlohmann alone would read as
  // the end of the text, so the oracle is belay's own parse of outside text.
  const json original = parse_json_or_discard(text);
  // Containers nest up to 201 deep (depth 0 to 200), both ways.
  const bool too_deep = !original.is_discarded() && nesting(text) > 201;
  lua_pushlstring(L, text.data(), text.size());
  const bool decoded = call_module(L, "decode");
  FUZZ_CHECK(decoded == (!original.is_discarded() && !too_deep));
  if (decoded) {
    lua_pop(L, 1);
  } else {
    check_script_error(L);
  }
  if (original.is_discarded()) return 0;

  if (!push_protected(L, original)) {
    FUZZ_CHECK(too_deep);
    return 0;
  }
  FUZZ_CHECK(!too_deep);
  if (reshape) {
    FUZZ_CHECK(luaL_loadstring(L, kReshape) == LUA_OK);
    lua_pushboolean(L, mode & 1);
    lua_pushboolean(L, mode & 2);
    lua_pushboolean(L, mode & 4);
    lua_pushvalue(L, -5);
    FUZZ_CHECK(lua_pcall(L, 4, 1, 0) == LUA_OK);
    lua_remove(L, -2);
  }
  const std::optional<json> first = encode_top(L, via_module);
  if (!first) return 0;
  if (!reshape) FUZZ_CHECK_MSG(dump(*first) == dump(normalized(original)), dump(*first));

  // Once through Lua, the value is a fixed point: by value and as text.
  FUZZ_CHECK(push_protected(L, *first));
  const std::optional<json> second = encode_top(L, via_module);
  FUZZ_CHECK(second.has_value());
  FUZZ_CHECK_MSG(dump(*second) == dump(*first), dump(*second));
  const std::string encoded = dump(*first);
  lua_pushlstring(L, encoded.data(), encoded.size());
  FUZZ_CHECK(call_module(L, "decode"));
  FUZZ_CHECK(call_module(L, "encode"));
  size_t len = 0;
  const char* again = lua_tolstring(L, -1, &len);
  FUZZ_CHECK_MSG(std::string_view(again, len) == encoded, encoded);
  lua_pop(L, 1);
  return 0;
}

}  // namespace belay::fuzz
