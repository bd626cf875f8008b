#include "vm/pattern_matcher.hpp"

#include "vm/quota.hpp"

#include <lauxlib.h>
#include <lua.h>

#include <cctype>
#include <cstring>

// Written from the Lua 5.4 reference manual (§6.4.1 Patterns, §6.4
// string.find/match/gmatch/gsub): same syntax, same captures, same results
// and error messages, so scripts cannot tell the difference except that a
// pathological pattern now ends.
//
// A Lua error raised here (a malformed pattern, the quota) unwinds with
// longjmp through these frames: nothing in them has a destructor.
//
// match() is far longer than a function here should be, on purpose: the
// matcher is one state machine over the pattern, as in Lua's own lstrlib.c,
// whose cases all advance the same s and p and share the loop that handles
// tail positions without recursing. Cut into per-case functions it would
// hand that state back and forth and be harder to check against lstrlib.c.

namespace belay::lua::pattern {
namespace {

constexpr const char* kSpecials = "^$*+?.([%-";

// The pattern character at p, or '\0' past the end (patterns may hold NULs,
// so the end is a position, not a terminator).
char at(const Matcher& m, const char* p) { return p < m.pattern_end ? *p : '\0'; }

bool class_matches(int c, int class_letter) {
  bool result = false;
  switch (std::tolower(class_letter)) {
    case 'a':
      result = std::isalpha(c) != 0;
      break;
    case 'c':
      result = std::iscntrl(c) != 0;
      break;
    case 'd':
      result = std::isdigit(c) != 0;
      break;
    case 'g':
      result = std::isgraph(c) != 0;
      break;
    case 'l':
      result = std::islower(c) != 0;
      break;
    case 'p':
      result = std::ispunct(c) != 0;
      break;
    case 's':
      result = std::isspace(c) != 0;
      break;
    case 'u':
      result = std::isupper(c) != 0;
      break;
    case 'w':
      result = std::isalnum(c) != 0;
      break;
    case 'x':
      result = std::isxdigit(c) != 0;
      break;
    case 'z':
      result = c == 0;
      break;  // deprecated, still accepted
    default:
      return class_letter == c;  // %. for any non-alphanumeric .
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
    case '.':
      return true;
    case kEscape:
      return class_matches(c, static_cast<unsigned char>(p[1]));
    case '[':
      return set_matches(c, p, end - 1);
    default:
      return static_cast<unsigned char>(*p) == c;
  }
}

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

}  // namespace

void Matcher::flush() {
  const uint64_t count = uncharged;
  uncharged = 0;
  if (count != 0) charge_instructions(L, count);
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
          case '0':
          case '1':
          case '2':
          case '3':
          case '4':
          case '5':
          case '6':
          case '7':
          case '8':
          case '9':
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

Matcher make_matcher(lua_State* L, const char* subject, size_t subject_length, const char* pattern,
                     size_t pattern_length) {
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
    const auto* first =
        static_cast<const char*>(std::memchr(s, needle[0], static_cast<size_t>(last - s) + 1));
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

}  // namespace belay::lua::pattern
