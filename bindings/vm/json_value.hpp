#pragma once
// JSON <-> Lua values, for every binding; belay.json itself is api/json.hpp.
//
// Objects become tables with string keys, arrays become sequences, and a
// JSON null inside a structure becomes belay.json.null (a sentinel, since nil
// cannot sit in a table). A table whose keys are exactly 1..n encodes as an
// array; any other table as an object (number keys as their text); an empty
// table as {}.

#include "core/error.hpp"

#include <lua.hpp>
#include <nlohmann/json.hpp>

namespace belay::lua {

// Pushes the Lua form of `value`. May raise a memory error, or a `script`
// error table for nesting deeper than 200 levels (as to_json refuses).
void push_json(lua_State* L, const nlohmann::json& value);
// The JSON form of the value at `idx`. Never raises and runs no metamethod;
// functions, userdata (but the null sentinel), cycles and depth past 200 are
// `script` errors naming where in the value they sit.
Result<nlohmann::json> to_json(lua_State* L, int idx);
// Pushes the null sentinel.
void push_json_null(lua_State* L);
// True if the value at `idx` is the null sentinel.
bool is_json_null(lua_State* L, int idx);

}  // namespace belay::lua
