"""Columns that stay aligned at any size, and sizes for people (--human).

heapy's columns are printf minimum widths: a number longer than its column
pushes the rest of its row right.  Here a column is as wide as its widest
cell (never narrower than heapy's), and its header label moves right by as
much as the column grew, so the text is heapy's at normal sizes.  The core's
partition table does the same in C (ph_format_partition_opts); human() is
ph_format_size's twin."""

LINE_WIDTH = 100   # heapy's line length: rows are made to fit it
UNITS = ("KiB", "MiB", "GiB", "TiB", "PiB", "EiB")


def human(n):
    """'512 B', '1.5 KiB', '12.3 MiB', '1.1 GiB': powers of 1024, one decimal."""
    if abs(n) < 1024:
        return "%d B" % n
    x, u = abs(n) / 1024.0, 0
    while x >= 1024.0 and u + 1 < len(UNITS):
        x /= 1024.0
        u += 1
    return "%s%.1f %s" % ("-" if n < 0 else "", x, UNITS[u])


def size(n, as_human, signed=False):
    """A size as a table cell: digits (with a sign when signed), or human()."""
    if as_human:
        return ("+" if signed and n >= 0 else "") + human(n)
    return ("%+d" if signed else "%d") % n


def widths(rows, minimums):
    """Each column's width: its widest cell, at least its minimum (heapy's)."""
    return [max([m] + [len(r[i]) for r in rows]) for i, m in enumerate(minimums)]


def header(labels, minimums, ws):
    """The header: each label (a column's label with its separator, as heapy
    writes it) moved right by as much as its column grew."""
    return "".join(" " * (w - m) + label for label, m, w in zip(labels, minimums, ws))


def row(cells, ws):
    """The cells right-aligned in their columns, separated by one space."""
    return " ".join(c.rjust(w) for c, w in zip(cells, ws))


# heapy's partition columns: index, count, %, size, %, cumulative, % (and the
# labels of its header ' Index  Count   %     Size   % Cumulative  % ').
HEAPY_MIN = [6, 6, 3, 8, 3, 9, 3]
HEAPY_LABELS = [" Index", "  Count", "   %", "     Size", "   %", " Cumulative", "  % "]


def heapy_rows(items, total_count, total_size, as_human=False):
    """heapy's statistics cells for items of (count, size), cumulated."""
    out, cum = [], 0
    tc, ts = total_count or 1, total_size or 1
    for i, (c, s) in enumerate(items):
        cum += s
        out.append(["%d" % i, "%d" % c, "%3.0f" % (100.0 * c / tc), size(s, as_human),
                    "%3.0f" % (100.0 * s / ts), size(cum, as_human), "%3.0f" % (100.0 * cum / ts)])
    return out


def heapy_table(items, total_count, total_size, kinds, kind_header, as_human=False):
    """The header line and one line per row ("stats kind") of heapy's table,
    its columns widened as needed."""
    cells = heapy_rows(items, total_count, total_size, as_human)
    ws = widths(cells, HEAPY_MIN)
    lines = [header(HEAPY_LABELS, HEAPY_MIN, ws) + kind_header]
    lines += [row(c, ws) + " " + k for c, k in zip(cells, kinds)]
    return lines


def total_text(n, as_human):
    """'1234 bytes', or with --human '1.2 KiB'."""
    return human(n) if as_human else "%d bytes" % n


def cut_middle(s, width):
    """s shortened to width characters by cutting its middle out: 'abc...xyz'."""
    if len(s) <= width:
        return s
    if width <= 3:
        return s[:width]
    head = (width - 3 + 1) // 2
    tail = width - 3 - head
    return s[:head] + "..." + (s[-tail:] if tail else "")
