/* heapy's partition table as text.
 *
 * Everything here follows guppy3's guppy/heapy/Part.py (class SetFormat and
 * Format) and guppy/heapy/OutputHandling.py (Printer.get_str), and the line
 * wrapping is Python's textwrap with the options heapy uses:
 *
 *   label   'Partition of a set of %d object%s. Total size = %d bytes.'
 *           (s = '' when count == 1, else 's')
 *   header  textwrap.fill(' Index  Count   %     Size   % Cumulative  % '
 *                         + kindheader, width=100, subsequent_indent=' '*44)
 *           ('' when count and size are both 0)
 *   row     fr = '%6d %6d %3d %8d %3d %9d %3d ' % (index,
 *                count, int('%.0f' % (count * 100.0/total_count)),
 *                size, int('%.0f' % (size * 100.0/total_size)),
 *                cumulsize, int('%.0f' % (cumulsize * 100.0/total_size)))
 *           then the kind split on '\n': textwrap.wrap(fr + first, width=100,
 *           subsequent_indent=' '*len(fr)) and, for each further part,
 *           textwrap.wrap(part, width=100, initial_indent=' '*len(fr),
 *           subsequent_indent=' '*len(fr)).
 *   paging  Printer.get_str with max_more_lines = 10: the label only on the
 *           top page (first == 0); the header on every page that has rows;
 *           when nrows rows have been shown and more than one remains,
 *           "<%d more rows. Type e.g. '_.more' to view.>" (with
 *           'probe-heap more'); when exactly one remains it is shown instead
 *           of the message.  The whole text is rstrip()ed; we then end it
 *           with one newline (nothing at all when it is empty).
 *
 * Percentages with a zero total are 0 here (heapy would divide by zero). */
#include "probeheap.h"
#include "base/utf8.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LINE_WIDTH 100   /* Part._GLUECLAMP_.line_length */
#define TAB_SIZE 8       /* textwrap's tabsize */

/* ---- a small growable buffer ------------------------------------------- */

typedef struct buf {
    char *data;
    size_t len, cap;
    bool oom;
} buf;

static bool buf_reserve(buf *b, size_t extra)
{
    if (b->oom)
        return false;
    if (extra > SIZE_MAX - b->len - 1) {
        b->oom = true;
        return false;
    }
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return true;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    char *d = realloc(b->data, cap);
    if (!d) {
        b->oom = true;
        return false;
    }
    b->data = d;
    b->cap = cap;
    return true;
}

static void buf_add(buf *b, const char *s, size_t n)
{
    if (!buf_reserve(b, n))
        return;
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

static void buf_addc(buf *b, char c) { buf_add(b, &c, 1); }

static void buf_spaces(buf *b, size_t n)
{
    if (!buf_reserve(b, n))
        return;
    memset(b->data + b->len, ' ', n);
    b->len += n;
    b->data[b->len] = '\0';
}

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void buf_printf(buf *b, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->oom = true;
        return;
    }
    if ((size_t)n < sizeof small) {
        buf_add(b, small, (size_t)n);
        return;
    }
    if (!buf_reserve(b, (size_t)n))
        return;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

/* ---- text as code points ------------------------------------------------- */

/* Python measures text in code points, so the wrapper works on them.  A byte
 * that is not part of valid UTF-8 becomes one character of its own and is
 * written back unchanged. */
#define RAW_BYTE 0x80000000u

typedef struct text {
    uint32_t *c;
    size_t n, cap;
} text;

static bool text_push(text *t, uint32_t c)
{
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 128;
        if (cap > SIZE_MAX / sizeof *t->c)
            return false;
        uint32_t *p = realloc(t->c, cap * sizeof *p);
        if (!p)
            return false;
        t->c = p;
        t->cap = cap;
    }
    t->c[t->n++] = c;
    return true;
}

/* Decodes one UTF-8 sequence at s (len bytes left, len > 0); returns its
 * length and stores the code point, or RAW_BYTE|byte for a bad byte. */
static size_t utf8_decode(const unsigned char *s, size_t len, uint32_t *out)
{
    size_t n = ph_utf8_decode(s, len, out);
    if (n)
        return n;
    *out = RAW_BYTE | s[0];
    return 1;
}

