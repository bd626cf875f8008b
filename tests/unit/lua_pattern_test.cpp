// The sandbox's step-counted string.find/match/gmatch/gsub against stock
// Lua 5.4's: the same cases run in a plain lua_State with the stock string
// library and in a sandboxed task, and every result and error message must
// be the same.

#include "vm/error_value.hpp"
#include "vm/lua_state.hpp"
#include "vm/sandbox.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

extern "C" {
#include <lauxlib.h>
#include <lualib.h>
}

#include <cstring>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

namespace {

// Each case is {function name, arguments...}; gmatch's results are every
// iteration's captures. Returns one line per case.
const char* kCases = R"lua(
local cases = {
  { "find", "hello world", "o" }, { "find", "hello world", "o", 6 }, { "find", "hello", "l+" },
  { "find", "hello", "(l)(l)" }, { "find", "hello", "()ll()" }, { "find", "hello", "", 10 },
  { "find", "hello", "", 6 }, { "find", "hello", "", 7 }, { "find", "hello", "", -2 },
  { "find", "hello", "x" }, { "find", "a.b", ".", 1, true }, { "find", "a+b", "+", 1, true },
  { "find", "a+b", "+" }, { "find", "abc", "^b" }, { "find", "abc", "^a" },
  { "find", "abc", "c$" }, { "find", "a$c", "$c" }, { "find", "abc", "b", -2 },
  { "find", "hello", "l", -100 }, { "find", "hello", "l", 100 }, { "find", 12345, 3 },
  { "find", "aXbXc", "X", 3, true }, { "find", "abc", "", 4, true }, { "find", "", "" },
  { "find", "key = value", "(%w+)%s*=%s*(%w+)" }, { "find", "THE (quick) fox", "%((%a+)%)" },
  { "find", "f(a(b)c)d", "%b()" }, { "find", "f(a(b c)d", "%b()" },
  { "find", "THE (quick) fox", "%f[%a]%a+", 2 }, { "find", "hello", "[^aeiou]+" },
  { "find", "x]y", "[]]" }, { "find", "a-b", "[a%-]+" }, { "find", "a-b", "[%a-]+" },
  { "find", "2024-11-23", "(%d+)-(%d+)-(%d+)" }, { "find", "aaa", "a-b" },
  { "find", "aaab", "a-b" }, { "find", "aaa", "a*" }, { "find", "", "a*" },
  { "find", "a\0b", "\0" }, { "find", "a\0b", "%z" }, { "find", "a\0b", "[\0]" },
  { "find", "hello", "%u" }, { "find", "Hello", "%U+" }, { "find", " \t\n", "%S" },
  { "find", "a1_b2", "[%w_]+" }, { "find", "x=1", "[^%s=]+" }, { "find", "0x1F", "%x+", 3 },
  { "find", "abc", "[a-" }, { "find", "abc", "[a" }, { "find", "abc", "%" },
  { "find", "abc", "(a" }, { "find", "abc", "a)" }, { "find", "abc", "%1" },
  { "find", "abab", "(ab)%1" }, { "find", "abc", "()%1" }, { "find", "abc", "(a%1)" },
  { "find", "abc", "%b" }, { "find", "abc", "%ba" }, { "find", "abc", "%fa" },
  { "find", "abc", "[]" }, { "find", "abc", "[^]" }, { "find", "a]b", "[^]]+" },
  { "find", "THE END", "%f[%z]" }, { "find", "THE END", "%f[%s]" },
  { "find", ("a"):rep(300), ("a?"):rep(300) }, { "find", ("a"):rep(40), ("(a)"):rep(40) },
  { "find", "abc", {} }, { "find", {}, "a" }, { "find", "abc", "b", "x" },
  { "match", "hello world", "%w+" }, { "match", "hello world", "(%w+) (%w+)" },
  { "match", "hello", "()" }, { "match", "hello", "()", 3 }, { "match", "hello", ".-(l+)(.*)" },
  { "match", "  trim  ", "^%s*(.-)%s*$" }, { "match", "[[x]]", "%[(%b[])%]" },
  { "match", "hello", "h?ello" }, { "match", "ello", "h?ello" }, { "match", "heello", "he?llo" },
  { "match", "abc", "^(a)(b)(c)$" }, { "match", "abc", "((a)(b))" }, { "match", "abc", "x" },
  { "match", "date: 2026", "%d%d%d%d$" }, { "match", "a.b", "%." }, { "match", "a%b", "%%" },
  { "match", "hello", "", 10 }, { "match", "hello", "l*", 3 },
  { "gmatch", "one two  three", "%a+" }, { "gmatch", "k1=v1, k2=v2", "(%w+)=(%w+)" },
  { "gmatch", "abc", "" }, { "gmatch", "abc", "x*" }, { "gmatch", "^a^b", "^%a" },
  { "gmatch", "hello", "l", 4 }, { "gmatch", "hello", "l", 10 }, { "gmatch", "hello", ".", -2 },
  { "gmatch", "a,b,,c", "([^,]*)" }, { "gmatch", "THE (quick) (brown) fox", "%b()" },
  { "gmatch", "abc", "()" }, { "gmatch", "abc", "(" },
  { "gsub", "hello world", "o", "0" }, { "gsub", "hello world", "(o)", "[%1]" },
  { "gsub", "hello", "", "-" }, { "gsub", "hello world", "%w+", "%0 %0", 1 },
  { "gsub", "abc", "%w", "%%" }, { "gsub", "abc", "%w", "%1" }, { "gsub", "abc", "%w", "%2" },
  { "gsub", "abc", "%w", "%" }, { "gsub", "abc", "%w", "%x" },
  { "gsub", "abc", "%w", { a = 1, c = "C" } }, { "gsub", "abc", "%w", { b = true } },
  { "gsub", "abc", "%w", function(c) return c:upper() end },
  { "gsub", "abc", "%w", function() end }, { "gsub", "abc", "%w", function() return false end },
  { "gsub", "abc", "%w", function() return {} end }, { "gsub", "abc", "%w", false },
  { "gsub", "hello", "^h", "H" }, { "gsub", "hello", "^x", "H" },
  { "gsub", "x = 1, y = 2", "(%w+) = (%w+)", "%2 = %1" }, { "gsub", "abc", "()", "%1" },
  { "gsub", "abc", "b", 5 }, { "gsub", "12 34", "%d+", function(d) return d * 2 end },
  { "gsub", "abc", "%w", "x", 0 }, { "gsub", "abc", "%w", "x", -1 }, { "gsub", "abc", "(", "x" },
  { "gsub", "abc", "", "" }, { "gsub", "", "", "x" }, { "gsub", "a b", " ", "%%%0%%" },
  { "gsub", "hello", "(l)(l)", function(a, b) return b .. a .. "!" end },
  { "gsub", "abc", ".", { a = "1", b = 2.5 } }, { "gsub", "abc", "%w", "\0" },
  { "gsub", "abc", "[b]", "%0%0", 1.0 }, { "gsub", "abc", "[b]", "%0", 1.5 },
}

local function show(...)
  local parts = {}
  for i = 1, select("#", ...) do
    local v = select(i, ...)
    parts[#parts + 1] = type(v) .. ":" .. (type(v) == "string" and ("%q"):format(v) or tostring(v))
  end
  return table.concat(parts, ",")
end

local function collect(s, p, init)
  local out = {}
  for a, b in string.gmatch(s, p, init) do
    out[#out + 1] = show(a, b)
    if #out > 50 then break end
  end
  return table.concat(out, ";")
end

local lines = {}
for i, c in ipairs(cases) do
  local name = c[1]
  local f = name == "gmatch" and collect or string[name]
  lines[#lines + 1] = i .. " " .. name .. " " .. show(pcall(f, table.unpack(c, 2, 6)))
end
return table.concat(lines, "\n")
)lua";

// The stock library names the function in argument errors ("to 'find'") by
// finding it in package.loaded; the sandbox's functions are not there.
std::string without_function_names(const std::string& text) {
  static const std::regex name(R"(to '[^']*')");
  return std::regex_replace(text, name, "to '?'");
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(without_function_names(line));
  return lines;
}

std::string run_stock(const char* code) {
  lua_State* L = luaL_newstate();
  luaL_openlibs(L);
  std::string result;
  if (luaL_loadbuffer(L, code, std::strlen(code), "=cases") != LUA_OK ||
      lua_pcall(L, 0, 1, 0) != LUA_OK) {
    result = std::string("error: ") + lua_tostring(L, -1);
  } else {
    result = lua_tostring(L, -1);
  }
  lua_close(L);
  return result;
}

std::string run_sandboxed(belay::lua::LuaState& lua, const char* code) {
  lua_State* task = lua.new_task();
  std::string result;
  if (belay::lua::load_sandboxed(task, code, "=cases") != LUA_OK) {
    result = "error: " + belay::lua::to_error(task, -1).to_string();
  } else {
    const auto resumed = lua.resume(task, 0);
    if (resumed.status != belay::lua::ResumeStatus::finished) {
      result = "error: " + belay::lua::to_error(task, -1).to_string();
    } else {
      result = lua_tostring(task, -1);
    }
  }
  lua.end_task(task);
  return result;
}

TEST(LuaPattern, EveryCaseMatchesStockLua) {
  belay::lua::LuaState lua;
  const auto stock = lines_of(run_stock(kCases));
  const auto counted = lines_of(run_sandboxed(lua, kCases));
  ASSERT_GT(stock.size(), 100u) << stock.front();
  ASSERT_EQ(counted.size(), stock.size()) << counted.front();
  for (size_t i = 0; i < stock.size(); ++i) {
    EXPECT_EQ(counted[i], stock[i]);
  }
}

// What the count buys: the same work is visible to the quota. A match that
// is linear in the subject costs about the subject's length.
TEST(LuaPattern, StepsAreChargedToTheRunningTask) {
  belay::lua::Limits limits;
  limits.slice_instructions = 1'000'000;
  limits.top_level_instructions = 1'000'000;
  belay::lua::LuaState lua(limits);
  EXPECT_EQ(run_sandboxed(lua, "return tostring(#(('x'):rep(100000):gsub('x', 'y')))"), "100000");
  const std::string stopped =
      run_sandboxed(lua, "return tostring(#(('x'):rep(2000000):gsub('x', 'y')))");
  EXPECT_THAT(stopped, ::testing::HasSubstr("instruction quota exceeded")) << stopped;
}

}  // namespace
