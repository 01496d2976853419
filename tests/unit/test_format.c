/* Golden tests of ph_format_partition: heapy's partition table, column for
 * column.
 *
 * The expectations are written out by hand from guppy3's code:
 *   guppy/heapy/Part.py
 *     SetFormat.get_label      'Partition of a set of %d object%s. Total size = %d bytes.'
 *     SetFormat.get_stat_header ' Index  Count   %     Size   % Cumulative  % '
 *     SetFormat.get_stat_data  '%6d %6d %3d %8d %3d %9d %3d ' with each
 *                              percentage int('%.0f' % (x * 100.0/total))
 *     Format.get_formatted_row textwrap.wrap(fr + kind, width=100,
 *                              subsequent_indent=' '*len(fr)); the kind is
 *                              split on '\n' first
 *     Format._oh_get_row_header textwrap.fill(header + kindheader, width=100, ...)
 *     Format._oh_get_more_msg  "<%d more rows. Type e.g. '_.more' to view.>"
 *   guppy/heapy/OutputHandling.py
 *     Printer.get_str          label only on the top page; header on every
 *                              page with rows; after 10 rows the more message,
 *                              unless exactly one row is left, which is shown
 *                              instead; the text is rstrip()ed.
 * fr, the statistics part of a row, is 45 characters wide when no number
 * overflows its column, so a kind has 100 - 45 = 55 columns per line. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probeheap.h"

#define KIND_HDR "Kind (class / dict of class)"
#define HDR " Index  Count   %     Size   % Cumulative  % Kind (class / dict of class)\n"
#define MORE(n) "<" #n " more rows. Type e.g. 'probe-heap more' to view.>\n"

typedef struct spec {
    uint64_t count, size;
    const char *kind;
    bool estimate;
} spec;

/* A partition over rows; totals are the sums unless given (nonzero). */
static ph_partition make(const spec *s, size_t n, ph_row *rows,
                         uint64_t count, uint64_t size)
{
    ph_partition p = {0};
    uint64_t c = 0, z = 0;
    for (size_t i = 0; i < n; i++) {
        rows[i] = (ph_row){.kind = s[i].kind, .type = s[i].kind,
                           .count = s[i].count, .size = s[i].size,
                           .estimate = s[i].estimate};
        c += s[i].count;
        z += s[i].size;
    }
    p.by = PH_BY_KIND;
    p.count = count ? count : c;
    p.size = size ? size : z;
    p.nrows = n;
    p.rows = n ? rows : NULL;
    return p;
}

static void check(const ph_partition *p, const char *hdr, size_t first,
                  size_t nrows, const char *want)
{
    char *got = ph_format_partition(p, hdr, first, nrows);
    assert_non_null(got);
    if (strcmp(got, want) != 0)
        fprintf(stderr, "--- want\n%s--- got\n%s---\n", want, got);
    assert_string_equal(got, want);
    free(got);
}

/* heapy's own golden text: guppy/heapy/test/test_Part.py, MixedCase.test_1
 * (6 objects: two each of str, float, int).  32*100.0/112 = 28.57 -> 29,
 * 88*100.0/112 = 78.57 -> 79. */
static void test_heapy_mixed_case(void **state)
{
    (void)state;
    spec s[] = {{2, 56, "str", false}, {2, 32, "float", false}, {2, 24, "int", false}};
    ph_row rows[3];
    ph_partition p = make(s, 3, rows, 0, 0);
    check(&p, KIND_HDR, 0, 10,
          "Partition of a set of 6 objects. Total size = 112 bytes.\n"
          HDR
          "     0      2  33       56  50        56  50 str\n"
          "     1      2  33       32  29        88  79 float\n"
          "     2      2  33       24  21       112 100 int\n");
}

/* The example in DESIGN.md (totals larger than the rows shown). */
static void test_design_example(void **state)
{
    (void)state;
    spec s[] = {{200000, 19200000, "dict of __main__.Node", false},
                {312241, 17528537, "str", false}};
    ph_row rows[2];
    ph_partition p = make(s, 2, rows, 1939461, 121557345);
    check(&p, KIND_HDR, 0, 10,
          "Partition of a set of 1939461 objects. Total size = 121557345 bytes.\n"
          HDR
          "     0 200000  10 19200000  16  19200000  16 dict of __main__.Node\n"
          "     1 312241  16 17528537  14  36728537  30 str\n");
}

