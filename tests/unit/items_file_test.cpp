// Items files: JSONL, CSV and JSON arrays, their error messages (FILE:LINE),
// and garbage that must come back as a config error, never a crash.

#include "campaign/items_file.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <unistd.h>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

namespace belay::campaign {
namespace {

namespace fs = std::filesystem;
using Items = std::vector<json>;

// The error's message, or a failure if parsing succeeded.
std::string error_of(const Result<Items>& result) {
  if (result.ok()) {
    ADD_FAILURE() << "expected an error, got " << result.value().size() << " items";
    return "";
  }
  EXPECT_EQ(result.error().kind, Kind::config);
  return result.error().message;
}

#define EXPECT_STARTS_WITH(text, prefix) \
  EXPECT_EQ(std::string(text).substr(0, std::string(prefix).size()), prefix) << (text)
// ---- JSONL

TEST(ItemsFileJsonl, AcceptsBomCrlfBlankLinesAndNoFinalNewline) {
  auto r = parse_jsonl(
      "\xEF\xBB\xBF{\"id\":1}\r\n\r\n   \t\r\n{\"id\":\"b\",\"n\":[1,2]}\n\n{\"x\":true}",
      "c.jsonl");
  ASSERT_TRUE(r.ok()) << r.error().message;
  const Items& items = r.value();
  ASSERT_EQ(items.size(), 3u);
  EXPECT_EQ(items[0], json({{"id", 1}}));
  EXPECT_EQ(items[1]["n"], json({1, 2}));
  EXPECT_EQ(items[2], json({{"x", true}}));
}

TEST(ItemsFileJsonl, EmptyTextHasNoItems) {
  auto r = parse_jsonl("\n\r\n  \n", "c.jsonl");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r.value().empty());
}

TEST(ItemsFileJsonl, InvalidLineNamesItsLineAndColumn) {
  std::string msg =
      error_of(parse_jsonl("{\"a\":1}\n\n{\"a\":2}\r\n{\"a\": x}\n{\"a\":3}\n", "contacts.jsonl"));
  EXPECT_STARTS_WITH(msg, "contacts.jsonl:4: invalid JSON at column 7: ");
  EXPECT_THAT(msg, ::testing::Not(::testing::HasSubstr("json.exception"))) << msg;
}

TEST(ItemsFileJsonl, TwoValuesOnOneLineIsAnError) {
  EXPECT_STARTS_WITH(error_of(parse_jsonl("{\"a\":1} {\"b\":2}\n", "c.jsonl")),
                     "c.jsonl:1: invalid JSON");
}

TEST(ItemsFileJsonl, NonObjectLineIsRejected) {
  std::string msg = error_of(parse_jsonl("{\"a\":1}\n[1,2]\n", "c.jsonl"));
  EXPECT_STARTS_WITH(msg, "c.jsonl:2: an item must be a JSON object");
  EXPECT_THAT(msg, ::testing::HasSubstr("got an array"));
  EXPECT_THAT(error_of(parse_jsonl("42\n", "c.jsonl")), ::testing::HasSubstr("got a number"));
  EXPECT_THAT(error_of(parse_jsonl("\"x\"\n", "c.jsonl")), ::testing::HasSubstr("got a string"));
}

TEST(ItemsFileJsonl, NumberOverflowIsAnErrorNamingTheLine) {
  EXPECT_STARTS_WITH(error_of(parse_jsonl("{}\n{\"a\":1e400}\n", "c.jsonl")),
                     "c.jsonl:2: invalid JSON: ");
}

TEST(ItemsFileJsonl, DeepNestingIsRejected) {
  std::string deep = "{\"a\":" + std::string(200, '[') + std::string(200, ']') + "}";
  EXPECT_STARTS_WITH(error_of(parse_jsonl("{}\n" + deep, "c.jsonl")),
                     "c.jsonl:2: nested deeper than");
  // Brackets inside strings are not nesting.
  EXPECT_TRUE(parse_jsonl("{\"a\":\"" + std::string(200, '[') + "\"}", "c.jsonl").ok());
}

// ---- CSV

TEST(ItemsFileCsv, HandlesQuotesEscapesEmbeddedNewlinesCommasCrlfAndBom) {
  auto r = parse_csv(
      "\xEF\xBB\xBFid,name,note\r\n"
      "1,\"Doe, Jane\",\"said \"\"hi\"\"\"\r\n"
      "2,Bob,\"line1\nline2\"\r\n"
      "3,,\"\"\r\n",
      "rows.csv");
  ASSERT_TRUE(r.ok()) << r.error().message;
  const Items& items = r.value();
  ASSERT_EQ(items.size(), 3u);
  EXPECT_EQ(items[0], json({{"id", "1"}, {"name", "Doe, Jane"}, {"note", "said \"hi\""}}));
  EXPECT_EQ(items[1]["note"], "line1\nline2");
  EXPECT_EQ(items[2], json({{"id", "3"}, {"name", ""}, {"note", ""}}));
}

TEST(ItemsFileCsv, ValuesStayStrings) {
  auto r = parse_csv("n,b,f,z\n007,true,1.5,null", "rows.csv");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r.value().at(0), json({{"n", "007"}, {"b", "true"}, {"f", "1.5"}, {"z", "null"}}));
}

