// The Lua API against real Chromium: a first pass over the bridge.

#include "support/lua_harness.hpp"

#include <gtest/gtest.h>

namespace belay::test {
namespace {

class LuaApiSmoke : public LuaTest {};
BELAY_LUA_OVER_BOTH_TRANSPORTS(LuaApiSmoke);

TEST_P(LuaApiSmoke, NavigateEvaluateAndTitleFromLua) {
  LuaHarness h(transport());
  auto r = h.run(R"(
    page:navigate(fixture .. "page2")
    return { title = page:title(), sum = page:evaluate("1+1"),
             joined = page:evaluate("(a, b) => a + b", "x", "y") }
  )");
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r.value()["title"], "Page 2");
  EXPECT_EQ(r.value()["sum"], 2);
  EXPECT_EQ(r.value()["joined"], "xy");
}

}  // namespace
}  // namespace belay::test