/* get_label: 'object%s' with s = '' only when count == 1. */
static void test_singular_object(void **state)
{
    (void)state;
    spec s[] = {{1, 16, "float", false}};
    ph_row rows[1];
    ph_partition p = make(s, 1, rows, 0, 0);
    check(&p, KIND_HDR, 0, 10,
          "Partition of a set of 1 object. Total size = 16 bytes.\n"
          HDR
          "     0      1 100       16 100        16 100 float\n");
}

static spec twelve[12] = {
    {10, 1000, "kind0", false}, {20, 950, "kind1", false},
    {30, 900, "kind2", false},  {40, 850, "kind3", false},
    {50, 800, "kind4", false},  {60, 750, "kind5", false},
    {70, 700, "kind6", false},  {80, 650, "kind7", false},
    {90, 600, "kind8", false},  {100, 550, "kind9", false},
    {110, 500, "kind10", false}, {120, 450, "kind11", false},
};

/* Exactly ten rows: all of them, no more line. */
static void test_ten_rows(void **state)
{
    (void)state;
    ph_row rows[10];
    ph_partition p = make(twelve, 10, rows, 0, 0);
    check(&p, KIND_HDR, 0, 10,
          "Partition of a set of 550 objects. Total size = 7750 bytes.\n"
          HDR
          "     0     10   2     1000  13      1000  13 kind0\n"
          "     1     20   4      950  12      1950  25 kind1\n"
          "     2     30   5      900  12      2850  37 kind2\n"
          "     3     40   7      850  11      3700  48 kind3\n"
          "     4     50   9      800  10      4500  58 kind4\n"
          "     5     60  11      750  10      5250  68 kind5\n"
          "     6     70  13      700   9      5950  77 kind6\n"
          "     7     80  15      650   8      6600  85 kind7\n"
          "     8     90  16      600   8      7200  93 kind8\n"
          "     9    100  18      550   7      7750 100 kind9\n");
}

/* Eleven rows: OutputHandling.Printer.get_str prints the eleventh row instead
 * of "<1 more rows ...>" (line_at(lineno+1) raises IndexError, so the line is
 * printed and the loop ends); heapy never says "<1 more rows". */
static void test_eleven_rows_all_shown(void **state)
{
    (void)state;
    ph_row rows[11];
    ph_partition p = make(twelve, 11, rows, 0, 0);
    check(&p, KIND_HDR, 0, 10,
          "Partition of a set of 660 objects. Total size = 8250 bytes.\n"
          HDR
          "     0     10   2     1000  12      1000  12 kind0\n"
          "     1     20   3      950  12      1950  24 kind1\n"
          "     2     30   5      900  11      2850  35 kind2\n"
          "     3     40   6      850  10      3700  45 kind3\n"
          "     4     50   8      800  10      4500  55 kind4\n"
          "     5     60   9      750   9      5250  64 kind5\n"
          "     6     70  11      700   8      5950  72 kind6\n"
          "     7     80  12      650   8      6600  80 kind7\n"
          "     8     90  14      600   7      7200  87 kind8\n"
          "     9    100  15      550   7      7750  94 kind9\n"
          "    10    110  17      500   6      8250 100 kind10\n");
    /* heapy's .more after that page starts at line 11: nothing left. */
    check(&p, KIND_HDR, 11, 10, "");
    /* Asked for the page at 10 all the same, it is that one row. */
    check(&p, KIND_HDR, 10, 10,
          HDR
          "    10    110  17      500   6      8250 100 kind10\n");
}

/* Twelve rows: ten, then "<2 more rows ...>" (Format._oh_get_more_msg:
 * numrows - (end_lineno + 1) = 12 - 10). */
