#pragma once
// Loading a campaign script: compile it in a fresh sandbox environment, run
// its top level on a short budget, and check the table it returns field by
// field. A bad field is a `config` error naming the field and its line.

#include "campaign/config.hpp"
#include "vm/runtime.hpp"

#include <memory>
#include <string>

namespace belay::lua {

// One loaded version of a campaign: its settings and, in the registry, its
// table, run function and ladder. Released when the last holder lets go, so an
// item in flight keeps the version it started with alive.
class LoadedCampaign {
 public:
  struct Refs {
    int table;  // registry references
    int run;
    int ladder;  // the resolved ladder table
  };
  LoadedCampaign(Runtime& runtime, campaign::CampaignConfig config, Refs refs, uint64_t version);
  ~LoadedCampaign();
  LoadedCampaign(const LoadedCampaign&) = delete;
  LoadedCampaign& operator=(const LoadedCampaign&) = delete;

  const campaign::CampaignConfig& config() const { return config_; }
  uint64_t version() const { return version_; }
  void push_table(lua_State* L) const;
  void push_run(lua_State* L) const;
  void push_ladder(lua_State* L) const;

 private:
  std::weak_ptr<Runtime*> runtime_alive_;
  lua_State* main_;
  campaign::CampaignConfig config_;
  Refs refs_;
  uint64_t version_;
};

struct LoadOptions {
  // Items are read too (the file beside the script, or the array, or the
  // iterator run to its end). `belay check` skips nothing either.
  bool load_items = true;
  uint64_t version = 1;
};

Result<std::shared_ptr<LoadedCampaign>> load_campaign(Runtime& runtime, const std::string& path,
                                                      LoadOptions options = {});

}  // namespace belay::lua
