#pragma once
// One page (tab) on a flattened session of the browser's connection. The
// actions users call — navigate, evaluate, … — each end exactly once:
// result, deadline, session end or disconnect.

#include "browser/dialog.hpp"
#include "browser/frame_tracker.hpp"
#include "browser/script_target.hpp"
#include "cdp/connection.hpp"
#include "core/uv_handle.hpp"

#include <deque>
#include <functional>
#include <list>
#include <memory>
#include <optional>
#include <string>

namespace belay::browser {

using json = nlohmann::json;

// What a navigation waits for: the load event, DOMContentLoaded, the load
// event and then 500 ms with no request in flight (networkidle), or only the
// commit (none).
enum class WaitUntil { load, domcontentloaded, networkidle, none };
std::optional<WaitUntil> wait_until_from_name(std::string_view name);

struct NavigateOptions {
  WaitUntil wait = WaitUntil::load;
  uint64_t timeout_ms = 30000;
  std::string op;  // what failed, in errors; empty: "Page.navigate"
};

class NetworkQuiet;
class PageEvents;
class RequestInterception;

class Page final : public ScriptTarget {
 public:
  Page(uv_loop_t* loop, cdp::Connection& connection, std::string target_id, std::string session_id);
  ~Page();
  Page(const Page&) = delete;
  Page& operator=(const Page&) = delete;

  uv_loop_t* loop() const override { return loop_; }
  // Expires when this page is destroyed: for work that outlives one call.
  std::weak_ptr<bool> lifetime() const override { return alive_; }
  const std::string& target_id() const { return target_id_; }
  // A popup's opener (its target id); empty for a page belay opened.
  const std::string& opener_id() const { return opener_id_; }
  void set_opener_id(std::string id) { opener_id_ = std::move(id); }
  // A popup the script keeps outlives its item (BrowserSession::close_popups).
  void keep() { kept_ = true; }
  bool kept() const { return kept_; }
  const std::string& session_id() const { return session_id_; }
  // Set once the session ended (closed, detached) or the renderer crashed.
  const std::optional<Error>& gone() const { return gone_; }
  bool crashed() const { return gone_ && gone_->kind == Kind::target_crashed; }

  // Enables the domains the actions rely on. Called once by Browser.
  void prepare(uint64_t timeout_ms, std::function<void(std::optional<Error>)> done);

  // Raw CDP on this page's session.
  void send(cdp::Command command, Done done);
  // Raw CDP on another session of this page's: an out-of-process iframe's.
  void send_on(const std::string& session_id, cdp::Command command, Done done);
  // The page's frames; tracking starts when a script first asks for them.
  FrameTracker& frames();
  // Navigates and waits for `options.wait` of that navigation; result
  // {url, frameId, loaderId}.
  void navigate(const std::string& url, NavigateOptions options, Done done);
  // Page.reload / history, waiting like navigate.
  void reload(NavigateOptions options, Done done);
  void go_history(int delta, NavigateOptions options, Done done);
  // ScriptTarget: the page's main frame.
  void evaluate(const std::string& expression, uint64_t timeout_ms, std::string op,
                Done done) override;
  void evaluate_handle(const std::string& expression, uint64_t timeout_ms, Done done) override;
  void send_here(cdp::Command command, Done done) override {
    send(std::move(command), std::move(done));
  }
  // Input goes to a tab in front: Chromium holds a mouse event for a tab
  // behind another (a popup, a second page) about 5 s. A tab not in front
  // is brought there first (Page.bringToFront), as Playwright does.
  void send_input(cdp::Command command, Done done) override;
  // Which of its browser's tabs is in front, shared by them all (Browser
  // sets it); none: every input goes as it is.
  void set_front_tab(std::shared_ptr<std::string> front) { front_tab_ = std::move(front); }
  void page_point(const std::string&, double x, double y, uint64_t, Done done) override {
    done(json{{"x", x}, {"y", y}});
  }
  Cancel cancellable(const std::function<void()>& start) override;
  void close(uint64_t timeout_ms, Done done);

