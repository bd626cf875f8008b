return { helper = function() end }
