"""The probe-heap commands: one prefix command and its subcommands, shared
by gdb (probe-heap ...) and the command line (bin/probe-heap)."""

import glob
import inspect
import os
import re
import shlex

import gdb

import _probeheap

from . import (alloc, backrefs, dominators, info, leaks, objects, partition, report, sizes,
               snapshot, state, suspects, target, threads)
from .options import CommandError, UsageError, did_you_mean, error_sentence, version


SUBCOMMANDS = {
    "partition": partition.cmd_partition,
    "more": partition.cmd_more,
    "info": info.cmd_info,
    "sizeof": sizes.cmd_sizeof,
    "dominators": dominators.cmd_dominators,
    "threads": threads.cmd_threads,
    "backrefs": backrefs.cmd_backrefs,
    "referrers": backrefs.cmd_referrers,
    "referents": backrefs.cmd_referents,
    "objects": backrefs.cmd_objects,
    "leaks": leaks.cmd_leaks,
    "alloc": alloc.cmd_alloc,
    "snapshot": snapshot.cmd_snapshot,
    "diff": snapshot.cmd_diff,
    "report": report.cmd_report,
    "suspects": suspects.cmd_suspects,
}


# One line per subcommand for the overviews (gdb's 'help probe-heap' and --help).
SYNOPSES = [
    ("partition [--by kind|type|size|module|rcs|via] [--all]", "heapy's table"),
    ("partition --kind KIND --by rcs|via|type|...", "heapy's drill-down: one kind's objects"),
    ("more", "the next rows of the last table (gdb only)"),
    ("info", "version, layout, threads, objects, walk time"),
    ("threads [--locals]", "every Python thread and its stack (like py-bt)"),
    ("sizeof OBJ", "flat, deep and retained size of one object"),
    ("dominators [OBJ] [--depth N] [--limit N]", "what keeps the most memory alive"),
    ("backrefs OBJ [--all N] [--dot|--svg|--png FILE]", "why it is alive: chains from a root"),
    ("backrefs OBJ --graph [--depth N] --svg FILE", "objgraph's show_backrefs"),
    ("referrers OBJ, referents OBJ", "its references, labelled"),
    ("referents OBJ --depth N --svg FILE", "objgraph's show_refs"),
    ("objects KIND [--limit N] [--min-size B]", "the objects of one kind or type"),
    ("snapshot FILE, diff FILE", "save the partition; what grew since"),
    ("suspects [--min PCT] [--limit N]", "leak suspects, as Eclipse MAT finds them"),
    ("leaks [--all]", "allocated but unreachable: leaked, garbage"),
    ("alloc", "pymalloc's arenas, pools and blocks; where RSS goes"),
    ("report FILE [--against SNAPSHOT|CORE]", "one HTML page: summary, flame graph, tables"),
    ("help [SUBCOMMAND]", "this overview, or one subcommand's help"),
]

OBJ_HELP = """OBJ is a hex address, a module by name (__main__), a Python path from a module
(__main__:cache._store['k'][3]) or a gdb expression yielding a PyObject *."""


def synopses(prefix, width=44):
    """SYNOPSES in two columns; a long synopsis has its text on the next line."""
    lines = []
    for s, d in SYNOPSES:
        if len(prefix + s) < width:
            lines.append("%-*s%s" % (width, prefix + s, d))
        else:
            lines += [prefix + s, " " * width + d]
    return "\n".join(lines)


def help_of(name):
    """The help text of one subcommand: its function's docstring."""
    if name == "help":
        return "The overview of probe-heap, or the help of one subcommand.\n\nUsage: probe-heap help [SUBCOMMAND]"
    return inspect.cleandoc(SUBCOMMANDS[name].__doc__)


def usage_line(name):
    return next((l for l in help_of(name).splitlines() if l.startswith("Usage:")), "")


def options_of(name):
    """A subcommand's options, as its help's usage line names them."""
    return sorted(set(re.findall(r"--[\w-]+", usage_line(name))) | {"--help"})


