-- wrk script: POST /api/v1/credentials/token with an admin key, for the end user the seeded credential belongs to.
--   wrk ... -s token.lua http://127.0.0.1:PORT -- ADMIN_KEY INTEGRATION EXTERNAL_USER_ID
function init(args)
  if #args < 3 then
    error("usage: wrk ... -s token.lua URL -- ADMIN_KEY INTEGRATION EXTERNAL_USER_ID")
  end
  wrk.method = "POST"
  wrk.path = "/api/v1/credentials/token"
  wrk.headers["Authorization"] = "Bearer " .. args[1]
  wrk.headers["Content-Type"] = "application/json"
  wrk.body = '{"integration":"' .. args[2] .. '","externalUserId":"' .. args[3] .. '"}'
end
