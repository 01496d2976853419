"""leaks: the objects no root reaches, as heapy's tables: leaked (refcount
not explained by the heap), kept alive by leaked objects, cyclic garbage."""

import json
import re

from . import options, state, tables

GROUPS = [
    ("leaked", "Leaked: no root reaches them and their refcount is higher than the references "
               "found (a refcount bug in a C extension, or memory C code allocated holding them "
               "on purpose)"),
    ("kept", "Kept alive only by the leaked objects above"),
    ("garbage", "Cyclic garbage: unreachable, every reference explained; the next gc.collect() "
                "frees it"),
]


def table(group, limit, as_human=False):
    """heapy's partition table of one group, with sample addresses per row."""
    lines = ["Partition of a set of %d objects. Total size = %s." % (
        group["count"], tables.total_text(group["size"], as_human))]
    rows = group["rows"] if limit <= 0 else group["rows"][:limit]
    kinds = ["%s  (e.g. %s)" % (r["kind"], ", ".join("0x%x" % a for a in r["samples"])) for r in rows]
    lines += tables.heapy_table([(r["count"], r["size"]) for r in rows], group["count"], group["size"],
                                kinds, "Kind (class / dict of class)", as_human)
    if len(rows) < len(group["rows"]):
        lines.append(options.more_footer(len(group["rows"]) - len(rows)))
    return lines


# The interpreter's own files: what their globals hold is counted, listed with --all.
_INTERPRETER = re.compile(r"^(lib)?python\d")


def held_section(held, limit, as_human=False):
    """The objects C holds (static data by file, each state, each thread's
    C stack): alive, not leaked."""
    if not held:
        return ["Held by C: none."]
    size = sum(o["size"] for o in held)
    lines = ["Held by C (static data, interpreter and thread states, threads' C stacks; alive, "
             "not leaked; backrefs starts there): %d objects, %s:"
             % (len(held), tables.total_text(size, as_human))]
    by_file = {}
    for o in held:
        f, _, sym = o["where"].partition(": ")
        if not sym:   # "FILE+0xN": no symbol
            f, _, off = o["where"].rpartition("+")
            sym = "+" + off
        by_file.setdefault(f, []).append((o, sym))
    shown = 0
    for f, objs in sorted(by_file.items(), key=lambda kv: (bool(_INTERPRETER.match(kv[0])), kv[0])):
        own = bool(_INTERPRETER.match(f))
        lines.append("  %s: %d objects%s" % (f, len(objs), " (the interpreter's own)" if own else ""))
        if own and limit > 0:
            continue
        for o, sym in objs:
            if limit > 0 and shown >= limit:
                break
            lines.append("    %-40s %s 0x%x  %s" % (sym, o["type"], o["address"],
                                                  tables.total_text(o["size"], as_human)))
            shown += 1
    if limit > 0 and shown < sum(len(v) for f, v in by_file.items() if not _INTERPRETER.match(f)):
        lines.append(options.more_footer(len(held) - shown))
    elif limit > 0 and any(_INTERPRETER.match(f) for f in by_file):
        lines.append("  (--all lists the interpreter's own too)")
    return lines


def cmd_leaks(argv, as_json):
    """The objects no root reaches: leaked ones, what they keep alive, cyclic garbage.

    Usage: probe-heap leaks [--all] [--human] [--json [--addresses]]

    Candidates are the objects on the GC lists that no root reaches and the
    objects in pymalloc's allocated blocks that the walk did not find (non-GC
    objects: bytes, str, int...).  Counting the references among them like the
    collector does: an object whose refcount is higher than the references
    found is leaked (a refcount bug in a C extension, or held by memory C code
    allocated that is none of those below); what only leaked objects hold is kept by them; the
    rest is cyclic garbage awaiting collection.  Objects that C holds (the
    static data of the executable, libraries and extension modules, the
    interpreter and thread states, each thread's C stack) are roots, listed
    apart by the global, state or stack that holds them.  Each row names sample
    addresses for backrefs and referrers; --json --addresses lists them all.
    --human shows sizes in KiB, MiB, GiB."""
    opts, rest, as_json = options.parse(argv, {"--all", "--addresses", "--human"}, set(), as_json)
    if rest:
        raise options.UsageError("leaks takes no arguments, only --all, --human, --addresses and --json")
    if opts.get("--addresses") and not as_json:
        raise options.UsageError("--addresses lists every object's address in the JSON: add --json")
    h = state.heap(quiet=as_json)
    l = h.leaks(bool(opts.get("--addresses")))
    info = h.info()
    if as_json:
        l["python"] = options.python_of(info)
        return json.dumps(options.with_partial(l, info))
    limit = 0 if opts.get("--all") else options.PAGE
    lines = []
    for key, title in GROUPS:
        g = l[key]
        if not g["count"]:
            lines.append("%s: none." % title.split(":")[0])
            continue
        lines.append(title + ":")
        lines += table(g, limit, bool(opts.get("--human")))
        lines.append("")
    lines += held_section(l["held_by_c"], limit, bool(opts.get("--human")))
    lines.append("")
    if l["allocator"]:
        lines.append("Searched %d allocated pymalloc blocks for objects the walk cannot see "
                     "(non-GC objects no root reaches): %d found, %d of them leaked. Objects over "
                     "512 bytes that are not GC-tracked come from malloc and are not searched."
                     % (l["blocks"], l["found_outside"], l["leaked_outside"]))
    else:
        lines.append("Only GC-tracked objects were searched: %s." % l["allocator_note"].rstrip("."))
    if l["static_objects"]:
        lines.append("Left out: %d static objects no root reaches (small ints, builtin types, immortal "
                     "objects): never freed, so never leaks." % l["static_objects"])
    lines.append("'probe-heap backrefs ADDR' and 'referrers ADDR' say what refers to one of them, "
                 "when the walk found it.")
    return "\n".join(lines) + "\n" + options.partial_line(info)
