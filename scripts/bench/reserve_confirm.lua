-- Scenario "reserve+confirm": each connection reserves a random ticket, then confirms
-- that hold with the token the reservation's 201 carries (the Hold-Token header). Run with
-- one connection per wrk thread (-t = -c), so that a thread's responses come back in the
-- order of its requests.
package.path = "scripts/bench/?.lua;" .. package.path
local bench = require("common")

local first, last
local ticket, token
local confirming = false

function init(args)
    first, last = bench.ids(args)
end

function request()
    if confirming then
        return wrk.format("POST", "/api/tickets/" .. ticket .. "/confirm", { ["Hold-Token"] = token })
    end
    ticket = math.random(first, last)
    return wrk.format("POST", "/api/tickets/" .. ticket .. "/reservation")
end

function response(status, headers, body)
    bench.count(status, body, not confirming)
    -- Confirm only a hold this connection got; a refused reserve draws another ticket. A
    -- 201 without a token is confirmed without one: its 401 shows in the 4xx count.
    confirming = (not confirming) and status == 201
    if confirming then
        token = body:match('"hold_token":"([^"]+)"') or ""
    end
end
