#include "core/json_text.hpp"

#include <gtest/gtest.h>

#include <string>

namespace belay {
namespace {

using namespace std::string_literals;

TEST(JsonText, ANulByteIsRefusedWhereverItIs) {
  // nlohmann alone parses the first as 1: it takes the NUL for the end.
  for (const std::string& text : {"1\0junk"s, "{\"a\":1}\0"s, "\"a\0b\""s, "\0"s, "[1,\0 2]"s}) {
    EXPECT_NE(nul_byte_at(text), std::string::npos);
    EXPECT_TRUE(parse_json_or_discard(text).is_discarded()) << text.size();
  }
  EXPECT_EQ(nul_byte_at("1\0junk"s), 1u);
}

TEST(JsonText, GoodTextParsesAndBadTextIsDiscardedWithoutThrowing) {
  EXPECT_EQ(parse_json_or_discard(R"({"a":[1,"\u0000"]})")["a"][1], "\0"s);
  EXPECT_EQ(parse_json_or_discard(" 7 "), 7);
  for (const char* bad : {"", "{", "1 2", "nul", "\"\xff\""}) {
    EXPECT_TRUE(parse_json_or_discard(bad).is_discarded()) << bad;
  }
}

}  // namespace
}  // namespace belay
