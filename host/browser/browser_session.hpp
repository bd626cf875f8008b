#pragma once
// One profile's browser and the pages belay opened in it. Scripts hold weak
// references to both, so a page that closed or a browser that restarted
// answers target_closed instead of touching freed memory.

#include "browser/browser.hpp"
#include "browser/browser_spec.hpp"
#include "browser/downloads.hpp"
#include "browser/page.hpp"
#include "browser/popups.hpp"

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace belay::browser {

// What the owner of a session hears of its browser's life. All optional.
struct SessionHooks {
  // Before restart() closes the browser (a screenshot of the last page, an
  // event); call `proceed` to go on, or `refuse` with why the restart may
  // not happen (the profile restarted too often).
  std::function<void(std::function<void()> proceed, std::function<void(Error)> refuse)>
      before_restart;
  // After each launch (or attach), with its error if it failed.
  std::function<void(pid_t pid, const std::optional<Error>& error, uint64_t dur_ms)> launched;
  // A page's session ended while the browser lives on: its renderer
  // crashed, or the tab was closed. Not called for pages belay closed.
  std::function<void(const std::shared_ptr<Page>& page, const Error& why)> page_gone;
  // A page's dialog was answered: by a script's handler or by the policy.
  std::function<void(const std::shared_ptr<Page>& page, const DialogInfo& dialog, bool accepted,
                     const std::string& by)>
      dialog_answered;
  // The browser sent a message that was dropped as garbage.
  std::function<void(const Error& why)> dropped_message;
};

// How restart() ends the old browser.
enum class RestartMode {
  close,  // Browser.close first, so the profile is saved
  kill,   // signals at once: the browser is hung or dead
};

class BrowserSession {
 public:
  using Ready = std::function<void(std::optional<Error>)>;
  using PageReady = std::function<void(Result<std::shared_ptr<Page>>)>;

  BrowserSession(uv_loop_t* loop, BrowserSpec spec);
  ~BrowserSession();

  const BrowserSpec& spec() const { return spec_; }
  void set_hooks(SessionHooks hooks) { hooks_ = std::move(hooks); }
  // Launches (or attaches) and opens the first page.
  void start(Ready ready);
  // Closes the browser (the process group, when belay launched it) and starts
  // it again with the same profile; every old page is gone. A restart asked
  // for while one is under way joins it.
  void restart(Ready ready, RestartMode mode = RestartMode::close);
  bool restarting() const { return restarting_; }
  // Closes the browser for good: a restart under way does not launch again.
  void close(std::function<void()> done);

  bool connected() const { return browser_ && browser_->connected(); }
  Browser* browser() { return browser_.get(); }
  pid_t pid() const { return browser_ ? browser_->pid() : 0; }
  // Bumped by every (re)start: a script's reference from an older
  // generation is stale.
  uint64_t generation() const { return generation_; }

  void new_page(PageReady done);
  // The page items run on: the first page, replaced by reopen_page().
  std::shared_ptr<Page> current_page() const { return current_; }
  void reopen_page(PageReady done);
  // Replaces `page` with a new tab if it is still the current one (a hung
  // or crashed tab) in a live browser; `done` with the new page, or with
  // nullptr when there was nothing to replace.
  void replace_page(const std::shared_ptr<Page>& page, PageReady done);
  const std::vector<std::shared_ptr<Page>>& pages() const { return pages_; }
  void forget_page(const Page* page);
  // The page with this target id, or nullptr.
  std::shared_ptr<Page> page_by_target(const std::string& target_id) const;
  // Popups (pages a page of ours opened) are attached as pages of their
  // own, and their opener's `popup` listeners hear of them; this closes
  // those the script did not keep (Page::keep): an item's end.
  void close_popups();
  // The sub-folder of the downloads folder for downloads that begin from
  // now on: the item's (download_folder_name of its key); "" for the
  // folder itself. Kept across restarts.
  void set_download_folder(std::string folder);
  // Called when the browser disconnects or its process exits.
  void on_disconnect(std::function<void(const Error&)> handler) {
    disconnect_handler_ = std::move(handler);
  }

 private:
  void open_first_page(Ready ready);
  void finish_restart(std::optional<Error> error);
  void close_browser(std::function<void()> done);
  void watch_page(const std::shared_ptr<Page>& page);
  // A page of this session from now on: dialog policy, gone watch.
  std::shared_ptr<Page> adopt(std::unique_ptr<Page> page);
  void watch_popups();
  std::shared_ptr<Page> page_of_frame(const std::string& frame_id) const;

  uv_loop_t* loop_;
  BrowserSpec spec_;
  std::unique_ptr<Browser> browser_;
  std::unique_ptr<Downloads> downloads_;  // before browser_ goes: it listens on its connection
  std::unique_ptr<PopupWatch> popups_;    // the same
  std::string download_folder_;
  std::vector<std::shared_ptr<Page>> pages_;
  std::shared_ptr<Page> current_;
  uint64_t generation_ = 0;
  std::function<void(const Error&)> disconnect_handler_;
  SessionHooks hooks_;
  bool closing_ = false;
  bool restarting_ = false;
  bool closed_ = false;  // close() was called and no start() since
  std::vector<Ready> restart_waiters_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace belay::browser
