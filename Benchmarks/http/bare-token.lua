-- wrk script: POST /token of BareToken, the token route's ceiling on the stack.
--   wrk ... -s bare-token.lua http://127.0.0.1:PORT -- KEY
function init(args)
  if #args < 1 then
    error("usage: wrk ... -s bare-token.lua URL -- KEY")
  end
  wrk.method = "POST"
  wrk.path = "/token"
  wrk.headers["Authorization"] = "Bearer " .. args[1]
  wrk.headers["Content-Type"] = "application/json"
  wrk.body = '{"integration":"github","externalUserId":"benchmark-user"}'
end
