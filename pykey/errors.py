"""Every error text pykey sends, byte-exact as Valkey sends it.

Commands raise :class:`CommandError`; the engine turns it into a RESP error reply and
counts it in ``errorstats`` by its prefix (the first word).
"""
from __future__ import annotations


class CommandError(Exception):
    """An error reply. ``message`` is the full text without the leading ``-``."""

    __slots__ = ("message",)

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    @property
    def prefix(self) -> str:
        return self.message.split(" ", 1)[0]


class ProtocolError(Exception):
    """A malformed request: the client gets ``-ERR Protocol error: ...`` and is closed."""


def err(text: str) -> CommandError:
    """An ``ERR``-prefixed error; the prefix is added here and nowhere else."""
    return CommandError("ERR " + text)


def wrong_arity(name: str) -> CommandError:
    return err(f"wrong number of arguments for '{name}' command")


def text(value: bytes) -> str:
    """User bytes inside an error text: kept byte for byte, newlines made spaces as Valkey does."""
    return value.decode("utf-8", "surrogateescape").replace("\r", " ").replace("\n", " ")


def unknown_command(name: bytes, args: list[bytes]) -> CommandError:
    shown = ""
    for a in args:
        if len(shown) >= 128:
            break
        shown += "'" + text(a)[: 128 - len(shown)] + "' "
    return err(f"unknown command '{text(name)[:128]}', with args beginning with: {shown}")


def unknown_subcommand(sub: bytes, cmd: str) -> CommandError:
    return err(f"unknown subcommand '{text(sub)[:128]}'. Try {cmd.upper()} HELP.")


WRONGTYPE = CommandError("WRONGTYPE Operation against a key holding the wrong kind of value")
SYNTAX = err("syntax error")
NOT_INTEGER = err("value is not an integer or out of range")
NOT_FLOAT = err("value is not a valid float")
OVERFLOW = err("increment or decrement would overflow")
NO_SUCH_KEY = err("no such key")
SAME_OBJECT = err("source and destination objects are the same")
OUT_OF_RANGE = err("index out of range")
DB_INDEX = err("DB index is out of range")
INVALID_EXPIRE = "invalid expire time in '{}' command"
NOAUTH = CommandError("NOAUTH Authentication required.")
WRONGPASS = CommandError("WRONGPASS invalid username-password pair or user is disabled.")
BUSYKEY = CommandError("BUSYKEY Target key name already exists.")
STRING_TOO_LONG = err("string exceeds maximum allowed size (proto-max-bulk-len)")
TIMEOUT_NOT_FLOAT = err("timeout is not a float or out of range")
TIMEOUT_NEGATIVE = err("timeout is negative")
TIMEOUT_OUT_OF_RANGE = err("timeout is out of range")
UNBLOCKED = CommandError("UNBLOCKED client unblocked via CLIENT UNBLOCK")
UNBLOCK_REASON = err("CLIENT UNBLOCK reason should be TIMEOUT or ERROR")
OOM = CommandError("OOM command not allowed when used memory > 'maxmemory'.")
READONLY = CommandError("READONLY You can't write against a read only replica.")
LOADING = CommandError("LOADING Valkey is loading the dataset in memory")

# generic keyspace commands (commands/keys.py)
EXPIRE_NX_CONFLICT = err("NX and XX, GT or LT options at the same time are not compatible")
EXPIRE_GT_LT_CONFLICT = err("GT and LT options at the same time are not compatible")
INVALID_CURSOR = err("invalid cursor")
INVALID_FIRST_DB = err("invalid first DB index")
INVALID_SECOND_DB = err("invalid second DB index")
LFU_NOT_SELECTED = err("An LFU maxmemory policy is not selected, access frequency not tracked. Please note "
                       "that when switching between policies at runtime LRU and LFU data will take some "
                       "time to adjust.")
LFU_SELECTED = err("An LFU maxmemory policy is selected, idle time not tracked. Please note that when "
                   "switching between policies at runtime LRU and LFU data will take some time to adjust.")


