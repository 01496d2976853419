"""threads --locals: each frame's local variables (type, preview, retained
size), each thread's name (threading's), and the source line each frame
executes, read from the file where it is readable (under gdb's sysroot, a
container's root, too)."""

import ast
import linecache
import os

import gdb

from . import tables


def thread_names(heap):
    """threading.get_ident() -> the name threading gave the thread, read from
    threading._active (ident -> Thread) and each Thread's _name; {} when
    threading was never imported."""
    try:
        active = heap.resolve("threading:_active")
    except Exception:  # no threading module, or no _active in it
        return {}
    names = {}
    for link in heap.referents(active):
        edge = link["edge"]
        if link["edge_kind"] != "key" or not (edge.startswith("[") and edge.endswith("]")):
            continue
        try:
            ident = int(edge[1:-1])
        except ValueError:
            continue
        name = _attribute(heap, link["address"], "_name")
        if name is not None:
            names[ident] = name
    return names


def _attribute(heap, address, attr):
    """The str value of an object's attribute (in its slots or values, or
    its __dict__ on 3.8-3.10), or None."""
    for l in heap.referents(address):
        if l["edge"] == ".__dict__" and l["type"] == "dict":
            for d in heap.referents(l["address"]):
                if d["edge"] == "[%r]" % attr and d["type"] == "str":
                    return _literal(d["preview"])
        elif l["edge"] == "." + attr and l["type"] == "str":
            return _literal(l["preview"])
    return None


def _literal(preview):
    try:
        return ast.literal_eval(preview)
    except (ValueError, SyntaxError):
        return preview


def _roots():
    """Where the target's files are: gdb's sysroot (a directory) and, for a
    live process, its own root (/proc/PID/root: a container's)."""
    out = []
    try:
        sysroot = gdb.parameter("sysroot") or ""
    except gdb.error:
        sysroot = ""
    if sysroot and not sysroot.startswith("target:") and os.path.isdir(sysroot):
        out.append(sysroot)
    try:
        pid = gdb.selected_inferior().pid
    except (gdb.error, AttributeError):
        pid = 0
    if pid and os.path.isdir("/proc/%d/root" % pid):
        out.append("/proc/%d/root" % pid)
    return out


def source_line(path, line, roots):
    """The text of line `line` of the target's file path, stripped; None when
    the file is not readable here."""
    if not path or line is None or line < 1:
        return None
    for root in roots + [""]:
        full = os.path.join(root, path.lstrip("/")) if root else path
        if os.path.isfile(full):
            text = linecache.getline(full, line)
            return text.strip() if text else None
    return None


def frame_locals(heap, frame):
    """A frame's locals as dicts: name, address, type, kind, preview, retained."""
    out = []
    for l in heap.frame_locals(frame["address"]):
        o = heap.object(l["address"])
        if o is None:
            out.append(dict(l, type="?", kind="?", preview="", retained=None))
            continue
        d = heap.dominators(l["address"], 1, 1)
        out.append(dict(l, type=o["type"], kind=o["kind"], preview=o["preview"], retained=d["retained"]))
    return out


def add_details(heap, threads, with_locals):
    """Adds name (threading's, or None) to each thread, and to each frame its
    source text (or None) and, with_locals, its locals."""
    names = thread_names(heap)
    roots = _roots()
    for t in threads:
        t["name"] = names.get(t["thread_id"])
        for f in t["frames"]:
            f["source"] = source_line(f["file"], f["line"], roots)
            if with_locals:
                f["locals"] = frame_locals(heap, f)


def local_lines(f, human):
    """'      name = kind preview  (retained N bytes)' per local, cut to 100 columns."""
    out = []
    for l in f.get("locals", []):
        kept = "" if l["retained"] is None else "  (retained %s)" % tables.total_text(l["retained"], human)
        head = "      %s = %s 0x%x" % (l["name"], l["kind"], l["address"])
        room = tables.LINE_WIDTH - len(head) - len(kept) - 1
        preview = (" " + tables.cut_middle(l["preview"], room)) if l["preview"] and room >= 5 else ""
        out.append(head + preview + kept)
    return out
