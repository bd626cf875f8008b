#include "browser/browser_spec.hpp"

#include "chrome/host_marker.hpp"

namespace belay::browser {

BrowserSpec profile_browser_spec(const ProfileBrowser& profile, const BrowserDefaults& defaults) {
  BrowserSpec spec;
  spec.profile = profile.name;
  spec.connect_url = !profile.connect.empty() ? profile.connect : defaults.connect;
  spec.launch.chrome_path = defaults.chrome_path;
  spec.launch.transport = defaults.transport;
  spec.launch.headless = defaults.headless;
  spec.launch.user_data_dir = !profile.user_data_dir.empty()
                                  ? profile.user_data_dir
                                  : defaults.state_dir + "/profiles/" + profile.name;
  spec.launch.extra_flags = profile.flags;
  spec.launch.extra_env = chrome::marker_env(defaults.state_dir, profile.name);
  spec.downloads_dir = defaults.state_dir + "/downloads";
  return spec;
}

}  // namespace belay::browser