def invalid_expire(cmd: str) -> CommandError:
    return err(INVALID_EXPIRE.format(cmd))


def unsupported_option(opt: bytes) -> CommandError:
    return err(f"Unsupported option {text(opt)}")


def unknown_type_name(name: bytes) -> CommandError:
    return err(f"unknown type name '{text(name)}'")


def subcommand_syntax(cmd: bytes, sub: bytes) -> CommandError:
    """Valkey's addReplySubcommandSyntaxError."""
    return err(f"unknown subcommand or wrong number of arguments for '{text(sub)[:128]}'. "
               f"Try {text(cmd).upper()} HELP.")


DECR_OVERFLOW = err("decrement would overflow")
NAN_OR_INFINITY = err("increment would produce NaN or Infinity")
OFFSET_OUT_OF_RANGE = err("offset is out of range")
LCS_NOT_STRINGS = err("The specified keys must contain string values")
LCS_LEN_AND_IDX = err("If you want both the length and indexes, please just use IDX.")
LCS_TOO_LONG = err("String too long for LCS")
LCS_TOO_MUCH_MEMORY = err("Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len")

# list commands (commands/list.py)
MUST_BE_POSITIVE = err("value is out of range, must be positive")
RANK_ZERO = err("RANK can't be zero: use 1 to start from the first match, 2 from the second ... "
                "or use negative to start from the end of the list")
COUNT_NEGATIVE = err("COUNT can't be negative")
MAXLEN_NEGATIVE = err("MAXLEN can't be negative")
NUMKEYS_NOT_POSITIVE = err("numkeys should be greater than 0")
COUNT_NOT_POSITIVE = err("count should be greater than 0")

# hash field expiration (commands/hash.py, Valkey 9)
NUMFIELDS_MISMATCH = err("numfields should be greater than 0 and match the provided number of fields")


def long_out_of_range(lo: int, hi: int) -> CommandError:
    """getRangeLongFromObjectOrReply's default message (Valkey's wording, 'must between')."""
    return err(f"value is out of range, value must between {lo} and {hi}")

# hyperloglog commands (commands/hyperloglog.py)
HLL_CORRUPT = CommandError("INVALIDOBJ Corrupted HLL object detected")
HLL_WRONGTYPE = CommandError("WRONGTYPE Key is not a valid HyperLogLog string value.")
PFDEBUG_NO_KEY = err("The specified key does not exist")
PFDEBUG_NOT_SPARSE = err("HLL encoding is not sparse")


def pfdebug_unknown(sub: bytes) -> CommandError:
    return err(f"Unknown PFDEBUG subcommand '{text(sub)}'")


def hll_selftest_failed(detail: str) -> CommandError:
    return err(f"TESTFAILED {detail}")


# bitmap commands (commands/bitmap.py)
BIT_OFFSET = err("bit offset is not an integer or out of range")
BIT_VALUE = err("bit is not an integer or out of range")
BITPOS_BIT = err("The bit argument must be 1 or 0.")
BITOP_NOT_ONE_KEY = err("BITOP NOT must be called with a single source key.")
BITFIELD_TYPE = err("Invalid bitfield type. Use something like i16 u8. Note that u64 is not "
                    "supported but i64 is.")
BITFIELD_OVERFLOW_TYPE = err("Invalid OVERFLOW type specified")
BITFIELD_RO_ONLY_GET = err("BITFIELD_RO only supports the GET subcommand")


def bitop_needs_two_keys(op: bytes) -> CommandError:
    return err(f"BITOP {text(op).upper()} must be called with at least two source keys.")


