"""Server commands: COMMAND, INFO, CONFIG, TIME, LASTSAVE, SLOWLOG, SHUTDOWN, DEBUG.

Everything COMMAND reports is derived from the registry's :class:`Command` objects, so the
introspection replies can never drift from what the engine actually enforces.
"""
from __future__ import annotations

import os
import platform
import resource
import sys
import time
from typing import Any

from .. import REDIS_VERSION, VALKEY_VERSION, errors, scripting
from ..config import ConfigError
from ..datatypes.glob import compile_glob
from ..engine import argspec, registry
from ..engine.client import Client
from ..engine.registry import Command, command, container
from ..protocol.replies import OK, SetReply, Simple, Verbatim
from .util import parse_int


def help_reply(name: str, lines: list[str]) -> list[Simple]:
    """Valkey's addReplyHelp: a header, the lines, then the HELP entry, as simple strings."""
    out = [Simple(f"{name.upper()} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:")]
    out += [Simple(s) for s in lines]
    out += [Simple("HELP"), Simple("    Print this help.")]
    return out


def is_local(c: Client) -> bool:
    """Valkey's islocalClient: loopback TCP or a unix socket."""
    addr = c.addr
    return (not addr or addr.startswith("127.0.0.1:") or addr.startswith("[::1]:")
            or addr.startswith("/") or c.fd == -1 and ":" not in addr)


def allow_protected(c: Client, setting: str) -> bool:
    return setting == "yes" or (setting == "local" and is_local(c))


# ====================================================================== COMMAND
container("command", group="server", since="2.8.13", arity=-1,
          summary="Describes every command the server knows.")
_CMD = registry.COMMANDS[b"command"]
_CMD.flags = frozenset(("loading", "stale", "sentinel"))
_CMD.acl = ("connection",)
_CMD.tips = ("nondeterministic_output_order",)
_CMD.complexity = "O(N) where N is the total number of commands"


def _flag_set(flags: list[str]) -> SetReply:
    return SetReply([Simple(f) for f in flags])


def _key_spec(ks: registry.KeySpec) -> dict:
    out: dict = {}
    if ks.notes:
        out[b"notes"] = ks.notes.encode()
    out[b"flags"] = _flag_set([f for f in registry.KEY_FLAG_ORDER if f in ks.flags])
    b = ks.begin
    if b[0] == "index":
        begin = {b"type": b"index", b"spec": {b"index": b[1]}}
    elif b[0] == "keyword":
        begin = {b"type": b"keyword", b"spec": {b"keyword": b[1].encode() if isinstance(b[1], str) else b[1],
                                                b"startfrom": b[2]}}
    else:
        begin = {b"type": b"unknown", b"spec": {}}
    out[b"begin_search"] = begin
    f = ks.find
    if f[0] == "range":
        find = {b"type": b"range", b"spec": {b"lastkey": f[1], b"keystep": f[2], b"limit": f[3]}}
    elif f[0] == "keynum":
        find = {b"type": b"keynum", b"spec": {b"keynumidx": f[1], b"firstkey": f[2], b"keystep": f[3]}}
    else:
        find = {b"type": b"unknown", b"spec": {}}
    out[b"find_keys"] = find
    return out


def command_info(cmd: Command | None) -> Any:
    """The 10-element array of Valkey's addReplyCommandInfo (None for an unknown command)."""
    if cmd is None:
        return None
    subs: Any = [command_info(s) for s in cmd.subcommands.values()] if cmd.subcommands else SetReply()
    return [cmd.name.encode(), cmd.arity, _flag_set(cmd.info_flags()),
            cmd.first_key, cmd.last_key, cmd.step,
            _flag_set(["@" + a for a in cmd.acl_categories()]),
            SetReply([t.encode() for t in cmd.tips]),
            SetReply([_key_spec(k) for k in cmd.key_specs]), subs]


def command_docs(cmd: Command) -> dict:
    """Valkey's addReplyCommandDocs map."""
    out: dict = {}
    if cmd.summary:
        out[b"summary"] = cmd.summary.encode()
    if cmd.since:
        out[b"since"] = cmd.since.encode()
    out[b"group"] = cmd.group.encode()
    if cmd.complexity:
        out[b"complexity"] = cmd.complexity.encode()
    if cmd.doc_flags:
        out[b"doc_flags"] = _flag_set(list(cmd.doc_flags))
    if cmd.deprecated_since:
        out[b"deprecated_since"] = cmd.deprecated_since.encode()
    if cmd.replaced_by:
        out[b"replaced_by"] = cmd.replaced_by.encode()
    if cmd.history:
        out[b"history"] = SetReply([[v.encode(), d.encode()] for v, d in cmd.history])
    if cmd.arguments:
        out[b"arguments"] = argspec.reply(cmd.arguments)
    if cmd.subcommands:
        out[b"subcommands"] = {s.name.encode(): command_docs(s) for s in cmd.subcommands.values()}
    return out


