#pragma once
// One frame of a page as a place element actions run: its scripts go to the
// frame's current main-world context (on an out-of-process iframe's own
// session), its input to the page, moved by where the frame sits in it.
// A frame that is loading has no context for a moment: calls then fail
// context_destroyed, which the element actions' polls look past; a frame
// removed from its page fails target_closed.

#include "browser/frame_tracker.hpp"
#include "browser/page.hpp"

#include <memory>
#include <optional>
#include <string>
#include <utility>

namespace belay::browser {

class Frame final : public ScriptTarget {
 public:
  // `page` must be tracking frames (Page::frames()).
  Frame(Page& page, std::string frame_id);
  ~Frame() override;
  Frame(const Frame&) = delete;
  Frame& operator=(const Frame&) = delete;

  const std::string& frame_id() const { return frame_id_; }

  uv_loop_t* loop() const override { return loop_; }
  std::weak_ptr<bool> lifetime() const override { return alive_; }
  void evaluate(const std::string& expression, uint64_t timeout_ms, std::string op,
                Done done) override;
  void evaluate_handle(const std::string& expression, uint64_t timeout_ms, Done done) override;
  void send_here(cdp::Command command, Done done) override;
  void send_input(cdp::Command command, Done done) override;
  void page_point(const std::string& selector, double x, double y, uint64_t timeout_ms,
                  Done done) override;
  // Its commands go over its page's connection.
  Cancel cancellable(const std::function<void()>& start) override;

 private:
  // The page, if it is still there; else `done` got the error.
  Page* page_or_fail(const std::string& op, const Done& done) const;
  // Where the frame's scripts run now; else `done` got the error.
  std::optional<FrameContext> context_or_fail(const std::string& op, const Done& done) const;
  void point_in_view(double x, double y, uint64_t timeout_ms, int attempt, Done done,
                     std::optional<std::pair<double, double>> last);
  // Adds `frame_id`'s offset in the page to (dx, dy), walking up its parents.
  void offset_of(const std::string& frame_id, const json& frames, uint64_t timeout_ms, double dx,
                 double dy, Done done);

  uv_loop_t* loop_;
  Page* page_;
  std::weak_ptr<bool> page_alive_;
  std::string frame_id_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

// Waits until a frame answers to `query` and has a document: the frame
// named so, else a frame whose URL matches it as a glob (page_waits.hpp),
// else the frame of the <iframe> it selects in the page's main document.
// Result {id, name, url}; not_found when none does in time. Starts the
// page's frame tracking. The returned function stops it.
std::function<void()> find_frame(Page& page, const std::string& query, uint64_t timeout_ms,
                                 ScriptTarget::Done done);

}  // namespace belay::browser
