"""The Lua side of the sandbox: run once in each Lua state, before any user code.

It receives the Python functions of the API (each becomes a real Lua C function through
lupa's ``python.as_function``, so ``type(redis.call)`` is ``"function"`` and errors are
raised from a C frame as in Valkey), builds the globals Valkey gives scripts, protects them,
and returns the small set of Lua functions the Python side drives (compile, run, convert the
reply). It is loaded stripped of line information (see :mod:`.bytecode`), and its chunk name
``=[pykey]`` lets the error handler skip its frames.

Read-only tables. Valkey's Lua has a patched VM with read-only tables; plain Lua 5.1 has not.
Here a protected table is an empty *view* whose metatable reads through to the real table
and refuses writes. The builtins that would bypass a metatable (rawset, rawget, next, pairs,
ipairs, unpack, setmetatable, getmetatable, getfenv, setfenv, table.insert/remove/sort/concat)
are wrapped to see through views and refuse to write into them. ``#view`` is 0 (Lua 5.1
ignores ``__len`` on tables), the one visible difference; the tables involved are libraries
and the globals, which nobody measures. ``loadstring``/``load`` refuse binary chunks (as
Valkey's parser does) and give new chunks the protected globals. Nothing from the host (the
``python`` module, ``io``, ``os`` beyond ``os.clock``, ``debug``, ``require``, ``dofile``,
``loadfile``, ``print``) is reachable.

Errors. ``redis.call`` and the libraries raise Python exceptions (LuaRaise); the error
handler turns them into what Valkey's C code would have raised: an error table
``{err=...}``, or a message with the ``source:line:`` of the calling frame (``luaL_error``).
"""
from __future__ import annotations