static void put_char(buf *b, uint32_t c)
{
    char s[4];
    if (c & RAW_BYTE)
        buf_addc(b, (char)(c & 0xFF));
    else
        buf_add(b, s, ph_utf8_encode(c, s));
}

/* textwrap._munge_whitespace: str.expandtabs(8) (the column restarts after
 * '\n' and '\r'), then each of '\t\n\v\f\r' becomes a space.  Appends bytes
 * s[0..len) to t. */
static bool text_add_munged(text *t, const char *s, size_t len, size_t *col)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        uint32_t c;
        i += utf8_decode(u + i, len - i, &c);
        if (c == '\t') {
            size_t n = TAB_SIZE - *col % TAB_SIZE;
            for (size_t k = 0; k < n; k++)
                if (!text_push(t, ' '))
                    return false;
            *col += n;
            continue;
        }
        if (c == '\n' || c == '\r')
            *col = 0;
        else
            (*col)++;
        if (c == '\n' || c == '\v' || c == '\f' || c == '\r')
            c = ' ';
        if (!text_push(t, c))
            return false;
    }
    return true;
}

/* ---- textwrap's character classes ----------------------------------------- */

/* textwrap._whitespace = '\t\n\x0b\x0c\r ' */
static bool is_tw_space(uint32_t c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

/* str.isspace(), used by chunk.strip() == '' */
static bool is_py_space(uint32_t c)
{
    if (c & RAW_BYTE)
        return false;
    if ((c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20))
        return true;
    switch (c) {
    case 0x85: case 0xA0: case 0x1680: case 0x2028: case 0x2029:
    case 0x202F: case 0x205F: case 0x3000:
        return true;
    default:
        return c >= 0x2000 && c <= 0x200A;
    }
}

/* \w.  Outside ASCII every character that is not a space counts as a word
 * character (true of the letters in identifiers, which is what kinds hold). */
static bool is_word(uint32_t c)
{
    if (c & RAW_BYTE)
        return true;
    if (c < 0x80)
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
               (c >= 'A' && c <= 'Z') || c == '_';
    return !is_py_space(c);
}

/* [^\d\W] */
static bool is_letter(uint32_t c)
{
    return is_word(c) && !(c >= '0' && c <= '9');
}

/* [\w!"\'&.,?] */
static bool is_word_punct(uint32_t c)
{
    return is_word(c) || c == '!' || c == '"' || c == '\'' || c == '&' ||
           c == '.' || c == ',' || c == '?';
}

/* ---- textwrap.TextWrapper with heapy's options ---------------------------- */

typedef struct chunk {
    size_t start, len;
} chunk;

/* At T[p]: a run of two or more '-' followed by a word character
 * (the "-{2,}(?=\w)" of wordsep_re). */
static bool emdash_at(const uint32_t *T, size_t n, size_t p)
{
    size_t j = p;
    while (j < n && T[j] == '-')
        j++;
    return j - p >= 2 && j < n && is_word(T[j]);
}

static bool letter_at(const uint32_t *T, size_t n, size_t i)
{
    return i < n && is_letter(T[i]);
}

/* The length of the chunk that TextWrapper.wordsep_re matches at T[i]. */
static size_t next_chunk(const uint32_t *T, size_t n, size_t i)
{
    size_t j = i;
    if (is_tw_space(T[i])) {                    /* whitespace run */
        while (j < n && is_tw_space(T[j]))
            j++;
        return j - i;
    }
    if (i > 0 && is_word_punct(T[i - 1]) && T[i] == '-' && emdash_at(T, n, i)) {
        while (T[j] == '-')                     /* em-dash between words */
            j++;
        return j - i;
    }
    /* a word, taken lazily up to the first place where one of the three
     * endings holds */
    for (size_t p = i + 1;; p++) {
        if (p < n && T[p] == '-') {             /* hyphenated word */
            bool behind =
                (p >= 2 && is_letter(T[p - 2]) && is_letter(T[p - 1])) ||
                (p >= 3 && is_letter(T[p - 3]) && T[p - 2] == '-' &&
                 is_letter(T[p - 1]));
            bool ahead = letter_at(T, n, p + 1) &&
                         (letter_at(T, n, p + 2) ||
                          (p + 2 < n && T[p + 2] == '-' && letter_at(T, n, p + 3)));
            if (behind && ahead)
                return p + 1 - i;
        }
        if (p == n || is_tw_space(T[p]))        /* end of word */
            return p - i;
        if (is_word_punct(T[p - 1]) && emdash_at(T, n, p))   /* em-dash */
            return p - i;
    }
}

static bool chunk_blank(const uint32_t *T, chunk c)
{
    for (size_t k = 0; k < c.len; k++)
        if (!is_py_space(T[c.start + k]))
            return false;
    return true;
}

/* textwrap.wrap(T, width=100, initial_indent=' '*ind0,
 * subsequent_indent=' '*ind1): each line is written to out followed by '\n'.
 * T must already be munged. */
static bool wrap(buf *out, const uint32_t *T, size_t n, size_t ind0, size_t ind1)
{
    bool ok = false;
    size_t nchunks = 0, cap = 16;
    chunk *ch = malloc(cap * sizeof *ch);
    chunk *line = NULL;
    if (!ch)
        return false;
    for (size_t i = 0; i < n;) {
        size_t len = next_chunk(T, n, i);
        if (nchunks == cap) {
            chunk *p = realloc(ch, 2 * cap * sizeof *ch);
            if (!p)
                goto done;
            ch = p;
            cap *= 2;
        }
        ch[nchunks++] = (chunk){i, len};
        i += len;
    }
    /* A line holds at most every chunk plus one piece of a long word. */
    line = malloc((nchunks + 1) * sizeof *line);
    if (!line)
        goto done;

    size_t next = 0;       /* the chunks not yet placed are ch[next..nchunks) */
    size_t nlines = 0;
    while (next < nchunks) {
        size_t nl = 0;
        size_t cur_len = 0;
        size_t indent = nlines ? ind1 : ind0;
        long long width = (long long)LINE_WIDTH - (long long)indent;

        if (nlines && chunk_blank(T, ch[next]))
            next++;
        while (next < nchunks && (long long)(cur_len + ch[next].len) <= width) {
            line[nl++] = ch[next];
            cur_len += ch[next].len;
            next++;
        }
        if (next < nchunks && (long long)ch[next].len > width) {
            /* _handle_long_word */
            size_t space_left = width < 1 ? 1 : (size_t)width - cur_len;
            chunk c = ch[next];
            size_t end = space_left;
            if (c.len > space_left) {
                /* break after the last hyphen in c[:space_left], if there
                 * are non-hyphens before it */
                size_t hyphen = 0;
                bool found = false;
                for (size_t k = space_left; k-- > 0;)
                    if (T[c.start + k] == '-') {
                        hyphen = k;
                        found = true;
                        break;
                    }
                if (found && hyphen > 0) {
                    bool nonhyphen = false;
                    for (size_t k = 0; k < hyphen; k++)
                        if (T[c.start + k] != '-')
                            nonhyphen = true;
                    if (nonhyphen)
                        end = hyphen + 1;
                }
            }
            if (end > c.len)
                end = c.len;
            line[nl++] = (chunk){c.start, end};
            ch[next] = (chunk){c.start + end, c.len - end};
            if (ch[next].len == 0)
                next++;
        }
        if (nl && chunk_blank(T, line[nl - 1]))
            nl--;
        if (nl) {
            buf_spaces(out, indent);
            for (size_t k = 0; k < nl; k++)
                for (size_t m = 0; m < line[k].len; m++)
                    put_char(out, T[line[k].start + m]);
            buf_addc(out, '\n');
            nlines++;
        }
    }
    ok = !out->oom;
done:
    free(line);
    free(ch);
    return ok;
}

/* Wraps the bytes prefix + s[0..len) as one paragraph. */
static bool wrap_bytes(buf *out, const char *prefix, const char *s, size_t len,
                       size_t ind0, size_t ind1)
{
    text t = {0};
    size_t col = 0;
    bool ok = text_add_munged(&t, prefix, strlen(prefix), &col) &&
              text_add_munged(&t, s, len, &col) &&
              wrap(out, t.c, t.n, ind0, ind1);
    free(t.c);
    return ok;
}

/* ---- the table -------------------------------------------------------------- */

/* '%3d' % int('%.0f' % (part * 100.0 / total)), into s (at least 32 bytes).
 * Python's '%.0f' rounds the exact binary value half to even; this does the
 * same without depending on the floating-point rounding mode. */
static void format_percent(char *s, size_t n, uint64_t part, uint64_t total)
{
    if (total == 0) {
        snprintf(s, n, "%3d", 0);
        return;
    }
    double x = (double)part * 100.0 / (double)total;
    if (x < 4503599627370496.0) {           /* 2**52: x may have a fraction */
        uint64_t fl = (uint64_t)x;
        double frac = x - (double)fl;       /* exact */
        if (frac > 0.5 || (frac == 0.5 && (fl & 1)))
            fl++;
        snprintf(s, n, "%3llu", (unsigned long long)fl);
    } else {
        snprintf(s, n, "%3.0f", x);         /* an integer already */
    }
}

static const char EST_MARK[] = " (size estimated)";

/* heapy's columns are printf minimum widths ('%6d %6d %3d %8d %3d %9d %3d '):
 * a longer number pushed the rest of its row right, out of line with the
 * rows above.  Here a column is as wide as the widest number of the whole
 * partition needs (so every page lines up), never narrower than heapy's; at
 * normal sizes the text is heapy's, character for character. */
typedef struct widths {
    int index, count, size, cumul;
    bool human;
} widths;

size_t ph_format_size(uint64_t n, bool human, char *s, size_t cap)
{
    static const char *const units[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    int w;
    if (!human || n < 1024) {
        w = snprintf(s, cap, human ? "%llu B" : "%llu", (unsigned long long)n);
    } else {
        double x = (double)n / 1024.0;
        size_t u = 0;
        while (x >= 1024.0 && u + 1 < sizeof units / sizeof *units) {
            x /= 1024.0;
            u++;
        }
        w = snprintf(s, cap, "%.1f %s", x, units[u]);
    }
    return w < 0 ? 0 : (size_t)w;
}

static int digits(uint64_t n)
{
    int d = 1;
    while (n >= 10) {
        n /= 10;
        d++;
    }
    return d;
}

static int size_width(uint64_t n, bool human)
{
    char s[64];
    return (int)ph_format_size(n, human, s, sizeof s);
}

static widths column_widths(const ph_partition *p, bool human)
{
    widths w = {6, 6, 8, 9, human};
    if (p->nrows)
        w.index = digits(p->nrows - 1) > w.index ? digits(p->nrows - 1) : w.index;
    uint64_t cumul = 0;
    for (size_t i = 0; i < p->nrows; i++) {
        const ph_row *r = &p->rows[i];
        cumul += r->size;
        if (digits(r->count) > w.count)
            w.count = digits(r->count);
        if (size_width(r->size, human) > w.size)
            w.size = size_width(r->size, human);
        if (size_width(cumul, human) > w.cumul)
            w.cumul = size_width(cumul, human);
    }
    return w;
}

/* heapy's header with each label moved right by as much as its column grew. */
static void format_header(char *s, size_t cap, const widths *w)
{
    snprintf(s, cap, "%*s Index %*s Count   %% %*s    Size   %% %*sCumulative  %% ",
             w->index - 6, "", w->count - 6, "", w->size - 8, "", w->cumul - 9, "");
}

static bool format_row(buf *out, const ph_partition *p, size_t idx, uint64_t cumul,
                       const widths *w)
{
    const ph_row *r = &p->rows[idx];
    char pc[32], ps[32], pcs[32], sz[64], cs[64];
    format_percent(pc, sizeof pc, r->count, p->count);
    format_percent(ps, sizeof ps, r->size, p->size);
    format_percent(pcs, sizeof pcs, cumul, p->size);
    ph_format_size(r->size, w->human, sz, sizeof sz);
    ph_format_size(cumul, w->human, cs, sizeof cs);
    buf frb = {0};
    buf_printf(&frb, "%*llu %*llu %s %*s %s %*s %s ",
               w->index, (unsigned long long)idx, w->count, (unsigned long long)r->count, pc,
               w->size, sz, ps, w->cumul, cs, pcs);
    if (frb.oom || !frb.data) {
        free(frb.data);
        return false;
    }
    const char *fr = frb.data;
    size_t frlen = frb.len;

    /* the kind, with the estimate mark, split on '\n' like row.name */
    const char *kind = r->kind ? r->kind : "";
    size_t klen = strlen(kind);
    size_t mlen = r->estimate ? sizeof EST_MARK - 1 : 0;
    char *name = malloc(klen + mlen + 1);
    if (!name) {
        free(frb.data);
        return false;
    }
    memcpy(name, kind, klen);
    memcpy(name + klen, EST_MARK, mlen);
    name[klen + mlen] = '\0';

    const char *seg = name;
    const char *nl = strchr(seg, '\n');
    size_t seglen = nl ? (size_t)(nl - seg) : strlen(seg);
    bool ok = wrap_bytes(out, fr, seg, seglen, 0, frlen);
    while (ok && nl) {
        seg = nl + 1;
        nl = strchr(seg, '\n');
        seglen = nl ? (size_t)(nl - seg) : strlen(seg);
        ok = wrap_bytes(out, "", seg, seglen, frlen, frlen);
    }
    free(name);
    free(frb.data);
    return ok;
}

char *ph_format_partition(const ph_partition *p, const char *kind_header,
                          size_t first, size_t nrows)
{
    return ph_format_partition_opts(p, kind_header, first, nrows, 0);
}

char *ph_format_partition_opts(const ph_partition *p, const char *kind_header,
                               size_t first, size_t nrows, unsigned flags)
{
    buf out = {0};
    if (!p)
        return NULL;
    if (!buf_reserve(&out, 0))
        return NULL;
    out.data[0] = '\0';

    bool human = flags & PH_FORMAT_HUMAN;
    if (first == 0) {
        char total[64];
        ph_format_size(p->size, human, total, sizeof total);
        buf_printf(&out, "Partition of a set of %llu object%s. Total size = %s%s.\n",
                   (unsigned long long)p->count, p->count != 1 ? "s" : "", total,
                   human ? "" : " bytes");
    }
    widths w = column_widths(p, human);
    char header[128];
    format_header(header, sizeof header, &w);

    if (first < p->nrows && p->rows) {
        /* the column header */
        if (p->count || p->size) {
            const char *kh = kind_header ? kind_header : "";
            if (!wrap_bytes(&out, header, kh, strlen(kh), 0, strlen(header)))
                goto fail;
        } else {
            buf_addc(&out, '\n');
        }

        uint64_t cumul = 0;
        for (size_t i = 0; i < first; i++)
            cumul += p->rows[i].size;

        size_t shown = 0;
        for (size_t i = first; i < p->nrows; i++) {
            if (shown >= nrows && i + 1 < p->nrows) {
                buf_printf(&out,
                           "<%llu more rows. Type e.g. 'probe-heap more' to view.>\n",
                           (unsigned long long)(p->nrows - i));
                break;
            }
            cumul += p->rows[i].size;
            if (!format_row(&out, p, i, cumul, &w))
                goto fail;
            shown++;
            if (shown > nrows)      /* the one last row shown instead of the message */
                break;
        }
    }
    if (out.oom)
        goto fail;

    /* ob.getvalue().rstrip(), then one final newline */
    while (out.len > 0) {
        size_t start = out.len - 1;
        while (start > 0 && out.len - start < 4 &&
               ((unsigned char)out.data[start] & 0xC0) == 0x80)
            start--;
        uint32_t c;
        size_t n = utf8_decode((const unsigned char *)out.data + start,
                               out.len - start, &c);
        if (start + n != out.len) {     /* a stray byte at the end */
            start = out.len - 1;
            c = RAW_BYTE;
        }
        if (!is_py_space(c))
            break;
        out.len = start;
    }
    if (out.len > 0) {
        out.data[out.len++] = '\n';     /* room: we removed at least the last '\n' */
    }
    out.data[out.len] = '\0';
    return out.data;
fail:
    free(out.data);
    return NULL;
}
