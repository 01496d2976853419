"""The probe-heap commands: one prefix command and its subcommands, shared
by gdb (probe-heap ...) and the command line (bin/probe-heap)."""

import json
import shlex

import gdb

import _probeheap

from . import objects, state, target

PAGE = 10

# The last column's title, as heapy names it for each partition.
HEADERS = {
    "kind": "Kind (class / dict of class)",
    "type": "Type",
    "size": "Individual Size",
    "module": "Module",
    "rcs": "Referrers by Kind (class / dict of class)",
    "via": "Referred Via:",
}


class UsageError(Exception):
    """A command used wrongly (exit status 2)."""


class CommandError(Exception):
    """A command that could not do what was asked: a file it cannot read or
    write, a tool it needs that is missing (exit status 1)."""


def _options(argv, flags, valued, as_json):
    """Tiny option parser for a subcommand: returns (options dict,
    positional args, JSON wanted). Every subcommand takes --json, here or
    before the subcommand (as_json)."""
    opts, rest = {}, []
    it = iter(argv)
    for a in it:
        if a == "--json":
            as_json = True
        elif a in flags:
            opts[a] = True
        elif a in valued:
            try:
                opts[a] = next(it)
            except StopIteration:
                raise UsageError("%s needs a value" % a)
        elif a.startswith("--") and "=" in a and a.split("=", 1)[0] in valued:
            k, v = a.split("=", 1)
            opts[k] = v
        elif a.startswith("-") and a != "-":
            raise UsageError("unknown option %s" % a)
        else:
            rest.append(a)
    return opts, rest, as_json


def _number(opts, name, default, minimum, what="a number"):
    """The integer value of option name (default when absent), at least minimum."""
    try:
        v = int(opts.get(name, default))
    except ValueError:
        raise UsageError("%s takes %s" % (name, what))
    if v < minimum:
        raise UsageError("%s must be at least %d" % (name, minimum))
    return v


def _python(info):
    return {"version": info["python"]["version"], "layout": info["layout"]}


def _partial(info):
    """A line saying the answer is partial, when the walk met corrupt data."""
    notes = []
    if info["skipped"]:
        notes.append("%d objects skipped as corrupt" % info["skipped"])
    if info["gc_collecting"]:
        notes.append("stopped during a garbage collection")
    return ("(partial: %s; see probe-heap info)\n" % "; ".join(notes)) if notes else ""


def _with_partial(doc, info):
    doc["skipped"] = info["skipped"]
    doc["partial"] = bool(info["skipped"] or info["gc_collecting"])
    return doc


class Table:
    """A partition being shown page by page."""

    def __init__(self, part, by, header):
        self.part, self.by, self.header, self.next = part, by, header, 0

    def page(self, n=PAGE):
        text = self.part.text(self.header, self.next, n)
        # Like heapy, a page shows one row more rather than "<1 more rows>".
        left = self.part.nrows - self.next
        self.next = self.part.nrows if left <= n + 1 else self.next + n
        return text


def cmd_partition(argv, as_json):
    opts, rest, as_json = _options(argv, {"--all"}, {"--by"}, as_json)
    if rest:
        raise UsageError("partition takes no arguments, only --by and --all")
    by = opts.get("--by", "kind")
    if by not in HEADERS:
        raise UsageError("cannot partition by %s: choose one of %s" % (by, ", ".join(HEADERS)))
    h = state.heap(quiet=as_json)
    part = h.partition(by)
    if as_json:
        rows = [{"kind": k, "type": t, "count": c, "size": s, "estimate": e}
                for k, t, c, s, e in part.rows()]
        info = h.info()
        return json.dumps(_with_partial({"python": _python(info), "count": part.count,
                                         "size": part.size, "by": by, "rows": rows}, info))
    table = Table(part, by, HEADERS[by])
    state.remember_table(table)
    return table.page(part.nrows if opts.get("--all") else PAGE) + _partial(h.info())


