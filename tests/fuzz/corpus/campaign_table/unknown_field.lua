return { items = {}, run = function() end, colour = "blue" }
