"""Function libraries (FUNCTION LOAD): the store, the ``#!lua name=...`` metadata, loading a
library's code so it registers its functions, and the FUNCTION DUMP payload.

The store is ``server.functions``: a dict of library name -> :class:`Library` (library
names are case-sensitive), with an index of function names that is case-insensitive, as
Valkey's two dictionaries are. RDB persistence reads the libraries' ``code`` from it and
loads code back through :func:`load_code`.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .. import errors
from ..protocol.parser import split_args
from .libs import LuaRaise
from .run import FLAG_BY_NAME, FLAG_NAMES

if TYPE_CHECKING:
    from .runtime import LuaEngine

LOAD_TIMEOUT_MS = 500
ENGINE_NAME = "LUA"


class LibraryError(Exception):
    """A library that cannot be loaded; the text is Valkey's (without ``ERR``)."""


class Function:
    __slots__ = ("name", "fn", "desc", "flags", "library")

    def __init__(self, name: bytes, fn: Any, desc: bytes | None, flags: int, library: Library) -> None:
        self.name = name
        self.fn = fn
        self.desc = desc
        self.flags = flags
        self.library = library

    def flag_names(self) -> list[bytes]:
        return [name.encode() for name, bit in FLAG_NAMES if self.flags & bit]


class Library:
    __slots__ = ("name", "engine", "code", "functions")

    def __init__(self, name: bytes, code: bytes) -> None:
        self.name = name
        self.engine = ENGINE_NAME
        self.code = code                         # the whole text, metadata line included
        self.functions: dict[bytes, Function] = {}


class Libraries(dict):
    """Library name -> Library, plus ``by_function``: lower-cased function name -> Function."""

    def __init__(self) -> None:
        super().__init__()
        self.by_function: dict[bytes, Function] = {}

    def clear(self) -> None:
        super().clear()
        self.by_function.clear()

    def link(self, lib: Library) -> None:
        self[lib.name] = lib
        for f in lib.functions.values():
            self.by_function[f.name.lower()] = f

    def unlink(self, lib: Library) -> None:
        del self[lib.name]
        for f in lib.functions.values():
            self.by_function.pop(f.name.lower(), None)

    def function_count(self) -> int:
        return len(self.by_function)


def valid_name(name: bytes) -> bool:
    """[a-zA-Z0-9_]+, the rule for library and function names."""
    return bool(name) and all(c == 95 or 48 <= c <= 57 or 65 <= c <= 90 or 97 <= c <= 122 for c in name)


def parse_metadata(code: bytes) -> tuple[bytes, bytes, bytes]:
    """(engine, library name, code after the metadata line) of ``#!<engine> name=<name>``."""
    if not code.startswith(b"#!"):
        raise LibraryError("Missing library metadata")
    text = code.split(b"\0", 1)[0]                # the C code reads up to a NUL
    nl = text.find(b"\n")
    if nl < 0:
        raise LibraryError("Invalid library metadata")
    parts = split_args(text[:nl])
    if not parts:
        raise LibraryError("Invalid library metadata")
    engine = parts[0][2:]
    name = None
    for part in parts[1:]:
        if part[:5].lower() == b"name=":
            if name is not None:
                raise LibraryError("Invalid metadata value, name argument was given multiple times")
            name = part[5:]
            continue
        raise LibraryError(f"Invalid metadata value given: {errors.text(part)}")
    if name is None:
        raise LibraryError("Library name was not given")
    return engine, name, code[nl:]


def create(engine: LuaEngine, libs: Libraries, code: bytes, replace: bool, timeout_ms: int) -> bytes:
    """Valkey's functionsCreateWithLibraryCtx: compile and load ``code`` into ``libs``;
    returns the library name; LibraryError when refused (``libs`` is then unchanged)."""
    engine_name, name, body = parse_metadata(code)
    if not valid_name(name):
        raise LibraryError(errors.LIBRARY_NAME_FORMAT)
    if engine_name.upper() != ENGINE_NAME.encode():
        raise LibraryError(f"Engine '{errors.text(engine_name)}' not found")
    old = libs.get(name)
    if old is not None and not replace:
        raise LibraryError(f"Library '{errors.text(name)}' already exists")
    if old is not None:
        libs.unlink(old)
    try:
        lib = Library(name, code)
        fn, err = engine.compile(body, b"@user_function")
        if fn is None:
            raise LibraryError("Error compiling function: " + err.decode("utf-8", "surrogateescape"))
        failure = engine.load_library(fn, lib, timeout_ms)
        if failure is not None:
            raise LibraryError("Error registering functions: " + failure.decode("utf-8", "surrogateescape"))
        if not lib.functions:
            raise LibraryError("No functions registered")
        for f in lib.functions.values():
            if f.name.lower() in libs.by_function:
                raise LibraryError(f"Function {errors.text(f.name)} already exists")
    except LibraryError:
        if old is not None:
            libs.link(old)
        raise
    libs.link(lib)
    return name