def values_of(name, option):
    """The values an option takes, when its usage names them (--by kind|type|...)."""
    m = re.search(r"%s ((?:[\w]+\|)+[\w]+)" % re.escape(option), usage_line(name))
    return m.group(1).split("|") if m else []


# The options that take a file name, and the subcommands whose argument is one.
FILE_OPTIONS = ("--dot", "--svg", "--png", "--against")
FILE_ARGUMENT = ("snapshot", "diff", "report")


def complete(sub, text, word):
    """gdb's completion of 'probe-heap SUB TEXT': options, option values, file
    names, subcommand names (help) and kinds (objects, from the index if one
    is built: completion never walks).  Returns a list or a gdb.COMPLETE_*."""
    if word is None:  # gdb asks for the word's break characters first: its defaults
        return None
    tokens = text.split()
    cur = tokens.pop() if text and not text[-1].isspace() else ""
    prev = tokens[-1] if tokens else ""
    values = values_of(sub, prev) if prev.startswith("--") else []
    kind = re.search(r"(?:^|\s)--kind\s+(.*)$", text) if sub == "partition" else None
    if kind and not re.search(r"\s-", kind.group(1)):
        # a kind of the index (completion never walks), quoted when it has blanks
        h = state.cached()
        if h is None:
            return []
        cur = kind.group(1)
        q = cur[:1] if cur[:1] in "'\"" else ""
        candidates = [q + k + q if q else ("'%s'" % k if " " in k else k) for k in _kinds(h)]
    elif prev in FILE_OPTIONS or (sub in FILE_ARGUMENT and not cur.startswith("-")):
        # file names, done here: gdb's own file completer, returned as
        # gdb.COMPLETE_FILENAME, finds nothing after an option like --dot
        candidates = [p + "/" if os.path.isdir(p) else p for p in glob.glob(glob.escape(cur) + "*")]
    elif values:
        candidates = values
    elif cur.startswith("-"):
        candidates = options_of(sub)
    elif sub == "help" and not tokens:
        candidates = list(SUBCOMMANDS) + ["help"]
    elif sub == "objects" and not any(t.startswith("-") for t in tokens):
        h = state.cached()
        if h is None:
            return []
        cur = text.lstrip()  # a kind may hold blanks: all of it is the kind
        candidates = _kinds(h)
    elif re.search(r"\bOBJ\b", usage_line(sub)) and not cur.startswith("-") and not _positionals(sub, tokens):
        # OBJ: module names, then a module's names, then each step's
        # attributes and keys, from the index if one is built
        h = state.cached()
        if h is None:
            return []
        quote = re.search(r"\[(['\"])(?:(?!\1).)*$", cur)
        if quote and quote.group(1) == '"':
            # the references' labels quote keys with ': ask in those, answer in "
            at = quote.start()
            candidates = ['%s["%s"]' % (c[:at], c[at + 2:-2])
                          for c in objects.path_candidates(h, cur[:at] + "['" + cur[at + 2:])
                          if c.endswith("']") and '"' not in c[at:]]
        else:
            candidates = objects.path_candidates(h, cur)
        if quote and quote.group(1) == "'":
            # inside a key's single quotes (one of gdb's quote characters) gdb's
            # word starts after the quote, and gdb closes the quote itself:
            # the candidate stops before it
            candidates = [c[:-2] for c in candidates if c.endswith("]")]
    else:
        return []
    # gdb's word starts after its last break character ('-', '.', ' ', ...):
    # each completion is the rest of the candidate from there.
    start = len(cur) - len(word)
    return sorted(c[start:] for c in candidates if c.startswith(cur))


def _kinds(h):
    """The kinds and type names of the index's partition."""
    return {r[0] for r in h.partition("kind").rows()} | {r[1] for r in h.partition("type").rows()}


def _positionals(sub, tokens):
    """The arguments among tokens that are neither options nor their values
    (an option whose usage names a value, like '--depth N', takes the next)."""
    valued = set(re.findall(r"(--[\w-]+) [A-Z]", usage_line(sub)))
    out, skip = [], False
    for t in tokens:
        if skip:
            skip = False
        elif t.startswith("-"):
            skip = t in valued
        else:
            out.append(t)
    return out


