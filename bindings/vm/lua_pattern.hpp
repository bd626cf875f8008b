#pragma once
// string.find, string.match, string.gmatch and string.gsub for the sandbox,
// with Lua 5.4's pattern language and results, whose matching work is
// charged to the running task's instruction quota.
//
// Why not the stock ones: Lua's matcher backtracks inside one C call, where
// the count hook never runs. `("a"):rep(5000):find(".-.-.-.-b")` takes
// on the order of 10^13 steps, and a plain find of a long needle in a long
// subject is quadratic; either would hang a profile's loop for hours with
// every quota intact. Here every step of the matcher (each item tried, each
// repetition of a quantifier, each candidate position) counts as one
// instruction, so such a script stops with "instruction quota exceeded"
// like any other runaway.

struct lua_State;

namespace belay::lua {

// Sets find, match, gmatch and gsub in the table at `table_index`.
void set_counted_pattern_functions(lua_State* L, int table_index);

}  // namespace belay::lua
