"""partition and more: heapy's partition table, shown page by page."""

import json
import re

from . import options, state, tables


# The footer the core writes under a page of a partition (heapy's, gdb's way).
_GDB_MORE = re.compile(r"<(\d+) more rows\. Type e\.g\. 'probe-heap more' to view\.>")


class Table:
    """A partition being shown page by page."""

    def __init__(self, part, by, header, human=False):
        self.part, self.by, self.header, self.human, self.next = part, by, header, human, 0
        self.rows = part.rows()

    def page(self, n=options.PAGE):
        text = tables.partition_text(self.part.count, self.part.size, self.rows, self.header,
                                     self.next, n, self.human)
        if options.FROM_SHELL:  # the core ends with heapy's hint, which names gdb's 'probe-heap more'
            text = _GDB_MORE.sub(lambda m: options.more_footer(int(m.group(1))), text)
        # Like heapy, a page shows one row more rather than "<1 more rows>".
        left = self.part.nrows - self.next
        self.next = self.part.nrows if left <= n + 1 else self.next + n
        return text


def cmd_partition(argv, as_json):
    """Heapy's partition table of the heap.

    Usage: probe-heap partition [--by kind|type|size|module|rcs|via] [--kind KIND] [--all] [--human] [--json]

    --by kind (default) groups objects by class, and dicts by the class of the
    object whose __dict__ they are ("dict of __main__.Node"); --by type groups by
    type only; --by size by flat size; --by module by the module that defines
    the object's type; --by rcs by the kinds of the objects that refer to it
    ("<root>": a root refers to it); --by via by the names of the references to
    it ('.history', "['blob']", '[0]').  Ten rows are shown; in gdb
    'probe-heap more' shows the next ten; --all shows every row.  --json
    prints one JSON document with every row.  --human shows sizes in KiB,
    MiB, GiB (powers of 1024).  Columns widen as the numbers need.

    --kind KIND partitions only the objects of one kind (a row of the table by
    kind, like 'dict of __main__.Node', or a type name): heapy's drill-down,
    h[0].byrcs; 'partition --kind str --by rcs' says what refers to the str
    objects."""
    opts, rest, as_json = options.parse(argv, {"--all", "--human"}, {"--by", "--kind"}, as_json)
    if rest:
        raise options.UsageError("partition takes no arguments, only options (a kind with blanks "
                                  "goes in quotes: --kind 'dict of __main__.Node')")
    by = opts.get("--by", "kind")
    if by not in tables.HEADERS:
        raise options.UsageError("cannot partition by %s: choose one of %s" % (by, ", ".join(tables.HEADERS)))
    h = state.heap(quiet=as_json)
    kind = opts.get("--kind")
    part = h.partition(by, kind)
    if kind is not None and not part.count:
        known = {r[0] for r in h.partition("kind").rows()} | {r[1] for r in h.partition("type").rows()}
        raise options.CommandError("no objects of kind or type %r%s" % (
            kind, options.did_you_mean(kind, known) or "; 'probe-heap partition' lists the kinds"))
    if as_json:
        rows = [{"kind": k, "type": t, "count": c, "size": s, "estimate": e}
                for k, t, c, s, e in part.rows()]
        info = h.info()
        doc = {"python": options.python_of(info), "count": part.count, "size": part.size, "by": by,
               "rows": rows}
        if kind is not None:
            doc["kind"] = kind
        return json.dumps(options.with_partial(doc, info))
    table = Table(part, by, tables.HEADERS[by], bool(opts.get("--human")))
    state.remember_table(table)
    return table.page(part.nrows if opts.get("--all") else options.PAGE) + options.partial_line(h.info())


def cmd_more(argv, as_json):
    """The next rows of the last partition table (in gdb; from the shell, partition --all).

    Usage: probe-heap more"""
    if argv:
        raise options.UsageError("more takes no arguments")
    table = state.last_table()
    if table is None:
        raise options.UsageError("there is no table to continue: run 'probe-heap partition' first")
    if table.next >= table.part.nrows:
        return "<no more rows>\n"
    return table.page()