# sorted set commands (commands/zset.py) and SORT (commands/sort.py)
ZADD_XX_NX = err("XX and NX options at the same time are not compatible")
ZADD_GT_LT_NX = err("GT, LT, and/or NX options at the same time are not compatible")
ZADD_INCR_PAIR = err("INCR option supports a single increment-element pair")
ZSCORE_NAN = err("resulting score is not a number (NaN)")
MINMAX_NOT_FLOAT = err("min or max is not a float")
MINMAX_NOT_LEX = err("min or max not valid string range item")
WEIGHT_NOT_FLOAT = err("weight value is not a float")
LIMIT_NEGATIVE = err("LIMIT can't be negative")
ZRANGE_LIMIT_RANK = err("syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX")
ZRANGE_WITHSCORES_LEX = err("syntax error, WITHSCORES not supported in combination with BYLEX")
VALUE_OUT_OF_RANGE = err("value is out of range")
SORT_NOT_DOUBLE = err("One or more scores can't be converted into double")


def zset_needs_input_key(cmd: str) -> CommandError:
    return err(f"at least 1 input key is needed for '{cmd}' command")


# Pub/Sub and client-side caching (commands/pubsub.py, commands/tracking.py)
def pubsub_context(name: str) -> CommandError:
    """A RESP2 client in subscribed mode sent a command outside the allowed few."""
    return err(f"Can't execute '{name}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET "
               "are allowed in this context")


def nosub(name: str) -> CommandError:
    return CommandError(f"NOSUB '{name}' command executed not in subscribed mode")


def subscribe_denied(name: str) -> CommandError:
    """SUBSCRIBE and friends from a client that expects one reply per command (MULTI, scripts)."""
    return err(f"{name} isn't allowed for a DENY BLOCKING client")


PREFIX_NEEDS_BCAST = err("PREFIX option requires BCAST mode to be enabled")
TRACKING_ONE_REDIRECT = err("A client can only redirect to a single other client")
TRACKING_NO_SUCH_CLIENT = err("The client ID you want redirect to does not exist")
TRACKING_BCAST_SWITCH = err("You can't switch BCAST mode on/off before disabling tracking for this client, "
                            "and then re-enabling it with a different mode.")
TRACKING_BCAST_OPTS = err("OPTIN and OPTOUT are not compatible with BCAST")
TRACKING_OPTIN_OPTOUT = err("You can't specify both OPTIN mode and OPTOUT mode")
TRACKING_OPT_SWITCH = err("You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, "
                          "and then re-enabling it with a different mode.")
CACHING_NOT_TRACKING = err("CLIENT CACHING can be called only when the client is in tracking mode with OPTIN "
                           "or OPTOUT mode enabled")
CACHING_YES_NEEDS_OPTIN = err("CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.")
CACHING_NO_NEEDS_OPTOUT = err("CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.")


def prefix_overlap(new: bytes, other: bytes, existing: bool) -> CommandError:
    which = "an existing prefix" if existing else "another provided prefix"
    return err(f"Prefix '{text(new)}' overlaps with {which} '{text(other)}'. "
               "Prefixes for a single client must not overlap.")

# stream commands (commands/stream.py)
INVALID_STREAM_ID = err("Invalid stream ID specified as stream command argument")
XADD_ID_ZERO = err("The ID specified in XADD must be greater than 0-0")
XADD_ID_TOO_SMALL = err("The ID specified in XADD is equal or smaller than the target stream top item")
STREAM_EXHAUSTED = err("The stream has exhausted the last possible ID, unable to add more items")
STREAM_ELEMENTS_TOO_LARGE = err("Elements are too large to be stored")
TRIM_BOTH_STRATEGIES = err("syntax error, MAXLEN and MINID options at the same time are not compatible")
TRIM_MAXLEN_NEGATIVE = err("The MAXLEN argument must be >= 0.")
TRIM_LIMIT_NEGATIVE = err("The LIMIT argument must be >= 0.")
TRIM_LIMIT_NO_STRATEGY = err("syntax error, LIMIT cannot be used without specifying a trimming strategy")
TRIM_LIMIT_NO_APPROX = err("syntax error, LIMIT cannot be used without the special ~ option")
XTRIM_NO_STRATEGY = err("syntax error, XTRIM must be called with a trimming strategy")
INVALID_START_INTERVAL = err("invalid start ID for the interval")
INVALID_END_INTERVAL = err("invalid end ID for the interval")
TIMEOUT_NOT_INTEGER = err("timeout is not an integer or out of range")
XREAD_GROUP_OPTION = err("The GROUP option is only supported by XREADGROUP. You called XREAD instead.")
XREAD_NOACK_OPTION = err("The NOACK option is only supported by XREADGROUP. You called XREAD instead.")
XREADGROUP_NO_GROUP = err("Missing GROUP option for XREADGROUP")
XREADGROUP_DOLLAR = err("The $ ID is meaningless in the context of XREADGROUP: you want to read the history of "
                        "this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID "
                        "would just return an empty result set.")