def join(dst: Libraries, src: Libraries, replace: bool) -> None:
    """Valkey's libraryJoin (FUNCTION RESTORE APPEND/REPLACE): all of ``src`` or nothing."""
    replaced = []
    try:
        for lib in src.values():
            old = dst.get(lib.name)
            if old is not None:
                if not replace:
                    raise LibraryError(f"Library {errors.text(lib.name)} already exists")
                dst.unlink(old)
                replaced.append(old)
        for f in src.by_function.values():
            if f.name.lower() in dst.by_function:
                raise LibraryError(f"Function {errors.text(f.name)} already exists")
    except LibraryError:
        for old in replaced:
            dst.link(old)
        raise
    for lib in list(src.values()):
        dst.link(lib)


# ---------------------------------------------------------------------- register_function
def _string(v: Any) -> bytes | None:
    """luaGetStringSds: strings, and numbers as Lua prints them."""
    if isinstance(v, bytes):
        return v
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return b"%.14g" % v
    return None


def _raise(text: str) -> None:
    raise LuaRaise(b"ERR " + text.encode(), table=True)


def register_from_lua(engine: LuaEngine, lib: Library, args: tuple) -> None:
    """``server.register_function(name, callback)`` or ``server.register_function{...}``."""
    if len(args) < 1 or len(args) > 2:
        _raise("wrong number of arguments to server.register_function")
    if len(args) == 1:
        name, fn, desc, flags = _named_args(engine, args[0])
    else:
        name = _string(args[0])
        if name is None:
            _raise("first argument to server.register_function must be a string")
        fn = args[1]
        if not engine.is_function(fn):
            _raise("second argument to server.register_function must be a function")
        desc, flags = None, 0
    if not valid_name(name):
        _raise(errors.LIBRARY_NAME_FORMAT)
    if name in lib.functions:
        _raise("Function already exists in the library")
    lib.functions[name] = Function(name, fn, desc, flags, lib)


def _named_args(engine: LuaEngine, table: Any) -> tuple[bytes, Any, bytes | None, int]:
    from lupa import lua51
    if lua51.lua_type(table) != "table":
        _raise("calling server.register_function with a single argument is only applicable to Lua table "
               "(representing named arguments).")
    name = desc = fn = None
    flags = 0
    for key, value in table.items():
        k = _string(key)
        if k is None:
            _raise("named argument key given to server.register_function is not a string")
        k = k.lower()
        if k == b"function_name":
            name = _string(value)
            if name is None:
                _raise("function_name argument given to server.register_function must be a string")
        elif k == b"description":
            desc = _string(value)
            if desc is None:
                _raise("description argument given to server.register_function must be a string")
        elif k == b"callback":
            if not engine.is_function(value):
                _raise("callback argument given to server.register_function must be a function")
            fn = value
        elif k == b"flags":
            if lua51.lua_type(value) != "table":
                _raise("flags argument to server.register_function must be a table representing function flags")
            flags = _read_flags(value)
        else:
            _raise("unknown argument given to server.register_function")
    if name is None:
        _raise("server.register_function must get a function name argument")
    if fn is None:
        _raise("server.register_function must get a callback argument")
    return name, fn, desc, flags


def _read_flags(table: Any) -> int:
    flags = 0
    j = 1
    while True:
        v = table[j]
        if v is None:
            return flags
        s = _string(v)
        bit = FLAG_BY_NAME.get(s.lower()) if s is not None else None
        if bit is None:
            _raise("unknown flag given")
        flags |= bit
        j += 1


# ---------------------------------------------------------------------- FUNCTION DUMP / RESTORE
def dump(libs: Libraries, compress: bool = True) -> bytes:
    """The FUNCTION DUMP payload: for each library the RDB_OPCODE_FUNCTION2 opcode and its
    code as an RDB string, then the RDB version (2 bytes) and a CRC64 (8 bytes), little
    endian; Valkey's FUNCTION RESTORE and RESTORE-style checks accept it."""
    from ..persistence.crc64 import crc64
    from ..persistence.encoding import OPCODE_FUNCTION2, RDB_VERSION, RdbWriter
    w = RdbWriter(compress=compress)
    for lib in libs.values():
        w.byte(OPCODE_FUNCTION2)
        w.string(lib.code)
    payload = bytes(w.buf) + RDB_VERSION.to_bytes(2, "little")
    return payload + crc64(payload).to_bytes(8, "little")


def restore_codes(payload: bytes) -> list[bytes]:
    """The library codes in a FUNCTION DUMP payload; LibraryError as Valkey words it."""
    from ..persistence.crc64 import crc64
    from ..persistence.encoding import (
        OPCODE_FUNCTION2,
        OPCODE_FUNCTION_PRE_GA,
        RDB_VERSION,
        RdbError,
        RdbReader,
    )
    if len(payload) < 10:
        raise LibraryError("DUMP payload version or checksum are wrong")
    footer = payload[-10:]
    if int.from_bytes(footer[:2], "little") > RDB_VERSION or \
            crc64(payload[:-8]) != int.from_bytes(footer[2:], "little"):
        raise LibraryError("DUMP payload version or checksum are wrong")
    r = RdbReader(payload, 0, len(payload))
    codes = []
    while len(payload) - r.pos > 10:
        try:
            t = r.byte()
        except RdbError:
            raise LibraryError("can not read data type") from None
        if t == OPCODE_FUNCTION_PRE_GA:
            raise LibraryError("Pre-GA function format not supported")
        if t != OPCODE_FUNCTION2:
            raise LibraryError("given type is not a function")
        try:
            codes.append(r.string())
        except RdbError:
            raise LibraryError("Failed loading library payload") from None
    return codes
