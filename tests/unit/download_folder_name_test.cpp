// An item's key as the name of its downloads folder: a key is any text, the
// folder must stay inside the downloads folder and be a plain name.

#include "browser/downloads.hpp"

#include <gtest/gtest.h>

namespace belay::browser {
namespace {

TEST(DownloadFolderName, KeepsPlainKeysAsTheyAre) {
  EXPECT_EQ(download_folder_name("A-17"), "A-17");
  EXPECT_EQ(download_folder_name("order_2.v1"), "order_2.v1");
}

TEST(DownloadFolderName, ReplacesWhatIsNotPlain) {
  EXPECT_EQ(download_folder_name("b/../c"), "b_.._c");
  EXPECT_EQ(download_folder_name("h:0123abcd"), "h_0123abcd");
  EXPECT_EQ(download_folder_name("a b\\c\n"), "a_b_c_");
  EXPECT_EQ(download_folder_name("caf\xc3\xa9"), "caf__");
}

TEST(DownloadFolderName, NeverEmptyNorHiddenNorAParent) {
  EXPECT_EQ(download_folder_name(""), "_");
  EXPECT_EQ(download_folder_name(".."), "_..");
  EXPECT_EQ(download_folder_name(".incoming"), "_.incoming");
}

}  // namespace
}  // namespace belay::browser