static void test_twelve_rows_more_line(void **state)
{
    (void)state;
    ph_row rows[12];
    ph_partition p = make(twelve, 12, rows, 0, 0);
    check(&p, KIND_HDR, 0, 10,
          "Partition of a set of 780 objects. Total size = 8700 bytes.\n"
          HDR
          "     0     10   1     1000  11      1000  11 kind0\n"
          "     1     20   3      950  11      1950  22 kind1\n"
          "     2     30   4      900  10      2850  33 kind2\n"
          "     3     40   5      850  10      3700  43 kind3\n"
          "     4     50   6      800   9      4500  52 kind4\n"
          "     5     60   8      750   9      5250  60 kind5\n"
          "     6     70   9      700   8      5950  68 kind6\n"
          "     7     80  10      650   7      6600  76 kind7\n"
          "     8     90  12      600   7      7200  83 kind8\n"
          "     9    100  13      550   6      7750  89 kind9\n"
          MORE(2));
}

/* Paging through 25 rows.  A `more` page (MorePrinter, is_top false) has no
 * "Partition of a set" line but repeats the column header, as in heapy's
 * test_Part.py IdentityCase.test_1; indexes and cumulative sizes go on. */
static void test_more_paging(void **state)
{
    (void)state;
    spec s[25];
    char names[25][16];
    ph_row rows[25];
    for (int i = 0; i < 25; i++) {
        snprintf(names[i], sizeof names[i], "k%02d", i);
        s[i] = (spec){1, (uint64_t)(100 - i), names[i], false};
    }
    ph_partition p = make(s, 25, rows, 0, 0);
    check(&p, KIND_HDR, 0, 10,
          "Partition of a set of 25 objects. Total size = 2200 bytes.\n"
          HDR
          "     0      1   4      100   5       100   5 k00\n"
          "     1      1   4       99   4       199   9 k01\n"
          "     2      1   4       98   4       297  14 k02\n"
          "     3      1   4       97   4       394  18 k03\n"
          "     4      1   4       96   4       490  22 k04\n"
          "     5      1   4       95   4       585  27 k05\n"
          "     6      1   4       94   4       679  31 k06\n"
          "     7      1   4       93   4       772  35 k07\n"
          "     8      1   4       92   4       864  39 k08\n"
          "     9      1   4       91   4       955  43 k09\n"
          MORE(15));
    check(&p, KIND_HDR, 10, 10,
          HDR
          "    10      1   4       90   4      1045  48 k10\n"
          "    11      1   4       89   4      1134  52 k11\n"
          "    12      1   4       88   4      1222  56 k12\n"
          "    13      1   4       87   4      1309  60 k13\n"
          "    14      1   4       86   4      1395  63 k14\n"
          "    15      1   4       85   4      1480  67 k15\n"
          "    16      1   4       84   4      1564  71 k16\n"
          "    17      1   4       83   4      1647  75 k17\n"
          "    18      1   4       82   4      1729  79 k18\n"
          "    19      1   4       81   4      1810  82 k19\n"
          MORE(5));
    check(&p, KIND_HDR, 20, 10,
          HDR
          "    20      1   4       80   4      1890  86 k20\n"
          "    21      1   4       79   4      1969  90 k21\n"
          "    22      1   4       78   4      2047  93 k22\n"
          "    23      1   4       77   4      2124  97 k23\n"
          "    24      1   4       76   3      2200 100 k24\n");
    /* Exhausted: a MorePrinter with no lines left prints nothing
     * (get_empty_msg is None for partitions). */
    check(&p, KIND_HDR, 25, 10, "");
    check(&p, KIND_HDR, 1000, 10, "");
    check(&p, KIND_HDR, SIZE_MAX, 10, "");

    /* --all: no page limit. */
    char *all = ph_format_partition(&p, KIND_HDR, 0, SIZE_MAX);
    assert_non_null(all);
    assert_null(strstr(all, "more rows"));
    assert_non_null(strstr(all, "    24      1   4       76   3      2200 100 k24\n"));
    free(all);
}

/* int('%.0f' % x) rounds the exact binary value half to even:
 * counts of 200 objects: 183 -> 91.5 -> 92, 7 -> 3.5 -> 4, 5 -> 2.5 -> 2,
 * 3 -> 1.5 -> 2, 1 -> 0.5 -> 0; sizes of 200 bytes: 101 -> 50.5 -> 50,
 * 49 -> 24.5 -> 24, 25 -> 12.5 -> 12, 21 -> 10.5 -> 10, 3 -> 1.5 -> 2,
 * 1 -> 0.5 -> 0; cumulative 175 -> 87.5 -> 88, 199 -> 99.5 -> 100. */