def _known(name):
    """name when it is a subcommand, else a UsageError with a guess."""
    if name in SUBCOMMANDS or name == "help":
        return name
    raise UsageError("unknown subcommand %r%s" % (name, did_you_mean(name, list(SUBCOMMANDS) + ["help"])
                                                  or ": choose one of %s" % ", ".join(SUBCOMMANDS)))


def wants_help(argv):
    """The subcommand whose help argv asks for ('help CMD', 'CMD --help'), '' for
    the overview ('help'), None when it asks for none."""
    if not argv:
        return None
    if argv[0] == "help":
        if len(argv) > 2:
            raise UsageError("help takes one subcommand at most")
        if argv[1:] in (["--help"], ["-h"]):
            return "help"
        return _known(argv[1]) if len(argv) == 2 else ""
    if "--help" in argv[1:] or "-h" in argv[1:]:
        return _known(argv[0])
    return None


def dispatch(argv, as_json=False, overview=None):
    """Runs a subcommand; returns its output text.  Raises UsageError,
    target.TargetError or _probeheap.Error with one sentence.  overview()
    gives the text of 'help' alone."""
    if not argv:
        raise UsageError("which subcommand? one of: %s" % ", ".join(SUBCOMMANDS))
    name = wants_help(argv)
    if name is not None:
        return help_of(name) if name else overview()
    return SUBCOMMANDS[_known(argv[0])](argv[1:], as_json)


# Errors that are the user's or the target's, said in one sentence.
EXPECTED_ERRORS = (UsageError, CommandError, target.TargetError, _probeheap.Error, objects.ObjError,
                   ValueError)


def gdb_overview():
    return ("""Where the memory of a CPython process went, from outside the process.

%s

%s

It works on a live process (gdb -p PID) or a core file (gdb PYTHON CORE)
of CPython 3.8 to 3.14 (3.15 and newer through their _Py_DebugOffsets),
with or without debug symbols; nothing runs in the target.  Add --json to any subcommand but more for one JSON document.
'probe-heap help SUBCOMMAND' or 'probe-heap SUBCOMMAND --help' for one
subcommand; 'probe-heap --version' for the version.""" % (synopses("probe-heap "), OBJ_HELP))


class _Sub(gdb.Command):
    def __init__(self, name):
        self.__doc__ = help_of(name)
        self.sub = name
        super().__init__("probe-heap " + name, gdb.COMMAND_DATA)

    def invoke(self, arg, from_tty):
        if self.sub != "more":  # Enter after 'more' shows the next page, as after 'list'
            self.dont_repeat()
        try:
            text = dispatch([self.sub] + shlex.split(arg), overview=gdb_overview)
        except EXPECTED_ERRORS as e:
            raise gdb.GdbError("probe-heap: " + error_sentence(e))
        except KeyboardInterrupt:
            raise gdb.GdbError("probe-heap: interrupted; nothing was kept")
        gdb.write(text if text.endswith("\n") else text + "\n")

    def complete(self, text, word):
        return complete(self.sub, text, word)


class ProbeHeap(gdb.Command):
    def __init__(self):
        self.__doc__ = gdb_overview()
        super().__init__("probe-heap", gdb.COMMAND_DATA, prefix=True)

    def invoke(self, arg, from_tty):
        self.dont_repeat()
        words = arg.split()
        if not words or words[0] in ("--help", "-h"):
            gdb.write(gdb_overview() + "\n")
        elif words[0] == "--version":
            gdb.write("probe-heap %s\n" % version())
        elif words[0].startswith("-"):
            raise gdb.GdbError("probe-heap: unknown option %s%s" % (
                words[0], did_you_mean(words[0], ["--help", "--version"])))
        else:
            try:
                _known(words[0])
            except UsageError as e:
                raise gdb.GdbError("probe-heap: %s" % e)


def register():
    ProbeHeap()
    for name in list(SUBCOMMANDS) + ["help"]:
        _Sub(name)
