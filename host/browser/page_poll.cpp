#include "browser/page_poll.hpp"

#include "core/defer.hpp"

#include <memory>

namespace belay::browser {
namespace {

// The extra time the CDP call gets over the page-side timer, so a slow but
// alive page reports its own outcome, and only a hung one reports timeout.
constexpr uint64_t kPageGraceMs = 2000;

// The pause before looking in the next document: its context may not exist
// yet, and a page that keeps navigating must not be asked in a tight loop.
constexpr uint64_t kLookAgainPauseMs = 20;

struct Poll {
  ScriptTarget* page = nullptr;
  std::weak_ptr<bool> page_alive;
  uv_loop_t* loop = nullptr;
  PagePoll spec;
  uint64_t deadline = 0;
  bool stopped = false;  // its caller is gone: look no more
  ScriptTarget::Done done;
};

void look(std::shared_ptr<Poll> poll) {
  uv_update_time(poll->loop);
  const uint64_t now = uv_now(poll->loop);
  const uint64_t left = poll->deadline > now ? poll->deadline - now : 0;
  json args = poll->spec.args;
  args.push_back(left);
  poll->page->call_function(
      *poll->spec.function_source, args, left + kPageGraceMs, poll->spec.op,
      [poll](Result<json> r) {
        if (!r && r.error().kind == Kind::context_destroyed && !poll->page_alive.expired() &&
            !poll->stopped) {
          uv_update_time(poll->loop);
          if (uv_now(poll->loop) + kLookAgainPauseMs < poll->deadline) {
            return defer_after(poll->loop, kLookAgainPauseMs, [poll] {
              if (poll->stopped) {
                return poll->done(Error{
                    Kind::cancelled, "the wait was stopped by its caller", poll->spec.op, {}});
              }
              if (poll->page_alive.expired()) {
                return poll->done(Error{
                    Kind::target_closed, "the page was closed during the wait", poll->spec.op, {}});
              }
              look(poll);
            });
          }
          r = Result<json>(json(nullptr));  // the deadline came with the navigation
        }
        poll->done(std::move(r));
      });
}

}  // namespace

std::function<void()> poll_in_page(ScriptTarget& page, PagePoll spec, ScriptTarget::Done done) {
  auto poll = std::make_shared<Poll>();
  poll->page = &page;
  poll->page_alive = page.lifetime();
  poll->loop = page.loop();
  uv_update_time(poll->loop);
  poll->deadline = uv_now(poll->loop) + spec.timeout_ms;
  poll->spec = std::move(spec);
  poll->done = std::move(done);
  look(poll);
  return [stop = std::weak_ptr<Poll>(poll)] {
    if (auto poll = stop.lock()) poll->stopped = true;
  };
}

}  // namespace belay::browser
