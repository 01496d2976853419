"""Golden tests of tables.partition_text: heapy's partition table, column for
column (no gdb, no target: the formatter alone).

The expectations are written out by hand from guppy3's code:
  guppy/heapy/Part.py
    SetFormat.get_label      'Partition of a set of %d object%s. Total size = %d bytes.'
    SetFormat.get_stat_header ' Index  Count   %     Size   % Cumulative  % '
    SetFormat.get_stat_data  '%6d %6d %3d %8d %3d %9d %3d ' with each
                             percentage int('%.0f' % (x * 100.0/total))
    Format.get_formatted_row textwrap.wrap(fr + kind, width=100,
                             subsequent_indent=' '*len(fr)); the kind is
                             split on '\\n' first
    Format._oh_get_row_header textwrap.fill(header + kindheader, width=100, ...)
    Format._oh_get_more_msg  "<%d more rows. Type e.g. '_.more' to view.>"
  guppy/heapy/OutputHandling.py
    Printer.get_str          label only on the top page; header on every
                             page with rows; after 10 rows the more message,
                             unless exactly one row is left, which is shown
                             instead; the text is rstrip()ed.
fr, the statistics part of a row, is 45 characters wide when no number
overflows its column, so a kind has 100 - 45 = 55 columns per line.

(These were the C core's golden tests of ph_format_partition, tests/unit/test_format.c,
with the same texts, when the partition was formatted in C.)
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "plugin"))
from probeheap import tables  # noqa: E402

KIND_HDR = "Kind (class / dict of class)"
HDR = " Index  Count   %     Size   % Cumulative  % Kind (class / dict of class)\n"
UINT64_MAX = 2 ** 64 - 1
SIZE_MAX = 2 ** 64 - 1


def MORE(n):
    return "<%d more rows. Type e.g. 'probe-heap more' to view.>\n" % n


def make(specs, count=0, size=0):
    """(count, size, rows) over specs of (count, size, kind, estimate); the
    totals are the sums unless given (nonzero)."""
    rows = [(kind, kind, c, s, est) for c, s, kind, est in specs]
    return (count or sum(r[2] for r in rows), size or sum(r[3] for r in rows), rows)


def text(p, hdr=KIND_HDR, first=0, nrows=10, human=False):
    count, size, rows = p
    return tables.partition_text(count, size, rows, hdr, first, nrows, human)


def check(p, hdr, first, nrows, want):
    assert text(p, hdr, first, nrows) == want


def test_heapy_mixed_case():
    """heapy's own golden text: guppy/heapy/test/test_Part.py, MixedCase.test_1
    (6 objects: two each of str, float, int).  32*100.0/112 = 28.57 -> 29,
    88*100.0/112 = 78.57 -> 79."""
    p = make([(2, 56, "str", False), (2, 32, "float", False), (2, 24, "int", False)])
    check(p, KIND_HDR, 0, 10,
          "Partition of a set of 6 objects. Total size = 112 bytes.\n"
          + HDR
          + "     0      2  33       56  50        56  50 str\n"
          "     1      2  33       32  29        88  79 float\n"
          "     2      2  33       24  21       112 100 int\n")


def test_design_example():
    """The example in DESIGN.md (totals larger than the rows shown)."""
    p = make([(200000, 19200000, "dict of __main__.Node", False),
              (312241, 17528537, "str", False)], 1939461, 121557345)
    check(p, KIND_HDR, 0, 10,
          "Partition of a set of 1939461 objects. Total size = 121557345 bytes.\n"
          + HDR
          + "     0 200000  10 19200000  16  19200000  16 dict of __main__.Node\n"
          "     1 312241  16 17528537  14  36728537  30 str\n")


def test_singular_object():
    """get_label: 'object%s' with s = '' only when count == 1."""
    p = make([(1, 16, "float", False)])
    check(p, KIND_HDR, 0, 10,
          "Partition of a set of 1 object. Total size = 16 bytes.\n"
          + HDR
          + "     0      1 100       16 100        16 100 float\n")


TWELVE = [(10 * (i + 1), 1000 - 50 * i, "kind%d" % i, False) for i in range(12)]


def test_ten_rows():
    """Exactly ten rows: all of them, no more line."""
    p = make(TWELVE[:10])
    check(p, KIND_HDR, 0, 10,
          "Partition of a set of 550 objects. Total size = 7750 bytes.\n"
          + HDR
          + "     0     10   2     1000  13      1000  13 kind0\n"
          "     1     20   4      950  12      1950  25 kind1\n"
          "     2     30   5      900  12      2850  37 kind2\n"
          "     3     40   7      850  11      3700  48 kind3\n"
          "     4     50   9      800  10      4500  58 kind4\n"
          "     5     60  11      750  10      5250  68 kind5\n"
          "     6     70  13      700   9      5950  77 kind6\n"
          "     7     80  15      650   8      6600  85 kind7\n"
          "     8     90  16      600   8      7200  93 kind8\n"
          "     9    100  18      550   7      7750 100 kind9\n")


def test_eleven_rows_all_shown():
    """Eleven rows: OutputHandling.Printer.get_str prints the eleventh row instead
    of "<1 more rows ...>" (line_at(lineno+1) raises IndexError, so the line is
    printed and the loop ends); heapy never says "<1 more rows"."""
    p = make(TWELVE[:11])
    check(p, KIND_HDR, 0, 10,
          "Partition of a set of 660 objects. Total size = 8250 bytes.\n"
          + HDR
          + "     0     10   2     1000  12      1000  12 kind0\n"
          "     1     20   3      950  12      1950  24 kind1\n"
          "     2     30   5      900  11      2850  35 kind2\n"
          "     3     40   6      850  10      3700  45 kind3\n"
          "     4     50   8      800  10      4500  55 kind4\n"
          "     5     60   9      750   9      5250  64 kind5\n"
          "     6     70  11      700   8      5950  72 kind6\n"
          "     7     80  12      650   8      6600  80 kind7\n"
          "     8     90  14      600   7      7200  87 kind8\n"
          "     9    100  15      550   7      7750  94 kind9\n"
          "    10    110  17      500   6      8250 100 kind10\n")
    # heapy's .more after that page starts at line 11: nothing left.
    check(p, KIND_HDR, 11, 10, "")
    # Asked for the page at 10 all the same, it is that one row.
    check(p, KIND_HDR, 10, 10,
          HDR + "    10    110  17      500   6      8250 100 kind10\n")


def test_twelve_rows_more_line():
    """Twelve rows: ten, then "<2 more rows ...>" (Format._oh_get_more_msg:
    numrows - (end_lineno + 1) = 12 - 10)."""
    p = make(TWELVE)
    check(p, KIND_HDR, 0, 10,
          "Partition of a set of 780 objects. Total size = 8700 bytes.\n"
          + HDR
          + "     0     10   1     1000  11      1000  11 kind0\n"
          "     1     20   3      950  11      1950  22 kind1\n"
          "     2     30   4      900  10      2850  33 kind2\n"
          "     3     40   5      850  10      3700  43 kind3\n"
          "     4     50   6      800   9      4500  52 kind4\n"
          "     5     60   8      750   9      5250  60 kind5\n"
          "     6     70   9      700   8      5950  68 kind6\n"
          "     7     80  10      650   7      6600  76 kind7\n"
          "     8     90  12      600   7      7200  83 kind8\n"
          "     9    100  13      550   6      7750  89 kind9\n"
          + MORE(2))


def test_more_paging():
    """Paging through 25 rows.  A `more` page (MorePrinter, is_top false) has no
    "Partition of a set" line but repeats the column header, as in heapy's
    test_Part.py IdentityCase.test_1; indexes and cumulative sizes go on."""
    p = make([(1, 100 - i, "k%02d" % i, False) for i in range(25)])
    check(p, KIND_HDR, 0, 10,
          "Partition of a set of 25 objects. Total size = 2200 bytes.\n"
          + HDR
          + "     0      1   4      100   5       100   5 k00\n"
          "     1      1   4       99   4       199   9 k01\n"
          "     2      1   4       98   4       297  14 k02\n"
          "     3      1   4       97   4       394  18 k03\n"
          "     4      1   4       96   4       490  22 k04\n"
          "     5      1   4       95   4       585  27 k05\n"
          "     6      1   4       94   4       679  31 k06\n"
          "     7      1   4       93   4       772  35 k07\n"
          "     8      1   4       92   4       864  39 k08\n"
          "     9      1   4       91   4       955  43 k09\n"
          + MORE(15))
    check(p, KIND_HDR, 10, 10,
          HDR
          + "    10      1   4       90   4      1045  48 k10\n"
          "    11      1   4       89   4      1134  52 k11\n"
          "    12      1   4       88   4      1222  56 k12\n"
          "    13      1   4       87   4      1309  60 k13\n"
          "    14      1   4       86   4      1395  63 k14\n"
          "    15      1   4       85   4      1480  67 k15\n"
          "    16      1   4       84   4      1564  71 k16\n"
          "    17      1   4       83   4      1647  75 k17\n"
          "    18      1   4       82   4      1729  79 k18\n"
          "    19      1   4       81   4      1810  82 k19\n"
          + MORE(5))
    check(p, KIND_HDR, 20, 10,
          HDR
          + "    20      1   4       80   4      1890  86 k20\n"
          "    21      1   4       79   4      1969  90 k21\n"
          "    22      1   4       78   4      2047  93 k22\n"
          "    23      1   4       77   4      2124  97 k23\n"
          "    24      1   4       76   3      2200 100 k24\n")
    # Exhausted: a MorePrinter with no lines left prints nothing
    # (get_empty_msg is None for partitions).
    check(p, KIND_HDR, 25, 10, "")
    check(p, KIND_HDR, 1000, 10, "")
    check(p, KIND_HDR, SIZE_MAX, 10, "")
    # --all: no page limit.
    every = text(p, KIND_HDR, 0, SIZE_MAX)
    assert "more rows" not in every
    assert "    24      1   4       76   3      2200 100 k24\n" in every


def test_round_half_even():
    """int('%.0f' % x) rounds the exact binary value half to even:
    counts of 200 objects: 183 -> 91.5 -> 92, 7 -> 3.5 -> 4, 5 -> 2.5 -> 2,
    3 -> 1.5 -> 2, 1 -> 0.5 -> 0; sizes of 200 bytes: 101 -> 50.5 -> 50,
    49 -> 24.5 -> 24, 25 -> 12.5 -> 12, 21 -> 10.5 -> 10, 3 -> 1.5 -> 2,
    1 -> 0.5 -> 0; cumulative 175 -> 87.5 -> 88, 199 -> 99.5 -> 100."""
    p = make([(183, 101, "a", False), (7, 49, "b", False), (5, 25, "c", False),
              (3, 21, "d", False), (1, 3, "e", False), (1, 1, "f", False)])
    check(p, KIND_HDR, 0, 10,
          "Partition of a set of 200 objects. Total size = 200 bytes.\n"
          + HDR
          + "     0    183  92      101  50       101  50 a\n"
          "     1      7   4       49  24       150  75 b\n"
          "     2      5   2       25  12       175  88 c\n"
          "     3      3   2       21  10       196  98 d\n"
          "     4      1   0        3   2       199 100 e\n"
          "     5      1   0        1   0       200 100 f\n")


def test_percent_order_of_operations():
    """heapy computes row.count * 100.0 / impl.count, in that order:
    23 * 100.0 / 40 = 57.5 exactly -> 58, where 23 / 40 * 100.0 would be
    57.49999999999999 -> 57; 15 * 100.0 / 24 = 62.5 -> 62, where
    15 * (100.0 / 24) would be 62.50000000000001 -> 63."""
    p = make([(23, 15, "x", False), (17, 9, "y", False)])
    check(p, KIND_HDR, 0, 10,
          "Partition of a set of 40 objects. Total size = 24 bytes.\n"
          + HDR
          + "     0     23  58       15  62        15  62 x\n"
          "     1     17  42        9  38        24 100 y\n")


def test_wide_numbers():
    """heapy's widths ('%6d', '%8d', '%9d') are minimums: a longer number pushed
    the rest of its row right, out of line with the others (issue 17: on GB
    heaps "1101874  98 1136478373  88").  A column is as wide as the widest
    number of the whole partition needs, and its header label moves right
    with it.  Expected widths: count 8 digits (12345678), size 10
    (1234567890), cumulative 10 (1234567900)."""
    p = make([(12345678, 1234567890, "bytes", False), (1, 10, "int", False)])
    check(p, KIND_HDR, 0, 10,
          "Partition of a set of 12345679 objects. Total size = 1234567900 bytes.\n"
          " Index    Count   %       Size   %  Cumulative  % Kind (class / dict of class)\n"
          "     0 12345678 100 1234567890 100 1234567890 100 bytes\n"
          "     1        1   0         10   0 1234567900 100 int\n")
    # 20 digits everywhere
    p = make([(UINT64_MAX - 1, UINT64_MAX - 1, "big", False), (1, 1, "small", False)])
    check(p, KIND_HDR, 0, 10,
          "Partition of a set of 18446744073709551615 objects. "
          "Total size = 18446744073709551615 bytes.\n"
          " Index                Count   %                 Size   %"
          "            Cumulative  % Kind (class / dict\n"
          "                                                                                  of class)\n"
          "     0 18446744073709551614 100 18446744073709551614 100 "
          "18446744073709551614 100 big\n"
          "     1                    1   0                    1   0 "
          "18446744073709551615 100 small\n")


def test_ten_to_the_ten():
    """A synthetic heap of 10^10 bytes and more (issue 17): every column stays
    aligned on every page, even one whose own rows are narrow (the widths
    come from the whole partition).  12 rows: sizes 10^10 - i, counts
    10^10 / 8 = 1250000000 (10 digits)."""
    specs = [(1250000000, 10000000000 - i, "k%02d" % i, False) for i in range(12)]
    specs[11] = (1, 10, "k11", False)
    p = make(specs)
    got = text(p, KIND_HDR, 0, 10)
    # total = 11 * 10^10 - 55 + 10 = 109999999955: 12 digits
    want_head = (
        "Partition of a set of 13750000001 objects. Total size = 109999999955 bytes.\n"
        " Index      Count   %        Size   %    Cumulative  % Kind (class / dict of class)\n"
        "     0 1250000000   9 10000000000   9  10000000000   9 k00\n"
        "     1 1250000000   9  9999999999   9  19999999999  18 k01\n")
    assert got.startswith(want_head)
    # every row line has its kind at the same column as the header's
    lines = got.splitlines()
    kind_col = lines[1].index("Kind")
    for line in lines[2:]:
        if not line.startswith("<"):
            assert line.index("k") == kind_col, line
    # the second page: index 10 and 11, still the same widths
    assert text(p, KIND_HDR, 10, 10) == (
        " Index      Count   %        Size   %    Cumulative  % Kind (class / dict of class)\n"
        "    10 1250000000   9  9999999990   9 109999999945 100 k10\n"
        "    11          1   0          10   0 109999999955 100 k11\n")


def test_human_sizes():
    """--human: sizes in powers of 1024 with one decimal, "B" below 1024; the
    expected texts are Python's '%.1f %s' of the same quotients."""
    cases = [(0, "0 B"), (1023, "1023 B"), (1024, "1.0 KiB"), (1536, "1.5 KiB"),
             (10000000000, "9.3 GiB"), (1136478373, "1.1 GiB"), (1048576 * 12 + 314573, "12.3 MiB"),
             (UINT64_MAX, "16.0 EiB")]
    for n, want in cases:
        assert tables.human(n) == want
    assert tables.size(10000000000, False) == "10000000000"
    p = make([(1101874, 1136478373, "str", False), (10, 2048, "int", False)])
    assert text(p, KIND_HDR, 0, 10, human=True) == (
        "Partition of a set of 1101884 objects. Total size = 1.1 GiB.\n"
        " Index   Count   %     Size   % Cumulative  % Kind (class / dict of class)\n"
        "     0 1101874 100  1.1 GiB 100   1.1 GiB 100 str\n"
        "     1      10   0  2.0 KiB   0   1.1 GiB 100 int\n")


