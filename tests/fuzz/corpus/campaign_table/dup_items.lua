return { items = { { id = 1 }, { id = 1 } }, run = function() end }