def lookup_by_name(name: bytes) -> Command | None:
    """A command by its full name: "get" or "config|get"."""
    parts = name.lower().split(b"|")
    cmd = registry.COMMANDS.get(parts[0])
    if cmd is None or len(parts) > 2:
        return None
    if len(parts) == 2:
        return cmd.subcommands.get(parts[1])
    return cmd


def command_(c: Client, *args: bytes):
    if args:
        raise errors.unknown_subcommand(args[0], "command")
    return [command_info(cmd) for cmd in registry.COMMANDS.values()]


_CMD.func = command_
_CMD.invoke = registry.make_invoker(command_, 1, _CMD.arity)


@command("count", parent="command", arity=2, flags="loading stale sentinel", acl="connection",
         group="server", since="2.8.13", summary="Tells how many commands the server knows.", complexity="O(1)")
def command_count(c: Client) -> int:
    return len(registry.COMMANDS)


@command("info", parent="command", arity=-2, flags="loading stale sentinel", acl="connection",
         tips="nondeterministic_output_order", group="server", since="2.8.13",
         summary="Describes the given commands, or all of them.",
         complexity="O(N) where N is the number of commands to look up",
         history=(("7.0.0", "Allowed to be called with no argument to get info on all commands."),),
         args="[command-name...]")
def command_info_(c: Client, *names: bytes):
    if not names:
        return [command_info(cmd) for cmd in registry.COMMANDS.values()]
    return [command_info(lookup_by_name(n)) for n in names]


@command("docs", parent="command", arity=-2, flags="loading stale sentinel", acl="connection",
         tips="nondeterministic_output_order", group="server", since="7.0.0",
         summary="Gives documentation for the given commands, or all of them.",
         complexity="O(N) where N is the number of commands to look up",
         args="[command-name...]")
def command_docs_(c: Client, *names: bytes):
    if not names:
        return {cmd.name.encode(): command_docs(cmd) for cmd in registry.COMMANDS.values()}
    out = {}
    for n in names:
        cmd = lookup_by_name(n)
        if cmd is not None:
            out[cmd.name.encode()] = command_docs(cmd)
    return out


@command("list", parent="command", arity=-2, flags="loading stale sentinel", acl="connection",
         tips="nondeterministic_output_order", group="server", since="7.0.0",
         summary="Lists the names of the server's commands, optionally filtered.",
         complexity="O(N) where N is the total number of Valkey commands",
         args="[FILTERBY (MODULE module-name | ACLCAT category | PATTERN pattern:pattern)]")
def command_list(c: Client, *args: bytes):
    match = None
    i = 0
    while i < len(args):
        if args[i].lower() == b"filterby" and len(args) - i - 1 == 2:
            kind, arg = args[i + 1].lower(), args[i + 2]
            if kind == b"module":
                def match(cmd: Command) -> bool:
                    return False
            elif kind == b"aclcat":
                cat = arg.decode("utf-8", "replace").lower()

                def match(cmd: Command, cat: str = cat) -> bool:
                    return cat in cmd.acl_categories()
            elif kind == b"pattern":
                m = compile_glob(arg.lower())

                def match(cmd: Command, m: Any = m) -> bool:
                    return m(cmd.name.encode()) is not None
            else:
                raise errors.SYNTAX
            i += 3
        else:
            raise errors.SYNTAX
    return [cmd.name.encode() for cmd in registry.all_commands() if match is None or match(cmd)]


def _getkeys(argv: list[bytes]) -> list[tuple[int, tuple[str, ...]]]:
    """Valkey's getKeysSubcommandImpl: its checks, in its order."""
    cmd = registry.lookup(argv)
    if cmd is None:
        raise errors.err("Invalid command specified")
    if not cmd.key_specs and cmd.getkeys is None and cmd.first_key <= 0:
        raise errors.err("The command has no key arguments")
    n = len(argv)
    if (cmd.arity > 0 and cmd.arity != n) or n < -cmd.arity:
        raise errors.err("Invalid number of arguments specified for command")
    try:
        found = cmd.keys_and_flags(argv)
    except (IndexError, ValueError, errors.CommandError):
        found = None
    if not found:
        if "no_mandatory_keys" in cmd.flags:
            return []
        raise errors.err("Invalid arguments specified for command")
    return found


@command("getkeys", parent="command", arity=-3, flags="loading stale sentinel", acl="connection",
         group="server", since="2.8.13", summary="Works out which arguments of a given command are keys.",
         complexity="O(N) where N is the number of arguments to the command",
         args="command [arg...]")
def command_getkeys(c: Client, *argv: bytes):
    return [argv[i] for i, _ in _getkeys(list(argv))]


@command("getkeysandflags", parent="command", arity=-3, flags="loading stale sentinel",
         acl="connection", group="server", since="7.0.0",
         summary="Works out which arguments of a given command are keys, and how each is accessed.",
         complexity="O(N) where N is the number of arguments to the command",
         args="command [arg...]")