def test_wrap_long_kind():
    """A 150-character kind: textwrap.wrap(fr + kind, width=100,
    subsequent_indent=' '*45) breaks at spaces; 55 columns per line."""
    kind = ("dict of module, dict of __main__.Node, list, tuple, function, "
            "types.SimpleNamespace, collections.OrderedDict, weakref.ReferenceType, "
            "__main__.Longname")
    assert len(kind) == 150
    p = make([(3, 300, kind, False), (1, 100, "str", False)])
    check(p, KIND_HDR, 0, 10,
          "Partition of a set of 4 objects. Total size = 400 bytes.\n"
          + HDR
          + "     0      3  75      300  75       300  75 dict of module, dict of __main__.Node, list, tuple,\n"
          "                                             function, types.SimpleNamespace,\n"
          "                                             collections.OrderedDict, weakref.ReferenceType,\n"
          "                                             __main__.Longname\n"
          "     1      1  25      100  25       400 100 str\n")


def test_wrap_long_word():
    """A word longer than a line: textwrap's _handle_long_word cuts it to fit
    (55 + 55 + 40)."""
    p = make([(1, 8, "x" * 150, False)])
    check(p, KIND_HDR, 0, 10,
          "Partition of a set of 1 object. Total size = 8 bytes.\n"
          + HDR
          + "     0      1 100        8 100         8 100 " + "x" * 55 + "\n"
          + " " * 45 + "x" * 55 + "\n"
          + " " * 45 + "x" * 40 + "\n")