XREADGROUP_PLUS = err("The + ID is meaningless in the context of XREADGROUP: you want to read the history of "
                      "this consumer by specifying a proper ID, or use the > ID to get new messages. The + ID "
                      "would just return an empty result set.")
XREAD_GT_ID = err("The > ID can be specified only when calling XREADGROUP using the GROUP <group> "
                  "<consumer> option.")
XREAD_LAST_ID_ZERO = err("the stream last element ID is 0-0")
ENTRIESREAD_RANGE = err("value for ENTRIESREAD must be positive or -1")
XGROUP_NEEDS_KEY = err("The XGROUP subcommand requires the key to exist. Note that for CREATE you may want "
                       "to use the MKSTREAM option to create an empty stream automatically.")
BUSYGROUP = CommandError("BUSYGROUP Consumer Group name already exists")
ENTRIES_ADDED_NEGATIVE = err("entries_added must be positive")
XSETID_BELOW_GIVEN_MAXDELETED = err("The ID specified in XSETID is smaller than the provided "
                                    "max_deleted_entry_id")
XSETID_BELOW_MAXDELETED = err("The ID specified in XSETID is smaller than current max_deleted_entry_id")
XSETID_BELOW_TOP = err("The ID specified in XSETID is smaller than the target stream top item")
XSETID_ADDED_BELOW_LENGTH = err("The entries_added specified in XSETID is smaller than the target stream length")
XCLAIM_MIN_IDLE = err("Invalid min-idle-time argument for XCLAIM")
XCLAIM_IDLE = err("Invalid IDLE option argument for XCLAIM")
XCLAIM_TIME = err("Invalid TIME option argument for XCLAIM")
XCLAIM_RETRYCOUNT = err("Invalid RETRYCOUNT option argument for XCLAIM")
XAUTOCLAIM_MIN_IDLE = err("Invalid min-idle-time argument for XAUTOCLAIM")
XAUTOCLAIM_COUNT = err("COUNT must be > 0")


def unbalanced_streams(cmd: str, symbol: str) -> CommandError:
    return err(f"Unbalanced '{cmd}' list of streams: for each stream key an ID or '{symbol}' must be specified.")


def nogroup_xreadgroup(key: bytes, group: bytes) -> CommandError:
    return CommandError(f"NOGROUP No such key '{text(key)}' or consumer group '{text(group)}' in XREADGROUP "
                        "with GROUP option")


def nogroup_key_or_group(key: bytes, group: bytes) -> CommandError:
    return CommandError(f"NOGROUP No such key '{text(key)}' or consumer group '{text(group)}'")


def nogroup_for_key(group: bytes, key: bytes) -> CommandError:
    return CommandError(f"NOGROUP No such consumer group '{text(group)}' for key name '{text(key)}'")


def xclaim_unknown_option(opt: bytes) -> CommandError:
    return err(f"Unrecognized XCLAIM option '{text(opt)}'")


# transactions, MONITOR, CLIENT PAUSE (commands/transactions.py, commands/monitor.py, engine/pause.py)
NOT_ALLOWED_IN_MULTI = err("Command not allowed inside a transaction")
EXEC_WITHOUT_MULTI = err("EXEC without MULTI")
DISCARD_WITHOUT_MULTI = err("DISCARD without MULTI")
EXECABORT = CommandError("EXECABORT Transaction discarded because of previous errors.")
REPLICA_KEYSPACE = err("Replica can't interact with the keyspace")
MONITOR_DENY_BLOCKING = err("MONITOR isn't allowed for DENY BLOCKING client")
PAUSE_MODE = err("CLIENT PAUSE mode must be WRITE or ALL")


