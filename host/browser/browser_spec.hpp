#pragma once
// What a browser is before it exists: launched with these options, or
// attached to at a URL. A run builds one per profile, the console one of its
// own; neither needs the other's notions to do it.

#include "browser/browser.hpp"
#include "browser/dialog.hpp"
#include "chrome/chrome_process.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace belay::browser {

struct BrowserSpec {
  std::string profile;           // the profile's name
  std::string connect_url;       // non-empty: attach, do not launch
  chrome::LaunchOptions launch;  // for launched browsers
  TransportOptions transport;    // for launched browsers
  uint64_t connect_timeout_ms = 30000;
  // How its pages answer a dialog no script handler answers.
  DialogPolicy dialogs = DialogPolicy::dismiss;
  // Where its pages' downloads are saved (see downloads.hpp); empty: the
  // browser's own behaviour, and no `download` events.
  std::string downloads_dir;
};

// How a command starts its browsers (the command line's choices).
struct BrowserDefaults {
  std::string state_dir = ".belay";
  chrome::TransportKind transport = chrome::TransportKind::pipe;
  std::string chrome_path = "/usr/bin/chromium";
  bool headless = true;
  std::string connect;  // --connect: attach instead of launching
};

// What one profile may say of its own browser; empty fields take the
// defaults (the user-data-dir is STATE/profiles/NAME).
struct ProfileBrowser {
  std::string name;
  std::string connect;
  std::string user_data_dir;
  std::vector<std::string> flags;
};

// The spec of one profile's browser, marked as this host's (see
// chrome/host_marker.hpp) so a later run can tell its orphans.
BrowserSpec profile_browser_spec(const ProfileBrowser& profile, const BrowserDefaults& defaults);

}  // namespace belay::browser
