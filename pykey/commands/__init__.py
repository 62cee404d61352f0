"""One module per command group; importing this package registers every command.

Every module of this package is imported (in name order), so adding a command group is
adding a file: nothing else to edit.
"""
from __future__ import annotations

import importlib
import pkgutil

for _info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
    importlib.import_module(f"{__name__}.{_info.name}")
