// A host SIGKILLed in the middle of an item: what the next run knows of it.

#include "support/chaos_run.hpp"

#include <signal.h>

#include <gtest/gtest.h>

#include <thread>

namespace belay::test {
namespace {

using nlohmann::json;
using std::chrono::seconds;

// The store counts tries over every run. A try is durable before it runs:
// the item below fails its first two tries, hangs in its third, and the host
// is killed there. The next run's first try must be the fourth (it finishes);
// if the killed run's retries were forgotten, it would be the second, fail,
// and hang again in the third.
TEST(HostKill, TriesMadeBeforeTheKillCountInTheNextRun) {
  ChaosRun run;
  const std::string campaign = run.write_campaign(R"LUA(return {
  name = "counted",
  items = "items.jsonl",
  profiles = { "p1" },
  retry = { attempts = 5, base_ms = 50, jitter = 0, kinds = { "timeout" } },
  run = function(page, item, ctx)
    if ctx.attempt < 3 then belay.error("timeout", "not yet") end
    if ctx.attempt == 3 then belay.sleep(120000) end
    return { attempt = ctx.attempt }
  end,
}
)LUA",
                                                  1);
  {
    BelayProcess host(run.run_args(campaign), run.dir().path());
    ASSERT_EQ(wait_for_events(
                  run.events_path(), [](const json& e) { return e.value("event", "") == "retry"; },
                  2, seconds(60), &host)
                  .size(),
              2u)
        << host.describe();
    // The third try has begun once its retry wait (50-100 ms) is over.
    std::this_thread::sleep_for(std::chrono::milliseconds(1000));
    host.send_signal(SIGKILL);
    host.wait(seconds(10));
  }
  const BelayRun again = run_belay(run.run_args(campaign), run.dir().path(), seconds(60));
  ASSERT_EQ(again.exit_code, 0) << again.describe;
  const auto ok = of_event(run.events(), "item_ok");
  ASSERT_EQ(ok.size(), 1u) << event_names(run.events());
  EXPECT_EQ(ok[0]["params"]["result"]["attempt"], 4) << ok[0].dump();
}

}  // namespace
}  // namespace belay::test
