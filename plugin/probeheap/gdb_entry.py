"""Loaded by gdbinit: registers the commands once."""

from . import commands

_registered = False


def load():
    global _registered
    if not _registered:
        commands.register()
        _registered = True
