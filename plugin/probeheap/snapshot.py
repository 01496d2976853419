"""snapshot FILE and diff FILE: the partition saved with where it came from,
and the growth against it, as heapy's table of differences and objgraph's
show_growth lines.  Two cores of one program compare by aggregates (kinds
and types), never by address.  The snapshot also keeps the retainer paths
of the dominator tree's big nodes (owners), for diff --by owner: growth
attributed to the path that holds it, a name that survives a restart."""

import datetime
import json
import os

import gdb

from . import options, state, tables, target

FORMAT = "probe-heap snapshot"
FORMAT_VERSION = 1
GROWTH_LINES = 10          # objgraph.show_growth's default limit
OWNER_MIN = 65536          # a retainer path is kept when it retains this much ...
OWNER_SHARE = 1000         # ... or a thousandth of the heap, whichever is less
OWNER_MIN_FLOOR = 1024
OWNER_NODES = 10000        # at most these many dominator-tree nodes named
OWNER_KINDS = 8
OWNER_BYTES = 8 << 20      # the file's paths, at most: a snapshot stays under 10 MB
SAME = 0.9                 # diff --by owner: a path under another holding this much of its change


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


def owner_threshold(total):
    """The retained size from which a node's retainer path is kept."""
    return max(OWNER_MIN_FLOOR, min(OWNER_MIN, total // OWNER_SHARE))


def owners(h, min_retained=None, max_nodes=OWNER_NODES):
    """The retainer paths of heap h's big dominator-tree nodes: a dict with
    total, min_retained, candidates and paths ([{path, address, retained,
    retained_count, nodes, held: [{kind, count, size}]}], largest first)."""
    if min_retained is None:
        min_retained = owner_threshold(h.info()["bytes"])
    return h.owners(min_retained=int(min_retained), max_nodes=int(max_nodes))


def _owner_rows(o):
    """As stored: [path, retained, count, nodes, [[kind, count, size], ...]],
    the largest first, at most OWNER_BYTES of them."""
    rows, used = [], 0
    for p in o["paths"]:
        row = [p["path"], p["retained"], p["retained_count"], p["nodes"],
               [[k["kind"], k["count"], k["size"]] for k in p["held"][:OWNER_KINDS]]]
        used += len(json.dumps(row, separators=(",", ":")))
        if used > OWNER_BYTES:
            break
        rows.append(row)
    return rows


def make(h, with_owners=True, min_retained=None):
    """The snapshot document of heap h."""
    info = h.info()
    by_kind, by_type = h.partition("kind"), h.partition("type")
    doc = {"format": FORMAT, "format_version": FORMAT_VERSION,
           "python": options.python_of(info),
           "executable": gdb.current_progspace().filename,
           "source": _source(),
           "count": by_kind.count, "size": by_kind.size,
           "skipped": info["skipped"],
           "by_kind": _rows(by_kind), "by_type": _rows(by_type)}
    if with_owners:
        o = owners(h, min_retained)
        doc["owners"] = {"min_retained": o["min_retained"], "candidates": o["candidates"],
                         "paths": _owner_rows(o)}
    return doc


CORE_TIMEOUT = 3600         # seconds for the snapshot of a core given to diff


def is_core(path):
    try:
        with open(path, "rb") as f:
            return f.read(4) == b"\x7fELF"
    except OSError:
        return False


def _gdb_setting(name):
    """The value of gdb's 'show NAME' (the text between quotes), or None."""
    try:
        text = gdb.execute("show " + name, to_string=True)
    except gdb.error:
        return None
    a, b = text.find('"'), text.rfind('"')
    return text[a + 1:b] if 0 <= a < b else None


def snapshot_of_core(path):
    """The snapshot document of another core of the same program: a second
    walk, by bin/probe-heap in a child gdb (the two heaps never share one
    gdb, whose symbols are those of the first core's mappings)."""
    import subprocess
    import tempfile
    home = os.environ.get("PROBE_HEAP_HOME") or \
        os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    tool = os.path.join(home, "bin", "probe-heap")
    if not os.access(tool, os.X_OK):
        raise options.CommandError("cannot walk the core %s: %s is not there to run; take a snapshot "
                                    "of it first (probe-heap --core %s snapshot FILE)" % (path, tool, path))
    argv = [tool, "--core", path]
    exe = gdb.current_progspace().filename
    if exe:
        argv += ["--exe", exe]
    for opt, setting in (("--sysroot", "sysroot"), ("--debug-file-directory", "debug-file-directory")):
        v = _gdb_setting(setting)
        if v:
            argv += [opt, v]
    with tempfile.TemporaryDirectory(prefix="probe-heap-diff.") as d:
        snap = os.path.join(d, "core.phsnap")
        try:
            r = subprocess.run(argv + ["snapshot", snap], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, universal_newlines=True, timeout=CORE_TIMEOUT)
        except subprocess.TimeoutExpired:
            raise options.CommandError("the walk of the core %s took more than %d s" % (path, CORE_TIMEOUT))
        if r.returncode != 0:
            why = (r.stderr.strip().splitlines() or ["it failed"])[-1]
            if why.startswith("probe-heap: "):
                why = why[len("probe-heap: "):]
            raise options.CommandError("cannot walk the core %s: %s" % (path, why))
        doc = load(snap)
    return doc


def load(path):
    try:
        with open(path) as f:
            doc = json.load(f)
    except OSError as e:
        raise options.CommandError("cannot read the snapshot %s: %s" % (path, e.strerror or e))
    except (ValueError, UnicodeDecodeError):
        raise options.CommandError("%s is not a probe-heap snapshot (not JSON)" % path)
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise options.CommandError("%s is not a probe-heap snapshot" % path)
    if doc.get("format_version") != FORMAT_VERSION:
        raise options.CommandError("%s is a snapshot of format %r; this probe-heap reads format %d"
                                  % (path, doc.get("format_version"), FORMAT_VERSION))
    try:
        for key in ("by_kind", "by_type"):
            doc[key] = [(str(k), int(c), int(s)) for k, c, s in doc[key]]
        doc["count"], doc["size"] = int(doc["count"]), int(doc["size"])
        if "owners" in doc:   # written since issue 14; older snapshots have none
            o = doc["owners"]
            o["min_retained"] = int(o["min_retained"])
            o["paths"] = [(str(p), int(r), int(c), int(n), [(str(k), int(kc), int(ks)) for k, kc, ks in held])
                          for p, r, c, n, held in o["paths"]]
    except (KeyError, TypeError, ValueError):
        raise options.CommandError("%s is a damaged probe-heap snapshot" % path)
    return doc


def read(path):
    """The snapshot document of path: a snapshot file, or a core of the same
    program walked by a second probe-heap (diff FILE|CORE, report --against)."""
    return snapshot_of_core(path) if is_core(path) else load(path)


def cmd_snapshot(argv, as_json):
    """Save the partition (by kind and by type) with its source to FILE.

    Usage: probe-heap snapshot FILE [--json]

    The file is JSON: the Python version, the executable, the core or process
    and when it was taken, totals and every row, and the retainer paths of
    the dominator tree's big nodes.  'probe-heap diff FILE' later, on the
    same process or on another core of the same program, shows growth (by
    kind, or by owner with --by owner)."""
    opts, rest, as_json = options.parse(argv, set(), set(), as_json)
    if len(rest) != 1:
        raise options.UsageError("snapshot takes the file to write, e.g. snapshot /tmp/monday.phsnap")
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
        raise options.CommandError("cannot write the snapshot %s: %s" % (path, e.strerror or e))
    if as_json:
        return json.dumps({"file": path, "count": doc["count"], "size": doc["size"],
                           "rows": len(doc["by_kind"]), "owners": len(doc["owners"]["paths"])})
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


def _kinds_grown(before, now):
    """[{kind, size_delta, count_delta}] of the kinds held under a path that
    grew, most first (of the kinds each side kept)."""
    b = {k: (c, s) for k, c, s in before}
    out = []
    for k, c, s in now:
        c0, s0 = b.get(k, (0, 0))
        if s > s0:
            out.append({"kind": k, "size_delta": s - s0, "count_delta": c - c0})
    out.sort(key=lambda x: (-x["size_delta"], x["kind"]))
    return out


def owner_diff(old_paths, now_paths, min_retained):
    """Rows per retainer path, largest growth first, then the paths that
    shrank, the most last: {path, status ("", "new", "gone"), retained,
    retained_count, retained_before, retained_count_before, size_delta,
    count_delta, kinds (the kinds that grew under it), same_as}.  A path
    is new when it retained less than min_retained before (it was not
    kept), gone when it does now; unchanged paths are left out."""
    old = {p: (r, c, held) for p, r, c, n, held in old_paths}
    new = {p: (r, c, held) for p, r, c, n, held in now_paths}
    rows = []
    for p in set(old) | set(new):
        if p in old and p in new:
            status = ""
        elif p in new:
            status = "new"
        else:
            status = "gone"
        r0, c0, h0 = old.get(p, (0, 0, []))
        r1, c1, h1 = new.get(p, (0, 0, []))
        if (r0, c0) == (r1, c1):
            continue
        rows.append({"path": p, "status": status, "retained": r1, "retained_count": c1,
                     "retained_before": r0, "retained_count_before": c0,
                     "size_delta": r1 - r0, "count_delta": c1 - c0, "kinds": _kinds_grown(h0, h1)})
    rows.sort(key=lambda r: (-r["size_delta"], r["path"]))
    _mark_same(rows)
    return rows


def _under(q, p):
    """Whether path q names something reached through path p (p's object,
    or its __dict__, then more steps)."""
    for stem in (p[:-len("__dict__")] if p.endswith((".__dict__", ":__dict__")) else None, p):
        if stem is None:
            continue
        if stem.endswith((".", ":")) and q.startswith(stem) and q != p:
            return True
        if q.startswith(stem) and len(q) > len(stem) and q[len(stem)] in ".[ (":
            return True
    return False


def _mark_same(rows):
    """same_as: the deepest path under a row's that changed by nearly as
    much (SAME of it): the row only passes that change on (an object, its
    __dict__, its attribute), and the text shows the deeper one alone."""
    for r in rows:
        r["same_as"] = None
        best = None
        for q in rows:
            if q is r or not _under(q["path"], r["path"]):
                continue
            if r["size_delta"] and q["size_delta"] * r["size_delta"] > 0 and \
                    abs(q["size_delta"]) >= SAME * abs(r["size_delta"]):
                if best is None or len(q["path"]) > len(best["path"]):
                    best = q
        if best is not None:
            r["same_as"] = best["path"]


def _owner_text(rows, shown):
    lines = ["   Retained      Change   Objects    Change  Retainer path"]
    for r in shown:
        if r["same_as"]:
            continue
        tag = {"new": "  (new)", "gone": "  (gone)"}.get(r["status"], "")
        lines.append("%11d %+11d %9d %+9d  %s%s" % (r["retained"], r["size_delta"], r["retained_count"],
                                                   r["count_delta"], r["path"], tag))
        if r["kinds"] and r["size_delta"] > 0:
            lines.append("%44s grew: %s" % ("", ", ".join("%s %+d (%+d)" % (k["kind"], k["size_delta"], k["count_delta"])
                                                          for k in r["kinds"][:3])))
    return lines


def owner_growth(old, h):
    """diff --by owner's rows (owner_diff) for the snapshot document old
    (which has owners) against heap h (a state heap or the API's Heap), and
    h's owners as owners() gives them.  Both sides use the snapshot's
    threshold: one rule on both sides."""
    o = old["owners"]
    now = owners(h, o["min_retained"])
    now_paths = [(p["path"], p["retained"], p["retained_count"], p["nodes"],
                  [(k["kind"], k["count"], k["size"]) for k in p["held"]]) for p in now["paths"]]
    return owner_diff(o["paths"], now_paths, o["min_retained"]), now


def _diff_by_owner(path, old, h, opts, limit, as_json):
    if "owners" not in old:
        raise options.CommandError("%s has no retainer paths (it was written before they were kept): "
                                    "diff --by owner needs a snapshot taken by this probe-heap" % path)
    o = old["owners"]
    rows, _ = owner_growth(old, h)
    info = h.info()
    if as_json:
        doc = {"python": options.python_of(info), "by": "owner",
               "snapshot": {k: old.get(k) for k in ("python", "executable", "source", "count", "size")},
               "count": info["objects"], "size": info["bytes"], "min_retained": o["min_retained"],
               "owners": rows}
        return json.dumps(options.with_partial(doc, info))
    src = old.get("source") or {}
    what = src.get("core") or ("pid %s" % src.get("pid"))
    lines = ["Difference by retainer path from the snapshot %s (CPython %s, %s, %s):" % (
                 path, old.get("python", {}).get("version"), what, src.get("taken") or "?"),
             "Paths of the dominator tree's nodes retaining %d bytes or more, largest growth first:"
             % o["min_retained"]]
    if not rows:
        lines.append("No retainer path changed.")
    else:
        told = [r for r in rows if not r["same_as"]]
        shown = told if opts.get("--all") else told[:limit]
        lines += _owner_text(rows, shown)
        if len(shown) < len(told):
            lines.append(options.more_footer(len(told) - len(shown), "path changed",
                                              nouns="paths changed"))
    return "\n".join(lines) + "\n" + options.partial_line(info)


def cmd_diff(argv, as_json):
    """What grew since a snapshot: heapy's table of differences and objgraph's show_growth.

    Usage: probe-heap diff FILE|CORE [--by kind|owner] [--limit N] [--all] [--human] [--json]

    Kinds are compared by name, so two cores of one program compare (not
    their addresses).  Rows go by falling size growth; then the types whose
    count grew, as objgraph.show_growth prints them.  It says so when the
    snapshot's Python version or executable differ.  --by owner: growth per
    retainer path (sys.modules['app'].cache is app:cache), with the kinds
    that grew under each.  A core of the same program instead of FILE is
    walked first by a second probe-heap.  --human shows sizes in KiB, MiB,
    GiB."""
    opts, rest, as_json = options.parse(argv, {"--all", "--human"}, {"--limit", "--by"}, as_json)
    if len(rest) != 1:
        raise options.UsageError("diff takes a snapshot file written by 'probe-heap snapshot FILE', "
                                  "or a core of the same program")
    limit = options.number(opts, "--limit", options.PAGE, 1)
    by = opts.get("--by", "kind")
    if by not in ("kind", "owner"):
        raise options.UsageError("diff --by takes kind (the default) or owner")
    old = read(rest[0])
    h = state.heap(quiet=as_json)
    if by == "owner":
        return _diff_by_owner(rest[0], old, h, opts, limit, as_json)
    now = make(h, with_owners=False)
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
        return json.dumps(options.with_partial(doc, h.info()))
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
            lines.append(options.more_footer(len(rows) - len(shown), "kind changed",
                                              nouns="kinds changed"))
    shown_growth = growth if opts.get("--all") else growth[:limit]
    if shown_growth:
        lines.append("")
        lines.append("Growth by type (objgraph.show_growth):")
        width = max(len(k) for k, c, d in shown_growth)
        lines += ["%-*s%9d %+9d" % (width, k, c, d) for k, c, d in shown_growth]
    return "\n".join(lines) + "\n" + options.partial_line(h.info())
