// What `belay status` prints (host/store/status_report.hpp): aligned plain
// tables of the campaign and its profiles, times in ISO 8601 UTC.

#include "store/status_report.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "support/belay_process.hpp"

namespace belay::store {
namespace {

using test::TempDir;

TEST(StatusReport, TimesAreIso8601UtcWithMilliseconds) {
  EXPECT_EQ(iso8601_utc(1700000000123), "2023-11-14T22:13:20.123Z");
  EXPECT_EQ(iso8601_utc(1700000000005), "2023-11-14T22:13:20.005Z");
  EXPECT_EQ(iso8601_utc(0), "-");
}

TEST(StatusReport, TableColumnsAreAlignedWithoutTrailingSpaces) {
  EXPECT_EQ(format_table({"NAME", "N", "NOTE"}, {{"a", "12345", ""}, {"longer", "1", "x"}}),
            "NAME    N      NOTE\n"
            "a       12345\n"
            "longer  1      x\n");
}

TEST(StatusReport, ShowsTheCampaignCountsAndEveryProfile) {
  TempDir tmp("belay-status-");
  auto opened = open_sqlite_store(tmp.path());
  ASSERT_TRUE(opened.ok()) << opened.error().to_string();
  Store& store = *opened.value();
  ASSERT_TRUE(store.bind("shop", {{"a", 1}, {"b", 2}, {"c", 3}, {"d", 4}}, "fp").ok());
  ASSERT_TRUE(store.mark_running("a", "p1").ok());
  ASSERT_FALSE(store.mark_done("a", true, 1).has_value());
  ASSERT_TRUE(store.mark_running("c", "p1").ok());
  ASSERT_FALSE(store.mark_failed("c", {{"kind", "timeout"}}, 1).has_value());
  ASSERT_TRUE(store.mark_running("b", "p1").ok());
  ASSERT_FALSE(store.save_profile({"p1", 2, 1700000000123, 1, false}).has_value());
  ASSERT_FALSE(store.save_health({"p1", "busy", 1700000000999, 1, "b", "timeout: slow (x)"}));
  ASSERT_FALSE(store.save_health({"p2", "fatal", 0, 3, "", ""}));

  auto report = format_status(store);
  ASSERT_TRUE(report.ok()) << report.error().to_string();
  const std::string& text = report.value();
  EXPECT_EQ(text.rfind("state " + store.path() + "\n\n", 0), 0u) << text;
  const auto campaign = store.campaign().value().value();
  // ITEMS DONE FAILED PENDING RUNNING SKIPPED LAST-INDEX, under their headers.
  const std::string expected_campaign =
      format_table({"CAMPAIGN", "ITEMS", "DONE", "FAILED", "PENDING", "RUNNING", "SKIPPED",
                    "LAST INDEX", "CREATED", "UPDATED"},
                   {{"shop", "4", "1", "1", "1", "1", "0", "3", iso8601_utc(campaign.created_at_ms),
                     iso8601_utc(campaign.updated_at_ms)}});
  EXPECT_THAT(text, ::testing::HasSubstr(expected_campaign)) << text;
  const std::string expected_profiles =
      format_table({"PROFILE", "ERROR STREAK", "PAUSED UNTIL", "RESTARTS", "FATAL", "HEALTH",
                    "LAST HEARTBEAT", "CURRENT ITEM", "LAST ERROR"},
                   {{"p1", "2", "2023-11-14T22:13:20.123Z", "1", "no", "busy",
                     "2023-11-14T22:13:20.999Z", "b", "timeout: slow (x)"},
                    {"p2", "0", "-", "0", "no", "fatal", "-", "-", "-"}});
  EXPECT_THAT(text, ::testing::HasSubstr(expected_profiles)) << text;
}

TEST(StatusReport, SaysSoWhenNothingIsBoundYet) {
  TempDir tmp("belay-status-");
  auto opened = open_sqlite_store(tmp.path());
  ASSERT_TRUE(opened.ok()) << opened.error().to_string();
  auto report = format_status(*opened.value());
  ASSERT_TRUE(report.ok());
  EXPECT_THAT(report.value(), ::testing::HasSubstr("no campaign bound to this state yet\n"));
  EXPECT_THAT(report.value(), ::testing::HasSubstr("no profiles yet\n"));
}

}  // namespace
}  // namespace belay::store