def execabort_because(error: CommandError) -> CommandError:
    """A rejected EXEC (execCommandAbort): the transaction is gone, the reason is kept, as
    Valkey formats it (its own rejections carry no ``ERR`` code: "wrong number of ...")."""
    reason = error.message[4:] if error.message.startswith("ERR ") else error.message
    return CommandError("EXECABORT Transaction discarded because of: " + reason)


# persistence and replication (commands/persistence.py, commands/replication.py)
BARE_ERR = CommandError("ERR")                 # Valkey's shared.err: a save that failed
DUMP_PAYLOAD = err("DUMP payload version or checksum are wrong")
BAD_DATA_FORMAT = err("Bad data format")
INVALID_TTL = err("Invalid TTL value, must be >= 0")
INVALID_IDLETIME = err("Invalid IDLETIME value, must be >= 0")
INVALID_FREQ = err("Invalid FREQ value, must be >= 0 and <= 255")
BGSAVE_IN_PROGRESS = err("Background save already in progress")
DEBUG_RELOAD_OPTIONS = err("DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.")
RELOAD_FAILED = err("Error trying to load the RDB dump, check server logs.")
SHUTDOWN_FAILED = err("Errors trying to SHUTDOWN. Check logs.")
BGSAVE_OTHER_CHILD = err("Another child process is active (AOF?): can't BGSAVE right now. "
                         "Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible.")
AOFRW_IN_PROGRESS = err("Background append only file rewriting already in progress")
AOFRW_FAILED = err("Can't execute an AOF background rewriting. Please check the server logs for more information.")


def replconf_unknown_option(opt: bytes) -> CommandError:
    return err(f"Unrecognized REPLCONF option: {text(opt)}")


# the replica side of replication (pykey/replication/replica.py, commands/replication.py)
NOMASTERLINK = CommandError("NOMASTERLINK Can't SYNC while not connected with my master")
REPLICAOF_IN_CLUSTER = err("REPLICAOF not allowed in cluster mode.")
REPLICAOF_BY_REPLICA = err("Command is not valid when client is a replica.")
INVALID_PRIMARY_PORT = err("Invalid master port")
UNBLOCKED_NOW_REPLICA = CommandError("UNBLOCKED force unblock from blocking operation, instance state changed "
                                     "(master -> replica?)")
WAIT_ON_REPLICA = err("WAIT cannot be used with replica instances. Please also note that if a replica is configured "
                      "to be writable (which is not the default) writes to replicas are just local and are not "
                      "propagated.")
WAITAOF_ON_REPLICA = err("WAITAOF cannot be used with replica instances. Please also note that writes to replicas "
                         "are just local and are not propagated.")


# scripting and functions (commands/scripting.py, commands/functions.py, pykey/scripting)
NOSCRIPT = CommandError("NOSCRIPT No matching script. Please use EVAL.")
NOTBUSY = CommandError("NOTBUSY No scripts in execution right now.")
BUSY_EVAL = CommandError("BUSY Valkey is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.")
BUSY_FUNCTION = CommandError("BUSY Valkey is busy running a script. You can only call FUNCTION KILL or "
                             "SHUTDOWN NOSAVE.")
UNKILLABLE_WRITES = CommandError("UNKILLABLE Sorry the script already executed write commands against the "
                                 "dataset. You can either wait the script termination or kill the server in a "
                                 "hard way using the SHUTDOWN NOSAVE command.")
UNKILLABLE_PRIMARY = CommandError("UNKILLABLE The busy script was sent by a master instance in the context of "
                                  "replication and cannot be killed.")