def command_getkeysandflags(c: Client, *argv: bytes):
    return [[argv[i], _flag_set([f for f in registry.KEY_FLAG_ORDER if f in flags])]
            for i, flags in _getkeys(list(argv))]


@command("help", parent="command", arity=2, flags="loading stale sentinel", acl="connection",
         group="server", since="5.0.0", summary="Describes the available subcommands.",
         complexity="O(1)")
def command_help(c: Client):
    return help_reply("command", [
        "(no subcommand)",
        "    Return details about all commands.",
        "COUNT",
        "    Return the total number of commands in this server.",
        "LIST",
        "    Return a list of all commands in this server.",
        "INFO [<command-name> ...]",
        "    Return details about multiple commands.",
        "    If no command names are given, documentation details for all",
        "    commands are returned.",
        "DOCS [<command-name> ...]",
        "    Return documentation details about multiple commands.",
        "    If no command names are given, documentation details for all",
        "    commands are returned.",
        "GETKEYS <full-command>",
        "    Return the keys from a full command.",
        "GETKEYSANDFLAGS <full-command>",
        "    Return the keys and the access flags from a full command.",
    ])


# ====================================================================== INFO
def bytes_to_human(n: int) -> str:
    """Valkey's bytesToHuman."""
    if n < 1024:
        return f"{n}B"
    for unit, div in (("K", 1024), ("M", 1024**2), ("G", 1024**3), ("T", 1024**4), ("P", 1024**5)):
        if n < div * 1024 or unit == "P":
            return f"{n / div:.2f}{unit}"
    return f"{n}B"


def _rss() -> int:
    """Resident set size: cheap, from /proc when there is one."""
    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _total_system_memory() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError):
        return 0


DEFAULT_SECTIONS = ("server", "clients", "memory", "persistence", "stats", "replication", "cpu",
                    "module_list", "errorstats", "cluster", "keyspace")


def _fields(title: str, items: list[tuple[str, Any]]) -> str:
    return f"# {title}\r\n" + "".join(f"{k}:{v}\r\n" for k, v in items)