TEST(ItemsFileCsv, TrailingCommaIsAnEmptyLastField) {
  auto r = parse_csv("a,b\n1,\n", "rows.csv");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r.value().at(0), json({{"a", "1"}, {"b", ""}}));
}

TEST(ItemsFileCsv, BlankLinesAndTrailingEmptyLinesAreIgnored) {
  auto r = parse_csv("a,b\r\n\r\n1,2\n\n3,4\n\n", "rows.csv");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r.value().size(), 2u);
}

TEST(ItemsFileCsv, HeaderOnlyHasNoItemsButAnEmptyFileIsAnError) {
  auto r = parse_csv("id,phone\n", "rows.csv");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r.value().empty());
  EXPECT_STARTS_WITH(error_of(parse_csv("\xEF\xBB\xBF", "rows.csv")), "rows.csv:1: no header row");
}

TEST(ItemsFileCsv, WrongFieldCountNamesThePhysicalLine) {
  // Line 2's record spans lines 2-3, so the short record starts on line 4.
  std::string msg = error_of(parse_csv("a,b,c,d\n1,\"x\ny\",3,4\n1,2,3\n", "rows.csv"));
  EXPECT_EQ(msg, "rows.csv:4: 3 fields, header has 4");
  EXPECT_EQ(error_of(parse_csv("a,b\n1,2,3\n", "rows.csv")), "rows.csv:2: 3 fields, header has 2");
}

TEST(ItemsFileCsv, UnterminatedQuoteNamesTheLineWhereTheFieldStarted) {
  std::string msg = error_of(parse_csv("a,b\n1,2\n3,\"open\nmore\nstuff\n", "rows.csv"));
  EXPECT_STARTS_WITH(msg, "rows.csv:3: unterminated quoted field");
}

TEST(ItemsFileCsv, TextAfterAClosingQuoteIsAnError) {
  EXPECT_STARTS_WITH(error_of(parse_csv("a,b\n\"x\"y,2\n", "rows.csv")),
                     "rows.csv:2: unexpected y after a closing quote");
}

TEST(ItemsFileCsv, BareCarriageReturnIsAnError) {
  EXPECT_STARTS_WITH(error_of(parse_csv("a,b\r1,2\r", "rows.csv")), "rows.csv:1: carriage return");
}

TEST(ItemsFileCsv, EmptyHeaderNameIsRejected) {
  EXPECT_STARTS_WITH(error_of(parse_csv("id,,phone\n1,2,3\n", "rows.csv")),
                     "rows.csv:1: header field 2 is empty");
}

TEST(ItemsFileCsv, DuplicateHeaderNameIsRejected) {
  EXPECT_EQ(error_of(parse_csv("id,phone,id\n1,2,3\n", "rows.csv")),
            "rows.csv:1: header field 3 repeats the name \"id\" of field 1");
}

