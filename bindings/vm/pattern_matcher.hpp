#pragma once
// The matcher behind lua_pattern.cpp's string.find/match/gmatch/gsub: Lua
// 5.4's pattern language, with every step charged to the running task's
// instruction quota (lua_pattern.hpp tells why). Internal to vm/.
//
// A Lua error raised in here (a malformed pattern, the quota) unwinds with
// longjmp through the callers' frames too: keep them free of destructors.

#include <lua.hpp>

#include <cstddef>
#include <cstdint>

namespace belay::lua::pattern {

constexpr char kEscape = '%';
constexpr int kMaxCaptures = 32;  // LUA_MAXCAPTURES
constexpr int kMaxDepth = 200;    // MAXCCALLS: recursion of the matcher
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
  void flush();
  // Before each attempt at a new subject position.
  void reset() {
    level = 0;
    depth_left = kMaxDepth;
  }
};

Matcher make_matcher(lua_State* L, const char* subject, size_t subject_length, const char* pattern,
                     size_t pattern_length);
// Matches pattern p (to its end) at subject position s: the end of the
// match, or nullptr.
const char* match(Matcher& m, const char* s, const char* p);
// Capture i of the match [s, e) on the stack; with no captures, capture 0 is
// the whole match.
void push_capture(Matcher& m, int i, const char* s, const char* e);
// All captures (or the whole match when there are none and s is given).
int push_captures(Matcher& m, const char* s, const char* e);
// True if the pattern holds a magic character (else find may search plainly).
bool has_specials(const char* pattern, size_t length);
// A plain substring search, charged per candidate position.
const char* find_plain(Matcher& m, const char* s, size_t length, const char* needle,
                       size_t needle_length);

}  // namespace belay::lua::pattern
