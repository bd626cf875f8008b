// The bundled demo (`./belay.sh demo`) must end green and show every layer
// of recovery it claims: a call retry, a ladder step, a replaced page and a
// relaunched browser.

#include "support/belay_process.hpp"
#include "support/chaos_run.hpp"
#include "support/chromium.hpp"

#include <gtest/gtest.h>

namespace belay::test {
namespace {

using std::chrono::seconds;

TEST(Demo, EndsGreenWithEveryLayerOfRecoveryInTheLog) {
  TempDir dir;
  const std::string state = dir.file("state");
  const BelayRun r = run_belay({"run", source_path("scripts/demo/campaign.lua"), "--state", state,
                                "--chrome", chrome_path(), "--no-reload"},
                               dir.path(), seconds(120));
  ASSERT_EQ(r.exit_code, 0) << r.describe;
  const auto events = read_events(state + "/events.jsonl");
  const std::string log = event_names(events);
  EXPECT_EQ(of_event(events, "item_ok").size(), 8u) << log;
  EXPECT_FALSE(of_event(events, "retry").empty()) << log;
  bool recovered = false;
  for (const auto& e : of_event(events, "recover")) {
    recovered = recovered || e.value("outcome", "") == "ok";
  }
  EXPECT_TRUE(recovered) << log;
  bool page_replaced = false;
  bool browser_relaunched = false;
  for (const auto& e : of_event(events, "restarting")) {
    page_replaced = page_replaced || e["params"].value("scope", "") == "page";
    browser_relaunched = browser_relaunched || e["params"].value("scope", "") == "browser";
  }
  EXPECT_TRUE(page_replaced) << log;
  EXPECT_TRUE(browser_relaunched) << log;
  EXPECT_TRUE(wait_no_process_mentioning(state, seconds(10)).empty());
}

}  // namespace
}  // namespace belay::test
