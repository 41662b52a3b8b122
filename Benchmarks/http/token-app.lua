-- wrk script: POST /api/v1/credentials/token with an app key, for a random one of the app's seeded end users
-- (user-0 … user-(COUNT-1), LatchkeyBenchServer --seed --app-users COUNT): every request resolves app → Connection →
-- end user → default credential.
--   wrk ... -s token-app.lua http://127.0.0.1:PORT -- APP_KEY INTEGRATION COUNT
local key, integration, count

function init(args)
  if #args < 3 then
    error("usage: wrk ... -s token-app.lua URL -- APP_KEY INTEGRATION COUNT")
  end
  key, integration, count = args[1], args[2], tonumber(args[3])
  math.randomseed(os.time() + math.floor(os.clock() * 1000000))
end

function request()
  local body = '{"integration":"' .. integration .. '","externalUserId":"user-' .. math.random(0, count - 1) .. '"}'
  return wrk.format("POST", "/api/v1/credentials/token",
    { ["Authorization"] = "Bearer " .. key, ["Content-Type"] = "application/json" }, body)
end
