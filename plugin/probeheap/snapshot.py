"""snapshot FILE and diff FILE: the partition saved with where it came from,
and the growth against it, as heapy's table of differences and objgraph's
show_growth lines.  Two cores of one program compare by aggregates (kinds
and types), never by address."""

import datetime
import json
import os

import gdb

from . import commands, state, tables, target

FORMAT = "probe-heap snapshot"
FORMAT_VERSION = 1
GROWTH_LINES = 10          # objgraph.show_growth's default limit


def _source():
    """What the heap was read from: the core (with its time) or the process."""
    core = target.core_file()
    if core:
        try:
            mtime = os.stat(core).st_mtime
        except OSError:
            mtime = None
        return {"core": os.path.abspath(core), "pid": None,
                "taken": datetime.datetime.fromtimestamp(mtime).isoformat(timespec="seconds") if mtime else None}
    inf = gdb.selected_inferior()
    return {"core": None, "pid": inf.pid,
            "taken": datetime.datetime.now().isoformat(timespec="seconds")}


def _rows(part):
    return [[k, c, s] for k, t, c, s, e in part.rows()]


def make(h):
    """The snapshot document of heap h."""
    info = h.info()
    by_kind, by_type = h.partition("kind"), h.partition("type")
    return {"format": FORMAT, "format_version": FORMAT_VERSION,
            "python": commands._python(info),
            "executable": gdb.current_progspace().filename,
            "source": _source(),
            "count": by_kind.count, "size": by_kind.size,
            "skipped": info["skipped"],
            "by_kind": _rows(by_kind), "by_type": _rows(by_type)}


def load(path):
    try:
        with open(path) as f:
            doc = json.load(f)
    except OSError as e:
        raise commands.CommandError("cannot read the snapshot %s: %s" % (path, e.strerror or e))
    except (ValueError, UnicodeDecodeError):
        raise commands.CommandError("%s is not a probe-heap snapshot (not JSON)" % path)
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise commands.CommandError("%s is not a probe-heap snapshot" % path)
    if doc.get("format_version") != FORMAT_VERSION:
        raise commands.CommandError("%s is a snapshot of format %r; this probe-heap reads format %d"
                                  % (path, doc.get("format_version"), FORMAT_VERSION))
    try:
        for key in ("by_kind", "by_type"):
            doc[key] = [(str(k), int(c), int(s)) for k, c, s in doc[key]]
        doc["count"], doc["size"] = int(doc["count"]), int(doc["size"])
    except (KeyError, TypeError, ValueError):
        raise commands.CommandError("%s is a damaged probe-heap snapshot" % path)
    return doc


def cmd_snapshot(argv, as_json):
    """Save the partition (by kind and by type) with its source to FILE.

    Usage: probe-heap snapshot FILE [--json]

    The file is JSON: the Python version, the executable, the core or process
    and when it was taken, totals and every row.  'probe-heap diff FILE' later,
    on the same process or on another core of the same program, shows growth."""
    opts, rest, as_json = commands._options(argv, set(), set(), as_json)
    if len(rest) != 1:
        raise commands.UsageError("snapshot takes the file to write, e.g. snapshot /tmp/monday.phsnap")
    h = state.heap(quiet=as_json)
    doc = make(h)
    path = rest[0]
    tmp = path + ".tmp"
    try:
        with open(tmp, "w") as f:
            json.dump(doc, f, separators=(",", ":"))
            f.write("\n")
        os.replace(tmp, path)
    except OSError as e:
        raise commands.CommandError("cannot write the snapshot %s: %s" % (path, e.strerror or e))
    if as_json:
        return json.dumps({"file": path, "count": doc["count"], "size": doc["size"],
                           "rows": len(doc["by_kind"])})
    return "Snapshot of %d objects, %d bytes (%d kinds) written to %s\n" % (
        doc["count"], doc["size"], len(doc["by_kind"]), path)


def _diff_rows(before, now):
    """Rows (kind, count, size, count_before, size_before), by falling size
    growth, then kind; kinds that did not change are left out."""
    old = {k: (c, s) for k, c, s in before}
    new = {k: (c, s) for k, c, s in now}
    rows = []
    for k in set(old) | set(new):
        c1, s1 = old.get(k, (0, 0))
        c2, s2 = new.get(k, (0, 0))
        if c1 != c2 or s1 != s2:
            rows.append((k, c2, s2, c1, s1))
    rows.sort(key=lambda r: (-(r[2] - r[4]), r[0]))
    return rows


def _pct(x, total):
    """A percentage rounded like '%.0f' (an int: never a '-0')."""
    return int(round(100.0 * x / total)) if total else 0


