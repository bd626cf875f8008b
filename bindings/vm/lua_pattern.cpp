#include "vm/lua_pattern.hpp"

#include "vm/quota.hpp"

#include <lauxlib.h>
#include <lua.h>

#include <cctype>
#include <cstddef>
#include <cstring>

// Written from the Lua 5.4 reference manual (§6.4.1 Patterns, §6.4
// string.find/match/gmatch/gsub): same syntax, same captures, same results
// and error messages, so scripts cannot tell the difference except that a
// pathological pattern now ends.
//
// A Lua error raised here (a malformed pattern, the quota) unwinds with
// longjmp through these frames: nothing in them has a destructor.

namespace belay::lua {
namespace {

constexpr char kEscape = '%';
constexpr const char* kSpecials = "^$*+?.([%-";
constexpr int kMaxCaptures = 32;   // LUA_MAXCAPTURES
constexpr int kMaxDepth = 200;     // MAXCCALLS: recursion of the matcher
constexpr ptrdiff_t kUnfinished = -1;
constexpr ptrdiff_t kPosition = -2;
// Steps are charged to the quota in batches: the quota's own hook fires
// every 1000 instructions, and one call per step would cost more than the
// step.
constexpr uint64_t kChargeEvery = 4096;

struct Capture {
  const char* start = nullptr;
  ptrdiff_t length = 0;  // or kUnfinished, kPosition
};

struct Matcher {
  lua_State* L = nullptr;
  const char* subject = nullptr;
  const char* subject_end = nullptr;
  const char* pattern_end = nullptr;
  int depth_left = kMaxDepth;
  int level = 0;  // captures opened so far
  uint64_t uncharged = 0;
  Capture captures[kMaxCaptures];

