#pragma once
// The campaign the soak runs: N items on the fixture server's /item route
// (which counts every execution), each read by a step that lasts a few
// hundred ms so that chaos lands mid-step, and a seeded share of items
// that inject a fault of their own on their first try:
//   crash     Page.crash: the tab's renderer dies under the item;
//   navigate  the page navigates away during the read (the navigation is
//             started inside the evaluation, never from a load timer);
//   hang      a navigation to /hang, whose response never comes.

#include <string>
#include <vector>

#include "rng.hpp"

namespace belay::soak {

// The campaign's health settings; the chaos driver holds a stopped process
// past the time the supervisor needs to notice it.
constexpr unsigned kHealthIntervalMs = 1000;
constexpr unsigned kHealthTimeoutMs = 2000;

struct SoakItem {
  std::string key;    // item-K
  std::string fault;  // "", "crash", "navigate" or "hang"
  int step_ms = 0;    // how long the read lasts
};

struct CampaignSpec {
  int items = 0;
  int profiles = 0;
  std::string base_url;  // http://127.0.0.1:PORT
};

// Profile names s1..sP.
std::vector<std::string> profile_names(int profiles);
// Writes dir/items.jsonl and dir/campaign.lua; returns the items, in order.
std::vector<SoakItem> write_campaign(const std::string& dir, const CampaignSpec& spec, Rng& rng);

}  // namespace belay::soak
