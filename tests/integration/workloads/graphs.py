"""A small known structure for objgraph-style graphs (referents --depth,
backrefs --graph); then SIGSTOP.

    top = Node('top', [a, b])      Node has __slots__ ('name', 'kids'): its
    a   = Node('a', [b])           references are slots (labels '.name',
    b   = Node('b', [])            '.kids') on every CPython version

usage: graphs.py OUT.json -> {"version", "ids": {name: id()}}, where the
names are top, a, b, top.kids, a.kids, b.kids, top.name (the str), Node,
globals (the module's dict) and fan (a list of 25 strs only it holds; fan.len)."""

import json
import os
import signal
import sys


class Node(object):
    __slots__ = ("name", "kids")

    def __init__(self, name, kids):
        self.name = name
        self.kids = kids


# names made at run time: a constant would be held by the module's code too
b = Node("-".join(["b", "leaf"]), [])
a = Node("-".join(["a", "mid"]), [b])
top = Node("-".join(["top", "root"]), [a, b])
# a list alone holding 25 strs made at run time: it dominates each of them
fan = ["-".join(["fan", str(i)]) for i in range(25)]


def main(out_path):
    ids = {"top": id(top), "a": id(a), "b": id(b), "top.kids": id(top.kids), "a.kids": id(a.kids),
           "b.kids": id(b.kids), "top.name": id(top.name), "Node": id(Node),
           "globals": id(globals()), "fan": id(fan), "fan.len": len(fan)}
    with open(out_path, "w") as f:
        json.dump({"version": sys.version.split()[0], "ids": ids}, f)
    os.kill(os.getpid(), signal.SIGSTOP)


if __name__ == "__main__":
    main(sys.argv[1])
