#pragma once
// The frames of one page and where their scripts run. Off until a script
// first asks for a frame (it costs Runtime events on every page that has
// it): then it enables Runtime on the page's session, auto-attaches to
// out-of-process iframes (flat sessions) and Runtime on each of them, and
// follows every frame's main-world execution context as documents come
// and go.

#include "cdp/connection.hpp"

#include <uv.h>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace belay::browser {

using json = nlohmann::json;

// Where a frame's main world runs now.
struct FrameContext {
  std::string session_id;
  int64_t context_id = 0;
};

class FrameTracker {
 public:
  using Done = std::function<void(Result<json>)>;

  FrameTracker(cdp::Connection& connection, std::string page_session);
  ~FrameTracker();
  FrameTracker(const FrameTracker&) = delete;
  FrameTracker& operator=(const FrameTracker&) = delete;

  // Turns tracking on; at once when it already is. The contexts of frames
  // that exist come in as events right after.
  void start(uint64_t timeout_ms, std::function<void(std::optional<Error>)> done);
  bool started() const { return started_; }

  // The frame's main-world context, if it has a document now.
  std::optional<FrameContext> context_of(const std::string& frame_id) const;
  // True once the frame was removed from its page.
  bool detached(const std::string& frame_id) const { return detached_.count(frame_id) != 0; }
  // The session an out-of-process iframe's frame belongs to, and the session
  // its owner element lives in; nullopt for a frame of the page's process.
  struct OutOfProcess {
    std::string session_id;
    std::string parent_session_id;
    std::string frame_id;  // the iframe's root frame
  };
  std::optional<OutOfProcess> out_of_process(const std::string& session_id) const;
  const std::string& page_session() const { return page_session_; }

  // Every frame now, the page's main frame first: [{id, name, url, parent}].
  void list(uint64_t timeout_ms, Done done);

 private:
  void watch_session(const std::string& session_id);
  void on_context_created(const std::string& session_id, const json& params);
  void on_context_destroyed(const std::string& session_id, const json& params);
  void on_contexts_cleared(const std::string& session_id);
  void on_attached(const std::string& parent_session, const json& params);
  void on_detached(const json& params);
  void list_from(std::vector<std::string> sessions, size_t index, uint64_t timeout_ms,
                 std::shared_ptr<json> frames, Done done);

  cdp::Connection& connection_;
  std::weak_ptr<bool> connection_alive_;
  std::string page_session_;
  bool started_ = false;
  std::map<std::string, FrameContext> contexts_;  // frame id → its main world
  std::set<std::string> detached_;
  std::map<std::string, OutOfProcess> children_;                // session id → iframe
  std::map<std::string, std::vector<uint64_t>> subscriptions_;  // session id → its watchers
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace belay::browser
