#include "campaign/item_key.hpp"
#include "campaign/runner.hpp"

#include <chrono>

namespace belay::campaign {
namespace {

uint64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

class SequentialRunner final : public Runner {
 public:
  SequentialRunner(uv_loop_t* loop, const CampaignConfig& config, ItemExecutor& executor,
                   EventLog& events, RunOptions options)
      : loop_(loop), config_(config), executor_(executor), events_(events),
        options_(std::move(options)) {}

  void start(Finished finished) override {
    finished_ = std::move(finished);
    profile_ = config_.profiles.front().name;
    started_ = now_ms();
    events_.write(Event{"run_start", profile_, "", "",
                        {{"items", config_.items.size()}, {"runner", "sequential"}}, "", {}});
    session_ = std::make_shared<BrowserSession>(loop_, browser_spec(config_.profiles.front(),
                                                                    options_));
    const uint64_t launch_started = now_ms();
    session_->start([this, launch_started](std::optional<Error> error) {
      events_.write(Event{"browser_launch", profile_, "", "",
                          {{"pid", session_->pid()},
                           {"error", error ? nlohmann::json(error->to_string()) : nullptr}},
                          error ? "fail" : "ok", now_ms() - launch_started});
      if (error) return finish(1);
      next();
    });
  }

  void stop() override { stopping_ = true; }

 private:
  void next() {
    // 0 only when every item was done: a stopped run is not a success.
    if (stopping_ || index_ >= config_.items.size()) {
      return finish(failed_ > 0 || index_ < config_.items.size() ? 1 : 0);
    }
    ItemAttempt attempt;
    attempt.item = config_.items[index_];
    attempt.key = item_key(attempt.item);
    attempt.index = static_cast<int>(index_) + 1;
    attempt.profile = profile_;
    const uint64_t started = now_ms();
    events_.write(Event{"item_start", profile_, "", attempt.key, {{"index", attempt.index}}, "", {}});
    executor_.run_item(attempt, session_, [this, key = attempt.key, started](
                                               Result<nlohmann::json> result) {
      if (result) {
        ++done_;
        events_.write(Event{"item_ok", profile_, "", key, {{"result", result.value()}}, "ok",
                            now_ms() - started});
      } else {
        ++failed_;
        const Error& e = result.error();
        events_.write(Event{"item_failed", profile_, "", key,
                            {{"kind", kind_name(e.kind)}, {"message", e.message}, {"op", e.op}},
                            "fail", now_ms() - started});
      }
      ++index_;
      next();
    });
  }

  void finish(int code) {
    if (finished_called_) return;
    finished_called_ = true;
    events_.write(Event{"run_finish", profile_, "", "",
                        {{"done", done_}, {"failed", failed_}, {"total", config_.items.size()}},
                        code == 0 ? "ok" : "fail", now_ms() - started_});
    session_->close([this, code]() {
      Finished finished = std::move(finished_);
      if (finished) finished(code);
    });
  }

  uv_loop_t* loop_;
  const CampaignConfig& config_;
  ItemExecutor& executor_;
  EventLog& events_;
  RunOptions options_;
  std::shared_ptr<BrowserSession> session_;
  std::string profile_;
  Finished finished_;
  size_t index_ = 0;
  size_t done_ = 0;
  size_t failed_ = 0;
  uint64_t started_ = 0;
  bool stopping_ = false;
  bool finished_called_ = false;
};

}  // namespace

BrowserSpec browser_spec(const ProfileConfig& profile, const RunOptions& options) {
  BrowserSpec spec;
  spec.profile = profile.name;
  spec.connect_url = !profile.connect.empty() ? profile.connect : options.connect;
  spec.launch.chrome_path = options.chrome_path;
  spec.launch.transport = options.transport;
  spec.launch.headless = options.headless;
  spec.launch.user_data_dir = !profile.user_data_dir.empty()
                                  ? profile.user_data_dir
                                  : options.state_dir + "/profiles/" + profile.name;
  spec.launch.extra_flags = profile.flags;
  return spec;
}

std::unique_ptr<Runner> make_sequential_runner(uv_loop_t* loop, const CampaignConfig& config,
                                               ItemExecutor& executor, EventLog& events,
                                               RunOptions options) {
  return std::make_unique<SequentialRunner>(loop, config, executor, events, std::move(options));
}

}  // namespace belay::campaign
