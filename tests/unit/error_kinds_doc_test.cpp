// docs/errors.md lists exactly the kinds of error_kinds.def, with the same
// retry defaults: the table is written once and the docs follow it.

#include "core/error.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <regex>
#include <sstream>

namespace belay {
namespace {

TEST(ErrorKindsDoc, MatchesTheTable) {
  std::ifstream in(std::string(BELAY_SOURCE_DIR) + "/docs/errors.md");
  ASSERT_TRUE(in) << "docs/errors.md is missing";
  std::stringstream text;
  text << in.rdbuf();
  const std::string doc = text.str();
  const std::regex row(R"(\| `([a-z_]+)` \| ([^|]+) \| (yes|no) \|)");
  std::map<std::string, bool> documented;
  for (auto it = std::sregex_iterator(doc.begin(), doc.end(), row); it != std::sregex_iterator();
       ++it) {
    documented[(*it)[1].str()] = (*it)[3].str() == "yes";
  }
  ASSERT_EQ(documented.size(), static_cast<size_t>(kKindCount));
  for (int i = 0; i < kKindCount; ++i) {
    const auto kind = static_cast<Kind>(i);
    const std::string name(kind_name(kind));
    ASSERT_EQ(documented.count(name), 1u) << name << " is not documented";
    EXPECT_EQ(documented[name], retryable_by_default(kind)) << name;
  }
}

}  // namespace
}  // namespace belay