def cmd_more(argv, as_json):
    if argv:
        raise UsageError("more takes no arguments")
    table = state.last_table()
    if table is None:
        raise UsageError("there is no table to continue: run 'probe-heap partition' first")
    if table.next >= table.part.nrows:
        return "<no more rows>\n"
    return table.page()


def cmd_info(argv, as_json):
    opts, rest, as_json = _options(argv, set(), set(), as_json)
    if rest:
        raise UsageError("info takes no arguments")
    h = state.heap(quiet=as_json)
    i = h.info()
    if as_json:
        out = dict(i)
        out["python"] = dict(i["python"], layout=i["layout"])
        return json.dumps(out)
    py = i["python"]
    build = "free-threaded" if py["free_threaded"] else "debug" if py["debug"] else "release"
    lines = [
        ("Python", "CPython %s, %s build (version from %s)" % (py["version"], build, py["found_by"])),
        ("Layout", "%s (CPython %d.%d)%s" % (i["layout"], py["major"], py["minor"],
                   ", checked against the target's _Py_DebugOffsets" if i["layout_checked"] else "")),
        ("Interpreters", "%d" % i["interpreters"]),
        ("Threads", "%d" % i["threads"]),
        ("Objects", "%d objects, %d bytes" % (i["objects"], i["bytes"])),
        ("Estimated sizes", "%d objects of extension types sized from their basicsize" %
         i["estimated_objects"]),
        ("Skipped", "%d references skipped as corrupt" % i["skipped"]),
        ("Cyclic garbage", "%d objects, %d bytes awaiting collection" %
         (i["garbage_objects"], i["garbage_bytes"])),
        ("Walk", "%.3f s, %.1f MB read" % (i["walk_seconds"], i["bytes_read"] / 1e6)),
    ]
    if i["gc_collecting"]:
        lines.append(("Warning", "stopped during a garbage collection: the walk may be partial"))
    width = max(len(k) for k, _ in lines) + 2
    return "".join("%-*s%s\n" % (width, k + ":", v) for k, v in lines)


def _one_obj(rest, what):
    if not rest:
        raise UsageError("%s needs an object: an address, a path like __main__:cache, or a gdb expression" % what)
    return " ".join(rest)


def cmd_sizeof(argv, as_json):
    opts, rest, as_json = _options(argv, set(), set(), as_json)
    h = state.heap(quiet=as_json)
    addr = objects.address_of(h, _one_obj(rest, "sizeof"))
    s = h.sizes(addr)
    if as_json:
        out = {k: s[k] for k in ("address", "type", "kind", "flat", "deep", "deep_count",
                                  "retained", "retained_count", "reachable", "estimate", "kinds")}
        return json.dumps(_with_partial(out, h.info()))
    est = " (some sizes estimated)" if s["estimate"] else ""
    lines = ["0x%x %s%s" % (s["address"], s["kind"], ("  " + s["preview"]) if s["preview"] else ""),
             "Flat:     %d bytes (sys.getsizeof)" % s["flat"],
             "Deep:     %d bytes in %d objects%s (asizeof: types, modules, functions, code, "
             "frames and methods are not entered)" % (s["deep"], s["deep_count"], est)]
    if s["reachable"]:
        lines.append("Retained: %d bytes in %d objects (what would be freed if it went away)"
                     % (s["retained"], s["retained_count"]))
    else:
        lines.append("Retained: not reachable from the roots (cyclic garbage, or held only from C)")
    table = s["table"].splitlines()
    shown = table[:2 + PAGE]
    lines += ["", "The deep size by kind:"] + shown
    if len(table) > len(shown):
        lines.append("<%d more kinds; --json lists them all>" % (len(table) - len(shown)))
    return "\n".join(lines) + "\n" + _partial(h.info())