  void step() {
    if (++uncharged >= kChargeEvery) flush();
  }
  void flush() {
    const uint64_t count = uncharged;
    uncharged = 0;
    if (count != 0) charge_instructions(L, count);
  }
  // Before each attempt at a new subject position.
  void reset() {
    level = 0;
    depth_left = kMaxDepth;
  }
};

// The pattern character at p, or '\0' past the end (patterns may hold NULs,
// so the end is a position, not a terminator).
char at(const Matcher& m, const char* p) { return p < m.pattern_end ? *p : '\0'; }

bool class_matches(int c, int class_letter) {
  bool result = false;
  switch (std::tolower(class_letter)) {
    case 'a': result = std::isalpha(c) != 0; break;
    case 'c': result = std::iscntrl(c) != 0; break;
    case 'd': result = std::isdigit(c) != 0; break;
    case 'g': result = std::isgraph(c) != 0; break;
    case 'l': result = std::islower(c) != 0; break;
    case 'p': result = std::ispunct(c) != 0; break;
    case 's': result = std::isspace(c) != 0; break;
    case 'u': result = std::isupper(c) != 0; break;
    case 'w': result = std::isalnum(c) != 0; break;
    case 'x': result = std::isxdigit(c) != 0; break;
    case 'z': result = c == 0; break;  // deprecated, still accepted
    default: return class_letter == c;  // %. for any non-alphanumeric .
  }
  return std::isupper(class_letter) != 0 ? !result : result;
}

// [set]: `open` at '[', `close` at its ']'.
bool set_matches(int c, const char* open, const char* close) {
  const char* p = open + 1;
  bool wanted = true;
  if (*p == '^') {
    wanted = false;
    ++p;
  }
  for (; p < close; ++p) {
    if (*p == kEscape) {
      ++p;
      if (class_matches(c, static_cast<unsigned char>(*p))) return wanted;
    } else if (p + 2 < close && p[1] == '-') {
      if (static_cast<unsigned char>(p[0]) <= c && c <= static_cast<unsigned char>(p[2])) {
        return wanted;
      }
      p += 2;
    } else if (static_cast<unsigned char>(*p) == c) {
      return wanted;
    }
  }
  return !wanted;
}

// The end of the single-character class starting at p.
const char* class_end(Matcher& m, const char* p) {
  const char c = *p++;
  if (c == kEscape) {
    if (p >= m.pattern_end) luaL_error(m.L, "malformed pattern (ends with '%%')");
    return p + 1;
  }
  if (c == '[') {
    if (at(m, p) == '^') ++p;
    // The first character of a set is never its end: "[]]" holds ']'.
    do {
      if (p >= m.pattern_end) luaL_error(m.L, "malformed pattern (missing ']')");
      const char member = *p++;
      if (member == kEscape && p < m.pattern_end) ++p;
    } while (at(m, p) != ']');
    return p + 1;
  }
  return p;
}

bool single_matches(const Matcher& m, const char* s, const char* p, const char* end) {
  if (s >= m.subject_end) return false;
  const int c = static_cast<unsigned char>(*s);
  switch (*p) {
    case '.': return true;
    case kEscape: return class_matches(c, static_cast<unsigned char>(p[1]));
    case '[': return set_matches(c, p, end - 1);
    default: return static_cast<unsigned char>(*p) == c;
  }
}

const char* match(Matcher& m, const char* s, const char* p);

// The longest run first, then shorter ones.
const char* match_greedy(Matcher& m, const char* s, const char* p, const char* end) {
  ptrdiff_t count = 0;
  while (single_matches(m, s + count, p, end)) {
    m.step();
    ++count;
  }
  for (; count >= 0; --count) {
    m.step();
    if (const char* rest = match(m, s + count, end + 1)) return rest;
  }
  return nullptr;
}

// The shortest run first, then longer ones.
const char* match_lazy(Matcher& m, const char* s, const char* p, const char* end) {
  for (;;) {
    m.step();
    if (const char* rest = match(m, s, end + 1)) return rest;
    if (!single_matches(m, s, p, end)) return nullptr;
    ++s;
  }
}

const char* match_balance(Matcher& m, const char* s, const char* p) {
  if (p + 1 >= m.pattern_end) luaL_error(m.L, "malformed pattern (missing arguments to '%%b')");
  if (s >= m.subject_end || *s != *p) return nullptr;
  const char open = p[0];
  const char close = p[1];
  int depth = 1;
  while (++s < m.subject_end) {
    m.step();
    if (*s == close) {
      if (--depth == 0) return s + 1;
    } else if (*s == open) {
      ++depth;
    }
  }
  return nullptr;
}

const char* open_capture(Matcher& m, const char* s, const char* p, ptrdiff_t kind) {
  if (m.level >= kMaxCaptures) luaL_error(m.L, "too many captures");
  m.captures[m.level] = Capture{s, kind};
  ++m.level;
  const char* rest = match(m, s, p);
  if (rest == nullptr) --m.level;
  return rest;
}

const char* close_capture(Matcher& m, const char* s, const char* p) {
  int open = m.level - 1;
  while (open >= 0 && m.captures[open].length != kUnfinished) --open;
  if (open < 0) luaL_error(m.L, "invalid pattern capture");
  m.captures[open].length = s - m.captures[open].start;
  const char* rest = match(m, s, p);
  if (rest == nullptr) m.captures[open].length = kUnfinished;
  return rest;
}

// %1-%9 in a pattern: the text of an earlier, closed capture again.
const char* match_back_reference(Matcher& m, const char* s, int digit) {
  const int index = digit - '1';
  if (index < 0 || index >= m.level || m.captures[index].length == kUnfinished) {
    luaL_error(m.L, "invalid capture index %%%d", index + 1);
  }
  const Capture& capture = m.captures[index];
  if (capture.length == kPosition) return nullptr;  // a position is no text
  const auto length = static_cast<size_t>(capture.length);
  if (static_cast<size_t>(m.subject_end - s) >= length &&
      std::memcmp(capture.start, s, length) == 0) {
    m.uncharged += length / 64;  // memcmp's share of the work
    return s + length;
  }
  return nullptr;
}

// Matches pattern p (to its end) at subject position s: the end of the
// match, or nullptr. Tail positions loop instead of recursing.
const char* match(Matcher& m, const char* s, const char* p) {
  if (m.depth_left-- == 0) luaL_error(m.L, "pattern too complex");
  for (;;) {
    m.step();
    if (p >= m.pattern_end) break;
    const char* end = nullptr;
    switch (*p) {
      case '(':
        s = at(m, p + 1) == ')' ? open_capture(m, s, p + 2, kPosition)
                                : open_capture(m, s, p + 1, kUnfinished);
        break;
      case ')':
        s = close_capture(m, s, p + 1);
        break;
      case '$':
        if (p + 1 == m.pattern_end) {
          if (s != m.subject_end) s = nullptr;
          break;
        }
        end = class_end(m, p);
        break;
      case kEscape:
        switch (at(m, p + 1)) {
          case 'b':
            s = match_balance(m, s, p + 2);
            if (s != nullptr) {
              p += 4;
              continue;
            }
            break;
          case 'f': {
            p += 2;
            if (at(m, p) != '[') luaL_error(m.L, "missing '[' after '%%f' in pattern");
            const char* set_end = class_end(m, p);
            const int previous = s == m.subject ? '\0' : static_cast<unsigned char>(s[-1]);
            const int current = s < m.subject_end ? static_cast<unsigned char>(*s) : '\0';
            if (!set_matches(previous, p, set_end - 1) && set_matches(current, p, set_end - 1)) {
              p = set_end;
              continue;
            }
            s = nullptr;
            break;
          }
          case '0': case '1': case '2': case '3': case '4':
          case '5': case '6': case '7': case '8': case '9':
            s = match_back_reference(m, s, static_cast<unsigned char>(p[1]));
            if (s != nullptr) {
              p += 2;
              continue;
            }
            break;
          default:
            end = class_end(m, p);
            break;
        }
        break;
      default:
        end = class_end(m, p);
        break;
    }
    if (end == nullptr) break;  // a case above has decided s
    // A single-character class at p, ending at `end`, maybe quantified.
    const char quantifier = at(m, end);
    if (!single_matches(m, s, p, end)) {
      if (quantifier == '*' || quantifier == '?' || quantifier == '-') {
        p = end + 1;  // zero repetitions are allowed
        continue;
      }
      s = nullptr;
      break;
    }
    if (quantifier == '?') {
      if (const char* rest = match(m, s + 1, end + 1)) {
        s = rest;
        break;
      }
      p = end + 1;
      continue;
    }
    if (quantifier == '+') {
      s = match_greedy(m, s + 1, p, end);
      break;
    }
    if (quantifier == '*') {
      s = match_greedy(m, s, p, end);
      break;
    }
    if (quantifier == '-') {
      s = match_lazy(m, s, p, end);
      break;
    }
    ++s;
    p = end;
  }
  ++m.depth_left;
  return s;
}

// Capture i of the match [s, e) on the stack; with no captures, capture 0 is
// the whole match.
void push_capture(Matcher& m, int i, const char* s, const char* e) {
  if (i >= m.level) {
    if (i != 0) luaL_error(m.L, "invalid capture index %%%d", i + 1);
    lua_pushlstring(m.L, s, static_cast<size_t>(e - s));
    return;
  }
  const Capture& capture = m.captures[i];
  if (capture.length == kUnfinished) luaL_error(m.L, "unfinished capture");
  if (capture.length == kPosition) {
    lua_pushinteger(m.L, (capture.start - m.subject) + 1);
  } else {
    lua_pushlstring(m.L, capture.start, static_cast<size_t>(capture.length));
  }
}

// All captures (or the whole match when there are none and s is given).
int push_captures(Matcher& m, const char* s, const char* e) {
  const int count = (m.level == 0 && s != nullptr) ? 1 : m.level;
  luaL_checkstack(m.L, count, "too many captures");
  for (int i = 0; i < count; ++i) push_capture(m, i, s, e);
  return count;
}

// A 1-based, possibly negative position -> a 0-based offset (may be > length).
size_t start_offset(lua_Integer position, size_t length) {
  if (position > 0) return static_cast<size_t>(position) - 1;
  if (position == 0) return 0;
  if (position < -static_cast<lua_Integer>(length)) return 0;
  return length - static_cast<size_t>(-position);
}

Matcher make_matcher(lua_State* L, const char* subject, size_t subject_length,
                     const char* pattern, size_t pattern_length) {
  Matcher m;
  m.L = L;
  m.subject = subject;
  m.subject_end = subject + subject_length;
  m.pattern_end = pattern + pattern_length;
  return m;
}

bool has_specials(const char* pattern, size_t length) {
  // strpbrk would stop at an embedded NUL.
  for (size_t i = 0; i < length; ++i) {
    if (std::strchr(kSpecials, pattern[i]) != nullptr && pattern[i] != '\0') return true;
  }
  return false;
}

// A plain substring search, charged per candidate position.
const char* find_plain(Matcher& m, const char* s, size_t length, const char* needle,
                       size_t needle_length) {
  if (needle_length == 0) return s;
  if (needle_length > length) return nullptr;
  const char* last = s + (length - needle_length);
  const uint64_t compare_cost = 1 + needle_length / 64;
  while (s <= last) {
    const auto* first = static_cast<const char*>(
        std::memchr(s, needle[0], static_cast<size_t>(last - s) + 1));
    if (first == nullptr) {
      m.uncharged += static_cast<uint64_t>(last - s) / 64;
      return nullptr;
    }
    m.uncharged += static_cast<uint64_t>(first - s) / 64 + compare_cost;
    m.step();
    if (std::memcmp(first + 1, needle + 1, needle_length - 1) == 0) return first;
    s = first + 1;
  }
  return nullptr;
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
    const char* escape = static_cast<const char*>(
        std::memchr(c, kEscape, static_cast<size_t>(text_end - c)));
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
  const lua_Integer max_replacements =
      luaL_optinteger(L, 4, static_cast<lua_Integer>(length) + 1);
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
