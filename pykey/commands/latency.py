"""LATENCY: the latency monitor's events (LATEST, HISTORY, GRAPH, RESET, DOCTOR) and the
per-command latency histograms (HISTOGRAM). The data lives in engine/latency.py."""
from __future__ import annotations

from typing import Any

from .. import errors
from ..engine import latency
from ..engine.client import Client
from ..engine.registry import Command, all_commands, command, container
from ..protocol.encoder import encode
from ..protocol.replies import Raw, Verbatim
from .server import help_reply, lookup_by_name

container("latency", group="server", since="2.8.13", summary="Groups the latency diagnostics subcommands.",
          complexity="Depends on subcommand.")

_ADMIN = "admin noscript loading stale"
_ALL_NODES = "nondeterministic_output request_policy:all_nodes response_policy:special"


def _event(name: bytes) -> str:
    return name.decode("utf-8", "surrogateescape")


@command("latest", parent="latency", arity=2, flags=_ADMIN, tips=_ALL_NODES, group="server", since="2.8.13",
         summary="Shows the most recent sample of every latency event.", complexity="O(1)")
def latency_latest(c: Client) -> list:
    out = []
    for event, ts in c.server.latency.events.items():
        when, ms = ts.latest()
        out.append([event.encode("utf-8", "surrogateescape"), when, ms, ts.max])
    return out


@command("history", parent="latency", arity=3, flags=_ADMIN, tips=_ALL_NODES, group="server", since="2.8.13",
         summary="Lists the time and latency of an event's recorded samples.", complexity="O(1)",
         args="event:string")
def latency_history(c: Client, event: bytes) -> list:
    ts = c.server.latency.events.get(_event(event))
    return [] if ts is None else [[t, ms] for t, ms in ts.samples()]


@command("graph", parent="latency", arity=3, flags=_ADMIN, tips=_ALL_NODES, group="server", since="2.8.13",
         summary="Draws an ASCII graph of an event's latency samples.", complexity="O(1)",
         args="event:string")
def latency_graph(c: Client, event: bytes) -> Verbatim:
    name = _event(event)
    if name not in c.server.latency.events:
        raise errors.err(f"No samples available for event '{errors.text(event)}'")
    return Verbatim(c.server.latency.graph(name))


@command("reset", parent="latency", arity=-2, flags=_ADMIN,
         tips="request_policy:all_nodes response_policy:agg_sum", group="server", since="2.8.13",
         summary="Forgets the samples of some or all latency events.", complexity="O(1)",
         args="[event:string ...]")
def latency_reset(c: Client, *events: bytes) -> int:
    return c.server.latency.reset(list(events) if events else None)


def _with_histogram(cmd: Command) -> list[Command]:
    """The command itself if it has data, then its subcommands that have some."""
    found = [cmd] if latency.has_histogram(cmd) else []
    found.extend(sub for sub in cmd.subcommands.values() if latency.has_histogram(sub))
    return found


@command("histogram", parent="latency", arity=-2, flags=_ADMIN, tips=_ALL_NODES, group="server", since="7.0.0",
         summary="Shows the distribution of latencies of all or some commands.",
         complexity="O(N) where N is the number of commands with latency information being retrieved.",
         args="[command:string ...]")
def latency_histogram(c: Client, *names: bytes) -> Raw:
    """A map of command -> {calls, histogram_usec}. Unknown names are skipped; a name given
    twice is answered twice, as Valkey does, so the map is encoded here."""
    if names:
        chosen = []
        for name in names:
            cmd = lookup_by_name(name)
            if cmd is not None:
                chosen.extend(_with_histogram(cmd))
    else:
        chosen = [cmd for cmd in all_commands() if latency.has_histogram(cmd)]
    resp3 = c.resp == 3
    head = b"%%%d\r\n" % len(chosen) if resp3 else b"*%d\r\n" % (2 * len(chosen))
    return Raw(head + b"".join(encode(cmd.name.encode(), resp3) + encode(latency.histogram_reply(cmd), resp3)
                               for cmd in chosen))


@command("doctor", parent="latency", arity=2, flags=_ADMIN, tips=_ALL_NODES, group="server", since="2.8.13",
         summary="Writes a report on the recorded latency events, with advice.", complexity="O(1)")
def latency_doctor(c: Client) -> Verbatim:
    return Verbatim(doctor_report(c.server))


@command("help", parent="latency", arity=2, flags="loading stale", group="server", since="2.8.13",
         summary="Describes the available subcommands.", complexity="O(1)")
