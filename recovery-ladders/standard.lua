-- standard: the five-step ladder of the Smart Runner recovery policy, from
-- the gentlest move to the heaviest. After each step the item is tried
-- again; the first success ends the ladder. Between steps it waits 30 s,
-- and a profile whose items fail more than 3 times in a row pauses for 24 h.
--
-- It is the ladder of every campaign that names none. To keep the steps
-- with another wait:  ladder = { from = "standard", backoff_ms = 5000 }

-- Errors no step can fix: the address itself is wrong. Going home, back,
-- reloading or restarting would only make the item fail minutes later.
local wrong_address = {
  ["net::ERR_NAME_NOT_RESOLVED"] = "the host name does not resolve",
  ["net::ERR_INVALID_URL"] = "the URL is not valid",
  ["net::ERR_UNKNOWN_URL_SCHEME"] = "the URL's scheme is unknown",
  ["net::ERR_DISALLOWED_URL_SCHEME"] = "the URL's scheme is not allowed",
  ["net::ERR_ADDRESS_INVALID"] = "the address is not valid",
  ["net::ERR_UNSAFE_PORT"] = "the port is one browsers refuse",
}

return {
  name = "standard",
  backoff_ms = 30000,
  steps = {
    -- Needs the campaign's `home`; without one this step is skipped (it
    -- fails as config and the next step goes on).
    { name = "go_home", run = function(page, ctx) ctx:go_home() end },
    { name = "back", run = function(page, ctx) page:back() end },
    { name = "reload", run = function(page, ctx) page:reload() end },
    { name = "reopen_page", run = function(page, ctx) ctx:reopen_page() end },
    -- The profile is kept: the browser comes back on the same user-data-dir.
    -- One that died is back already: the supervisor relaunched it.
    { name = "restart_browser", run = function(page, ctx)
        local died = ctx.error and ctx.error.kind == "browser_disconnected"
        if not died then ctx:restart_browser() end
      end },
  },
  -- Returns why the ladder is skipped for `err`, or nil to run it.
  unfixable = function(err)
    local text = type(err) == "table" and err.kind == "navigation_failed"
      and type(err.cdp) == "table" and err.cdp.errorText
    local why = text and wrong_address[text]
    if why then
      return text .. ": " .. why .. "; no recovery step can fix the address"
    end
  end,
  pause = { max_error_streak = 3, ms = 24 * 3600 * 1000 },
}
