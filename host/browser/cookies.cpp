#include "browser/cookies.hpp"

#include "cdp/reply_fields.hpp"

namespace belay::browser {
namespace {

using json = nlohmann::json;

struct UrlParts {
  std::string scheme;
  std::string host;
  std::string path = "/";
};

// scheme://[user@]host[:port][/path][?query][#fragment]; enough to match
// cookies (IPv6 brackets kept as the host).
UrlParts split_url(const std::string& url) {
  UrlParts parts;
  const size_t colon = url.find("://");
  if (colon == std::string::npos) return parts;
  parts.scheme = url.substr(0, colon);
  const size_t start = colon + 3;
  size_t end = url.find_first_of("/?#", start);
  std::string authority =
      url.substr(start, end == std::string::npos ? std::string::npos : end - start);
  if (const size_t at = authority.rfind('@'); at != std::string::npos) authority.erase(0, at + 1);
  if (!authority.empty() && authority[0] == '[') {
    parts.host = authority.substr(0, authority.find(']') + 1);
  } else {
    parts.host = authority.substr(0, authority.find(':'));
  }
  if (end != std::string::npos && url[end] == '/') {
    const size_t path_end = url.find_first_of("?#", end);
    parts.path =
        url.substr(end, path_end == std::string::npos ? std::string::npos : path_end - end);
  }
  for (char& c : parts.host) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return parts;
}

}  // namespace

json cookie_from_cdp(const json& cookie) {
  json out = {{"name", cdp::string_field(cookie, "name", "")},
              {"value", cdp::string_field(cookie, "value", "")},
              {"domain", cdp::string_field(cookie, "domain", "")},
              {"path", cdp::string_field(cookie, "path", "/")},
              {"http_only", cookie.value("httpOnly", false)},
              {"secure", cookie.value("secure", false)}};
  const bool session = cookie.value("session", false);
  if (auto expires = cookie.find("expires");
      !session && expires != cookie.end() && expires->is_number() && expires->get<double>() > 0) {
    out["expires"] = expires->get<double>();
  }
  if (auto same_site = cdp::string_field(cookie, "sameSite", ""); !same_site.empty()) {
    out["same_site"] = same_site;
  }
  return out;
}

bool cookie_matches_url(const json& cookie, const std::string& url) {
  const UrlParts parts = split_url(url);
  if (parts.host.empty()) return false;
  if (cookie.value("secure", false) && parts.scheme != "https") return false;
  std::string domain = cdp::string_field(cookie, "domain", "");
  for (char& c : domain) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (!domain.empty() && domain[0] == '.') {
    const std::string bare = domain.substr(1);
    const bool suffix =
        parts.host.size() > domain.size() &&
        parts.host.compare(parts.host.size() - domain.size(), domain.size(), domain) == 0;
    if (parts.host != bare && !suffix) return false;
  } else if (parts.host != domain) {
    return false;
  }
  const std::string path = cdp::string_field(cookie, "path", "/");
  if (parts.path.compare(0, path.size(), path) != 0) return false;
  return parts.path.size() == path.size() || path.back() == '/' || parts.path[path.size()] == '/';
}

void get_cookies(Browser& browser, const std::vector<std::string>& urls, uint64_t timeout_ms,
                 std::string op, cdp::Connection::ReplyCallback done) {
  browser.send(cdp::Command{"Storage.getCookies", json::object(), "", timeout_ms, op},
               [urls, done = std::move(done)](Result<json> reply) {
                 if (!reply) return done(std::move(reply));
                 json out = json::array();
                 const json& value = reply.value();
                 auto cookies = value.find("cookies");
                 if (cookies == value.end() || !cookies->is_array()) return done(std::move(out));
                 for (const auto& cdp_cookie : *cookies) {
                   if (!cdp_cookie.is_object()) continue;
                   json cookie = cookie_from_cdp(cdp_cookie);
                   bool wanted = urls.empty();
                   for (const auto& url : urls) wanted = wanted || cookie_matches_url(cookie, url);
                   if (wanted) out.push_back(std::move(cookie));
                 }
                 done(std::move(out));
               });
}

void set_cookies(Browser& browser, json cdp_cookies, uint64_t timeout_ms, std::string op,
                 cdp::Connection::ReplyCallback done) {
  browser.send(cdp::Command{"Storage.setCookies",
                            {{"cookies", std::move(cdp_cookies)}},
                            "",
                            timeout_ms,
                            std::move(op)},
               std::move(done));
}

void clear_cookies(Browser& browser, uint64_t timeout_ms, std::string op,
                   cdp::Connection::ReplyCallback done) {
  browser.send(cdp::Command{"Storage.clearCookies", json::object(), "", timeout_ms, std::move(op)},
               std::move(done));
}

}  // namespace belay::browser