def _sec_server(c: Client) -> str:
    s = c.server
    uptime = int(time.time() - s.start_time)
    un = os.uname()
    return _fields("Server", [
        ("redis_version", REDIS_VERSION), ("server_name", "valkey"), ("valkey_version", VALKEY_VERSION),
        ("redis_git_sha1", "00000000"), ("redis_git_dirty", 0), ("redis_build_id", "0"),
        ("redis_mode" if c.server.config["extended-redis-compatibility"] else "server_mode", "standalone"), ("os", f"{un.sysname} {un.release} {un.machine}"),
        ("arch_bits", 64 if sys.maxsize > 2**32 else 32), ("monotonic_clock", "POSIX clock_gettime"),
        ("multiplexing_api", "epoll" if sys.platform.startswith("linux") else "kqueue"),
        ("gcc_version", "0.0.0"), ("process_id", os.getpid()), ("process_supervised", "no"),
        ("run_id", s.run_id), ("tcp_port", s.listeners_info.get("port", s.config["port"])),
        ("server_time_usec", time.time_ns() // 1000), ("uptime_in_seconds", uptime),
        ("uptime_in_days", uptime // 86400), ("hz", s.config["hz"]), ("configured_hz", s.config["hz"]),
        ("lru_clock", s.lru_clock), ("executable", os.path.abspath(sys.argv[0]) if sys.argv and sys.argv[0] else ""),
        ("config_file", s.config.file or ""), ("io_threads_active", 0), ("availability_zone", ""),
        ("python_version", platform.python_version()),
    ])


def _obuf(c: Client) -> int:
    return c.obuf_size() if c.obuf_size is not None else c.obuf_bytes


def _sec_clients(c: Client) -> str:
    s = c.server
    normal = [x for x in s.clients.values() if x.kind != "replica"]
    return _fields("Clients", [
        ("connected_clients", len(normal)), ("cluster_connections", 0),
        ("maxclients", s.config["maxclients"]),
        ("client_recent_max_input_buffer", max((x.qbuf_bytes for x in normal), default=0)),
        ("client_recent_max_output_buffer", max((_obuf(x) for x in normal), default=0)),
        ("blocked_clients", s.blocked_clients),
        ("tracking_clients", sum(1 for x in normal if x.tracking is not None)),
        ("pubsub_clients", sum(1 for x in normal if x.pubsub)),
        ("watching_clients", sum(1 for x in normal if x.watched)),
        ("clients_in_timeout_table", sum(1 for x in normal if x.blocked is not None)),
        ("total_watched_keys", len(s.watched_keys)),     # distinct (db, key) pairs, as Valkey
        ("total_blocking_keys", len(s.blocking_keys)),
        ("total_blocking_keys_on_nokey",
         sum(1 for w in s.blocking_keys.values() if any(b.unblock_on_nokey for b in w))),
    ])


def _sec_memory(c: Client) -> str:
    s = c.server
    m = s.memory.overhead()      # engine/memory.py: used_memory and Valkey's overhead breakdown
    used, rss, peak = m["used"], m["rss"], m["peak"]
    total = _total_system_memory()
    maxmem = s.config["maxmemory"]
    return _fields("Memory", [
        ("used_memory", used), ("used_memory_human", bytes_to_human(used)),
        ("used_memory_rss", rss), ("used_memory_rss_human", bytes_to_human(rss)),
        ("used_memory_peak", peak), ("used_memory_peak_human", bytes_to_human(peak)),
        ("used_memory_peak_perc", f"{m['peak_perc']:.2f}%"), ("used_memory_overhead", m["overhead"]),
        ("used_memory_startup", m["startup"]), ("used_memory_dataset", m["dataset"]),
        ("used_memory_dataset_perc", f"{m['dataset_perc']:.2f}%"),
        ("allocator_allocated", m["allocated"]), ("allocator_active", m["active"]),
        ("allocator_resident", m["resident"]), ("allocator_muzzy", 0), ("total_system_memory", total),
        ("total_system_memory_human", bytes_to_human(total)),
        *scripting.get(s).memory_fields(),
        ("maxmemory", maxmem), ("maxmemory_human", bytes_to_human(maxmem)),
        ("maxmemory_policy", s.config["maxmemory-policy"]),
        ("allocator_frag_ratio", f"{m['frag_ratio']:.2f}"), ("allocator_frag_bytes", m["frag_bytes"]),
        ("allocator_rss_ratio", f"{m['rss_ratio']:.2f}"), ("allocator_rss_bytes", m["rss_bytes"]),
        ("rss_overhead_ratio", "1.00"), ("rss_overhead_bytes", 0),
        ("mem_fragmentation_ratio", f"{m['total_frag']:.2f}"), ("mem_fragmentation_bytes", m["total_frag_bytes"]),
        ("mem_not_counted_for_evict", m["not_counted"]), ("mem_replication_backlog", m["repl_backlog"]),
        ("mem_total_replication_buffers", m["repl_backlog"] + m["clients_replicas"]),
        ("mem_clients_slaves", m["clients_replicas"]), ("mem_clients_normal", m["clients_normal"]),
        ("mem_cluster_links", 0), ("mem_aof_buffer", 0), ("mem_allocator", "libc"),
        ("mem_overhead_db_hashtable_rehashing", 0), ("active_defrag_running", 0),
        ("lazyfree_pending_objects", 0), ("lazyfreed_objects", s.stat_lazyfreed_objects),   # keyspace/lazyfree.py
    ])


def _sec_persistence(c: Client) -> str:
    s = c.server
    return _fields("Persistence", [
        ("loading", int(bool(s.loading))), ("async_loading", 0), ("current_cow_peak", 0),
        ("current_cow_size", 0), ("current_cow_size_age", 0), ("current_fork_perc", "0.00"),
        ("current_save_keys_processed", 0), ("current_save_keys_total", 0),
        *s.snapshots.info_fields(),
        *s.aof.info_fields(),
    ])


def _ops_per_sec(s: Any) -> int:
    """Commands a second over the last sample window (Valkey samples in cron; we sample here)."""
    now = time.monotonic()
    last = getattr(s, "_ops_sample", None)
    s._ops_sample = (now, s.stat_numcommands)
    if last is None or now - last[0] <= 0:
        return 0
    return int((s.stat_numcommands - last[1]) / (now - last[0]))


def _sec_stats(c: Client) -> str:
    s = c.server
    g = getattr
    ev = s.evictor.exceeded_times_ms()
    return _fields("Stats", [
        ("total_connections_received", s.stat_numconnections),
        ("total_commands_processed", s.stat_numcommands),
        ("instantaneous_ops_per_sec", _ops_per_sec(s)),
        ("total_net_input_bytes", s.stat_net_input_bytes), ("total_net_output_bytes", s.stat_net_output_bytes),
        ("total_net_repl_input_bytes", s.replica.stat_input_bytes),
        ("total_net_repl_output_bytes", s.replication.stat_repl_output_bytes),
        ("instantaneous_input_kbps", "0.00"), ("instantaneous_output_kbps", "0.00"),
        ("instantaneous_input_repl_kbps", "0.00"), ("instantaneous_output_repl_kbps", "0.00"),
        ("rejected_connections", s.stat_rejected_conn), ("sync_full", s.replication.stat_sync_full),
        ("sync_partial_ok", s.replication.stat_sync_partial_ok),
        ("sync_partial_err", s.replication.stat_sync_partial_err), ("expired_keys", s.stat_expiredkeys),
        ("expired_fields", s.stat_expired_fields),
        ("expired_stale_perc", f"{s.stat_expired_stale_perc * 100:.2f}"),
        ("expired_time_cap_reached_count", s.stat_expired_time_cap_reached_count),
        ("expire_cycle_cpu_milliseconds", s.stat_expire_cycle_time_used // 1000), ("evicted_keys", s.stat_evictedkeys), ("evicted_clients", 0),
        ("evicted_scripts", getattr(s, "stat_evictedscripts", 0)), ("total_eviction_exceeded_time", ev[0]), ("current_eviction_exceeded_time", ev[1]),
        ("keyspace_hits", s.stat_keyspace_hits), ("keyspace_misses", s.stat_keyspace_misses),
        ("pubsub_channels", len(s.pubsub.channels)), ("pubsub_patterns", len(s.pubsub.patterns)),
        ("pubsubshard_channels", len(s.pubsub.shard_channels)), ("latest_fork_usec", s.snapshots.fork_usec),
        ("total_forks", s.snapshots.total_forks),
        ("migrate_cached_sockets", len(getattr(s, "migrate_sockets", None) or ())), ("slave_expires_tracked_keys", len(s.replica.expiring)), ("active_defrag_hits", 0),
        ("active_defrag_misses", 0), ("active_defrag_key_hits", 0), ("active_defrag_key_misses", 0),
        ("total_active_defrag_time", 0), ("current_active_defrag_time", 0), ("tracking_total_keys", len(s.tracking.table)),
        ("tracking_total_items", s.tracking.total_items), ("tracking_total_prefixes", len(s.tracking.prefixes)),
        ("unexpected_error_replies", s.stat_unexpected_error_replies),
        ("total_error_replies", s.stat_total_error_replies), ("dump_payload_sanitizations", 0),
        ("total_reads_processed", s.stat_numcommands), ("total_writes_processed", s.stat_numcommands),
        ("io_threaded_reads_processed", 0), ("io_threaded_writes_processed", 0),
        ("io_threaded_freed_objects", 0), ("io_threaded_poll_processed", 0),
        ("io_threaded_total_prefetch_batches", 0), ("io_threaded_total_prefetch_entries", 0),
        ("client_query_buffer_limit_disconnections", s.stat_client_qbuf_limit_disconnections),
        ("client_output_buffer_limit_disconnections", s.stat_client_outbuf_limit_disconnections),
        ("reply_buffer_shrinks", 0), ("reply_buffer_expands", 0), ("eventloop_cycles", s.cron_loops),
        ("eventloop_duration_sum", 0), ("eventloop_duration_cmd_sum", 0),
        ("instantaneous_eventloop_cycles_per_sec", 0), ("instantaneous_eventloop_duration_usec", 0),
        ("acl_access_denied_auth", g(s, "stat_auth_failures", 0)), ("acl_access_denied_cmd", 0),
        ("acl_access_denied_key", 0), ("acl_access_denied_channel", 0),
    ])


def _sec_replication(c: Client) -> str:
    return _fields("Replication", c.server.replication.info_fields())


def _sec_cpu(c: Client) -> str:
    me = resource.getrusage(resource.RUSAGE_SELF)
    ch = resource.getrusage(resource.RUSAGE_CHILDREN)
    return _fields("CPU", [
        ("used_cpu_sys", f"{me.ru_stime:.6f}"), ("used_cpu_user", f"{me.ru_utime:.6f}"),
        ("used_cpu_sys_children", f"{ch.ru_stime:.6f}"), ("used_cpu_user_children", f"{ch.ru_utime:.6f}"),
        ("used_cpu_sys_main_thread", f"{me.ru_stime:.6f}"), ("used_cpu_user_main_thread", f"{me.ru_utime:.6f}"),
    ])


def _safe(name: str) -> str:
    for ch in "#:\n\r":
        name = name.replace(ch, "_")
    return name


def _sec_commandstats(c: Client) -> str:
    lines = []
    for cmd in registry.all_commands():
        if cmd.calls or cmd.failed_calls or cmd.rejected_calls:
            per = cmd.usec / cmd.calls if cmd.calls else 0
            lines.append(f"cmdstat_{_safe(cmd.name)}:calls={cmd.calls},usec={cmd.usec},"
                         f"usec_per_call={per:.2f},rejected_calls={cmd.rejected_calls},"
                         f"failed_calls={cmd.failed_calls}\r\n")
    return "# Commandstats\r\n" + "".join(lines)


def _sec_errorstats(c: Client) -> str:
    return "# Errorstats\r\n" + "".join(
        f"errorstat_{_safe(k)}:count={v}\r\n" for k, v in sorted(c.server.errorstats.items()))


def _sec_latencystats(c: Client) -> str:
    """latency_percentiles_usec_<cmd> for every command with a histogram (engine/latency.py)."""
    s = c.server
    if not s.latency_tracking:
        return "# Latencystats\r\n"
    from ..engine import latency
    pcts = s.config["latency-tracking-info-percentiles"]
    return "# Latencystats\r\n" + "".join(latency.info_line(_safe(cmd.name), cmd, pcts)
                                           for cmd in registry.all_commands() if latency.has_histogram(cmd))


def _sec_cluster(c: Client) -> str:
    return f"# Cluster\r\ncluster_enabled:{int(bool(c.server.config['cluster-enabled']))}\r\n"


def _sec_keyspace(c: Client) -> str:
    lines = []
    for db in c.server.dbs:
        if db.data:
            lines.append(f"db{db.id}:keys={len(db.data)},expires={len(db.expires)},avg_ttl={db.avg_ttl}\r\n")
    return "# Keyspace\r\n" + "".join(lines)


def _sec_modules(c: Client) -> str:
    return "# Modules\r\n"


SECTIONS = [("server", _sec_server), ("clients", _sec_clients), ("memory", _sec_memory),
            ("persistence", _sec_persistence), ("stats", _sec_stats),
            ("replication", _sec_replication), ("cpu", _sec_cpu), ("module_list", _sec_modules),
            ("commandstats", _sec_commandstats), ("errorstats", _sec_errorstats),
            ("latencystats", _sec_latencystats), ("cluster", _sec_cluster), ("keyspace", _sec_keyspace)]


def info_string(c: Client, args: list[bytes]) -> str:
    """genValkeyInfoString: the requested sections, separated by an empty line."""
    wanted: set[str] = set()
    everything = False
    if not args:
        wanted.update(DEFAULT_SECTIONS)
    for a in args:
        name = a.decode("utf-8", "replace").lower()
        if name == "default":
            wanted.update(DEFAULT_SECTIONS)
        elif name in ("all", "everything"):
            everything = True
        else:
            wanted.add(name)
    parts = []
    for name, fn in SECTIONS:
        if everything or name in wanted or (name == "module_list" and "modules" in wanted):
            parts.append(fn(c))
    return "\r\n".join(parts)


@command("info", arity=-1, flags="loading stale sentinel", acl="dangerous", group="server",
         tips="nondeterministic_output request_policy:all_shards response_policy:special",
         since="1.0.0", summary="Reports server statistics and state, grouped into sections.",
         complexity="O(1)",
         history=(("7.0.0", "Added support for taking multiple section arguments."),),
         args="[section...]")
def info(c: Client, *sections: bytes):
    return Verbatim(info_string(c, list(sections)))


# ====================================================================== CONFIG
container("config", group="server", since="2.0.0", summary="Groups the subcommands that read and change configuration.",
          complexity="Depends on subcommand.")
_CFG = "admin noscript loading stale"


@command("get", parent="config", arity=-3, flags=_CFG, group="server", since="2.0.0",
         summary="Reads the current values of configuration parameters.",
         complexity="O(N) when N is the number of configuration parameters provided",
         history=(("7.0.0", "Added the ability to pass multiple pattern parameters in one call"),),
         args="parameter...")
def config_get(c: Client, *patterns: bytes):
    return c.server.config.get(list(patterns))


@command("set", parent="config", arity=-4, flags=_CFG,
         tips="request_policy:all_nodes response_policy:all_succeeded", group="server", since="2.0.0",
         summary="Changes configuration parameters while the server runs.",
         complexity="O(N) when N is the number of configuration parameters provided",
         history=(("7.0.0", "Added the ability to set multiple parameters in one call."),),
         args="(data: parameter value)...")
def config_set(c: Client, *args: bytes):
    if len(args) % 2:
        raise errors.wrong_arity("config|set")
    pairs = [(args[i], args[i + 1]) for i in range(0, len(args), 2)]
    try:
        c.server.config.set_many(pairs, allow_protected(c, c.server.config["enable-protected-configs"]))
    except ConfigError as e:
        raise errors.err(str(e)) from None
    return OK


def reset_stats(server: Any) -> None:
    """CONFIG RESETSTAT: server stats, command stats and error stats back to zero."""
    for name in [*vars(server), *type(server).__slots__]:   # hot stats are slots (engine/server.py)
        if name.startswith("stat_"):
            v = getattr(server, name)
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                setattr(server, name, type(v)(0))
    server.errorstats.clear()
    server.__dict__.pop("_ops_sample", None)
    server.latency.fork_rate = 0.0          # stat_fork_rate, stat_fork_time and stat_total_forks
    server.snapshots.fork_usec = server.snapshots.total_forks = 0
    from ..engine import latency
    for cmd in registry.all_commands():
        cmd.calls = cmd.usec = cmd.rejected_calls = cmd.failed_calls = 0
        latency.reset(cmd)


@command("resetstat", parent="config", arity=2, flags=_CFG,
         tips="request_policy:all_nodes response_policy:all_succeeded", group="server", since="2.0.0",
         summary="Zeroes the server's statistics counters.", complexity="O(1)")
def config_resetstat(c: Client):
    reset_stats(c.server)
    return OK


def rewrite_config_file(config: Any) -> None:
    """Keep the file's comments and unknown lines, refresh the known ones, append the rest."""
    from ..config import BY_NAME
    from ..protocol.parser import split_args
    path = config.file
    try:
        with open(path, encoding="utf-8", errors="surrogateescape") as f:
            old = f.read().splitlines()
    except FileNotFoundError:
        old = []
    fresh = {line.split(" ", 1)[0]: line for line in config.rewrite_lines()}
    out: list[str] = []
    done: set[str] = set()
    for line in old:
        words = split_args(line.strip().encode()) if line.strip() and not line.strip().startswith("#") else None
        if not words:
            if line.strip() != "# Generated by CONFIG REWRITE":
                out.append(line)
            continue
        name = words[0].decode("utf-8", "replace").lower()
        param = BY_NAME.get(name)
        if param is None:
            out.append(line)
            continue
        if param.name in done:
            continue
        done.add(param.name)
        if param.name in fresh:
            out.append(fresh[param.name])
        # a parameter back at its default: the line goes (Valkey drops it too)
    extra = [line for name, line in fresh.items() if name not in done]
    if extra:
        while out and not out[-1].strip():
            out.pop()
        out += ["# Generated by CONFIG REWRITE"] + extra
    tmp = f"{path}.tmp-{os.getpid()}"
    with open(tmp, "w", encoding="utf-8", errors="surrogateescape") as f:
        f.write("\n".join(out) + "\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


@command("rewrite", parent="config", arity=2, flags=_CFG,
         tips="request_policy:all_nodes response_policy:all_succeeded", group="server", since="2.8.0",
         summary="Writes the current configuration back to the config file.", complexity="O(1)")
def config_rewrite(c: Client):
    if not c.server.config.file:
        raise errors.err("The server is running without a config file")
    try:
        rewrite_config_file(c.server.config)
    except OSError as e:
        raise errors.err(f"Rewriting config file: {e.strerror}") from None
    return OK


@command("help", parent="config", arity=2, flags="loading stale", group="server", since="5.0.0",
         summary="Describes the available subcommands.", complexity="O(1)")
def config_help(c: Client):
    return help_reply("config", [
        "GET <pattern>",
        "    Return parameters matching the glob-like <pattern> and their values.",
        "SET <directive> <value>",
        "    Set the configuration <directive> to <value>.",
        "RESETSTAT",
        "    Reset statistics reported by the INFO command.",
        "REWRITE",
        "    Rewrite the configuration file.",
    ])


# ====================================================================== TIME, LASTSAVE
@command("time", arity=1, flags="loading stale fast", tips="nondeterministic_output", group="server",
         since="2.6.0", summary="Gives the server's current clock time.", complexity="O(1)")
def time_(c: Client):
    us = c.server.now_us            # the command's instant: a script sees one time throughout
    return [str(us // 1_000_000).encode(), str(us % 1_000_000).encode()]


@command("lastsave", arity=1, flags="loading stale fast", acl="admin dangerous",
         tips="nondeterministic_output", group="server", since="1.0.0",
         summary="Gives the Unix time of the most recent successful save to disk.", complexity="O(1)")
def lastsave(c: Client) -> int:
    return c.server.lastsave


# ====================================================================== SLOWLOG
container("slowlog", group="server", since="2.2.12", summary="Groups the subcommands for the log of slow commands.",
          complexity="Depends on subcommand.")


@command("get", parent="slowlog", arity=-2, flags="admin loading stale",
         tips="request_policy:all_nodes nondeterministic_output", group="server", since="2.2.12",
         summary="Lists recent entries of the slow command log.", complexity="O(N) where N is the number of entries returned",
         history=(("4.0.0", "Added client IP address, port and name to the reply."),),
         args="[count:integer]")
def slowlog_get(c: Client, *args: bytes):
    count = 10
    if len(args) > 1:
        raise errors.wrong_arity("slowlog|get")
    if args:
        try:
            count = parse_int(args[0])
        except errors.CommandError:
            count = -2
        if count < -1:
            raise errors.err("count should be greater than or equal to -1")
        if count == -1:
            count = len(c.server.slowlog)
    out = []
    for entry in list(c.server.slowlog)[:count]:
        eid, ts, usec, argv, addr, name = entry
        out.append([eid, ts, usec, list(argv), addr, name])
    return out


@command("len", parent="slowlog", arity=2, flags="admin loading stale",
         tips="request_policy:all_nodes response_policy:agg_sum nondeterministic_output", group="server",
         since="2.2.12", summary="Counts the entries in the slow command log.", complexity="O(1)")
def slowlog_len(c: Client) -> int:
    return len(c.server.slowlog)


@command("reset", parent="slowlog", arity=2, flags="admin loading stale",
         tips="request_policy:all_nodes response_policy:all_succeeded", group="server", since="2.2.12",
         summary="Empties the slow command log.",
         complexity="O(N) where N is the number of entries in the slowlog")
def slowlog_reset(c: Client):
    c.server.slowlog.clear()
    return OK


@command("help", parent="slowlog", arity=2, flags="loading stale", group="server", since="6.2.0",
         summary="Describes the available subcommands.", complexity="O(1)")
def slowlog_help(c: Client):
    return help_reply("slowlog", [
        "GET [<count>]",
        "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
        "    Entries are made of:",
        "    id, timestamp, time in microseconds, arguments array, client IP and port,",
        "    client name",
        "LEN",
        "    Return the length of the slowlog.",
        "RESET",
        "    Reset the slowlog.",
    ])


# ====================================================================== MODULE
# pykey loads no native modules (Valkey's are C shared objects built against its module API),
# so the list is always empty and a load fails the way Valkey's does for a library it cannot
# open. Tools such as RedisInsight and client libraries call MODULE LIST to discover features.
container("module", group="server", since="4.0.0", summary="A container for module commands.",
          complexity="Depends on subcommand.")
_MODULE_DENIED = ("MODULE command not allowed. If the enable-module-command option is set to \"local\", "
                  "you can run it from a local connection, otherwise you need to set this option in the "
                  "configuration file, and then restart the server.")
_MODULE_LOAD_FAILED = "Error loading the extension. Please check the server logs."


@command("help", arity=2, flags="loading stale", group="server", since="5.0.0", parent="module",
         summary="Returns helpful text about the different subcommands.", complexity="O(1)")
def module_help(c: Client) -> list[Simple]:
    return help_reply("module", [
        "LIST",
        "    Return a list of loaded modules.",
        "LOAD <path> [<arg> ...]",
        "    Load a module library from <path>, passing to it any optional arguments.",
        "LOADEX <path> [[CONFIG NAME VALUE] [CONFIG NAME VALUE]] [ARGS ...]",
        "    Load a module library from <path>, while passing it module configurations and optional arguments.",
        "UNLOAD <name>",
        "    Unload a module.",
    ])


@command("list", arity=2, flags="admin noscript", group="server", since="4.0.0", parent="module",
         summary="Returns all loaded modules.", complexity="O(N) where N is the number of loaded modules.",
         tips="nondeterministic_output_order")
def module_list(c: Client) -> list:
    return []


def _module_load(c: Client, path: bytes) -> None:
    if not allow_protected(c, c.server.config["enable-module-command"]):
        raise errors.err(_MODULE_DENIED)
    from ..log import log
    log.warning(f"Module {errors.text(path)} failed to load: pykey cannot load native (C) modules")
    raise errors.err(_MODULE_LOAD_FAILED)


@command("load", arity=-3, flags="no_async_loading admin noscript protected", group="server", since="4.0.0",
         parent="module", summary="Loads a module.", complexity="O(1)",
         args="path [arg...]")
def module_load(c: Client, path: bytes, *args: bytes) -> None:
    _module_load(c, path)


@command("loadex", arity=-3, flags="no_async_loading admin noscript protected", group="server",
         since="7.0.0", parent="module", summary="Loads a module using extended parameters.",
         complexity="O(1)",
         args="path [CONFIG (configs: name value)]... [ARGS args...]")
def module_loadex(c: Client, path: bytes, *args: bytes) -> None:
    _module_load(c, path)


@command("unload", arity=3, flags="no_async_loading admin noscript protected", group="server",
         since="4.0.0", parent="module", summary="Unloads a module.", complexity="O(1)",
         args="name")
def module_unload(c: Client, name: bytes) -> None:
    if not allow_protected(c, c.server.config["enable-module-command"]):
        raise errors.err(_MODULE_DENIED)
    from ..log import log
    log.warning(f"Error unloading module {errors.text(name)}: no such module with that name")
    raise errors.err("Error unloading module: no such module with that name")


# ====================================================================== SHUTDOWN
@command("shutdown", arity=-1, flags="admin noscript loading stale no_multi sentinel allow_busy",
         group="server", since="1.0.0", summary="Stops the server, saving the data to disk first unless told otherwise.",
         complexity="O(N) when saving, where N is the total number of keys in all databases when saving data, "
                    "otherwise O(1)",
         history=(("7.0.0", "Added the `NOW`, `FORCE` and `ABORT` modifiers."),),
         args="[abort-selector: (save-selector-block: [save-selector: NOSAVE | SAVE] [NOW]@7.0.0 [FORCE]@7.0.0) | "
              "ABORT@7.0.0]")
def shutdown(c: Client, *args: bytes):
    from ..net.connection import NOREPLY
    nosave = save = now = force = abort = False
    for a in args:
        low = a.lower()
        if low == b"nosave":
            nosave = True
        elif low == b"save":
            save = True
        elif low == b"now":
            now = True
        elif low == b"force":
            force = True
        elif low == b"abort":
            abort = True
        else:
            raise errors.SYNTAX
    if (abort and len(args) != 1) or (nosave and save):
        raise errors.SYNTAX
    del now
    if abort:
        raise errors.err("No shutdown in progress.")
    busy = c.server.script_busy
    if busy is not None and not nosave:      # a script past its time: only SHUTDOWN NOSAVE
        raise errors.BUSY_EVAL if busy.is_eval else errors.BUSY_FUNCTION
    hook = c.server.shutdown_requested
    if hook is None or not c.server.snapshots.prepare_shutdown(save, nosave, force):
        raise errors.err("Errors trying to SHUTDOWN. Check logs.")
    hook(list(args))
    c.close_after_reply = True
    return NOREPLY


__all__ = ["info_string", "command_info", "command_docs", "reset_stats", "help_reply"]