def test_wrap_hyphens():
    """textwrap (break_on_hyphens=True) also breaks after a hyphen inside a
    word: "aaaa-" * 30 is thirty chunks of 5, eleven to a line."""
    p = make([(1, 8, "aaaa-" * 30, False)])
    check(p, KIND_HDR, 0, 10,
          "Partition of a set of 1 object. Total size = 8 bytes.\n"
          + HDR
          + "     0      1 100        8 100         8 100 " + "aaaa-" * 11 + "\n"
          + " " * 45 + "aaaa-" * 11 + "\n"
          + " " * 45 + "aaaa-" * 8 + "\n")


def test_kind_with_newline():
    """Format.get_formatted_row splits row.name on '\\n'; later parts start at
    the Kind column."""
    p = make([(1, 8, "first\nsecond", False)])
    check(p, KIND_HDR, 0, 10,
          "Partition of a set of 1 object. Total size = 8 bytes.\n"
          + HDR
          + "     0      1 100        8 100         8 100 first\n"
          "                                             second\n")


def test_no_line_over_100():
    """No line of the output is longer than 100 columns when the numbers fit
    their columns, whatever the kind."""
    kind = ""
    while len(kind) + 12 < 400:
        kind += "word_"
        kind += "z" * ((len(kind) % 7) + 1)
        kind += " " if len(kind) % 3 else "."
    p = make([(5, 500, kind, True), (1, 8, kind, False)])
    got = text(p, KIND_HDR, 0, 10)
    assert got.endswith("\n")
    for line in got.splitlines():
        assert len(line) <= 100, line


