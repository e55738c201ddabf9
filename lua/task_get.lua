-- Read one task as wire JSON. KEYS: 1..8 task layout. ARGV: 1 id.
local lost = tr_guard()
if lost then return lost end
local t = tr_get(ARGV[1])
if not t then return { 'err', 'not_found', 'task ' .. ARGV[1] .. ' not found' } end
return { 'ok', tr_json(t) }
