-- Scenario "reserve": every request places a hold on a random ticket.
package.path = "scripts/bench/?.lua;" .. package.path
local bench = require("common")

local first, last

function init(args)
    first, last = bench.ids(args)
end

function request()
    return wrk.format("POST", "/api/tickets/" .. math.random(first, last) .. "/reservation")
end

function response(status, headers, body)
    bench.count(status, body, true)
end
