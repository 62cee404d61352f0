"""``pykey-server [config-file] [--name value ...]``: start a server like valkey-server."""
from __future__ import annotations

import asyncio
import os
import signal
import sys

from . import __version__
from .config import ConfigError, load
from .engine.server import Server
from .log import log
from .net.listener import NetServer


def _event_loop_policy() -> str:
    try:
        import uvloop
    except ImportError:
        return "asyncio"
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    return "uvloop"


def build_server(argv: list[str]) -> Server:
    import pykey.commands  # noqa: F401  (registers every command)
    config = load(argv)
    if config["dir"]:
        os.chdir(config["dir"])
    return Server(config)


async def serve(engine: Server) -> int:
    net = NetServer(engine, log)
    loop = asyncio.get_running_loop()

    def on_signal(name: str) -> None:
        log.warning(f"Received {name} scheduling shutdown...")
        flags = engine.config["shutdown-on-" + name.lower()].split()
        if not engine.snapshots.prepare_shutdown("save" in flags, "nosave" in flags, "force" in flags):
            log.warning(f"{name} received but errors trying to shut down the server, check the logs for "
                        "more information")
            return
        net.request_shutdown([])

    for sig, name in ((signal.SIGTERM, "SIGTERM"), (signal.SIGINT, "SIGINT")):
        try:
            loop.add_signal_handler(sig, on_signal, name)
        except (NotImplementedError, RuntimeError):
            pass
    try:
        await net.start()
    except OSError as e:
        log.warning(f"Failed listening on port {engine.config['port']} (tcp), aborting: {e}")
        return 1
    pidfile = engine.config["pidfile"]
    if pidfile:
        with open(pidfile, "w") as f:
            f.write(f"{os.getpid()}\n")
    log.notice("Server initialized")
    if not engine.snapshots.load_at_startup():
        await net.close()
        return 1
    if net.servers and engine.config["port"]:
        log.notice("Ready to accept connections tcp")
    if engine.config["unixsocket"]:
        log.notice("Ready to accept connections unix")
    await net.serve_until_stopped()
    log.warning("User requested shutdown...")
    if pidfile:
        try:
            os.unlink(pidfile)
        except OSError:
            pass
    log.warning("pykey is now ready to exit, bye bye...")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args and args[0] in ("-v", "--version"):
        print(f"pykey server v={__version__} (Valkey-compatible, redis_version 7.2.4)")
        return 0
    if args and args[0] in ("-h", "--help"):
        print("Usage: pykey-server [/path/to/valkey.conf] [options] [-]\n"
              "       pykey-server - (read config from stdin)\n"
              "       pykey-server -v or --version\n"
              "Examples:\n       pykey-server --port 7777\n       pykey-server /etc/valkey/6379.conf --loglevel verbose")
        return 0
    try:
        engine = build_server(args)
    except ConfigError as e:
        print(str(e), file=sys.stderr)
        return 1
    except OSError as e:
        print(f"Fatal error, can't open config file: {e}", file=sys.stderr)
        return 1
    cfg = engine.config
    log.set_level(cfg["loglevel"])
    if cfg["logfile"]:
        role = log.role                 # "S" already, when replicaof is configured
        log.__init__(cfg["loglevel"], cfg["logfile"])
        log.role = role
    cfg.watch("loglevel", lambda old, new: log.set_level(new))
    loop_name = _event_loop_policy()
    log.notice("oO0OoO0OoO0Oo pykey is starting oO0OoO0OoO0Oo")
    log.notice(f"pykey version={__version__}, redis_version=7.2.4, pid={os.getpid()}, event loop={loop_name}")
    return asyncio.run(serve(engine))


if __name__ == "__main__":
    sys.exit(main())
