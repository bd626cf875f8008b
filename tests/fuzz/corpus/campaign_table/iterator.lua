local i = 0
return { items = function() i = i + 1; if i <= 3 then return { id = i } end end,
         run = function() end }