def test_empty_partition():
    """An empty partition: the label, then nothing (Printer.get_str prints the
    row header only when there is a first row)."""
    p = (0, 0, [])
    check(p, KIND_HDR, 0, 10, "Partition of a set of 0 objects. Total size = 0 bytes.\n")
    check(p, KIND_HDR, 10, 10, "")


def test_zero_size_total():
    """Zero totals never divide by zero (heapy would raise ZeroDivisionError):
    such percentages are 0."""
    p = make([(5, 0, "a", False), (0, 0, "b", False)])
    check(p, KIND_HDR, 0, 10,
          "Partition of a set of 5 objects. Total size = 0 bytes.\n"
          + HDR
          + "     0      5 100        0   0         0   0 a\n"
          "     1      0   0        0   0         0   0 b\n")


def test_estimate_mark():
    """Rows whose sizes are estimates: the kind text gets " (size estimated)";
    the columns are untouched."""
    p = make([(2, 100, "numpy.ndarray", True), (1, 50, "str", False)])
    check(p, KIND_HDR, 0, 10,
          "Partition of a set of 3 objects. Total size = 150 bytes.\n"
          + HDR
          + "     0      2  67      100  67       100  67 numpy.ndarray (size estimated)\n"
          "     1      1  33       50  33       150 100 str\n")


