--[[
  first-denied.lua (included by scripts that make several writes): firstDenied(checks) returns the
  first {command, key, ...} of `checks` the calling ACL user may not run, or nil. Redis does not roll
  back a script that fails half-way, so a script checks every write first and changes nothing when
  one would be refused.
]]
local function firstDenied(checks)
  -- Servers without acl_check_cmd (not Redis 7.0+) have no fine-grained ACLs to check against.
  if not redis.acl_check_cmd then return nil end
  for _, check in ipairs(checks) do
    if not redis.acl_check_cmd(unpack(check)) then return check end
  end
  return nil
end
