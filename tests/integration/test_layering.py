"""The folders depend downwards only (docs/internals.md): no target, no gdb.

- The core's calls: every undefined symbol of build/core/FOLDER/FILE.o
  (nm -u) resolved to the object that defines it; a call runs from a folder
  to one at or below it (base < memory < cpython < heap < analyses < api),
  and no files call each other in a circle, inside a folder or across.
- The core's includes: down or sideways too, but for the one include that
  runs up, cpython/ taking the heap's state (heap/heap.h, heap/index.h).
- The plugin's Python modules import each other in no circle (lazy imports
  inside functions included): the command modules take their helpers from
  options.py, and commands.py, which imports them, only registers them.
"""

import ast
import collections
import glob
import os
import re
import subprocess

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
FLOORS = ["base", "memory", "cpython", "heap", "analyses", "api"]
# The include that still runs up: cpython/ reads the heap's fields.
UP_INCLUDES = {("cpython", "heap/heap.h"), ("cpython", "heap/index.h")}


def circles(edges):
    """The strongly connected sets of more than one node (Tarjan, iterative)."""
    index, low, on, stack, out = {}, {}, set(), [], []
    nodes = set(edges) | {b for bs in edges.values() for b in bs}
    for start in sorted(nodes):
        if start in index:
            continue
        work = [(start, iter(sorted(edges.get(start, ()))))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on.add(start)
        while work:
            v, it = work[-1]
            w = next(it, None)
            if w is not None:
                if w not in index:
                    index[w] = low[w] = len(index)
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(sorted(edges.get(w, ())))))
                elif w in on:
                    low[v] = min(low[v], index[w])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                scc = []
                while True:
                    w = stack.pop()
                    on.discard(w)
                    scc.append(w)
                    if w == v:
                        break
                if len(scc) > 1:
                    out.append(sorted(scc))
    return out


def test_circles_finds_a_circle():
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert circles({"a": {"b"}, "b": set()}) == []


def core_calls():
    objs = sorted(glob.glob(os.path.join(ROOT, "build", "core", "*", "*.o")))
    assert objs, "build/core/*/*.o missing: run make first"
    defs, uses = {}, collections.defaultdict(set)
    for o in objs:
        name = os.path.relpath(o, os.path.join(ROOT, "build", "core"))[:-2]
        for line in subprocess.run(["nm", o], capture_output=True, text=True, check=True).stdout.splitlines():
            parts = line.split()
            if len(parts) == 3 and parts[1] in "TDBRC":
                defs[parts[2]] = name
            elif len(parts) == 2 and parts[0] == "U":
                uses[name].add(parts[1])
    edges = collections.defaultdict(dict)
    for f, syms in uses.items():
        for s in syms:
            if s in defs and defs[s] != f:
                edges[f].setdefault(defs[s], set()).add(s)
    return edges


def test_core_calls_run_down():
    edges = core_calls()
    folders = {f.split("/")[0] for f in edges} | {g.split("/")[0] for gs in edges.values() for g in gs}
    assert folders <= set(FLOORS), "folders not placed in FLOORS: %s" % sorted(folders - set(FLOORS))
    up = ["%s -> %s (%s)" % (a, b, ", ".join(sorted(syms)))
          for a, bs in sorted(edges.items()) for b, syms in sorted(bs.items())
          if FLOORS.index(a.split("/")[0]) < FLOORS.index(b.split("/")[0])]
    assert not up, "calls that run up:\n  " + "\n  ".join(up)
    found = circles({a: set(bs) for a, bs in edges.items()})
    assert not found, "files that call each other in a circle: %s" % found


def test_core_includes_run_down():
    up = []
    for path in sorted(glob.glob(os.path.join(ROOT, "core", "src", "*", "*.[ch]"))):
        folder = os.path.basename(os.path.dirname(path))
        with open(path) as f:
            for inc in re.findall(r'^#include "([a-z_]+)/([a-z_0-9]+\.h)"', f.read(), re.M):
                target = "%s/%s" % inc
                if (FLOORS.index(folder) < FLOORS.index(inc[0]) and
                        (folder, target) not in UP_INCLUDES):
                    up.append("%s/%s -> %s" % (folder, os.path.basename(path), target))
    assert not up, "includes that run up:\n  " + "\n  ".join(up)


def test_plugin_imports_in_no_circle():
    pkg = os.path.join(ROOT, "plugin", "probeheap")
    edges = {}
    for path in glob.glob(os.path.join(pkg, "*.py")):
        me = os.path.basename(path)[:-3]
        with open(path) as f:
            tree = ast.parse(f.read())
        names = set()
        for node in ast.walk(tree):  # lazy imports inside functions too
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                if node.module:
                    names.add(node.module.split(".")[0])
                else:
                    names.update(a.name for a in node.names)
        edges[me] = {n for n in names if os.path.exists(os.path.join(pkg, n + ".py")) and n != me}
    found = circles(edges)
    assert not found, "modules that import each other in a circle: %s" % found
    takers = sorted(m for m, names in edges.items() if "commands" in names and m not in ("cli", "gdb_entry"))
    assert not takers, "modules below commands.py that import it: %s" % takers
