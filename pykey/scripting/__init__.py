"""Lua scripting (EVAL, SCRIPT) and functions (FUNCTION, FCALL), as Valkey 8 runs them.

Scripts run in Lua 5.1 through lupa, in a sandbox built to behave as Valkey's (prelude.py),
with Valkey's libraries (libs/), its conversions between RESP and Lua (convert.py and the
prelude's ``to_resp``), and every command a script sends going through ``Server.call``,
the path clients' commands take (run.py).

Long scripts and BUSY. Valkey runs a script to its end on its one thread; after
busy-reply-threshold (lua-time-limit) a Lua hook starts serving the other clients from
inside the script: they get ``-BUSY`` except for the few commands flagged allow-busy
(SCRIPT KILL, FUNCTION KILL, FUNCTION STATS, SHUTDOWN NOSAVE, AUTH, HELLO, MULTI...). We
keep that design, because it is the only one that keeps scripts atomic without costing every
script anything:

* The script runs synchronously on the event loop thread, as any command. Before the
  threshold nobody else runs: other clients simply wait, as with Valkey.
* A Lua count hook (every 10,000 instructions, plus a check in ``server.call``) reads a
  monotonic clock. Past the threshold the engine marks the script busy
  (``server.script_busy``; ``Server.execute`` then answers BUSY to everything not
  allow-busy) and calls ``server.events_while_busy``, which the network layer provides
  (net/busy.py): it polls the sockets of the other connections without blocking, feeds
  what they sent through their usual parsers and ``execute``, and writes the replies
  straight to the sockets, since the event loop cannot run while our thread is inside Lua.
  The script's own client is left alone (Valkey "protects" it): its pipelined commands wait.
* SCRIPT KILL / FUNCTION KILL, served that way, set a flag; the hook sees it and raises the
  kill error, then keeps raising on every line so ``pcall`` cannot swallow it.

The alternative, running scripts in a worker thread while the loop answers BUSY, works too
(lupa releases the GIL while Lua runs) but puts two thread switches (about 40 us measured)
on every EVAL, more than a small script costs. The embedded test server runs the same
network code in its own thread and loop, so the same mechanism serves it.
"""
from .state import Scripting, get

__all__ = ["Scripting", "get"]
