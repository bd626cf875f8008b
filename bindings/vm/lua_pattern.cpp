#include "vm/lua_pattern.hpp"

#include "vm/pattern_matcher.hpp"

#include <lauxlib.h>
#include <lua.h>

#include <cctype>
#include <cstddef>
#include <cstring>

// The string.* entry points over pattern_matcher.hpp: argument handling,
// find's plain fast path, gmatch's iterator and gsub's replacements, with
// Lua 5.4's results and error messages (reference manual §6.4).
//
// A Lua error raised here (bad arguments, the quota) unwinds with longjmp
// through these frames: nothing in them has a destructor.

namespace belay::lua {
namespace {

using pattern::find_plain;
using pattern::has_specials;
using pattern::kEscape;
using pattern::make_matcher;
using pattern::match;
using pattern::Matcher;
using pattern::push_capture;
using pattern::push_captures;

// A 1-based, possibly negative position -> a 0-based offset (may be > length).
size_t start_offset(lua_Integer position, size_t length) {
  if (position > 0) return static_cast<size_t>(position) - 1;
  if (position == 0) return 0;
  if (position < -static_cast<lua_Integer>(length)) return 0;
  return length - static_cast<size_t>(-position);
}

int find_or_match(lua_State* L, bool find) {
  size_t length = 0;
  size_t pattern_length = 0;
  const char* s = luaL_checklstring(L, 1, &length);
  const char* p = luaL_checklstring(L, 2, &pattern_length);
  const size_t init = start_offset(luaL_optinteger(L, 3, 1), length);
  if (init > length) {
    luaL_pushfail(L);
    return 1;
  }
  Matcher m = make_matcher(L, s, length, p, pattern_length);
  if (find && (lua_toboolean(L, 4) || !has_specials(p, pattern_length))) {
    const char* found = find_plain(m, s + init, length - init, p, pattern_length);
    m.flush();
    if (found == nullptr) {
      luaL_pushfail(L);
      return 1;
    }
    lua_pushinteger(L, (found - s) + 1);
    lua_pushinteger(L, static_cast<lua_Integer>((found - s) + pattern_length));
    return 2;
  }
  const bool anchored = pattern_length > 0 && *p == '^';
  if (anchored) ++p;
  const char* at_position = s + init;
  do {
    m.reset();
    if (const char* e = match(m, at_position, p)) {
      m.flush();
      if (find) {
        lua_pushinteger(L, (at_position - s) + 1);
        lua_pushinteger(L, e - s);
        return push_captures(m, nullptr, nullptr) + 2;
      }
      return push_captures(m, at_position, e);
    }
  } while (at_position++ < m.subject_end && !anchored);
  m.flush();
  luaL_pushfail(L);
  return 1;
}

int counted_find(lua_State* L) { return find_or_match(L, true); }
int counted_match(lua_State* L) { return find_or_match(L, false); }

// gmatch's iterator: upvalues subject, pattern and this state.
struct GmatchState {
  size_t position = 0;        // where the next search starts
  ptrdiff_t last_match = -1;  // end of the last match: no empty match there
};

int gmatch_next(lua_State* L) {
  size_t length = 0;
  size_t pattern_length = 0;
  const char* s = lua_tolstring(L, lua_upvalueindex(1), &length);
  const char* p = lua_tolstring(L, lua_upvalueindex(2), &pattern_length);
  auto* state = static_cast<GmatchState*>(lua_touserdata(L, lua_upvalueindex(3)));
  Matcher m = make_matcher(L, s, length, p, pattern_length);
  for (const char* from = s + state->position; from <= m.subject_end; ++from) {
    m.reset();
    const char* e = match(m, from, p);
    if (e != nullptr && (e - s) != state->last_match) {
      state->position = static_cast<size_t>(e - s);
      state->last_match = e - s;
      m.flush();
      return push_captures(m, from, e);
    }
  }
  m.flush();
  state->position = length + 1;
  return 0;
}

int counted_gmatch(lua_State* L) {
  size_t length = 0;
  luaL_checklstring(L, 1, &length);
  luaL_checkstring(L, 2);
  size_t init = start_offset(luaL_optinteger(L, 3, 1), length);
  if (init > length) init = length + 1;  // no matches, not even an empty one
  lua_settop(L, 2);
  auto* state = static_cast<GmatchState*>(lua_newuserdatauv(L, sizeof(GmatchState), 0));
  *state = GmatchState{init, -1};
  lua_pushcclosure(L, gmatch_next, 3);
  return 1;
}

// gsub's replacement string: %0-%9 are captures, %% is '%'.
void add_replacement_string(Matcher& m, luaL_Buffer* buffer, const char* s, const char* e) {
  size_t length = 0;
  const char* text = lua_tolstring(m.L, 3, &length);
  const char* text_end = text + length;
  for (const char* c = text; c < text_end; ++c) {
    const char* escape =
        static_cast<const char*>(std::memchr(c, kEscape, static_cast<size_t>(text_end - c)));
    if (escape == nullptr) {
      luaL_addlstring(buffer, c, static_cast<size_t>(text_end - c));
      return;
    }
    luaL_addlstring(buffer, c, static_cast<size_t>(escape - c));
    c = escape + 1;
    const char next = c < text_end ? *c : '\0';
    if (next == kEscape) {
      luaL_addchar(buffer, kEscape);
    } else if (next == '0') {
      luaL_addlstring(buffer, s, static_cast<size_t>(e - s));
    } else if (std::isdigit(static_cast<unsigned char>(next)) != 0) {
      push_capture(m, next - '1', s, e);
      luaL_tolstring(m.L, -1, nullptr);  // a position capture is a number
      lua_remove(m.L, -2);
      luaL_addvalue(buffer);
    } else {
      luaL_error(m.L, "invalid use of '%c' in replacement string", kEscape);
    }
  }
}

// Adds the replacement of match [s, e); false when the match is kept as it
// was (a function or table gave false or nil).
bool add_replacement(Matcher& m, luaL_Buffer* buffer, const char* s, const char* e,
                     int replacement_type) {
  lua_State* L = m.L;
  if (replacement_type == LUA_TFUNCTION) {
    lua_pushvalue(L, 3);
    const int n = push_captures(m, s, e);
    lua_call(L, n, 1);
  } else if (replacement_type == LUA_TTABLE) {
    push_capture(m, 0, s, e);
    lua_gettable(L, 3);
  } else {
    add_replacement_string(m, buffer, s, e);
    return true;
  }
  if (!lua_toboolean(L, -1)) {
    lua_pop(L, 1);
    luaL_addlstring(buffer, s, static_cast<size_t>(e - s));
    return false;
  }
  if (!lua_isstring(L, -1)) {
    return luaL_error(L, "invalid replacement value (a %s)", luaL_typename(L, -1)) != 0;
  }
  luaL_addvalue(buffer);
  return true;
}

int counted_gsub(lua_State* L) {
  size_t length = 0;
  size_t pattern_length = 0;
  const char* s = luaL_checklstring(L, 1, &length);
  const char* p = luaL_checklstring(L, 2, &pattern_length);
  const int replacement_type = lua_type(L, 3);
  const lua_Integer max_replacements = luaL_optinteger(L, 4, static_cast<lua_Integer>(length) + 1);
  luaL_argexpected(L,
                   replacement_type == LUA_TNUMBER || replacement_type == LUA_TSTRING ||
                       replacement_type == LUA_TFUNCTION || replacement_type == LUA_TTABLE,
                   3, "string/function/table");
  const bool anchored = pattern_length > 0 && *p == '^';
  if (anchored) {
    ++p;
    --pattern_length;
  }
  Matcher m = make_matcher(L, s, length, p, pattern_length);
  luaL_Buffer buffer;
  luaL_buffinit(L, &buffer);
  const char* from = s;
  const char* last_match = nullptr;
  lua_Integer replaced = 0;
  bool changed = false;
  while (replaced < max_replacements) {
    m.reset();
    const char* e = match(m, from, p);
    if (e != nullptr && e != last_match) {
      ++replaced;
      changed = add_replacement(m, &buffer, from, e, replacement_type) || changed;
      from = last_match = e;
    } else if (from < m.subject_end) {
      luaL_addchar(&buffer, *from++);
    } else {
      break;
    }
    if (anchored) break;
  }
  m.flush();
  if (!changed) {
    lua_pushvalue(L, 1);  // the subject itself, not a copy
  } else {
    luaL_addlstring(&buffer, from, static_cast<size_t>(m.subject_end - from));
    luaL_pushresult(&buffer);
  }
  lua_pushinteger(L, replaced);
  return 2;
}

}  // namespace

void set_counted_pattern_functions(lua_State* L, int table_index) {
  table_index = lua_absindex(L, table_index);
  const luaL_Reg functions[] = {{"find", counted_find},
                                {"match", counted_match},
                                {"gmatch", counted_gmatch},
                                {"gsub", counted_gsub}};
  for (const auto& f : functions) {
    lua_pushcfunction(L, f.func);
    lua_setfield(L, table_index, f.name);
  }
}

}  // namespace belay::lua
