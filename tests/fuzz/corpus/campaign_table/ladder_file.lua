return {
  name = "mine",
  backoff_ms = 1000,
  steps = {
    { name = "go_home", run = function(page, ctx) ctx:go_home() end },
    { name = "reload", run = function(page, ctx) page:reload() end },
  },
  on_exhausted = function() end,
}