// ---- Text checks, shared by every format

TEST(ItemsFileText, InvalidUtf8NamesTheLine) {
  std::string msg = error_of(parse_csv("a\nok\n\xC3\x28\n", "rows.csv"));
  EXPECT_STARTS_WITH(msg, "rows.csv:3: invalid UTF-8 (byte 0xC3 at column 1)");
  // Surrogates and overlongs are malformed too (nlohmann's dump would throw).
  EXPECT_THAT(error_of(parse_csv("a\n\xED\xA0\x80\n", "rows.csv")),
              ::testing::HasSubstr("invalid UTF-8"));
  EXPECT_THAT(error_of(parse_csv("a\n\xC0\xAF\n", "rows.csv")),
              ::testing::HasSubstr("invalid UTF-8"));
  EXPECT_TRUE(parse_csv("a\n\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\n", "rows.csv").ok());
}

TEST(ItemsFileText, NulByteAndUtf16AreRejected) {
  EXPECT_STARTS_WITH(error_of(parse_jsonl(std::string("{}\n{\"a\":\"x\0\"}\n", 13), "c.jsonl")),
                     "c.jsonl:2: NUL byte at column 8");
  EXPECT_THAT(error_of(parse_csv(std::string("\xFF\xFEi\0d\0", 6), "rows.csv")),
              ::testing::HasSubstr("UTF-16"));
}

// ---- JSON array

TEST(ItemsFileJsonArray, ParsesAnArrayOfObjects) {
  auto r = parse_json_array("\xEF\xBB\xBF[ {\"id\": 1}, {\"id\": \"two\", \"tags\": [\"a\"]} ]",
                            "i.json");
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r.value().size(), 2u);
  EXPECT_EQ(r.value()[1]["tags"][0], "a");
}

TEST(ItemsFileJsonArray, NonObjectElementNamesItsLine) {
  std::string msg =
      error_of(parse_json_array("[\n {\"a\": [1, \"\\\"]\"]},\n  \"oops\"\n]", "i.json"));
  EXPECT_EQ(msg,
            "i.json:3: item 2: an item must be a JSON object (like {\"id\": ...}), got a string");
}

TEST(ItemsFileJsonArray, TopLevelMustBeAnArray) {
  EXPECT_EQ(error_of(parse_json_array("\n{\"id\": 1}", "i.json")),
            "i.json:2: expected a JSON array of items, got an object");
}

TEST(ItemsFileJsonArray, InvalidJsonNamesLineAndColumn) {
  EXPECT_STARTS_WITH(error_of(parse_json_array("[\n{\"a\":1},\n{\"a\":}\n]", "i.json")),
                     "i.json:3: invalid JSON at column 6: ");
}

// ---- Files

class ItemsFileRead : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() /
           ("belay-items-" + std::to_string(::getpid()) + "-" + info->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string write(const std::string& name, const std::string& content) {
    std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << content;
    return path;
  }

  fs::path dir_;
};

TEST_F(ItemsFileRead, ChoosesTheFormatByExtension) {
  EXPECT_EQ(read_items_file(write("a.jsonl", "{\"id\":1}\n{\"id\":2}\n")).value().size(), 2u);
  EXPECT_EQ(read_items_file(write("a.ndjson", "{\"id\":1}\n")).value().size(), 1u);
  EXPECT_EQ(read_items_file(write("a.csv", "id\n1\n2\n3\n")).value().size(), 3u);
  EXPECT_EQ(read_items_file(write("a.JSON", "[{\"id\":1}]")).value().size(), 1u);
  // The same bytes mean different things: a CSV header row, a JSONL error.
  EXPECT_EQ(read_items_file(write("b.CSV", "{\"id\":1}\n")).value().size(), 0u);
  EXPECT_FALSE(read_items_file(write("b.jsonl", "id\n1\n")).ok());
}