PRELUDE = r"""
local P, MODE, NULL = ...
local INTERNAL = '=[pykey]'

-- the raw builtins, kept before the sandbox replaces them
local type, error, tostring, select, unpack, next, pcall, xpcall =
      type, error, tostring, select, unpack, next, pcall, xpcall
local rawget, rawset, rawequal, setmetatable, getmetatable = rawget, rawset, rawequal, setmetatable, getmetatable
local loadstring, load, setfenv, getfenv, newproxy = loadstring, load, setfenv, getfenv, newproxy
local getinfo, sethook = debug.getinfo, debug.sethook
local co_create, co_wrap, co_resume, co_status = coroutine.create, coroutine.wrap, coroutine.resume, coroutine.status
local t_insert, t_remove, t_sort, t_concat, t_maxn, t_getn = table.insert, table.remove, table.sort, table.concat, table.maxn, table.getn
local s_byte = string.byte
local asf = python.as_function
local RAWG = getfenv(0)

-- Python functions become Lua C functions; other values are kept
local function cfuncs(t)
  local out = {}
  for k, v in next, t do
    local tv = type(v)
    if tv == 'table' then out[k] = cfuncs(v)
    elseif tv == 'userdata' then out[k] = asf(v)
    else out[k] = v end
  end
  return out
end
local F = cfuncs(P)

-------------------------------------------------------------------- read-only views
local REAL = setmetatable({}, {__mode = 'k'})    -- view -> real table
local SHOWN = setmetatable({}, {__mode = 'k'})   -- view -> what getmetatable(view) returns
local RO_MSG = 'Attempt to modify a readonly table'

local function ro_newindex() error(RO_MSG, 2) end

local function missing(t, k)
  local tk = type(k)
  if tk ~= 'string' and tk ~= 'number' then
    error('Second argument to luaProtectedTableError must be a string or number', 2)
  end
  error("Script attempted to access nonexistent global variable '" .. tostring(k) .. "'", 2)
end

local function view(real, shown)
  local v = setmetatable({}, {__index = real, __newindex = ro_newindex})
  REAL[v] = real
  SHOWN[v] = shown
  return v
end

local function strict(real)   -- reading a missing key is an error, as Valkey's error metatable
  return setmetatable(real, {__index = missing})
end

local function copy(t)
  local c = {}
  for k, v in next, t do c[k] = v end
  return c
end

local function real(t) return REAL[t] or t end

-------------------------------------------------------------------- Python errors
-- "source:line: " of the frame at stack level lvl (relative to the caller of where), as
-- luaL_where prints it; nothing for C frames and our own (stripped) frames
local function where(lvl)
  local i = getinfo(lvl + 1, 'Sl')
  if i and i.currentline > 0 then return i.short_src .. ':' .. i.currentline .. ': ' end
  return ''
end

-- a Python exception (userdata) raised through a C function -> the Lua error Valkey raises;
-- lvl: stack level of that C function relative to the caller of pyerr (nil: unknown, the
-- stack is gone), so its caller, where luaL_error takes the position from, is lvl + 1
local function pyerr(e, lvl)
  local kind, msg, ignore = F.errinfo(e)
  if kind == 1 then
    local t = {err = msg}
    if ignore then t.ignore_error_stats_update = true end
    return t
  elseif kind == 2 then
    if lvl then return where(lvl + 2) .. msg end
    return msg
  elseif kind == 3 then
    return msg
  end
  return e
end

-- Valkey's __redis__err__handler: an error table with the source and line of the failure
local function err_handler(e)
  local lvl = 2
  local i = getinfo(lvl, 'Sl')
  local skipped = false
  while i do
    if i.source == INTERNAL or i.what == 'tail' then   -- our frames (user code has no tail calls)
      skipped = true
    elseif i.what == 'C' then
      local n = getinfo(lvl + 1, 'S')
      if not (n and n.source == INTERNAL) then break end
    else
      break
    end
    lvl = lvl + 1
    i = getinfo(lvl, 'Sl')
  end
  if type(e) == 'userdata' then e = pyerr(e, lvl) end
  if i and not skipped and i.what == 'C' then i = getinfo(lvl + 1, 'Sl') end
  if type(e) ~= 'table' then e = {err = 'ERR ' .. tostring(e)} end
  if i then
    e['source'] = i.source
    e['line'] = i.currentline
  end
  return e
end

-------------------------------------------------------------------- sandboxed builtins
-- argument errors are raised at level 3: the caller of the wrapper, as luaL_argerror does
local function want_table(fname, n, ...)
  local v = ...
  if type(v) ~= 'table' then
    local got = select('#', ...) == 0 and 'no value' or type(v)
    error('bad argument #' .. n .. " to '" .. fname .. "' (table expected, got " .. got .. ')', 3)
  end
  return v
end
local function b_next(...)
  local t, k = want_table('next', 1, ...), select(2, ...)
  return next(real(t), k)
end
local function ro_next(v, k) return next(REAL[v], k) end
local function b_pairs(...)
  local t = want_table('pairs', 1, ...)
  if REAL[t] then return ro_next, t, nil end
  return next, t, nil
end
local function inext(t, i)
  i = i + 1
  local v = rawget(real(t), i)
  if v ~= nil then return i, v end
end
local function b_ipairs(...)
  return inext, want_table('ipairs', 1, ...), 0
end
local function b_rawget(...)
  local t, k = want_table('rawget', 1, ...), select(2, ...)
  return rawget(real(t), k)
end
local function b_rawset(...)
  local t, k, v = want_table('rawset', 1, ...), select(2, ...)
  if REAL[t] then error(RO_MSG, 0) end
  return rawset(t, k, v)
end
local function b_setmetatable(t, mt)
  if type(t) == 'table' and REAL[t] then error(RO_MSG, 0) end
  return setmetatable(t, mt)
end
local STRING_MT
local function b_getmetatable(v)
  if type(v) == 'table' and REAL[v] then return SHOWN[v] end
  if type(v) == 'string' then return STRING_MT end
  return getmetatable(v)
end
local function b_unpack(...)
  local t = real(want_table('unpack', 1, ...))
  if select('#', ...) == 1 then return unpack(t) end   -- as many stack slots as unpack(t) needs
  return unpack(t, select(2, ...))
end

local ENV                                -- the globals scripts see (a read-only view)
local function b_getfenv(f)
  local e
  if f == nil then f = 1 end
  if type(f) == 'number' then
    if f < 0 then error("bad argument #1 to 'getfenv' (level must be non-negative)", 2) end
    if f == 0 then return ENV end
    e = getfenv(f + 1)
  else
    e = getfenv(f)
  end
  if e == RAWG or e == nil or REAL[e] == nil and getmetatable(e) and getmetatable(e).__index == missing then return ENV end
  return e
end
local PROTECTED_FN = setmetatable({}, {__mode = 'k'})
local function b_setfenv(f, t)
  if type(t) ~= 'table' then error("bad argument #2 to 'setfenv' (table expected, got " .. type(t) .. ')', 2) end
  if f == 0 then error(RO_MSG, 0) end
  if type(f) == 'number' then
    local i = getinfo(f + 1, 'Sf')
    if i and (i.source == INTERNAL or PROTECTED_FN[i.func]) then
      error("'setfenv' cannot change environment of given object", 2)
    end
    return setfenv(f + 1, t)
  end
  if type(f) == 'function' then
    local i = getinfo(f, 'S')
    if i.what ~= 'Lua' or i.source == INTERNAL or PROTECTED_FN[f] then
      error("'setfenv' cannot change environment of given object", 2)
    end
  end
  return setfenv(f, t)
end

-- user code: source text only (Valkey's parser takes no bytecode), compiled without tail
-- calls (see bytecode.without_tail_calls), with the protected globals
local s_dump = string.dump
local function compile_text(code, name)
  local f, e = loadstring(code, name)
  if not f then return nil, e end
  f = loadstring(F.notail(s_dump(f)), name)
  setfenv(f, ENV)
  return f
end

local function b_loadstring(s, name)
  if type(s) == 'string' and s_byte(s, 1) == 27 then
    return nil, '[string "' .. (name or '?') .. '"]:1: unexpected symbol near \'<\\27>\''
  end
  if type(s) ~= 'string' then return loadstring(s, name) end
  return compile_text(s, name)
end
local function b_load(reader, name)
  if type(reader) ~= 'function' then return load(reader, name) end
  local parts, n = {}, 0
  while true do
    local piece = reader()
    if piece == nil or piece == '' then break end
    if type(piece) ~= 'string' then return nil, 'reader function must return a string' end
    n = n + 1
    parts[n] = piece
  end
  return b_loadstring(t_concat(parts), name or '=(load)')
end

-- pcall as Valkey's: an error table from the API becomes its message string
local function b_pcall_result(ok, ...)
  if not ok then
    local e = ...
    if type(e) == 'table' and type(rawget(e, 'err')) == 'string' then return false, e.err end
    return false, e
  end
  return true, ...
end
local function b_pcall(f, ...)
  if select('#', f, ...) == 0 then error("bad argument #1 to 'pcall' (value expected)", 2) end
  local n, args = select('#', ...), {...}
  return b_pcall_result(xpcall(function() return f(unpack(args, 1, n)) end,
                             function(e) if type(e) == 'userdata' then return pyerr(e, 2) end return e end))
end
local function b_xpcall(f, h)
  return xpcall(f, function(e)
    if type(e) == 'userdata' then e = pyerr(e, 2) end
    return h(e)
  end)
end

-------------------------------------------------------------------- the time-limit hook
-- Always installed: every HOOK_COUNT instructions it asks Python whether the running script
-- is past busy-reply-threshold (cheap when not); once the script is killed it runs on every
-- line, so pcall cannot swallow the kill, until the script is over.
local HOOK_COUNT = 10000
local hook_killed = false
local function hook()
  if F.interrupt() then
    local i = getinfo(2, 'S')
    if i and i.source == INTERNAL then return end    -- not inside the sandbox's own code
    if not hook_killed then
      hook_killed = true
      sethook(hook, 'l')
    end
    error({err = 'ERR Script killed by user with SCRIPT KILL...'}, 0)
  end
end
local function hook_reset()
  if hook_killed then
    hook_killed = false
    sethook(hook, '', HOOK_COUNT)
  end
end

local function b_co_create(f)
  local co = co_create(f)
  sethook(co, hook, '', HOOK_COUNT)
  return co
end
local function co_result(ok, ...)
  if not ok then
    local e = ...
    if type(e) == 'userdata' then e = pyerr(e, nil) end
    return false, e
  end
  return true, ...
end
local function b_co_resume(co, ...) return co_result(co_resume(co, ...)) end
local function b_co_wrap_error(e)
  if type(e) == 'userdata' then e = pyerr(e, nil) end
  error(e, 0)
end
local function b_co_wrap(f)
  local co = b_co_create(f)
  return function(...)
    local function pass(ok, ...)
      if not ok then b_co_wrap_error((...)) end
      return ...
    end
    return pass(co_resume(co, ...))
  end
end

-------------------------------------------------------------------- libraries
local math_real = copy(math)
math_real.random = F.math.random
math_real.randomseed = F.math.randomseed

local table_real = copy(table)
table_real.insert = function(...)
  local t = want_table('insert', 1, ...)
  if REAL[t] then error(RO_MSG, 0) end
  return t_insert(...)
end
table_real.remove = function(...)
  local t = want_table('remove', 1, ...)
  if REAL[t] then error(RO_MSG, 0) end
  return t_remove(...)
end
table_real.sort = function(...)
  local t = want_table('sort', 1, ...)
  if REAL[t] then error(RO_MSG, 0) end
  return t_sort(...)
end
table_real.concat = function(...)
  local t = want_table('concat', 1, ...)
  return t_concat(real(t), select(2, ...))
end
table_real.maxn = function(...) return t_maxn(real(want_table('maxn', 1, ...))) end
table_real.getn = function(...) return t_getn(real(want_table('getn', 1, ...))) end

local coroutine_real = copy(coroutine)
coroutine_real.create = b_co_create
coroutine_real.resume = b_co_resume
coroutine_real.wrap = b_co_wrap

local function library(funcs, extra)
  local t = copy(funcs)
  if extra then for k, v in next, extra do t[k] = v end end
  return t
end

local string_v = view(string)
STRING_MT = view({__index = string_v})

local libs = {
  string = string_v,
  table = view(table_real),
  math = view(math_real),
  os = view({clock = os.clock}),
  coroutine = view(coroutine_real),
  cjson = view(library(F.cjson, {null = NULL, _NAME = 'cjson', _VERSION = '2.1.0'})),
  cmsgpack = view(library(F.cmsgpack, {_NAME = 'cmsgpack', _VERSION = 'lua-cmsgpack 0.4.0',
    _COPYRIGHT = 'Copyright (C) 2012, Redis Ltd.', _DESCRIPTION = 'MessagePack C implementation for Lua'})),
  bit = view(library(F.bit)),
  struct = view(library(F.struct)),
}

local builtins = {
  xpcall = b_xpcall, tostring = tostring, getfenv = b_getfenv, setmetatable = b_setmetatable,
  next = b_next, assert = assert, tonumber = tonumber, rawequal = rawequal,
  collectgarbage = collectgarbage, getmetatable = b_getmetatable, rawset = b_rawset,
  pcall = b_pcall, type = type, select = select, unpack = b_unpack, gcinfo = gcinfo,
  pairs = b_pairs, rawget = b_rawget, loadstring = b_loadstring, ipairs = b_ipairs,
  _VERSION = _VERSION, setfenv = b_setfenv, load = b_load, error = error, newproxy = newproxy,
}

-------------------------------------------------------------------- the server API
local function api_table(funcs)
  local t = copy(funcs)
  t.LOG_DEBUG, t.LOG_VERBOSE, t.LOG_NOTICE, t.LOG_WARNING = 0, 1, 2, 3
  for k, v in next, F.version do t[k] = v end
  return t
end

local api = api_table(F.api)
-- server.call / server.pcall. Python returns the reply, or (text, kind): 1 a status reply,
-- 2 an error already counted in the stats, 3 another error; call raises errors, pcall
-- returns them. Past what a call into Python can carry on the Lua stack, the arguments go
-- packed in a table.
local py_command, py_command_n = F.command, F.command_packed
local MANY_ARGS = 7000
local function call_result(v, kind)
  if kind == nil then return v end
  if kind == 1 then return {ok = v} end
  local e = {err = v}
  if kind == 2 then e.ignore_error_stats_update = true end
  error(e, 0)
end
local function pcall_result(v, kind)
  if kind == nil then return v end
  if kind == 1 then return {ok = v} end
  local e = {err = v}
  if kind == 2 then e.ignore_error_stats_update = true end
  return e
end
api.call = function(...)
  local n = select('#', ...)
  if n > MANY_ARGS then return (call_result(py_command_n({...}, n))) end
  return (call_result(py_command(...)))
end
api.pcall = function(...)
  local n = select('#', ...)
  if n > MANY_ARGS then return (pcall_result(py_command_n({...}, n))) end
  return (pcall_result(py_command(...)))
end
if MODE == 'eval' then
  for k, v in next, F.eval_api do api[k] = v end
end
api.REPL_NONE, api.REPL_AOF, api.REPL_SLAVE, api.REPL_REPLICA, api.REPL_ALL = 0, 1, 2, 2, 3

local G = {}
for k, v in next, builtins do G[k] = v end
for k, v in next, libs do G[k] = v end
local api_v = view(api)
G.server = api_v
G.redis = api_v

local exports = {}

-- KEYS and ARGV: the arguments after nkeys (a call with many arguments sends tables instead)
local function split_args(nkeys, ...)
  local n = select('#', ...)
  if n == 0 then return {}, {} end
  if nkeys == 0 then return {}, {...} end
  if nkeys == n then return {...}, {} end
  local all = {...}
  return {unpack(all, 1, nkeys)}, {unpack(all, nkeys + 1, n)}
end

if MODE == 'eval' then
  G.__redis__err__handler = err_handler
  strict(G)
  ENV = view(G, view({__index = missing}))
  G._G = ENV


  -- run a compiled script with KEYS and ARGV set
  local function finish(...)
    hook_reset()
    return ...
  end
  local function run_with(fn, keys, argv)
    rawset(G, 'KEYS', keys)
    rawset(G, 'ARGV', argv)
    return finish(xpcall(fn, err_handler))
  end
  exports.run = function(fn, nkeys, ...) return run_with(fn, split_args(nkeys, ...)) end
  exports.run_tables = run_with
else
  -- functions: the globals are an empty read-only table that reads through to G at call
  -- time, and to the library API while FUNCTION LOAD runs the library code
  strict(G)
  local load_api = {register_function = F.register_function, log = F.api.log}
  for k, v in next, F.version do load_api[k] = v end
  load_api.LOG_DEBUG, load_api.LOG_VERBOSE, load_api.LOG_NOTICE, load_api.LOG_WARNING = 0, 1, 2, 3
  strict(load_api)
  local load_api_v = view(load_api)
  local LG = strict({server = load_api_v, redis = load_api_v})
  local G_v = view(G)
  local FG_MT = {__index = G, __newindex = ro_newindex}
  ENV = setmetatable({}, FG_MT)
  REAL[ENV] = {}
  SHOWN[ENV] = view({__index = G_v})
  G._G = ENV


  -- run the library body: register_function is reachable only now
  local function load_done(ok, e)
    FG_MT.__index = G
    sethook(hook, '', HOOK_COUNT)
    if not ok and type(e) == 'userdata' then e = pyerr(e, nil) end
    return ok, e
  end
  local function load_hook()
    if F.load_timeout() then
      local i = getinfo(2, 'S')
      if i and i.source == INTERNAL then return end
      sethook(load_hook, 'l')
      error({err = 'ERR FUNCTION LOAD timeout'}, 0)
    end
  end
  exports.load_library = function(fn, timed)
    FG_MT.__index = LG
    if timed then sethook(load_hook, '', HOOK_COUNT) end
    return load_done(pcall(fn))
  end
  local cur_fn, cur_keys, cur_args
  local function call_current() return cur_fn(cur_keys, cur_args) end
  local function finish(...)
    hook_reset()
    cur_fn, cur_keys, cur_args = nil, nil, nil
    return ...
  end
  local function run_with(fn, keys, argv)
    cur_fn, cur_keys, cur_args = fn, keys, argv
    return finish(xpcall(call_current, err_handler))
  end
  exports.run = function(fn, nkeys, ...) return run_with(fn, split_args(nkeys, ...)) end
  exports.run_tables = run_with
  exports.is_function = function(v) return type(v) == 'function' end
end

exports.compile = function(code, name)
  if s_byte(code, 1) == 27 then
    return nil, name:sub(2) .. ":1: unexpected symbol near '<\\27>'"
  end
  return compile_text(code, name)
end

-------------------------------------------------------------------- Lua value -> RESP
local MAX_DEPTH = 7995        -- where Valkey's lua_checkstack fails (LUAI_MAXCSTACK 8000)
local s_format, s_gsub, s_match, s_sub = string.format, string.gsub, string.match, string.sub

-- an error message as addReplyErrorFormat sends it: up to a NUL, no trailing newlines,
-- other newlines as spaces
local function error_text(msg)
  msg = s_gsub(s_match(msg, '^[^%z]*'), '[\r\n]+$', '')
  return (s_gsub(msg, '[\r\n]', ' '))
end
local function emit(v, out, n, caller3, script3, depth, errs)
  local t = type(v)
  if t == 'string' then
    n = n + 1; out[n] = '$' .. #v .. '\r\n' .. v .. '\r\n'
  elseif t == 'number' then
    n = n + 1; out[n] = ':' .. s_format('%d', v) .. '\r\n'
  elseif t == 'boolean' then
    if not script3 then
      n = n + 1
      if v then out[n] = ':1\r\n' elseif caller3 then out[n] = '_\r\n' else out[n] = '$-1\r\n' end
    elseif caller3 then
      n = n + 1; out[n] = v and '#t\r\n' or '#f\r\n'
    else
      n = n + 1; out[n] = v and ':1\r\n' or ':0\r\n'
    end
  elseif t == 'table' then
    if depth >= MAX_DEPTH then
      n = n + 1; out[n] = '-ERR reached lua stack limit\r\n'
      errs[#errs + 1] = 'ERR'
      return n
    end
    local r = real(v)
    local e = rawget(r, 'err')
    if type(e) == 'string' then
      local msg = error_text(e)
      n = n + 1; out[n] = '-' .. msg .. '\r\n'
      errs[#errs + 1] = msg
      errs[#errs + 1] = rawget(r, 'ignore_error_stats_update') and true or false
      return n
    end
    local ok = rawget(r, 'ok')
    if type(ok) == 'string' then
      ok = s_gsub(s_match(ok, '^[^%z]*'), '[\r\n]', ' ')
      n = n + 1; out[n] = '+' .. ok .. '\r\n'
      return n
    end
    local d = rawget(r, 'double')
    if type(d) == 'number' then
      n = n + 1; out[n] = F.fmt_double(d, caller3)
      return n
    end
    local b = rawget(r, 'big_number')
    if type(b) == 'string' then
      b = s_gsub(b, '[\r\n]', ' ')
      n = n + 1; out[n] = caller3 and ('(' .. b .. '\r\n') or ('$' .. #b .. '\r\n' .. b .. '\r\n')
      return n
    end
    local vs = rawget(r, 'verbatim_string')
    if type(vs) == 'table' then
      local vr = real(vs)
      local fmt, s = rawget(vr, 'format'), rawget(vr, 'string')
      if type(fmt) == 'string' and type(s) == 'string' then
        n = n + 1
        if caller3 then
          fmt = s_sub(s_match(fmt, '^[^%z]*') .. '   ', 1, 3)
          out[n] = '=' .. (#s + 4) .. '\r\n' .. fmt .. ':' .. s .. '\r\n'
        else
          out[n] = '$' .. #s .. '\r\n' .. s .. '\r\n'
        end
        return n
      end
    end
    local m = rawget(r, 'map')
    if type(m) == 'table' then
      local slot = n + 1
      n = slot
      local count = 0
      for k, val in next, real(m) do
        n = emit(k, out, n, caller3, script3, depth + 1, errs)
        n = emit(val, out, n, caller3, script3, depth + 1, errs)
        count = count + 1
      end
      out[slot] = caller3 and ('%' .. count .. '\r\n') or ('*' .. (2 * count) .. '\r\n')
      return n
    end
    local s = rawget(r, 'set')
    if type(s) == 'table' then
      local slot = n + 1
      n = slot
      local count = 0
      for k in next, real(s) do
        n = emit(k, out, n, caller3, script3, depth + 1, errs)
        count = count + 1
      end
      out[slot] = (caller3 and '~' or '*') .. count .. '\r\n'
      return n
    end
    local slot = n + 1
    n = slot
    local j = 1
    while true do
      local item = rawget(r, j)
      if item == nil then break end
      n = emit(item, out, n, caller3, script3, depth + 1, errs)
      j = j + 1
    end
    out[slot] = '*' .. (j - 1) .. '\r\n'
  else
    n = n + 1; out[n] = caller3 and '_\r\n' or '$-1\r\n'
  end
  return n
end

-- a script's return value: true, RESP bytes, {msg1, ignore1, ...} for the errors nested in
-- it; or, for an error reply: false, message, ignore_error_stats_update
exports.to_resp = function(v, caller3, script3)
  if type(v) == 'table' then
    local e = rawget(real(v), 'err')
    if type(e) == 'string' then
      return false, error_text(e), rawget(real(v), 'ignore_error_stats_update') and true or false
    end
  end
  local out, errs = {}, {}
  emit(v, out, 0, caller3, script3, 0, errs)
  return true, t_concat(out), errs
end

-- the fields of a run-time error (non-raw reads, as Valkey's lua_getfield):
-- message, source, line, ignore_error_stats_update
exports.error_fields = function(e)
  if type(e) ~= 'table' then return nil end
  local ok, msg, source, line, ignore = pcall(function()
    return e.err, e.source, e.line, e.ignore_error_stats_update
  end)
  if not ok then return nil end
  if type(msg) == 'string' then msg = error_text(msg) elseif type(msg) == 'number' then msg = tostring(msg) else msg = nil end
  if type(line) == 'number' then line = s_format('%d', line) elseif type(line) ~= 'string' then line = nil end
  if type(source) ~= 'string' and type(source) ~= 'number' then source = nil end
  return msg, source and tostring(source), line, ignore and true or false
end

exports.clear_hook = function() hook_killed = false; sethook(hook, '', HOOK_COUNT) end
exports.memory = function() return collectgarbage('count') end
exports.gc_step = function(n) collectgarbage('step', n) end
exports.rawequal = rawequal
exports.table = function() return {} end
exports.new_cjson = function(funcs)
  return library(cfuncs(funcs), {null = NULL, _NAME = 'cjson', _VERSION = '2.1.0'})
end

sethook(hook, '', HOOK_COUNT)

-- nothing from the host stays reachable
python = nil
return exports
"""