def _table(rows, shown, header, as_human=False):
    """heapy's table, of differences: signed counts and sizes; the
    percentages are of all the rows' changes (counted by size), not only of
    the rows shown.  Columns widen as the numbers need (tables.py)."""
    all_count = sum(abs(r[1] - r[3]) for r in rows)
    all_size = sum(abs(r[2] - r[4]) for r in rows)
    cum, cells = 0, []
    for i, (k, c2, s2, c1, s1) in enumerate(shown):
        dc, ds = c2 - c1, s2 - s1
        cum += ds
        cells.append(["%d" % i, "%+d" % dc, "%3d" % _pct(abs(dc), all_count),
                      tables.size(ds, as_human, True), "%3d" % _pct(ds, all_size),
                      tables.size(cum, as_human, True), "%3d" % _pct(cum, all_size)])
    minimums = [6, 7, 3, 9, 3, 10, 3]
    ws = tables.widths(cells, minimums)
    lines = [tables.header([" Index", "  Count", "   %", "      Size", "   %", " Cumulative", "  % "],
                           minimums, ws) + header]
    lines += [tables.row(c, ws) + " " + r[0] for c, r in zip(cells, shown)]
    return lines


def _growth(before, now, limit):
    """objgraph.show_growth: types whose count grew, most first."""
    old = {k: c for k, c, s in before}
    out = []
    for k, c, s in now:
        d = c - old.get(k, 0)
        if d > 0:
            out.append((k, c, d))
    out.sort(key=lambda x: (-x[2], x[0]))
    return out[:limit] if limit else out


def cmd_diff(argv, as_json):
    """What grew since a snapshot: heapy's table of differences and objgraph's show_growth.

    Usage: probe-heap diff FILE [--limit N] [--all] [--human] [--json]

    Kinds are compared by name, so two cores of one program compare (not
    their addresses).  Rows go by falling size growth; then the types whose
    count grew, as objgraph.show_growth prints them.  It says so when the
    snapshot's Python version or executable differ.  --human shows sizes in
    KiB, MiB, GiB."""
    opts, rest, as_json = commands._options(argv, {"--all", "--human"}, {"--limit"}, as_json)
    if len(rest) != 1:
        raise commands.UsageError("diff takes a snapshot file written by 'probe-heap snapshot FILE'")
    limit = commands._number(opts, "--limit", commands.PAGE, 1)
    old = load(rest[0])
    h = state.heap(quiet=as_json)
    now = make(h)
    now_kind = [tuple(r) for r in now["by_kind"]]
    now_type = [tuple(r) for r in now["by_type"]]
    rows = _diff_rows(old["by_kind"], now_kind)
    growth = _growth(old["by_type"], now_type, 0)
    v_old, v_new = old.get("python", {}).get("version"), now["python"]["version"]
    notes = []
    if v_old != v_new:
        notes.append("The snapshot is of CPython %s and this is CPython %s: sizes and kinds differ "
                     "between versions for reasons other than growth." % (v_old, v_new))
    if old.get("executable") and old["executable"] != now["executable"]:
        notes.append("The snapshot was of %s, this is %s." % (old["executable"], now["executable"]))
    if as_json:
        doc = {"python": now["python"], "snapshot": {k: old.get(k) for k in ("python", "executable", "source", "count", "size")},
               "count": now["count"], "size": now["size"],
               "count_delta": now["count"] - old["count"], "size_delta": now["size"] - old["size"],
               "rows": [{"kind": k, "count": c2, "size": s2, "count_before": c1, "size_before": s1,
                         "count_delta": c2 - c1, "size_delta": s2 - s1} for k, c2, s2, c1, s1 in rows],
               "growth": [{"type": k, "count": c, "delta": d} for k, c, d in growth],
               "notes": notes}
        return json.dumps(commands._with_partial(doc, h.info()))
    src = old.get("source") or {}
    when = src.get("taken") or "?"
    what = src.get("core") or ("pid %s" % src.get("pid"))
    lines = ["Difference from the snapshot %s (CPython %s, %s, %s):" % (rest[0], v_old, what, when),
             "Objects: %d -> %d (%+d); bytes: %d -> %d (%+d)." % (
                 old["count"], now["count"], now["count"] - old["count"],
                 old["size"], now["size"], now["size"] - old["size"])]
    lines += notes
    if not rows:
        lines.append("No kind changed.")
    else:
        shown = rows if opts.get("--all") else rows[:limit]
        lines += _table(rows, shown, "Kind (class / dict of class)", bool(opts.get("--human")))
        if len(shown) < len(rows):
            lines.append(commands.more_footer(len(rows) - len(shown), "kind changed",
                                              nouns="kinds changed"))
    shown_growth = growth if opts.get("--all") else growth[:limit]
    if shown_growth:
        lines.append("")
        lines.append("Growth by type (objgraph.show_growth):")
        width = max(len(k) for k, c, d in shown_growth)
        lines += ["%-*s%9d %+9d" % (width, k, c, d) for k, c, d in shown_growth]
    return "\n".join(lines) + "\n" + commands._partial(h.info())
