#include "browser/downloads.hpp"

#include "browser/page.hpp"
#include "browser/page_events.hpp"
#include "cdp/reply_fields.hpp"
#include "core/private_files.hpp"

#include <cctype>
#include <filesystem>
#include <system_error>

namespace belay::browser {
namespace {

namespace fs = std::filesystem;

constexpr const char* kIncoming = ".incoming";

// The browser's suggested name, made a plain file name: it never holds a
// path, but a page chooses it.
std::string plain_file_name(std::string name) {
  for (char& c : name) {
    if (c == '/' || c == '\\' || c == '\0') c = '_';
  }
  while (!name.empty() && name.front() == '.') name.erase(0, 1);
  return name.empty() ? "download" : name;
}

// FOLDER/NAME, or NAME with " (1)", " (2)", ... before its extension when
// that is taken: a second download of report.csv keeps the first.
fs::path free_path(const fs::path& folder, const std::string& name) {
  fs::path candidate = folder / name;
  const fs::path stem = fs::path(name).stem();
  const fs::path extension = fs::path(name).extension();
  for (int n = 1; fs::exists(candidate); ++n) {
    candidate = folder / (stem.string() + " (" + std::to_string(n) + ")" + extension.string());
  }
  return candidate;
}

}  // namespace

std::string download_folder_name(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    const bool keep = std::isalnum(c) != 0 || c == '.' || c == '-' || c == '_';
    out += keep ? static_cast<char>(c) : '_';
  }
  if (out.empty() || out.front() == '.') out.insert(0, "_");
  return out;
}

Downloads::Downloads(cdp::Connection& connection, std::string root, PageOf page_of)
    : connection_(connection),
      connection_alive_(connection.alive_token()),
      root_(std::move(root)),
      page_of_(std::move(page_of)) {
  begin_subscription_ =
      connection_.subscribe("", "Browser.downloadWillBegin",
                            [this](const std::string&, const json& params) { on_begin(params); });
  progress_subscription_ = connection_.subscribe(
      "", "Browser.downloadProgress",
      [this](const std::string&, const json& params) { on_progress(params); });
}

Downloads::~Downloads() {
  if (connection_alive_.expired()) return;
  connection_.unsubscribe(begin_subscription_);
  connection_.unsubscribe(progress_subscription_);
}

void Downloads::enable(uint64_t timeout_ms, std::function<void(std::optional<Error>)> done) {
  // 0700, like the rest of the state dir: a page's files are private.
  if (auto error = make_private_dirs((fs::path(root_) / kIncoming).string())) {
    return done(Error{Kind::script,
                      "cannot create the downloads folder " + root_ + ": " + *error,
                      "Browser.setDownloadBehavior",
                      {}});
  }
  json params = {{"behavior", "allowAndName"},
                 {"downloadPath", (fs::path(root_) / kIncoming).string()},
                 {"eventsEnabled", true}};
  connection_.send(
      cdp::Command{"Browser.setDownloadBehavior", std::move(params), "", timeout_ms, ""},
      [done = std::move(done)](Result<json> r) {
        if (r) return done(std::nullopt);
        done(r.error());
      });
}

void Downloads::on_begin(const json& params) {
  const std::string guid = cdp::string_field(params, "guid");
  if (guid.empty()) return;
  begun_[guid] = Begun{cdp::string_field(params, "frameId"), cdp::string_field(params, "url"),
                       cdp::string_field(params, "suggestedFilename"), folder_};
}

void Downloads::on_progress(const json& params) {
  const std::string guid = cdp::string_field(params, "guid");
  const std::string state = cdp::string_field(params, "state");
  auto it = begun_.find(guid);
  if (it == begun_.end() || (state != "completed" && state != "canceled")) return;
  const Begun begun = std::move(it->second);
  begun_.erase(it);
  const fs::path incoming = fs::path(root_) / kIncoming / guid;
  json payload = {{"url", begun.url}, {"suggested_name", begun.suggested_name}};
  std::error_code ec;
  if (state == "canceled") {
    fs::remove(incoming, ec);
    payload["error"] = "the browser cancelled the download";
    return tell(begun.frame_id, payload);
  }
  const fs::path folder = begun.folder.empty() ? fs::path(root_) : fs::path(root_) / begun.folder;
  const fs::path path = free_path(folder, plain_file_name(begun.suggested_name));
  std::optional<std::string> failed = make_private_dirs(folder.string());
  if (!failed) {
    fs::rename(incoming, path, ec);
    // The browser wrote it by its own umask; screenshots and PDFs are 0600.
    if (!ec) fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write, ec);
    if (ec) failed = ec.message();
  }
  if (failed) {
    payload["error"] = "cannot move the download to " + path.string() + ": " + *failed;
    return tell(begun.frame_id, payload);
  }
  payload["path"] = path.string();
  payload["bytes"] = fs::file_size(path, ec);
  tell(begun.frame_id, payload);
}

void Downloads::tell(const std::string& frame_id, const json& payload) {
  std::shared_ptr<Page> page = page_of_ ? page_of_(frame_id) : nullptr;
  if (page) page->events().emit("download", payload);
}

}  // namespace belay::browser
