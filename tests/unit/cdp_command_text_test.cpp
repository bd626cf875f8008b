// The command envelope is written by hand (host/cdp/command_text.cpp); it
// must be what dumping the same JSON object gave, byte for byte, whatever
// a script puts in the method, the session id or the params.

#include "cdp/command_text.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>

namespace belay::cdp {
namespace {

using nlohmann::json;

std::string dumped(uint64_t id, const std::string& method, const json& params,
                   const std::string& session_id) {
  json message = {{"id", id}, {"method", method}, {"params", params}};
  if (!session_id.empty()) message["sessionId"] = session_id;
  return message.dump(-1, ' ', false, json::error_handler_t::replace);
}

TEST(CdpCommandText, IsWhatDumpingTheObjectGives) {
  const json params = {{"expression", "1+1"}, {"returnByValue", true}};
  const std::string text = command_text(7, "Runtime.evaluate", params, "A1B2");
  EXPECT_EQ(
      text,
      R"({"id":7,"method":"Runtime.evaluate","params":{"expression":"1+1","returnByValue":true},"sessionId":"A1B2"})");
  EXPECT_EQ(text, dumped(7, "Runtime.evaluate", params, "A1B2"));
}

TEST(CdpCommandText, NoSessionIdForTheBrowserTarget) {
  EXPECT_EQ(command_text(1, "Browser.getVersion", json::object(), ""),
            R"({"id":1,"method":"Browser.getVersion","params":{}})");
}

TEST(CdpCommandText, StrangeStringsAreEscapedAsBefore) {
  const std::string strange[] = {
      "",
      "with \"quotes\" and \\ backslash",
      std::string("nul\0byte", 8),
      "tab\tnewline\n\x01\x1f",
      "caf\xc3\xa9 \xe2\x82\xac",  // valid UTF-8
      "bad \xff\xfe utf-8 \xc3",   // invalid: replaced by U+FFFD
      "del \x7f",
  };
  const json params = {
      {"text", "x"}, {"bad", "\xff"}, {"n", -1.5}, {"a", json::array({1, nullptr})}};
  for (const auto& s : strange) {
    EXPECT_EQ(command_text(3, s, params, s), dumped(3, s, params, s))
        << json(s).dump(-1, ' ', true, json::error_handler_t::replace);
    EXPECT_FALSE(json::parse(command_text(3, s, params, s)).is_discarded());
  }
}

TEST(CdpCommandText, AnyIdAndAnyParams) {
  const uint64_t big = std::numeric_limits<uint64_t>::max();
  EXPECT_EQ(command_text(big, "M", json(nullptr), "s"), dumped(big, "M", json(nullptr), "s"));
  EXPECT_EQ(command_text(0, "M", json::array(), "s"), dumped(0, "M", json::array(), "s"));
}

}  // namespace
}  // namespace belay::cdp