static void test_round_half_even(void **state)
{
    (void)state;
    spec s[] = {{183, 101, "a", false}, {7, 49, "b", false}, {5, 25, "c", false},
                {3, 21, "d", false},    {1, 3, "e", false},  {1, 1, "f", false}};
    ph_row rows[6];
    ph_partition p = make(s, 6, rows, 0, 0);
    check(&p, KIND_HDR, 0, 10,
          "Partition of a set of 200 objects. Total size = 200 bytes.\n"
          HDR
          "     0    183  92      101  50       101  50 a\n"
          "     1      7   4       49  24       150  75 b\n"
          "     2      5   2       25  12       175  88 c\n"
          "     3      3   2       21  10       196  98 d\n"
          "     4      1   0        3   2       199 100 e\n"
          "     5      1   0        1   0       200 100 f\n");
}

/* heapy computes row.count * 100.0 / impl.count, in that order:
 * 23 * 100.0 / 40 = 57.5 exactly -> 58, where 23 / 40 * 100.0 would be
 * 57.49999999999999 -> 57; 15 * 100.0 / 24 = 62.5 -> 62, where
 * 15 * (100.0 / 24) would be 62.50000000000001 -> 63. */
static void test_percent_order_of_operations(void **state)
{
    (void)state;
    spec s[] = {{23, 15, "x", false}, {17, 9, "y", false}};
    ph_row rows[2];
    ph_partition p = make(s, 2, rows, 0, 0);
    check(&p, KIND_HDR, 0, 10,
          "Partition of a set of 40 objects. Total size = 24 bytes.\n"
          HDR
          "     0     23  58       15  62        15  62 x\n"
          "     1     17  42        9  38        24 100 y\n");
}

/* heapy's widths ('%6d', '%8d', '%9d') are minimums: a longer number pushed
 * the rest of its row right, out of line with the others (issue 17: on GB
 * heaps "1101874  98 1136478373  88").  A column is as wide as the widest
 * number of the whole partition needs, and its header label moves right
 * with it.  Expected widths: count 8 digits (12345678), size 10
 * (1234567890), cumulative 10 (1234567900). */
static void test_wide_numbers(void **state)
{
    (void)state;
    spec s[] = {{12345678, 1234567890, "bytes", false}, {1, 10, "int", false}};
    ph_row rows[2];
    ph_partition p = make(s, 2, rows, 0, 0);
    check(&p, KIND_HDR, 0, 10,
          "Partition of a set of 12345679 objects. Total size = 1234567900 bytes.\n"
          " Index    Count   %       Size   %  Cumulative  % Kind (class / dict of class)\n"
          "     0 12345678 100 1234567890 100 1234567890 100 bytes\n"
          "     1        1   0         10   0 1234567900 100 int\n");

    /* 20 digits everywhere */
    spec t[] = {{UINT64_MAX - 1, UINT64_MAX - 1, "big", false}, {1, 1, "small", false}};
    p = make(t, 2, rows, 0, 0);
    check(&p, KIND_HDR, 0, 10,
          "Partition of a set of 18446744073709551615 objects. "
          "Total size = 18446744073709551615 bytes.\n"
          " Index                Count   %                 Size   %"
          "            Cumulative  % Kind (class / dict\n"
          "                                                                                  of class)\n"
          "     0 18446744073709551614 100 18446744073709551614 100 "
          "18446744073709551614 100 big\n"
          "     1                    1   0                    1   0 "
          "18446744073709551615 100 small\n");
}

/* A synthetic heap of 10^10 bytes and more (issue 17): every column stays
 * aligned on every page, even one whose own rows are narrow (the widths
 * come from the whole partition).  12 rows: sizes 10^10 + i, counts
 * 10^10 / 8 = 1250000000 (10 digits). */