def latency_help(c: Client) -> list:
    return help_reply("latency", [
        "DOCTOR",
        "    Return a human readable latency analysis report.",
        "GRAPH <event>",
        "    Return an ASCII latency graph for the <event> class.",
        "HISTORY <event>",
        "    Return time-latency samples for the <event> class.",
        "LATEST",
        "    Return the latest latency samples for all events.",
        "RESET [<event> ...]",
        "    Reset latency data of one or more <event> classes.",
        "    (default: reset all data for all event classes)",
        "HISTOGRAM [COMMAND ...]",
        "    Return a cumulative distribution of latencies in the format of a histogram for the specified "
        "command names.",
        "    If no commands are specified then all histograms are replied.",
    ])


# ---------------------------------------------------------------------- LATENCY DOCTOR
# Valkey's report: one line per event with its statistics, then the advice the events call
# for, each piece of advice once, in a fixed order.
_ADVICE = {
    "better_vm": "- If you are using a virtual machine, consider upgrading it with a faster one using a hypervisior "
                 "that provides less latency during fork() calls. Xen is known to have poor fork() performance. "
                 "Even in the context of the same VM provider, certain kinds of instances can execute fork faster "
                 "than others.\n",
    "slowlog_enabled": "- There are latency issues with potentially slow commands you are using. Try to enable the "
                       "Slow Log Valkey feature using the command 'CONFIG SET slowlog-log-slower-than {us}'. If the "
                       "Slow log is disabled Valkey is not able to log slow commands execution for you.\n",
    "slowlog_tuning": "- Your current Slow Log configuration only logs events that are slower than your configured "
                      "latency monitor threshold. Please use 'CONFIG SET slowlog-log-slower-than {us}'.\n",
    "slowlog_inspect": "- Check your Slow Log to understand what are the commands you are running which are too slow "
                       "to execute. Please check https://valkey.io/commands/slowlog for more information.\n",
    # Valkey's text suggests rebuilding with another C allocator; this server's allocator
    # is Python's, so the last point names what can be done here instead
    "scheduler": "- The system is slow to execute Valkey code paths not containing system calls. This usually means "
                 "the system does not provide Valkey CPU time to run for long periods. You should try to:\n"
                 "  1) Lower the system load.\n"
                 "  2) Use a computer / VM just for Valkey if you are running other software in the same system.\n"
                 "  3) Check if you have a \"noisy neighbour\" problem.\n"
                 "  4) Check with 'valkey-cli --intrinsic-latency 100' what is the intrinsic latency in your "
                 "system.\n"
                 "  5) Check whether Python's garbage collector runs during the spikes (a server holding millions "
                 "of container objects spends time in full collections).\n",
    "local_disk": "- It is strongly advised to use local disks for persistence, especially if you are using AOF. "
                  "Remote disks provided by platform-as-a-service providers are known to be slow.\n",
    "ssd": "- SSD disks are able to reduce fsync latency, and total time needed for snapshotting and AOF log "
           "rewriting (resulting in smaller memory usage). With extremely high write load SSD disks can be a good "
           "option. However Valkey should perform reasonably with high load using normal disks. Use this advice as "
           "a last resort.\n",
    "data_writeback": "- Mounting ext3/4 filesystems with data=writeback can provide a performance boost compared to "
                      "data=ordered, however this mode of operation provides less guarantees, and sometimes it can "
                      "happen that after a hard crash the AOF file will have a half-written command at the end and "
                      "will require to be repaired before Valkey restarts.\n",
    "disk_contention": "- Try to lower the disk contention. This is often caused by other disk intensive processes "
                       "running in the same computer (including other Valkey instances).\n",
    "no_appendfsync": "- Assuming from the point of view of data safety this is viable in your environment, you "
                      "could try to enable the 'no-appendfsync-on-rewrite' option, so that fsync will not be "
                      "performed while there is a child rewriting the AOF file or producing an RDB file (the moment "
                      "where there is high disk contention).\n",
    "relax_fsync_policy": "- Your fsync policy is set to 'always'. It is very hard to get good performances with "
                          "such a setup, if possible try to relax the fsync policy to 'onesec'.\n",
    "write_load_info": "- Latency during the AOF atomic rename operation or when the final difference is flushed to "
                       "the AOF file at the end of the rewrite, sometimes is caused by very high write load, causing "
                       "the AOF buffer to get very large. If possible try to send less commands to accomplish the "
                       "same work, or use Lua scripts to group multiple operations into a single EVALSHA call.\n",
    "hz": "- In order to make the Valkey keys expiring process more incremental, try to set the 'hz' configuration "
          "parameter to 100 using 'CONFIG SET hz 100'.\n",
    "large_objects": "- Deleting, expiring or evicting (because of maxmemory policy) large objects is a blocking "
                     "operation. If you have very large objects that are often deleted, expired, or evicted, try to "
                     "fragment those objects into multiple smaller objects.\n",
    "mass_eviction": "- Sudden changes to the 'maxmemory' setting via 'CONFIG SET', or allocation of large objects "
                     "via sets or sorted sets intersections, STORE option of SORT, Valkey Cluster large keys "
                     "migrations (RESTORE command), may create sudden memory pressure forcing the server to block "
                     "trying to evict keys. \n",
    "disable_thp": "- I detected a non zero amount of anonymous huge pages used by your process. This creates very "
                   "serious latency events in different conditions, especially when Valkey is persisting on disk. To "
                   "disable THP support use the command 'echo never > /sys/kernel/mm/transparent_hugepage/enabled', "
                   "make sure to also add it into /etc/rc.local so that the command will be executed again after a "
                   "reboot. Note that even if you have already disabled THP, you still need to restart the Valkey "
                   "process to get rid of the huge pages already created.\n",
}
# what each event calls for (besides the per-event checks in doctor_report)
_EVENT_ADVICE = {
    "fast-command": ("scheduler",),
    "aof-write-pending-fsync": ("local_disk", "disk_contention", "ssd", "data_writeback"),
    "aof-write-active-child": ("no_appendfsync", "data_writeback", "ssd"),
    "aof-write-alone": ("local_disk", "data_writeback", "ssd"),
    "aof-fsync-always": ("relax_fsync_policy",),
    "aof-fstat": ("disk_contention", "local_disk"),
    "rdb-unlink-temp-file": ("disk_contention", "local_disk"),
    "aof-rewrite-diff-write": ("write_load_info", "data_writeback", "ssd", "local_disk"),
    "aof-rename": ("write_load_info", "data_writeback", "ssd", "local_disk"),
    "expire-cycle": ("hz", "large_objects"),
    "eviction-del": ("large_objects",),
    "eviction-cycle": ("mass_eviction",),
}


