return {
  name = "greet",
  items = { { id = 1, phone = "+1 555 0100" }, { id = 2, phone = "+1 555 0101" } },
  run = function(page, item, ctx) return { sent = true } end,
}