NOREPLICAS = CommandError("NOREPLICAS Not enough good replicas to write.")
MASTERDOWN = CommandError("MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.")
NUMKEYS_GREATER = err("Number of keys can't be greater than number of args")
NUMKEYS_NEGATIVE = err("Number of keys can't be negative")
SCRIPT_FLUSH_MODE = err("SCRIPT FLUSH only support SYNC|ASYNC option")
SCRIPT_MASTERDOWN = CommandError("MASTERDOWN Link with MASTER is down, replica-serve-stale-data is set to 'no' "
                                 "and 'allow-stale' flag is not set on the script.")
SCRIPT_READONLY_REPLICA = CommandError("READONLY Can not run script with write flag on readonly replica")
SCRIPT_OOM = CommandError("OOM allow-oom flag is not set on the script, can not run it when used memory > "
                          "'maxmemory'")
SCRIPT_NO_CLUSTER = "Can not run script on cluster, 'no-cluster' flag is set."
SCRIPT_WRITE_FLAG_RO = "Can not execute a script with write flag using *_ro command."
# what server.call raises (Lua error tables; the ERR prefix is added there)
SCRIPT_CALL_OUTSIDE = "ERR server.call can only be used while a script runs"
SCRIPT_NO_ARGS = "Please specify at least one argument for this call"
SCRIPT_BAD_ARGS = "Command arguments must be strings or integers"
SCRIPT_WRONG_ARITY = "Wrong number of args calling command from script"
SCRIPT_UNKNOWN_COMMAND = "Unknown command called from script"
SCRIPT_NOSCRIPT_COMMAND = "This Redis command is not allowed from script"
SCRIPT_STALE_COMMAND = "Can not execute the command on a stale replica"
SCRIPT_WRITE_IN_READONLY = "Write commands are not allowed from read-only scripts."
FUNCTION_NOT_FOUND = err("Function not found")
FUNCTION_BAD_NUMKEYS = err("Bad number of keys provided")
FUNCTION_FLUSH_MODE = err("FUNCTION FLUSH only supports SYNC|ASYNC option")
FUNCTION_CODE_MISSING = err("Function code is missing")
LIBRARY_NOT_FOUND = err("Library not found")
LIBRARY_NAME_MISSING_ARG = err("library name argument was not given")
RESTORE_POLICY = err("Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.")
RESTORE_PAYLOAD = err("DUMP payload version or checksum are wrong")
LIBRARY_NAME_FORMAT = ("Library names can only contain letters, numbers, or underscores(_) and must be at "
                       "least one character long")


def function_load_option(opt: bytes) -> CommandError:
    return err(f"Unknown option given: {text(opt)}")


def function_list_argument(arg: bytes) -> CommandError:
    return err(f"Unknown argument {text(arg)}")


# geo commands (commands/geo.py)
GEO_UNIT = err("unsupported unit provided. please use M, KM, FT, MI")
GEO_NEED_RADIUS = err("need numeric radius")
GEO_NEGATIVE_RADIUS = err("radius cannot be negative")
GEO_NEED_WIDTH = err("need numeric width")
GEO_NEED_HEIGHT = err("need numeric height")
GEO_NEGATIVE_BOX = err("height or width cannot be negative")
GEO_MEMBER_DECODE = err("could not decode requested zset member")
GEO_COUNT = err("COUNT must be > 0")
GEO_ANY_NEEDS_COUNT = err("the ANY argument requires COUNT argument")


def geo_invalid_pair(lon: float, lat: float) -> CommandError:
    return err(f"invalid longitude,latitude pair {lon:f},{lat:f}")


def geo_store_incompatible(what: str) -> CommandError:
    return err(f"{what} is not compatible with WITHDIST, WITHHASH and WITHCOORD options")


def geo_need_center(name: str) -> CommandError:
    return err(f"exactly one of FROMMEMBER or FROMLONLAT can be specified for {name}")


def geo_need_shape(name: str) -> CommandError:
    return err(f"exactly one of BYRADIUS and BYBOX can be specified for {name}")