TEST_F(ItemsFileRead, UnknownExtensionIsAConfigErrorListingTheAcceptedOnes) {
  std::string path = write("items.txt", "{\"id\":1}\n");
  std::string msg = error_of(read_items_file(path));
  EXPECT_STARTS_WITH(msg, path + ": unsupported items file type");
  for (const char* ext : {".jsonl", ".ndjson", ".csv", ".json"})
    EXPECT_THAT(msg, ::testing::HasSubstr(ext));
  EXPECT_FALSE(read_items_file((dir_ / "no_extension").string()).ok());
  EXPECT_FALSE(read_items_file((dir_ / "csv.d" / "items").string()).ok());
}

TEST_F(ItemsFileRead, MissingFileNamesThePathAndTheErrno) {
  std::string path = (dir_ / "missing.jsonl").string();
  EXPECT_EQ(error_of(read_items_file(path)),
            path + ": cannot open items file: No such file or directory");
}

TEST_F(ItemsFileRead, DirectoryIsAnError) {
  fs::create_directories(dir_ / "dir.csv");
  EXPECT_THAT(error_of(read_items_file((dir_ / "dir.csv").string())),
              ::testing::HasSubstr("Is a directory"));
}

TEST_F(ItemsFileRead, BinaryGarbageIsAConfigErrorWithADumpableMessage) {
  std::mt19937 random(12345);
  for (int round = 0; round < 50; ++round) {
    std::string garbage(1 + random() % 4096, '\0');
    for (char& c : garbage) c = static_cast<char>(random());
    for (const char* name : {"g.csv", "g.jsonl", "g.json"}) {
      auto r = read_items_file(write(name, garbage));
      ASSERT_FALSE(r.ok()) << name << " round " << round;
      EXPECT_EQ(r.error().kind, Kind::config);
      // Messages go into JSON event logs: they must be valid UTF-8.
      EXPECT_NO_THROW((void)json(r.error().message).dump()) << r.error().message;
    }
  }
}

TEST(ItemsFileText, ErrorSnippetsOfNonAsciiLinesStayValidUtf8) {
  // nlohmann quotes the last byte read: half of "é" unless we escape it.
  auto r = parse_jsonl("{\"a\": \xC3\xA9}\n", "c.jsonl");
  ASSERT_FALSE(r.ok());
  EXPECT_NO_THROW((void)json(r.error().message).dump()) << r.error().message;
  auto long_line = parse_jsonl("{\"a\": \"" + std::string(100000, 'x') + "\" x}", "c.jsonl");
  ASSERT_FALSE(long_line.ok());
  EXPECT_LT(long_line.error().message.size(), 400u);
}

TEST_F(ItemsFileRead, HundredThousandRowsOfCsvAndJsonl) {
  std::string csv = "id,phone,name\n";
  std::string jsonl;
  for (int i = 0; i < 100000; ++i) {
    std::string n = std::to_string(i);
    csv += n + ",+1555" + n + ",\"Name, " + n + "\"\r\n";
    jsonl += "{\"id\":" + n + ",\"phone\":\"+1555" + n + "\",\"name\":\"Name, " + n + "\"}\n";
  }
  auto start = std::chrono::steady_clock::now();
  auto from_csv = read_items_file(write("big.csv", csv));
  auto from_jsonl = read_items_file(write("big.jsonl", jsonl));
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                  start);
  ASSERT_TRUE(from_csv.ok()) << from_csv.error().message;
  ASSERT_TRUE(from_jsonl.ok()) << from_jsonl.error().message;
  ASSERT_EQ(from_csv.value().size(), 100000u);
  ASSERT_EQ(from_jsonl.value().size(), 100000u);
  EXPECT_EQ(from_csv.value()[99999],
            json({{"id", "99999"}, {"phone", "+155599999"}, {"name", "Name, 99999"}}));
  EXPECT_EQ(from_jsonl.value()[4242]["id"], 4242);
  EXPECT_EQ(from_jsonl.value()[4242]["name"], "Name, 4242");
  std::cout << "[ info     ] 2 x 100k rows read in " << ms.count() << " ms\n";
}

}  // namespace
}  // namespace belay::campaign
