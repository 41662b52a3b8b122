-- wrk script: POST /api/v1/credentials/{id}/reveal with an admin key.
--   wrk ... -s reveal.lua http://127.0.0.1:PORT -- ADMIN_KEY CREDENTIAL_ID
function init(args)
  if #args < 2 then
    error("usage: wrk ... -s reveal.lua URL -- ADMIN_KEY CREDENTIAL_ID")
  end
  wrk.method = "POST"
  wrk.path = "/api/v1/credentials/" .. args[2] .. "/reveal"
  wrk.headers["Authorization"] = "Bearer " .. args[1]
  wrk.body = ""
end
