-- A GET query (QueryImage and friends) with a session; the path and query string are in the URL.
-- usage: wrk -t1 -c1 -d10s -s query.lua 'http://127.0.0.1:PORT/zstack/v1/images?q=...' -- <session uuid>

local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
package.path = dir .. "?.lua;" .. package.path
local report = require("report")

wrk.method = "GET"

function init(args)
   local session = args[1] or error("usage: wrk ... -s query.lua URL -- <session uuid>")
   wrk.headers["Authorization"] = "OAuth " .. session
end

done = report.done
