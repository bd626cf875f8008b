// Page's navigations: navigate, reload and history steps, each waiting for
// its document's lifecycle event, and the stop of one past its deadline.

#include "browser/navigation_wait.hpp"
#include "browser/network_quiet.hpp"
#include "cdp/classify.hpp"
#include "cdp/reply_fields.hpp"

namespace belay::browser {
namespace {

constexpr size_t kRecentLifecycleKept = 64;
// How long a page that just missed a navigation deadline gets to answer
// Page.stopLoading before it counts as gone.
constexpr uint64_t kStopTimeoutMs = 2000;

// Chromium's lifecycle event names. networkidle waits for load, then for
// NetworkQuiet (Chromium's own networkIdle misses late requests).
const char* lifecycle_name(WaitUntil wait) {
  return wait == WaitUntil::domcontentloaded ? "DOMContentLoaded" : "load";
}

}  // namespace

std::optional<WaitUntil> wait_until_from_name(std::string_view name) {
  if (name == "load") return WaitUntil::load;
  if (name == "domcontentloaded") return WaitUntil::domcontentloaded;
  if (name == "networkidle") return WaitUntil::networkidle;
  if (name == "none" || name == "commit") return WaitUntil::none;
  return std::nullopt;
}

void Page::navigate(const std::string& url, NavigateOptions options, Done done) {
  if (options.op.empty()) options.op = "Page.navigate";
  uv_update_time(loop_);
  const uint64_t started = uv_now(loop_);
  std::weak_ptr<bool> alive = alive_;
  when_counting_requests(
      options,
      [this, alive, url, options, started, done] {
        send(cdp::Command{"Page.navigate", {{"url", url}}, "", options.timeout_ms, options.op},
             [this, alive, url, options, started, done](Result<json> reply) {
               if (!reply)
                 return alive.expired() ? done(std::move(reply))
                                        : stop_if_deadline(std::move(reply), done);
               if (alive.expired())
                 return done(cdp::session_detached("page was closed", options.op));
               const json& r = reply.value();
               const std::string error_text = cdp::string_field(r, "errorText");
               if (!error_text.empty()) {
                 return done(Error{Kind::navigation_failed,
                                   "navigation to " + url + " failed: " + error_text, options.op,
                                   r});
               }
               const std::string loader = cdp::string_field(r, "loaderId");
               json result = {{"url", url},
                              {"frameId", cdp::string_field(r, "frameId")},
                              {"loaderId", loader}};
               // No loader: a same-document navigation (a #hash); nothing to load.
               if (loader.empty() || options.wait == WaitUntil::none)
                 return done(std::move(result));
               uv_update_time(loop_);
               NavigateOptions rest = options;
               const uint64_t spent = uv_now(loop_) - started;
               rest.timeout_ms = options.timeout_ms > spent ? options.timeout_ms - spent : 1;
               start_wait(loader, rest, done, std::move(result));
             });
      },
      done);
}

void Page::reload(NavigateOptions options, Done done) {
  if (options.op.empty()) options.op = "Page.reload";
  std::string current;
  for (auto it = recent_lifecycle_.rbegin(); it != recent_lifecycle_.rend(); ++it) {
    if (it->name == "init") {
      current = it->loader_id;
      break;
    }
  }
  std::weak_ptr<bool> alive = alive_;
  when_counting_requests(
      options,
      [this, alive, current, options, done] {
        // Only events from after the reload was sent can belong to its document.
        const uint64_t since = next_lifecycle_seq_;
        send(cdp::Command{"Page.reload", json::object(), "", options.timeout_ms, options.op},
             [this, alive, current, since, options, done](Result<json> reply) {
               if (!reply)
                 return alive.expired() ? done(std::move(reply))
                                        : stop_if_deadline(std::move(reply), done);
               if (alive.expired())
                 return done(cdp::session_detached("page was closed", options.op));
               if (options.wait == WaitUntil::none) return done(json::object());
               start_wait("", options, done, json::object());
               waits_.back()->not_loader_id = current;
               // The new document's events may have come before this reply.
               const std::deque<LifecycleMark> marks = recent_lifecycle_;
               for (const auto& mark : marks) {
                 if (mark.seq < since) continue;
                 on_lifecycle({{"frameId", target_id_},
                               {"loaderId", mark.loader_id},
                               {"name", mark.name},
                               {"replay", true}});
                 if (alive.expired()) return;
               }
             });
      },
      done);
}

void Page::go_history(int delta, NavigateOptions options, Done done) {
  if (options.op.empty()) options.op = "Page.navigateToHistoryEntry";
  std::weak_ptr<bool> alive = alive_;
  when_counting_requests(
      options,
      [this, alive, delta, options, done] {
        send(cdp::Command{"Page.getNavigationHistory", json::object(), "", options.timeout_ms,
                          options.op},
             [this, alive, delta, options, done](Result<json> reply) {
               if (!reply) return done(std::move(reply));
               if (alive.expired())
                 return done(cdp::session_detached("page was closed", options.op));
               const json& entries = cdp::array_field(reply.value(), "entries");
               const int64_t current_index = cdp::integer_field(reply.value(), "currentIndex", -1);
               // Like Puppeteer's goBack: nowhere to go is not an error.
               if (current_index < 0 || current_index >= static_cast<int64_t>(entries.size())) {
                 return done(json(nullptr));
               }
               const int64_t index = current_index + delta;
               if (index < 0 || index >= static_cast<int64_t>(entries.size()))
                 return done(json(nullptr));
               std::string current;
               for (auto it = recent_lifecycle_.rbegin(); it != recent_lifecycle_.rend(); ++it) {
                 if (it->name == "init") {
                   current = it->loader_id;
                   break;
                 }
               }
               const json entry = entries[static_cast<size_t>(index)];
               const int64_t entry_id = cdp::integer_field(entry, "id", -1);
               if (entry_id < 0) {
                 return done(
                     Error{Kind::protocol,
                           "CDP reply to Page.getNavigationHistory has an entry without an id",
                           options.op,
                           {}});
               }
               send(cdp::Command{"Page.navigateToHistoryEntry",
                                 {{"entryId", entry_id}},
                                 "",
                                 options.timeout_ms,
                                 options.op},
                    [this, alive, current, options, entry, done](Result<json> r) {
                      if (!r)
                        return alive.expired() ? done(std::move(r))
                                               : stop_if_deadline(std::move(r), done);
                      if (alive.expired())
                        return done(cdp::session_detached("page was closed", options.op));
                      json result = {{"url", cdp::string_field(entry, "url")}};
                      if (options.wait == WaitUntil::none) return done(std::move(result));
                      start_wait("", options, done, std::move(result));
                      waits_.back()->not_loader_id = current.empty() ? "-" : current;
                    });
             });
      },
      done);
}

void Page::start_wait(const std::string& loader_id, NavigateOptions options, Done done,
                      json result) {
  auto wait = std::make_unique<NavigationWait>();
  wait->done = std::move(done);
  wait->loader_id = loader_id;
  wait->event_name = lifecycle_name(options.wait);
  wait->needs_quiet = options.wait == WaitUntil::networkidle;
  wait->op = options.op;
  wait->timeout_ms = options.timeout_ms;
  wait->result = std::move(result);
  uv_timer_init(loop_, wait->timer.get());
  NavigationWait* raw = wait.get();
  waits_.push_back(std::move(wait));
  // The timer finds its wait through the page's list, so a wait finished
  // by an event leaves no dangling pointer behind.
  raw->timer->data = this;
  uv_timer_start(
      raw->timer.get(),
      [](uv_timer_t* t) {
        auto* self = static_cast<Page*>(t->data);
        if (self == nullptr) return;
        for (auto it = self->waits_.begin(); it != self->waits_.end(); ++it) {
          if ((*it)->timer.get() != t) continue;
          std::unique_ptr<NavigationWait> owned = std::move(*it);
          self->waits_.erase(it);
          Error error = deadline_passed("navigation", owned->timeout_ms, owned->op);
          self->stop_after_deadline(std::move(error), std::move(owned->done));
          return;
        }
      },
      options.timeout_ms, 0);
  if (!loader_id.empty()) {
    for (const auto& mark : recent_lifecycle_) {
      if (mark.loader_id == loader_id && mark.name == raw->event_name) {
        reached(raw);
        return;
      }
    }
  }
}

void Page::on_lifecycle(const json& params) {
  // An event with a field of the wrong type is the peer's fault: dropped,
  // never thrown (json::value would throw).
  for (const char* key : {"frameId", "loaderId", "name"}) {
    auto field = params.find(key);
    if (field != params.end() && !field->is_string()) return;
  }
  const std::string frame = cdp::string_field(params, "frameId");
  if (frame != target_id_) return;  // a child frame
  LifecycleMark mark{cdp::string_field(params, "loaderId"), cdp::string_field(params, "name"), 0};
  if (!params.contains("replay")) {
    mark.seq = next_lifecycle_seq_++;
    recent_lifecycle_.push_back(mark);
    if (recent_lifecycle_.size() > kRecentLifecycleKept) recent_lifecycle_.pop_front();
    if (mark.name == "init" && network_quiet_) network_quiet_->new_document();
  }
  std::weak_ptr<bool> alive = alive_;
  for (auto it = waits_.begin(); it != waits_.end();) {
    NavigationWait* wait = it->get();
    ++it;  // finish_wait erases the current element
    // A document committed after the navigation began that is not its own
    // replaced it (a script's redirect or reload while it loaded): its
    // loader never finishes, so the wait follows the page's new document,
    // as a person watching the tab would.
    if (!wait->loader_id.empty() && !params.contains("replay") && mark.name == "init" &&
        mark.loader_id != wait->loader_id) {
      wait->loader_id = mark.loader_id;
      wait->reached = false;
    }
    const bool loader_matches = wait->loader_id.empty() ? (mark.loader_id != wait->not_loader_id)
                                                        : (mark.loader_id == wait->loader_id);
    if (loader_matches && mark.name == wait->event_name && !wait->reached) {
      reached(wait);
      if (alive.expired()) return;
    }
  }
}

void Page::finish_wait(NavigationWait* wait, Result<json> result) {
  for (auto it = waits_.begin(); it != waits_.end(); ++it) {
    if (it->get() != wait) continue;
    std::unique_ptr<NavigationWait> owned = std::move(*it);
    waits_.erase(it);
    owned->done(std::move(result));
    return;
  }
}

void Page::reached(NavigationWait* wait) {
  if (!wait->needs_quiet) return finish_wait(wait, wait->result);
  // The quiet is counted from the load event on, so a request the load
  // handler sends is seen before the network can count as quiet.
  wait->reached = true;
  network_quiet().open_window();
}

void Page::on_network_quiet() {
  std::weak_ptr<bool> alive = alive_;
  for (auto it = waits_.begin(); it != waits_.end();) {
    NavigationWait* wait = it->get();
    ++it;  // finish_wait erases the current element
    if (!wait->reached) continue;
    finish_wait(wait, wait->result);
    if (alive.expired()) return;
  }
}

void Page::when_counting_requests(const NavigateOptions& options, std::function<void()> go,
                                  const Done& done) {
  if (options.wait != WaitUntil::networkidle) return go();
  std::weak_ptr<bool> alive = alive_;
  network_quiet().enable(options.timeout_ms, [alive, go = std::move(go), done,
                                              op = options.op](std::optional<Error> failed) {
    if (alive.expired()) return done(cdp::session_detached("page was closed", op));
    if (failed) {
      failed->op = op;
      return done(*failed);
    }
    go();
  });
}

NetworkQuiet& Page::network_quiet() {
  if (!network_quiet_) {
    network_quiet_ =
        std::make_unique<NetworkQuiet>(*this, connection_, [this] { on_network_quiet(); });
  }
  return *network_quiet_;
}

// Chromium holds a tab's session while a navigation waits for a server that
// does not answer: without a stop, the page's next call (an evaluate, the
// heartbeat's probe) waited out its own deadline. So a navigation past its
// deadline is stopped at once, and the error says so. A page that does not
// answer the stop either is reported gone (kind timeout), as a heartbeat
// would find it, only sooner: a run replaces it (ProfileWorker), so the
// item's next try has a working tab.
void Page::stop_after_deadline(Error error, Done done) {
  std::weak_ptr<bool> alive = alive_;
  send(cdp::Command{"Page.stopLoading", json::object(), "", kStopTimeoutMs, error.op},
       [this, alive, error, done](Result<json> stopped) mutable {
         if (stopped) {
           error.message += "; belay stopped the pending navigation (the page is usable)";
         } else if (stopped.error().kind == Kind::timeout && !alive.expired()) {
           error.message += "; the page did not answer Page.stopLoading within " +
                            std::to_string(kStopTimeoutMs) +
                            " ms either, so it is reported gone (a run replaces the tab)";
           on_session_end(Error{
               Kind::timeout, "the page stopped answering after a navigation deadline", "", {}});
         } else {
           error.message += "; stopping the navigation failed: " + stopped.error().message;
         }
         done(std::move(error));
       });
}

void Page::stop_if_deadline(Result<json> failed, const Done& done) {
  if (failed.error().kind != Kind::timeout) return done(std::move(failed));
  stop_after_deadline(failed.error(), done);
}

}  // namespace belay::browser
