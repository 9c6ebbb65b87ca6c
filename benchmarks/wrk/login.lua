-- LogInByAccount as admin / password (the password is sent as its SHA-512 hex digest).
-- usage: wrk -t2 -c32 -d10s -s login.lua http://127.0.0.1:PORT/zstack/v1/accounts/login
-- Every request opens a new session: run the server with ZSTACK_MOCK_MAX_SESSIONS_PER_ACCOUNT=0.

local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
package.path = dir .. "?.lua;" .. package.path
local report = require("report")

wrk.method = "PUT"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"logInByAccount":{"accountName":"admin","password":"'
   .. "b109f3bbbc244eb82441917ed06d618b9008dd09b3befd1b5e07394c706a8bb9"
   .. "80b1d7785e5976ec049b46df5f1326af5a2ea6d103fd07c95385ffab0cacbc86"
   .. '"}}'

done = report.done
