#pragma once
// A browser's cookies as scripts see them: CDP's cookie fields with
// snake_case names ({name, value, domain, path, expires, http_only, secure,
// same_site}), read, written and cleared through the Storage domain on the
// browser target, so every page of the profile shares them.

#include "browser/browser.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace belay::browser {

// A CDP Network.Cookie as a script's cookie table. `expires` is seconds
// since the epoch; a session cookie has none.
nlohmann::json cookie_from_cdp(const nlohmann::json& cookie);
// Whether a request to `url` would carry `cookie` (a script's cookie):
// its domain covers the URL's host, its path the URL's path, and a secure
// cookie needs https.
bool cookie_matches_url(const nlohmann::json& cookie, const std::string& url);

// The browser's cookies; with `urls`, only those a request to one of them
// would carry. A JSON array of cookie tables.
void get_cookies(Browser& browser, const std::vector<std::string>& urls, uint64_t timeout_ms,
                 std::string op, cdp::Connection::ReplyCallback done);
// Sets cookies given as CDP CookieParams (Storage.setCookies).
void set_cookies(Browser& browser, nlohmann::json cdp_cookies, uint64_t timeout_ms, std::string op,
                 cdp::Connection::ReplyCallback done);
void clear_cookies(Browser& browser, uint64_t timeout_ms, std::string op,
                   cdp::Connection::ReplyCallback done);

}  // namespace belay::browser
