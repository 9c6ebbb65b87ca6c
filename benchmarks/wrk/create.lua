-- CreateRootVolumeTemplateFromVolumeBackup against the default fixtures.
-- usage: wrk -t2 -c32 -d10s -s create.lua \
--          http://127.0.0.1:PORT/zstack/v1/images/root-volume-templates/from/volume-template/b67eee0a52b04816906cdf207adb00c0 \
--          -- <session uuid> [<backup storage uuid>]

local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
package.path = dir .. "?.lua;" .. package.path
local report = require("report")

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

function init(args)
   -- called in every thread before the request is built
   local session = args[1] or error("usage: wrk ... -s create.lua URL -- <session uuid> [<backup storage uuid>]")
   -- default: backup b67eee0a... of the default fixtures lives on the ready storage 4ed18086...
   local storage = args[2] or "4ed18086e5593b86932436d02f575213"
   wrk.headers["Authorization"] = "OAuth " .. session
   wrk.body = '{"params":{"backupStorageUuid":"' .. storage .. '","name":"bench"}}'
end

done = report.done