def cmd_dominators(argv, as_json):
    opts, rest, as_json = _options(argv, set(), {"--depth", "--limit"}, as_json)
    depth = _number(opts, "--depth", 1, 1)
    limit = _number(opts, "--limit", PAGE, 1)
    h = state.heap(quiet=as_json)
    addr = objects.address_of(h, " ".join(rest)) if rest else 0
    d = h.dominators(addr, depth, limit)
    if as_json:
        d["address"] = addr or None
        return json.dumps(_with_partial(d, h.info()))
    what = "0x%x" % addr if addr else "The roots"
    total = d["retained"] or 1
    lines = ["%s keep%s %d objects, %d bytes alive; what they dominate, largest first:"
             % (what, "s" if addr else "", d["retained_count"], d["retained"]),
             "  Retained   %  Objects      Flat Kind"]
    for c in d["children"]:
        kind = "  " * (c["depth"] - 1) + c["kind"]
        tail = ("  " + c["preview"]) if c["preview"] else ""
        lines.append("%10d %3.0f %8d %9d %s 0x%x%s" % (c["retained"], c["retained"] * 100.0 / total,
                                                      c["retained_count"], c["flat"], kind,
                                                      c["address"], tail))
    if not d["children"]:
        lines.append("  (it dominates nothing else)")
    return "\n".join(lines) + "\n" + _partial(h.info())


from . import alloc, backrefs, leaks, snapshot, suspects, threads  # noqa: E402  (they use this module's helpers)

SUBCOMMANDS = {
    "sizeof": cmd_sizeof,
    "dominators": cmd_dominators,
    "partition": cmd_partition,
    "more": cmd_more,
    "info": cmd_info,
    "threads": threads.cmd_threads,
    "backrefs": backrefs.cmd_backrefs,
    "referrers": backrefs.cmd_referrers,
    "referents": backrefs.cmd_referents,
    "objects": backrefs.cmd_objects,
    "leaks": leaks.cmd_leaks,
    "alloc": alloc.cmd_alloc,
    "snapshot": snapshot.cmd_snapshot,
    "diff": snapshot.cmd_diff,
    "suspects": suspects.cmd_suspects,
}


def dispatch(argv, as_json=False):
    """Runs a subcommand; returns its output text.  Raises UsageError,
    target.TargetError or _probeheap.Error with one sentence."""
    if not argv:
        raise UsageError("which subcommand? one of: %s" % ", ".join(SUBCOMMANDS))
    fn = SUBCOMMANDS.get(argv[0])
    if fn is None:
        raise UsageError("unknown subcommand %r: choose one of %s" % (argv[0], ", ".join(SUBCOMMANDS)))
    return fn(argv[1:], as_json)


def error_sentence(exc):
    """The one sentence a user sees for an error."""
    if isinstance(exc, _probeheap.Error):
        return exc.args[0]
    return str(exc)


# Errors that are the user's or the target's, said in one sentence.
EXPECTED_ERRORS = (UsageError, CommandError, target.TargetError, _probeheap.Error, objects.ObjError,
                   ValueError)


class _Sub(gdb.Command):
    def __init__(self, name, doc):
        self.__doc__ = doc
        self.sub = name
        super().__init__("probe-heap " + name, gdb.COMMAND_DATA)

    def invoke(self, arg, from_tty):
        self.dont_repeat()
        try:
            text = dispatch([self.sub] + shlex.split(arg))
        except EXPECTED_ERRORS as e:
            raise gdb.GdbError("probe-heap: " + error_sentence(e))
        except KeyboardInterrupt:
            raise gdb.GdbError("probe-heap: interrupted; nothing was kept")
        gdb.write(text if text.endswith("\n") else text + "\n")