static void test_ten_to_the_ten(void **state)
{
    (void)state;
    spec s[12];
    char names[12][8];
    ph_row rows[12];
    for (int i = 0; i < 12; i++) {
        snprintf(names[i], sizeof names[i], "k%02d", i);
        s[i] = (spec){1250000000ull, 10000000000ull - (uint64_t)i, names[i], false};
    }
    s[11] = (spec){1, 10, names[11], false};
    ph_partition p = make(s, 12, rows, 0, 0);
    char *got = ph_format_partition(&p, KIND_HDR, 0, 10);
    assert_non_null(got);
    /* total = 11 * 10^10 - 55 + 10 = 109999999955: 12 digits */
    const char *want_head =
        "Partition of a set of 13750000001 objects. Total size = 109999999955 bytes.\n"
        " Index      Count   %        Size   %    Cumulative  % Kind (class / dict of class)\n"
        "     0 1250000000   9 10000000000   9  10000000000   9 k00\n"
        "     1 1250000000   9  9999999999   9  19999999999  18 k01\n";
    assert_true(strncmp(got, want_head, strlen(want_head)) == 0);
    /* every row line has its kind at the same column as the header's */
    const char *line = strchr(got, '\n') + 1;
    size_t kind_col = strstr(line, "Kind") - line;
    for (const char *l = strchr(line, '\n') + 1; *l && *l != '<'; l = strchr(l, '\n') + 1)
        assert_int_equal(strchr(l, 'k') - l, kind_col);
    free(got);

    /* the second page: index 10 and 11, still the same widths */
    got = ph_format_partition(&p, KIND_HDR, 10, 10);
    assert_string_equal(got,
        " Index      Count   %        Size   %    Cumulative  % Kind (class / dict of class)\n"
        "    10 1250000000   9  9999999990   9 109999999945 100 k10\n"
        "    11          1   0          10   0 109999999955 100 k11\n");
    free(got);
}

/* --human: sizes in powers of 1024 with one decimal, "B" below 1024; the
 * expected texts are Python's '%.1f %s' of the same quotients. */
