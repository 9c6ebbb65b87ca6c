-- The create request of create.lua, asked for asynchronously: 202 {location, apiTimeout} and a job.
-- usage: wrk -t2 -c32 -d10s -s create_async.lua \
--          http://127.0.0.1:PORT/zstack/v1/images/root-volume-templates/from/volume-template/b67eee0a52b04816906cdf207adb00c0 \
--          -- <session uuid> [<backup storage uuid>]
-- Only the header differs from create.lua (same method, path, body, session), so the two compare fairly.

local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(dir .. "create.lua")

wrk.headers["Prefer"] = "respond-async"