class ProbeHeap(gdb.Command):
    """Where the memory of a CPython process went, from outside the process.

probe-heap partition [--by kind|type|size|module|rcs|via] [--all]   heapy's table
probe-heap more                                 the next rows of the last table
probe-heap info                                 version, layout, threads, objects, walk time
probe-heap threads                              every Python thread and its stack (like py-bt)
probe-heap sizeof OBJ                           flat, deep and retained size of one object
probe-heap dominators [OBJ] [--depth N] [--limit N]   what keeps the most memory alive
probe-heap backrefs OBJ [--all N] [--dot|--svg|--png FILE]   why it is alive: chains from a root
probe-heap referrers OBJ, referents OBJ         its references, labelled
probe-heap objects KIND [--limit N] [--min-size B]    the objects of one kind or type
probe-heap snapshot FILE, diff FILE             save the partition; what grew since
probe-heap suspects [--min PCT] [--limit N]     leak suspects (Eclipse MAT's), diff --by owner
probe-heap leaks [--all]                        allocated but unreachable: leaked, garbage
probe-heap alloc                                pymalloc's arenas, pools and blocks; where RSS goes

OBJ is a hex address, a Python path from a module (__main__:cache._store['k'][3])
or a gdb expression yielding a PyObject *.

It works on a live process (gdb -p PID) or a core file (gdb PYTHON CORE)
of CPython 3.8 to 3.13, with or without debug symbols; nothing runs in the
target.  Add --json to any subcommand but more for one JSON document."""

    def __init__(self):
        super().__init__("probe-heap", gdb.COMMAND_DATA, prefix=True)

    def invoke(self, arg, from_tty):
        if arg.strip():
            raise gdb.GdbError("probe-heap: unknown subcommand %r; see 'help probe-heap'" % arg.split()[0])
        gdb.write(self.__doc__ + "\n")