  // Dialogs: every one this page opens is answered (see dialog.hpp). The
  // decider (a script's dialog handlers) gets it first and returns whether
  // it will answer; otherwise the policy answers at once. `answered` hears
  // of every answer, for the event log.
  using DialogDecider = std::function<bool(const std::shared_ptr<OpenDialog>&)>;
  using DialogAnswered =
      std::function<void(const DialogInfo& info, bool accepted, const std::string& by)>;
  void set_dialog_policy(DialogPolicy policy) { dialog_policy_ = policy; }
  DialogPolicy dialog_policy() const { return dialog_policy_; }
  void set_dialog_decider(DialogDecider decider) { dialog_decider_ = std::move(decider); }
  void on_dialog_answered(DialogAnswered answered) { dialog_answered_ = std::move(answered); }

  // What scripts may listen to (page:on); made when first asked for.
  PageEvents& events();
  // Requests paused for a script to answer (page:route); made when first
  // asked for.
  RequestInterception& interception();

  // Subscribers to this page's end (crash, detach); returns an id.
  uint64_t on_gone(std::function<void(const Error&)> handler);
  void remove_gone_handler(uint64_t id);

  // A Runtime.evaluate reply as its JSON value, or its exception as a
  // js_exception error.
  static Result<json> unwrap_remote_object(Result<json> reply, const std::string& op);

 private:
  struct NavigationWait;
  struct LifecycleMark {
    std::string loader_id;
    std::string name;
    uint64_t seq = 0;  // order of arrival
  };

  void on_lifecycle(const json& params);
  void start_wait(const std::string& loader_id, NavigateOptions options, Done done, json result);
  void finish_wait(NavigationWait* wait, Result<json> result);
  // A wait's lifecycle event came: it ends, or (networkidle) waits on for
  // the network to go quiet.
  void reached(NavigationWait* wait);
  void on_network_quiet();
  // Runs `go` once requests are being counted, when `options` wait for
  // networkidle; at once otherwise. A failed Network.enable goes to `done`.
  void when_counting_requests(const NavigateOptions& options, std::function<void()> go,
                              const Done& done);
  NetworkQuiet& network_quiet();
  // A navigation past its deadline is stopped (Page.stopLoading); `error`
  // then says what became of the page. See page.cpp.
  void stop_after_deadline(Error error, Done done);
  // For a navigation command's failed reply (the page still alive): a
  // timeout goes through stop_after_deadline, the rest to done.
  void stop_if_deadline(Result<json> failed, const Done& done);
  void on_session_end(const Error& why);
  void on_dialog_opening(const json& params);

  uv_loop_t* loop_;
  cdp::Connection& connection_;
  std::weak_ptr<bool> connection_alive_;  // a page may outlive its browser
  std::string target_id_;
  std::string session_id_;
  std::optional<Error> gone_;
  uint64_t lifecycle_subscription_ = 0;
  uint64_t session_end_subscription_ = 0;
  std::deque<LifecycleMark> recent_lifecycle_;  // events that beat Page.navigate's reply
  uint64_t next_lifecycle_seq_ = 1;
  std::list<std::unique_ptr<NavigationWait>> waits_;
  std::map<uint64_t, std::function<void(const Error&)>> gone_handlers_;
  uint64_t next_gone_handler_ = 1;
  std::unique_ptr<FrameTracker> frames_;
  uint64_t dialog_subscription_ = 0;
  DialogPolicy dialog_policy_ = DialogPolicy::dismiss;
  DialogDecider dialog_decider_;
  DialogAnswered dialog_answered_;
  std::unique_ptr<PageEvents> events_;
  std::unique_ptr<RequestInterception> interception_;
  std::unique_ptr<NetworkQuiet> network_quiet_;
  std::string opener_id_;
  bool kept_ = false;
  std::shared_ptr<std::string> front_tab_;  // the target id in front; empty: unknown
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace belay::browser
