-- Scenario "reserve+confirm": each connection reserves a random ticket, then confirms
-- that hold. Run with one connection per wrk thread (-t = -c), so that a thread's
-- responses come back in the order of its requests.
package.path = "scripts/bench/?.lua;" .. package.path
local bench = require("common")

local first, last
local ticket
local confirming = false

function init(args)
    first, last = bench.ids(args)
end

function request()
    if confirming then
        return wrk.format("POST", "/api/tickets/" .. ticket .. "/confirm")
    end
    ticket = math.random(first, last)
    return wrk.format("POST", "/api/tickets/" .. ticket .. "/reservation")
end

function response(status, headers, body)
    bench.count(status, body, not confirming)
    -- Confirm only a hold this connection got; a refused reserve draws another ticket.
    confirming = (not confirming) and status == 201
end