def register():
    ProbeHeap()
    _Sub("partition", """Heapy's partition table of the heap.

Usage: probe-heap partition [--by kind|type|size|module|rcs|via] [--all] [--json]

--by kind (default) groups objects by class, and dicts by the class of the
object whose __dict__ they are ("dict of __main__.Node"); --by type groups by
type only; --by size by flat size; --by module by the module that defines
the object's type; --by rcs by the kinds of the objects that refer to it
("<root>": a root refers to it); --by via by the names of the references to
it ('.history', "['blob']", '[0]').  Ten rows are shown; 'probe-heap more' shows the next ten, --all
shows every row.  --json prints one JSON document with every row.""")
    _Sub("more", """The next rows of the last partition table.""")
    _Sub("sizeof", """Flat, deep and retained size of one object.

Usage: probe-heap sizeof OBJ [--json]

OBJ: a hex address, a Python path from a module such as
__main__:cache._store['key'][3].body, or a gdb expression yielding a PyObject *.
Flat is sys.getsizeof.  Deep is asizeof's: the object and everything it
reaches, each once, not entering types, modules, functions, code, frames or
methods; its objects are listed by kind.  Retained is what would be freed if
the object went away: the objects it dominates in the graph from the roots.""")
    _Sub("dominators", """The biggest retainers: the dominator tree, largest retained size first.

Usage: probe-heap dominators [OBJ] [--depth N] [--limit N] [--json]

Without OBJ, the objects the roots keep alive that nothing else shares;
with OBJ, those it alone keeps alive.  --depth N shows N levels as a tree,
--limit N at most N children of each (default 10).""")
    _Sub("backrefs", """Why is it alive: a shortest chain of references from a root to OBJ.

Usage: probe-heap backrefs OBJ [--all N] [--dot FILE] [--svg FILE] [--png FILE] [--json]

Roots are the modules (sys.modules), sys, builtins, each thread's frames and
their locals, the dicts of builtin types, the permanent generation, and
objects held from outside Python (a refcount the heap does not explain).
Each row is one reference: its label (.attr, ['key'], [3], ->+0x38 for a
pointer found by scanning a C object), the kind and address it leads to.
The last line is a Python-like path.  --all N shows up to N chains through
distinct referrers.  Weak references are not followed: an object held only
weakly, or cyclic garbage, is reported unreachable with its referrers.
--dot writes the chains for graphviz; --svg and --png run graphviz's dot.""")
    _Sub("referrers", """The objects and roots that refer to OBJ, each reference labelled.

Usage: probe-heap referrers OBJ [--limit N] [--json]""")
    _Sub("referents", """The objects OBJ refers to, each reference labelled.

Usage: probe-heap referents OBJ [--limit N] [--json]""")
    _Sub("objects", """The objects of one kind or type, largest first, with a preview of each.

Usage: probe-heap objects KIND [--limit N] [--min-size B] [--json]

KIND is a kind from the partition table (__main__.Session, 'dict of
__main__.Session', str) or a type name.  --limit N shows N (default 20,
0 for all); --min-size B only objects of at least B bytes.""")
    _Sub("leaks", """The objects no root reaches: leaked ones, what they keep alive, cyclic garbage.

Usage: probe-heap leaks [--all] [--json [--addresses]]

Candidates are the objects on the GC lists that no root reaches and the
objects in pymalloc's allocated blocks that the walk did not find (non-GC
objects: bytes, str, int...).  Counting the references among them like the
collector does: an object whose refcount is higher than the references
found is leaked (a refcount bug in a C extension, or held by a C global or
an extension's state); what only leaked objects hold is kept by them; the
rest is cyclic garbage awaiting collection.  Each row names sample
addresses for backrefs and referrers; --json --addresses lists them all.""")
    _Sub("alloc", """pymalloc's footprint: arenas, pools and blocks by size class, and where the memory goes.

Usage: probe-heap alloc [--json]

Every arena, pool and block of pymalloc (256 KiB arenas and 4 KiB pools
before 3.10, 1 MiB and 16 KiB since), allocated blocks told from free ones,
by size class: the numbers of sys._debugmallocstats().  Then the objects
too big for pymalloc (from malloc) by type, and how much of the writable
memory of the core or process the Python heap explains.  On 3.8-3.11 without
symbols the arenas are found by searching from known objects' pools.""")
    _Sub("threads", """Every Python thread and its stack, innermost frame first, with the line each frame executes.

Usage: probe-heap threads [--json]

Like py-bt for every thread: thread id (threading.get_ident()), native id,
and each frame's file, line and function, read from the thread states.""")
    _Sub("snapshot", """Save the partition (by kind and by type) with its source to FILE.

Usage: probe-heap snapshot FILE [--json]

The file is JSON: the Python version, the executable, the core or process
and when it was taken, totals and every row.  'probe-heap diff FILE' later,
on the same process or on another core of the same program, shows growth.""")
    _Sub("diff", """What grew since a snapshot: heapy's table of differences and objgraph's show_growth.

Usage: probe-heap diff FILE|CORE [--by kind|owner] [--limit N] [--all] [--json]

Kinds are compared by name, so two cores of one program compare (not
their addresses).  Rows go by falling size growth; then the types whose
count grew, as objgraph.show_growth prints them.  It says so when the
snapshot's Python version or executable differ.  --by owner: growth per
retainer path (sys.modules['app'].cache -> app:cache), with the kinds that
grew under each.  A core of the same program instead of FILE is walked
first by a second probe-heap.""")
    _Sub("suspects", """Leak suspects, as Eclipse MAT finds them, from the dominator tree.

Usage: probe-heap suspects [--min PCT] [--limit N] [--json]

Objects retaining at least PCT of the heap (default 10), each with its path
from a root, what it holds by kind and its accumulation point; and kinds of
small objects that a few owners hold and that together retain PCT.""")
    _Sub("info", """What probe-heap found in the target, and how long the walk took.

CPython version and build, where the layout came from, interpreters,
threads, objects and bytes, references skipped as corrupt, cyclic garbage
awaiting collection, and the walk time.

Usage: probe-heap info [--json]""")
