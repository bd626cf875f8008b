#pragma once
// Downloads of one browser connection (DESIGN.md "Lua API", Events): the
// browser saves each file under ROOT/.incoming by its GUID
// (Browser.setDownloadBehavior "allowAndName"); once complete it is moved
// to ROOT/FOLDER/<suggested name> (" (1)", " (2)", ... before the
// extension when the name is taken) and the page whose frame began it hears
// a `download` event {path, url, suggested_name, bytes}. A download the
// browser cancels is a `download` event with `error` and no path.

#include "cdp/connection.hpp"

#include <functional>
#include <map>
#include <memory>
#include <string>

namespace belay::browser {

class Page;

// A folder name for `text` (an item's key): letters, digits, '.', '-' and
// '_' kept, anything else '_'; never empty, never starting with '.'.
std::string download_folder_name(const std::string& text);

class Downloads {
 public:
  using json = nlohmann::json;
  // The page a frame belongs to, or nullptr.
  using PageOf = std::function<std::shared_ptr<Page>(const std::string& frame_id)>;

  Downloads(cdp::Connection& connection, std::string root, PageOf page_of);
  ~Downloads();
  Downloads(const Downloads&) = delete;
  Downloads& operator=(const Downloads&) = delete;

  // Tells the browser where to save; `done` with its answer (an attached
  // browser may refuse).
  void enable(uint64_t timeout_ms, std::function<void(std::optional<Error>)> done);
  // The sub-folder of ROOT for downloads that begin from now on ("" for
  // ROOT itself).
  void set_folder(std::string folder) { folder_ = std::move(folder); }

 private:
  struct Begun {
    std::string frame_id;
    std::string url;
    std::string suggested_name;
    std::string folder;
  };

  void on_begin(const json& params);
  void on_progress(const json& params);
  void tell(const std::string& frame_id, const json& payload);

  cdp::Connection& connection_;
  std::weak_ptr<bool> connection_alive_;
  std::string root_;
  PageOf page_of_;
  std::string folder_;
  std::map<std::string, Begun> begun_;  // by GUID
  uint64_t begin_subscription_ = 0;
  uint64_t progress_subscription_ = 0;
};

}  // namespace belay::browser
