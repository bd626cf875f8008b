return {
  name = "greet",
  items = { { id = "a" }, { id = "b" } },
  profiles = { "p1", { name = "p2", connect = "ws://127.0.0.1:9222/devtools/browser/x", flags = { "--mute-audio" } } },
  home = "https://example.test/",
  ladder = "standard",
  retry = { attempts = 3, base_ms = 1000, factor = 2, max_ms = 30000, jitter = 0.5,
            kinds = { "context_destroyed", "target_closed", "timeout" } },
  supervisor = { max_restarts = 10, period_ms = 600000, delay_ms = 3000 },
  soft_restart = { items = 500, ms = 2 * 3600 * 1000, memory_mb = 1024 },
  health = { interval_ms = 30000, timeout_ms = 5000 },
  pause = { max_error_streak = 3, ms = 24 * 3600 * 1000 },
  run = function(page, item, ctx)
    page:navigate(ctx.campaign.home)
    return { ok = true }
  end,
}
