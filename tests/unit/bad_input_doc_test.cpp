// docs/bad-input.md names, for every bad input, the test that proves what
// belay does with it. Each name must be a test that exists in tests/, so a
// renamed or deleted test cannot leave the table pointing at nothing.

#include <gtest/gtest.h>

#include <cctype>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace belay {
namespace {

namespace fs = std::filesystem;

// Placeholder for rows whose test the security suite owns.
constexpr const char* kSecuritySuite = "(security suite)";

// The "Suite.Name" of a TEST, TEST_F or TEST_P macro whose name ends at
// `at` in `text`, or "" (the arguments may span lines, as clang-format
// wraps them).
std::string definition_at(const std::string& text, size_t at) {
  auto skip_space = [&] {
    while (at < text.size() && std::isspace(static_cast<unsigned char>(text[at])) != 0) ++at;
  };
  auto name = [&] {
    const size_t from = at;
    while (at < text.size() &&
           (std::isalnum(static_cast<unsigned char>(text[at])) != 0 || text[at] == '_')) {
      ++at;
    }
    return text.substr(from, at - from);
  };
  auto expect = [&](char c) {
    skip_space();
    if (at >= text.size() || text[at] != c) return false;
    ++at;
    return true;
  };
  if (text.compare(at, 2, "_F") == 0 || text.compare(at, 2, "_P") == 0) at += 2;
  if (!expect('(')) return "";
  skip_space();
  const std::string suite = name();
  if (suite.empty() || !expect(',')) return "";
  skip_space();
  const std::string test = name();
  if (test.empty() || !expect(')')) return "";
  return suite + "." + test;
}

// Every "Suite.Name" defined with TEST, TEST_F or TEST_P under tests/.
std::set<std::string> defined_tests() {
  std::set<std::string> names;
  const fs::path root = fs::path(BELAY_SOURCE_DIR) / "tests";
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    if (!entry.is_regular_file() || entry.path().extension() != ".cpp") continue;
    std::ifstream in(entry.path());
    std::stringstream buffer;
    buffer << in.rdbuf();
    const std::string text = buffer.str();
    for (size_t at = text.find("TEST"); at != std::string::npos; at = text.find("TEST", at + 1)) {
      size_t before = at;  // only indentation may precede it on its line
      while (before > 0 && (text[before - 1] == ' ' || text[before - 1] == '\t')) --before;
      if (before > 0 && text[before - 1] != '\n') continue;
      const std::string found = definition_at(text, at + 4);
      if (!found.empty()) names.insert(found);
    }
  }
  return names;
}

// The cells of a markdown table row, trimmed ("| a | b |" -> {"a", "b"}).
std::vector<std::string> cells(const std::string& row) {
  std::vector<std::string> out;
  std::string cell;
  bool code = false;
  for (size_t i = 1; i < row.size(); ++i) {
    const char c = row[i];
    if (c == '`') code = !code;
    if (c == '\\' && i + 1 < row.size() && row[i + 1] == '|') {
      cell += '|';
      ++i;
    } else if (c == '|' && !code) {
      const size_t a = cell.find_first_not_of(' ');
      const size_t b = cell.find_last_not_of(' ');
      out.push_back(a == std::string::npos ? "" : cell.substr(a, b - a + 1));
      cell.clear();
    } else {
      cell += c;
    }
  }
  return out;
}

TEST(BadInputDoc, EveryRowNamesATestThatExists) {
  std::ifstream in(std::string(BELAY_SOURCE_DIR) + "/docs/bad-input.md");
  ASSERT_TRUE(in) << "docs/bad-input.md is missing";
  const std::set<std::string> tests = defined_tests();
  ASSERT_GT(tests.size(), 100u) << "the scan of tests/ found too few tests";
  static const std::regex name(R"(`?([A-Z]\w*)\.([A-Z]\w*)`?)");

  size_t rows = 0;
  size_t named = 0;
  int test_column = -1;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("|", 0) != 0) {
      test_column = -1;  // a table ended
      continue;
    }
    const std::vector<std::string> row = cells(line);
    if (test_column < 0) {  // the header row of a table
      for (size_t i = 0; i < row.size(); ++i) {
        if (row[i] == "test") test_column = static_cast<int>(i);
      }
      ASSERT_GE(test_column, 0) << "a table without a `test` column: " << line;
      continue;
    }
    if (line.find_first_not_of("|-: ") == std::string::npos) continue;  // the separator row
    ++rows;
    ASSERT_LT(static_cast<size_t>(test_column), row.size()) << "short row: " << line;
    const std::string& cell = row[test_column];
    if (cell == kSecuritySuite) continue;
    size_t in_row = 0;
    for (auto it = std::sregex_iterator(cell.begin(), cell.end(), name);
         it != std::sregex_iterator(); ++it) {
      const std::string test = (*it)[1].str() + "." + (*it)[2].str();
      ++in_row;
      EXPECT_EQ(tests.count(test), 1u) << test << " is named in docs/bad-input.md but not "
                                       << "defined under tests/ (row: " << line << ")";
    }
    EXPECT_GT(in_row, 0u) << "a row without a test: " << line;
    named += in_row;
  }
  EXPECT_GE(rows, 40u) << "docs/bad-input.md lost its tables";
  EXPECT_GE(named, rows / 2);
}

}  // namespace
}  // namespace belay