static void test_human_sizes(void **state)
{
    (void)state;
    char s[64];
    struct { uint64_t n; const char *want; } cases[] = {
        {0, "0 B"}, {1023, "1023 B"}, {1024, "1.0 KiB"}, {1536, "1.5 KiB"},
        {10000000000ull, "9.3 GiB"}, {1136478373ull, "1.1 GiB"}, {1048576ull * 12 + 314573, "12.3 MiB"},
        {UINT64_MAX, "16.0 EiB"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        ph_format_size(cases[i].n, true, s, sizeof s);
        assert_string_equal(s, cases[i].want);
    }
    ph_format_size(10000000000ull, false, s, sizeof s);
    assert_string_equal(s, "10000000000");

    spec t[] = {{1101874, 1136478373ull, "str", false}, {10, 2048, "int", false}};
    ph_row rows[2];
    ph_partition p = make(t, 2, rows, 0, 0);
    char *got = ph_format_partition_opts(&p, KIND_HDR, 0, 10, PH_FORMAT_HUMAN);
    assert_string_equal(got,
        "Partition of a set of 1101884 objects. Total size = 1.1 GiB.\n"
        " Index   Count   %     Size   % Cumulative  % Kind (class / dict of class)\n"
        "     0 1101874 100  1.1 GiB 100   1.1 GiB 100 str\n"
        "     1      10   0  2.0 KiB   0   1.1 GiB 100 int\n");
    free(got);
}

/* A 150-character kind: textwrap.wrap(fr + kind, width=100,
 * subsequent_indent=' '*45) breaks at spaces; 55 columns per line. */
static void test_wrap_long_kind(void **state)
{
    (void)state;
    const char *kind =
        "dict of module, dict of __main__.Node, list, tuple, function, "
        "types.SimpleNamespace, collections.OrderedDict, weakref.ReferenceType, "
        "__main__.Longname";
    assert_int_equal(strlen(kind), 150);
    spec s[] = {{3, 300, kind, false}, {1, 100, "str", false}};
    ph_row rows[2];
    ph_partition p = make(s, 2, rows, 0, 0);
    check(&p, KIND_HDR, 0, 10,
          "Partition of a set of 4 objects. Total size = 400 bytes.\n"
          HDR
          "     0      3  75      300  75       300  75 dict of module, dict of __main__.Node, list, tuple,\n"
          "                                             function, types.SimpleNamespace,\n"
          "                                             collections.OrderedDict, weakref.ReferenceType,\n"
          "                                             __main__.Longname\n"
          "     1      1  25      100  25       400 100 str\n");
}

/* A word longer than a line: textwrap's _handle_long_word cuts it to fit
 * (55 + 55 + 40). */
static void test_wrap_long_word(void **state)
{
    (void)state;
    char kind[151];
    memset(kind, 'x', 150);
    kind[150] = '\0';
    spec s[] = {{1, 8, kind, false}};
    ph_row rows[1];
    ph_partition p = make(s, 1, rows, 0, 0);
    check(&p, KIND_HDR, 0, 10,
          "Partition of a set of 1 object. Total size = 8 bytes.\n"
          HDR
          "     0      1 100        8 100         8 100 "
          "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n"
          "                                             "
          "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n"
          "                                             "
          "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n");
}

/* textwrap (break_on_hyphens=True) also breaks after a hyphen inside a
 * word: "aaaa-" * 30 is thirty chunks of 5, eleven to a line. */
static void test_wrap_hyphens(void **state)
{
    (void)state;
    char kind[151] = "";
    for (int i = 0; i < 30; i++)
        strcat(kind, "aaaa-");
    spec s[] = {{1, 8, kind, false}};
    ph_row rows[1];
    ph_partition p = make(s, 1, rows, 0, 0);
    check(&p, KIND_HDR, 0, 10,
          "Partition of a set of 1 object. Total size = 8 bytes.\n"
          HDR
          "     0      1 100        8 100         8 100 "
          "aaaa-aaaa-aaaa-aaaa-aaaa-aaaa-aaaa-aaaa-aaaa-aaaa-aaaa-\n"
          "                                             "
          "aaaa-aaaa-aaaa-aaaa-aaaa-aaaa-aaaa-aaaa-aaaa-aaaa-aaaa-\n"
          "                                             "
          "aaaa-aaaa-aaaa-aaaa-aaaa-aaaa-aaaa-aaaa-\n");
}

/* Format.get_formatted_row splits row.name on '\n'; later parts start at
 * the Kind column. */
static void test_kind_with_newline(void **state)
{
    (void)state;
    spec s[] = {{1, 8, "first\nsecond", false}};
    ph_row rows[1];
    ph_partition p = make(s, 1, rows, 0, 0);
    check(&p, KIND_HDR, 0, 10,
          "Partition of a set of 1 object. Total size = 8 bytes.\n"
          HDR
          "     0      1 100        8 100         8 100 first\n"
          "                                             second\n");
}

/* No line of the output is longer than 100 columns when the numbers fit
 * their columns, whatever the kind. */
static void test_no_line_over_100(void **state)
{
    (void)state;
    char kind[400];
    size_t n = 0;
    while (n + 12 < sizeof kind) {
        memcpy(kind + n, "word_", 5);
        n += 5;
        for (size_t k = 0; k < (n % 7) + 1; k++)
            kind[n++] = 'z';
        kind[n] = (n % 3) ? ' ' : '.';
        n++;
    }
    kind[n] = '\0';
    spec s[] = {{5, 500, kind, true}, {1, 8, kind, false}};
    ph_row rows[2];
    ph_partition p = make(s, 2, rows, 0, 0);
    char *got = ph_format_partition(&p, KIND_HDR, 0, 10);
    assert_non_null(got);
    for (char *line = got, *end; *line; line = end + 1) {
        end = strchr(line, '\n');
        assert_non_null(end);
        assert_true(end - line <= 100);
    }
    free(got);
}

/* An empty partition: the label, then nothing (Printer.get_str prints the
 * row header only when there is a first row). */
static void test_empty_partition(void **state)
{
    (void)state;
    ph_partition p = {0};
    check(&p, KIND_HDR, 0, 10,
          "Partition of a set of 0 objects. Total size = 0 bytes.\n");
    check(&p, KIND_HDR, 10, 10, "");
}

/* Zero totals never divide by zero (heapy would raise ZeroDivisionError):
 * such percentages are 0. */
static void test_zero_size_total(void **state)
{
    (void)state;
    spec s[] = {{5, 0, "a", false}, {0, 0, "b", false}};
    ph_row rows[2];
    ph_partition p = make(s, 2, rows, 0, 0);
    check(&p, KIND_HDR, 0, 10,
          "Partition of a set of 5 objects. Total size = 0 bytes.\n"
          HDR
          "     0      5 100        0   0         0   0 a\n"
          "     1      0   0        0   0         0   0 b\n");
}

/* Rows whose sizes are estimates: the kind text gets " (size estimated)";
 * the columns are untouched. */
static void test_estimate_mark(void **state)
{
    (void)state;
    spec s[] = {{2, 100, "numpy.ndarray", true}, {1, 50, "str", false}};
    ph_row rows[2];
    ph_partition p = make(s, 2, rows, 0, 0);
    check(&p, KIND_HDR, 0, 10,
          "Partition of a set of 3 objects. Total size = 150 bytes.\n"
          HDR
          "     0      2  67      100  67       100  67 numpy.ndarray (size estimated)\n"
          "     1      1  33       50  33       150 100 str\n");
}

/* The last column's title is the caller's; heapy's titles by classifier. */
static void test_kind_headers(void **state)
{
    (void)state;
    spec s[] = {{1, 8, "x", false}};
    ph_row rows[1];
    ph_partition p = make(s, 1, rows, 0, 0);
    check(&p, "Type", 0, 10,
          "Partition of a set of 1 object. Total size = 8 bytes.\n"
          " Index  Count   %     Size   % Cumulative  % Type\n"
          "     0      1 100        8 100         8 100 x\n");
    check(&p, "Referrers by Kind (class / dict of class)", 0, 10,
          "Partition of a set of 1 object. Total size = 8 bytes.\n"
          " Index  Count   %     Size   % Cumulative  % Referrers by Kind (class / dict of class)\n"
          "     0      1 100        8 100         8 100 x\n");
    /* An empty title: textwrap drops the trailing space. */
    check(&p, "", 0, 10,
          "Partition of a set of 1 object. Total size = 8 bytes.\n"
          " Index  Count   %     Size   % Cumulative  %\n"
          "     0      1 100        8 100         8 100 x\n");
    check(&p, NULL, 0, 10,
          "Partition of a set of 1 object. Total size = 8 bytes.\n"
          " Index  Count   %     Size   % Cumulative  %\n"
          "     0      1 100        8 100         8 100 x\n");
}

/* Kinds are UTF-8 and measured in characters, as Python measures them. */
static void test_utf8_kind_width(void **state)
{
    (void)state;
    /* 30 two-byte characters, a space, 30 more: 61 characters, 122 bytes. */
    char kind[200] = "";
    for (int i = 0; i < 30; i++)
        strcat(kind, "\xc3\xa9");
    strcat(kind, " ");
    for (int i = 0; i < 30; i++)
        strcat(kind, "\xc3\xa9");
    spec s[] = {{1, 8, kind, false}};
    ph_row rows[1];
    ph_partition p = make(s, 1, rows, 0, 0);
    char half[64] = "";
    for (int i = 0; i < 30; i++)
        strcat(half, "\xc3\xa9");
    char want[1024] = "Partition of a set of 1 object. Total size = 8 bytes.\n" HDR
                      "     0      1 100        8 100         8 100 ";
    strcat(want, half);
    strcat(want, "\n                                             ");
    strcat(want, half);
    strcat(want, "\n");
    check(&p, KIND_HDR, 0, 10, want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_heapy_mixed_case),
        cmocka_unit_test(test_design_example),
        cmocka_unit_test(test_singular_object),
        cmocka_unit_test(test_ten_rows),
        cmocka_unit_test(test_eleven_rows_all_shown),
        cmocka_unit_test(test_twelve_rows_more_line),
        cmocka_unit_test(test_more_paging),
        cmocka_unit_test(test_round_half_even),
        cmocka_unit_test(test_percent_order_of_operations),
        cmocka_unit_test(test_wide_numbers),
        cmocka_unit_test(test_ten_to_the_ten),
        cmocka_unit_test(test_human_sizes),
        cmocka_unit_test(test_wrap_long_kind),
        cmocka_unit_test(test_wrap_long_word),
        cmocka_unit_test(test_wrap_hyphens),
        cmocka_unit_test(test_kind_with_newline),
        cmocka_unit_test(test_no_line_over_100),
        cmocka_unit_test(test_empty_partition),
        cmocka_unit_test(test_zero_size_total),
        cmocka_unit_test(test_estimate_mark),
        cmocka_unit_test(test_kind_headers),
        cmocka_unit_test(test_utf8_kind_width),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
