#include "browser/frame_tracker.hpp"

#include "cdp/classify.hpp"
#include "cdp/reply_fields.hpp"

namespace belay::browser {

FrameTracker::FrameTracker(cdp::Connection& connection, std::string page_session)
    : connection_(connection),
      connection_alive_(connection.alive_token()),
      page_session_(std::move(page_session)) {}

FrameTracker::~FrameTracker() {
  alive_.reset();
  if (connection_alive_.expired()) return;
  for (auto& [session, ids] : subscriptions_) {
    for (uint64_t id : ids) connection_.unsubscribe(id);
  }
}

void FrameTracker::start(uint64_t timeout_ms, std::function<void(std::optional<Error>)> done) {
  if (started_) return done(std::nullopt);
  if (connection_alive_.expired()) {
    return done(cdp::transport_closed("the page's browser is gone", "Runtime.enable"));
  }
  started_ = true;
  watch_session(page_session_);
  std::weak_ptr<bool> alive = alive_;
  connection_.send(cdp::Command{"Runtime.enable", json::object(), page_session_, timeout_ms, ""},
                   [this, alive, timeout_ms, done](Result<json> r) {
                     if (!r) return done(r.error());
                     if (alive.expired()) return done(cdp::session_detached("the page was closed"));
                     connection_.send(cdp::Command{"Target.setAutoAttach",
                                                   {{"autoAttach", true},
                                                    {"waitForDebuggerOnStart", false},
                                                    {"flatten", true}},
                                                   page_session_,
                                                   timeout_ms,
                                                   ""},
                                      [done](Result<json> attached) {
                                        if (!attached) return done(attached.error());
                                        done(std::nullopt);
                                      });
                   });
}

void FrameTracker::watch_session(const std::string& session_id) {
  auto& ids = subscriptions_[session_id];
  ids.push_back(connection_.subscribe(session_id, "Runtime.executionContextCreated",
                                      [this, session_id](const std::string&, const json& p) {
                                        on_context_created(session_id, p);
                                      }));
  ids.push_back(connection_.subscribe(session_id, "Runtime.executionContextDestroyed",
                                      [this, session_id](const std::string&, const json& p) {
                                        on_context_destroyed(session_id, p);
                                      }));
  ids.push_back(connection_.subscribe(
      session_id, "Runtime.executionContextsCleared",
      [this, session_id](const std::string&, const json&) { on_contexts_cleared(session_id); }));
  ids.push_back(connection_.subscribe(
      session_id, "Target.attachedToTarget",
      [this, session_id](const std::string&, const json& p) { on_attached(session_id, p); }));
  ids.push_back(
      connection_.subscribe(session_id, "Target.detachedFromTarget",
                            [this](const std::string&, const json& p) { on_detached(p); }));
  ids.push_back(connection_.subscribe(session_id, "Page.frameDetached",
                                      [this](const std::string&, const json& p) {
                                        // "swap": the frame moved to another process, where it goes
                                        // on.
                                        if (cdp::string_field(p, "reason", "remove") != "swap") {
                                          detached_.insert(cdp::string_field(p, "frameId"));
                                        }
                                      }));
}

void FrameTracker::on_context_created(const std::string& session_id, const json& params) {
  auto context = params.find("context");
  if (context == params.end() || !context->is_object()) return;
  auto aux = context->find("auxData");
  if (aux == context->end() || !aux->is_object()) return;
  auto is_default = aux->find("isDefault");
  if (is_default == aux->end() || !is_default->is_boolean() || !is_default->get<bool>()) return;
  const std::string frame = cdp::string_field(*aux, "frameId");
  const int64_t id = cdp::integer_field(*context, "id", 0);
  if (frame.empty() || id == 0) return;
  contexts_[frame] = FrameContext{session_id, id};
  detached_.erase(frame);
}

void FrameTracker::on_context_destroyed(const std::string& session_id, const json& params) {
  const int64_t id = cdp::integer_field(params, "executionContextId", 0);
  for (auto it = contexts_.begin(); it != contexts_.end();) {
    if (it->second.session_id == session_id && it->second.context_id == id) {
      it = contexts_.erase(it);
    } else {
      ++it;
    }
  }
}

void FrameTracker::on_contexts_cleared(const std::string& session_id) {
  for (auto it = contexts_.begin(); it != contexts_.end();) {
    it = it->second.session_id == session_id ? contexts_.erase(it) : std::next(it);
  }
}

void FrameTracker::on_attached(const std::string& parent_session, const json& params) {
  auto info = params.find("targetInfo");
  if (info == params.end() || !info->is_object()) return;
  if (cdp::string_field(*info, "type") != "iframe") return;  // workers are not frames
  const std::string session = cdp::string_field(params, "sessionId");
  const std::string frame = cdp::string_field(*info, "targetId");
  if (session.empty() || frame.empty() || children_.count(session) != 0) return;
  children_[session] = OutOfProcess{session, parent_session, frame};
  watch_session(session);
  // Its contexts, and iframes of its own; nothing to wait for.
  connection_.send(cdp::Command{"Runtime.enable", json::object(), session, 10000, ""},
                   [](Result<json>) {});
  connection_.send(
      cdp::Command{"Target.setAutoAttach",
                   {{"autoAttach", true}, {"waitForDebuggerOnStart", false}, {"flatten", true}},
                   session,
                   10000,
                   ""},
      [](Result<json>) {});
}

void FrameTracker::on_detached(const json& params) {
  const std::string session = cdp::string_field(params, "sessionId");
  if (children_.erase(session) == 0) return;
  on_contexts_cleared(session);
  auto subs = subscriptions_.find(session);
  if (subs != subscriptions_.end()) {
    for (uint64_t id : subs->second) connection_.unsubscribe(id);
    subscriptions_.erase(subs);
  }
}

std::optional<FrameContext> FrameTracker::context_of(const std::string& frame_id) const {
  auto it = contexts_.find(frame_id);
  if (it == contexts_.end()) return std::nullopt;
  return it->second;
}

std::optional<FrameTracker::OutOfProcess> FrameTracker::out_of_process(
    const std::string& session_id) const {
  auto it = children_.find(session_id);
  if (it == children_.end()) return std::nullopt;
  return it->second;
}

namespace {

void flatten_tree(const json& node, const std::string& session, json& out) {
  if (!node.is_object()) return;
  auto frame = node.find("frame");
  if (frame != node.end() && frame->is_object()) {
    const std::string id = cdp::string_field(*frame, "id");
    json entry = {
        {"id", id},
        {"name", cdp::string_field(*frame, "name")},
        {"url", cdp::string_field(*frame, "url") + cdp::string_field(*frame, "urlFragment")},
        {"parent", cdp::string_field(*frame, "parentId")},
        {"session", session}};
    bool replaced = false;
    for (auto& seen : out) {
      if (seen["id"] != id) continue;
      // An out-of-process frame may show in its parent's tree too, as the
      // root of its own: its own session knows its document; the parent's
      // tree knows its parent.
      if (entry["parent"].get<std::string>().empty()) entry["parent"] = seen["parent"];
      seen = entry;
      replaced = true;
    }
    if (!replaced) out.push_back(entry);
  }
  auto children = node.find("childFrames");
  if (children == node.end() || !children->is_array()) return;
  for (const auto& child : *children) flatten_tree(child, session, out);
}

}  // namespace

void FrameTracker::list(uint64_t timeout_ms, Done done) {
  std::vector<std::string> sessions = {page_session_};
  for (const auto& [session, child] : children_) sessions.push_back(session);
  list_from(std::move(sessions), 0, timeout_ms, std::make_shared<json>(json::array()),
            std::move(done));
}

void FrameTracker::list_from(std::vector<std::string> sessions, size_t index, uint64_t timeout_ms,
                             std::shared_ptr<json> frames, Done done) {
  if (index >= sessions.size()) return done(*frames);
  if (connection_alive_.expired()) {
    return done(cdp::transport_closed("the page's browser is gone", "Page.getFrameTree"));
  }
  const std::string session = sessions[index];
  std::weak_ptr<bool> alive = alive_;
  connection_.send(cdp::Command{"Page.getFrameTree", json::object(), session, timeout_ms, ""},
                   [this, alive, sessions = std::move(sessions), index, timeout_ms, frames,
                    done = std::move(done)](Result<json> r) mutable {
                     // The page's own tree must come; an iframe's session may have gone.
                     if (!r && index == 0) return done(std::move(r));
                     if (r && r.value().is_object()) {
                       auto tree = r.value().find("frameTree");
                       if (tree != r.value().end()) flatten_tree(*tree, sessions[index], *frames);
                     }
                     if (alive.expired()) return done(cdp::session_detached("the page was closed"));
                     list_from(std::move(sessions), index + 1, timeout_ms, frames, std::move(done));
                   });
}

}  // namespace belay::browser