def test_kind_headers():
    """The last column's title is the caller's; heapy's titles by classifier."""
    p = make([(1, 8, "x", False)])
    check(p, "Type", 0, 10,
          "Partition of a set of 1 object. Total size = 8 bytes.\n"
          " Index  Count   %     Size   % Cumulative  % Type\n"
          "     0      1 100        8 100         8 100 x\n")
    check(p, "Referrers by Kind (class / dict of class)", 0, 10,
          "Partition of a set of 1 object. Total size = 8 bytes.\n"
          " Index  Count   %     Size   % Cumulative  % Referrers by Kind (class / dict of class)\n"
          "     0      1 100        8 100         8 100 x\n")
    # An empty title: textwrap drops the trailing space.
    for hdr in ("", None):
        check(p, hdr, 0, 10,
              "Partition of a set of 1 object. Total size = 8 bytes.\n"
              " Index  Count   %     Size   % Cumulative  %\n"
              "     0      1 100        8 100         8 100 x\n")


def test_utf8_kind_width():
    """Kinds are measured in characters, as Python measures them: 30 two-byte
    characters, a space, 30 more (61 characters, 122 bytes in UTF-8)."""
    half = "\u00e9" * 30
    p = make([(1, 8, half + " " + half, False)])
    check(p, KIND_HDR, 0, 10,
          "Partition of a set of 1 object. Total size = 8 bytes.\n" + HDR
          + "     0      1 100        8 100         8 100 " + half + "\n"
          + " " * 45 + half + "\n")