def anon_huge_pages() -> int:
    """Bytes of transparent huge pages this process uses (AnonHugePages in smaps)."""
    total = 0
    for path in ("/proc/self/smaps_rollup", "/proc/self/smaps"):
        try:
            with open(path, "rb") as f:
                for line in f:
                    if line.startswith(b"AnonHugePages:"):
                        total += int(line.split()[1]) * 1024
            return total
        except (OSError, ValueError, IndexError):
            continue
    return 0


def doctor_report(server: Any) -> str:
    """createLatencyReport: the events' statistics and the advice they call for."""
    mon = server.latency
    threshold = server.config["latency-monitor-threshold"]
    if not mon.events and threshold == 0:
        return ("I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Valkey instance. You may "
                "use \"CONFIG SET latency-monitor-threshold <milliseconds>.\" in order to enable it.\n")
    out: list[str] = []
    wanted: set[str] = set()
    advices = 0
    for n, (event, ts) in enumerate(mon.events.items(), 1):
        if n == 1:
            out.append("Latency spikes are observed in this Valkey instance.\n\n")
        st = mon.analyze(event)
        out.append(f"{n}. {event}: {st['samples']} latency spikes (average {st['avg']}ms, mean deviation "
                   f"{st['mad']}ms, period {st['period'] / st['samples']:.2f} sec). Worst all time event "
                   f"{ts.max}ms.")
        low = event.lower()
        if low == "fork":
            rate = mon.fork_rate
            if rate < 10:
                quality = "terrible"
            elif rate < 25:
                quality = "poor"
            elif rate < 100:
                quality = "good"
            else:
                quality = "excellent"
            if rate < 25:
                wanted.add("better_vm")
                advices += 1
            out.append(f" Fork rate is {rate:.2f} GB/sec ({quality}).")
        if low == "command":
            slower_than = server.config["slowlog-log-slower-than"]
            if slower_than < 0 or server.config["slowlog-max-len"] == 0:
                wanted.add("slowlog_enabled")
                advices += 1
            elif slower_than // 1000 > threshold:
                wanted.add("slowlog_tuning")
                advices += 1
            wanted.update(("slowlog_inspect", "large_objects"))
            advices += 2
        for advice in _EVENT_ADVICE.get(low, ()):
            wanted.add(advice)
            advices += 1
        out.append("\n")
    if anon_huge_pages() > 0:
        wanted.add("disable_thp")
        advices += 1
    if not mon.events and not advices:
        out.append("No latency spike was observed during the lifetime of this Valkey instance, not in the slightest "
                   "bit.\n")
    elif mon.events and not advices:
        out.append("\nThere are latency events logged that are not easy to fix. Please get some help from Valkey "
                   "community, providing this report in your help request.\n")
    else:
        out.append("\nHere is some advice for you:\n\n")
        if "relax_fsync_policy" in wanted and server.config["appendfsync"] != "always":
            wanted.discard("relax_fsync_policy")
        if "hz" in wanted and server.config["hz"] >= 100:
            wanted.discard("hz")
        us = threshold * 1000
        for name, text in _ADVICE.items():
            if name in wanted:
                out.append(text.format(us=us) if "{us}" in text else text)
    return "".join(out)
