#pragma once
// Checks on errors as Lua scripts and the host see them, shared by the Lua
// integration suites.
//
//   auto lua = h().run(with_catch("return catch(function() page:title() end)"));
//   EXPECT_TRUE(LuaError(lua.value(), {Kind::timeout}, "page:title", "ms"));
//   EXPECT_TRUE(HostError(h().run("page:title()"), Kind::timeout, "page:title"));

#include "core/error.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <initializer_list>
#include <string>

namespace belay::test {

// Lua prelude: catch(fn, ...) runs fn under pcall and describes what came
// out (ok, or the error table's kind, message, op, retryable, its tostring
// form, whether it has the locked error metatable and a cdp field, and how
// many ms the call took), so the C++ side can check the error table as
// scripts see it.
extern const char* const kCatch;

// `body` with kCatch before it.
std::string with_catch(const std::string& body);

// The error table a catch() returned: an error table (not a plain Lua error)
// whose kind is one of `kinds` (one, or several when either is right), whose
// retryable is that kind's default, whose message is not empty and contains
// `message_part`, whose tostring is "kind: message (op)" and which carries the
// locked error metatable. Its op is `op` exactly; an `op` ending in '*' asks
// for an op that starts with what comes before the '*'; an empty `op` asks
// for any op that is not empty.
::testing::AssertionResult LuaError(const nlohmann::json& e, std::initializer_list<Kind> kinds,
                                    const std::string& op = "",
                                    const std::string& message_part = "");

// The error a snippet ended with, as the host sees it: of `kind`, from `op`,
// with `message_part` in its message.
::testing::AssertionResult HostError(const Result<nlohmann::json>& r, Kind kind,
                                     const std::string& op, const std::string& message_part = "");

}  // namespace belay::test
