"""Columns that stay aligned at any size, and sizes for people (--human).

heapy's columns are printf minimum widths: a number longer than its column
pushes the rest of its row right.  Here a column is as wide as its widest
cell (never narrower than heapy's), and its header label moves right by as
much as the column grew, so the text is heapy's at normal sizes.  Every
table of the tool is made here, the partition's too (partition_text): the
core gives numbers and names, never text."""

import textwrap

LINE_WIDTH = 100   # heapy's line length: rows are made to fit it
UNITS = ("KiB", "MiB", "GiB", "TiB", "PiB", "EiB")


# The last column's title, as heapy names it for each partition.
HEADERS = {
    "kind": "Kind (class / dict of class)",
    "type": "Type",
    "size": "Individual Size",
    "module": "Module",
    "rcs": "Referrers by Kind (class / dict of class)",
    "via": "Referred Via:",
}


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


def percent(part, total):
    """heapy's '%3d' % int('%.0f' % (part * 100.0 / total)) (in that order: 23 *
    100.0 / 40 is 57.5 exactly, and '%.0f' rounds half to even); 0 when the
    total is 0, where heapy would divide by zero."""
    return "%3d" % int("%.0f" % (part * 100.0 / total)) if total else "%3d" % 0


def heapy_rows(items, total_count, total_size, as_human=False):
    """heapy's statistics cells for items of (count, size), cumulated."""
    out, cum = [], 0
    for i, (c, s) in enumerate(items):
        cum += s
        out.append(["%d" % i, "%d" % c, percent(c, total_count), size(s, as_human),
                    percent(s, total_size), size(cum, as_human), percent(cum, total_size)])
    return out


def heapy_table(items, total_count, total_size, kinds, kind_header, as_human=False):
    """The header line and one line per row ("stats kind") of heapy's table,
    its columns widened as needed."""
    cells = heapy_rows(items, total_count, total_size, as_human)
    ws = widths(cells, HEAPY_MIN)
    lines = [header(HEAPY_LABELS, HEAPY_MIN, ws) + kind_header]
    lines += [row(c, ws) + " " + k for c, k in zip(cells, kinds)]
    return lines


# The partition table: guppy3's guppy/heapy/Part.py (SetFormat, Format) and
# OutputHandling.py (Printer.get_str), whose text wrapping is textwrap's.
EST_MARK = " (size estimated)"
MORE = "<%d more rows. Type e.g. 'probe-heap more' to view.>"
_PERCENT_COLUMNS = (2, 4, 6)   # always 3 wide: a percentage never widens its column


def partition_text(count, size_, rows, kind_header, first=0, nrows=10, as_human=False):
    """heapy's partition table, rows [first, first + nrows) of rows (Row-like:
    kind, type, count, size, estimate), under totals count and size_:

      label   'Partition of a set of N object(s). Total size = N bytes.', on the
              top page (first == 0) only;
      header  textwrap.fill(' Index  Count ... % ' + kind_header, 100,
              subsequent_indent=its own width), on every page with rows (an empty
              line when count and size are both 0);
      row     the statistics, then the kind (with EST_MARK when its size is an
              estimate) split on '\n', each part wrapped at 100 columns under the
              Kind column;
      paging  after nrows rows, MORE with the number left, unless exactly one is
              left, which is shown instead.

    The text is rstrip()ed and ends with one newline ('' when empty).  Each
    column is as wide as the whole partition's widest cell needs, so every page
    lines up."""
    out = []
    if first == 0:
        out.append("Partition of a set of %d object%s. Total size = %s."
                   % (count, "" if count == 1 else "s",
                      human(size_) if as_human else "%d bytes" % size_))
    cells = heapy_rows([(r[2], r[3]) for r in rows], count, size_, as_human)
    ws = widths(cells, HEAPY_MIN)
    for i in _PERCENT_COLUMNS:
        ws[i] = HEAPY_MIN[i]
    if first < len(rows):
        head = header(HEAPY_LABELS, HEAPY_MIN, ws)
        if count or size_:
            out += textwrap.wrap(head + (kind_header or ""), LINE_WIDTH,
                                 subsequent_indent=" " * len(head))
        else:
            out.append("")
        shown = 0
        for i in range(first, len(rows)):
            if shown >= nrows and i + 1 < len(rows):
                out.append(MORE % (len(rows) - i))
                break
            fr = row(cells[i], ws) + " "
            kind = (rows[i][0] or "") + (EST_MARK if rows[i][4] else "")
            parts = kind.split("\n")
            out += textwrap.wrap(fr + parts[0], LINE_WIDTH, subsequent_indent=" " * len(fr))
            for part in parts[1:]:
                out += textwrap.wrap(part, LINE_WIDTH, initial_indent=" " * len(fr),
                                     subsequent_indent=" " * len(fr))
            shown += 1
            if shown > nrows:   # the one last row, shown instead of the message
                break
    text = "\n".join(out).rstrip()
    return text + "\n" if text else ""


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
