// Key presses as Input.dispatchKeyEvent commands, URL globs, and the "did
// you mean" suggestions for mistyped names: pure functions, no browser.

#include "browser/input_events.hpp"
#include "browser/page_waits.hpp"
#include "core/near_miss.hpp"

#include <gtest/gtest.h>

namespace belay::browser {
namespace {

std::vector<std::string> summary(const std::vector<cdp::Command>& commands) {
  std::vector<std::string> out;
  for (const auto& c : commands) {
    out.push_back(c.params["type"].get<std::string>() + " " + c.params["key"].get<std::string>() +
                  " m" + std::to_string(c.params["modifiers"].get<int>()) +
                  (c.params.contains("text") ? " text=" + c.params["text"].get<std::string>()
                                             : std::string()));
  }
  return out;
}

TEST(KeyPress, ACombinationHoldsItsModifiersAroundTheKeyAndTypesNoText) {
  auto commands = key_press_commands("Control+A", 1000);
  ASSERT_TRUE(commands.ok());
  EXPECT_EQ(summary(commands.value()),
            (std::vector<std::string>{"rawKeyDown Control m2", "rawKeyDown A m2", "keyUp A m2",
                                      "keyUp Control m0"}));
  EXPECT_EQ(commands.value()[1].params["windowsVirtualKeyCode"], 65);
  EXPECT_EQ(commands.value()[1].params["code"], "KeyA");
}

TEST(KeyPress, ShiftTypesTheUpperCaseLetterAndShiftTabMovesBack) {
  EXPECT_EQ(summary(key_press_commands("Shift+a", 1000).value()),
            (std::vector<std::string>{"rawKeyDown Shift m8", "keyDown A m8 text=A", "keyUp A m8",
                                      "keyUp Shift m0"}));
  EXPECT_EQ(summary(key_press_commands("Shift+Tab", 1000).value()),
            (std::vector<std::string>{"rawKeyDown Shift m8", "rawKeyDown Tab m8", "keyUp Tab m8",
                                      "keyUp Shift m0"}));
}

TEST(KeyPress, PlusItselfAndSingleKeysAndFunctionKeys) {
  EXPECT_EQ(summary(key_press_commands("Control++", 1000).value()),
            (std::vector<std::string>{"rawKeyDown Control m2", "rawKeyDown + m2", "keyUp + m2",
                                      "keyUp Control m0"}));
  EXPECT_EQ(summary(key_press_commands("Enter", 1000).value()),
            (std::vector<std::string>{"keyDown Enter m0 text=\r", "keyUp Enter m0"}));
  EXPECT_EQ(key_press_commands("F5", 1000).value()[0].params["windowsVirtualKeyCode"], 116);
  EXPECT_EQ(summary(key_press_commands("Meta+Enter", 1000).value())[1], "rawKeyDown Enter m4");
}

TEST(KeyPress, UnknownKeysAndMisplacedModifiersAreConfigErrors) {
  for (const char* bad : {"Shfit+A", "A+B", "Control+", "", "Enter+Control", "F13"}) {
    auto commands = key_press_commands(bad, 1000);
    ASSERT_FALSE(commands.ok()) << bad;
    EXPECT_EQ(commands.error().kind, Kind::config) << bad;
  }
  EXPECT_NE(key_press_commands("Shfit+A", 1000).error().message.find("unknown key 'Shfit'"),
            std::string::npos);
}

TEST(KeyPress, TypingSplitsUtf8IntoCharacters) {
  EXPECT_EQ(utf8_characters("aé€😀"), (std::vector<std::string>{"a", "é", "€", "😀"}));
  EXPECT_EQ(utf8_characters("\xC3"), (std::vector<std::string>{"\xC3"}));  // cut short
  EXPECT_EQ(summary(type_character_commands("\n", 1000))[0], "keyDown Enter m0 text=\r");
}

TEST(NearMiss, SuggestsTheNameMeantAndNothingFar) {
  const std::vector<std::string_view> keys = {"full_page", "selector", "format", "quality",
                                              "timeout"};
  EXPECT_EQ(nearest_name("fullPage", keys), "full_page");
  EXPECT_EQ(nearest_name("timeuot", keys), "timeout");
  EXPECT_EQ(nearest_name("Selector", keys), "selector");
  EXPECT_EQ(nearest_name("waitUntil", keys), std::nullopt);
  EXPECT_EQ(nearest_name("x", keys), std::nullopt);
  EXPECT_EQ(did_you_mean("fromat", keys), " (did you mean 'format'?)");
  EXPECT_EQ(did_you_mean("zzz", keys), "");
}

TEST(UrlGlob, StarsMatchWithinOrAcrossPathSegments) {
  EXPECT_TRUE(url_matches_glob("**/page2", "http://127.0.0.1:8080/page2"));
  EXPECT_FALSE(url_matches_glob("**/page2", "http://127.0.0.1:8080/page2/x"));
  EXPECT_TRUE(url_matches_glob("http://*/page*", "http://a.test/page12"));
  EXPECT_FALSE(url_matches_glob("http://*/page*", "http://a.test/x/page12"));
  EXPECT_TRUE(url_matches_glob("**/x/*", "a/x/b/x/c")) << "** gives back what * needs";
  EXPECT_TRUE(url_matches_glob("http://a.test/?q=1", "http://a.test/?q=1")) << "? is itself";
  EXPECT_FALSE(url_matches_glob("http://a.test/?q=1", "http://a.test/xq=1"));
  EXPECT_FALSE(url_matches_glob("http://a.test/", "http://a.test/more")) << "no wildcard: all";
  EXPECT_TRUE(url_matches_glob("**", ""));
  EXPECT_FALSE(url_matches_glob("", "x"));
  const std::string long_url = "http://a.test/" + std::string(5000, 'a');
  EXPECT_FALSE(url_matches_glob("*b*b*b*b*b*b*b*b", long_url)) << "no backtracking blow-up";
}

}  // namespace
}  // namespace belay::browser
