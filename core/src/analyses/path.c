/* Object paths: "MODULE:NAME(.NAME|[KEY])*" resolved to an object's address.
 *
 * The path is parsed twice with the same parser: once to check its syntax
 * (so that a typo at the end is reported before anything is read), once to
 * walk it step by step.  Every object met on the way goes through
 * ph_object_check.  Attribute lookup follows Python's generic getattr as far
 * as it can without running code: data descriptors of the type first
 * (__slots__ members are read; properties and getset descriptors are
 * refused), then the instance's own attributes, then the class attribute.
 * Dict keys are compared by type and value, as dict lookup compares equal
 * keys, and never hashed: 1, 1.0 and True are the same key, as in Python.
 *
 * Nothing is allocated: the only buffers are a parsed key (text up to the
 * path's length, an integer of up to as many decimal digits) on the stack. */
#include "base/error.h"
#include "base/utf8.h"
#include "heap/heap.h"

#include <locale.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PATH_MAX_LEN 4096
#define PATH_MAX_STEPS 256
#define DICT_BUDGET (UINT64_C(1) << 24) /* dict entries looked at in one lookup */
#define MRO_MAX 256
#define BASE_CHAIN_MAX 64
/* 30-bit digits: enough for the largest decimal int a path can hold */
#define BIG_DIGITS ((PATH_MAX_LEN * 10 / 3 + 1) / 30 + 2)
#define DIGIT_MASK UINT32_C(0x3FFFFFFF)

/* PyMemberDef types (Include/descrobject.h, structmember.h) */
#define T_OBJECT 6
#define T_OBJECT_EX 16

/* ---- keys ---------------------------------------------------------------------- */

typedef enum key_kind { KEY_INT, KEY_FLOAT, KEY_STR, KEY_BYTES, KEY_TRUE, KEY_FALSE, KEY_NONE } key_kind;

typedef struct bigint {
    bool neg;
    uint32_t n;               /* digits in use; 0 for zero (never negative) */
    uint32_t d[BIG_DIGITS];   /* least significant first */
} bigint;

/* A KEY as parsed. */
typedef struct key {
    key_kind kind;
    bool integral;            /* numbers: the value is big (else f, a float that is no integer) */
    double f;
    bigint big;
    size_t len, ncp;          /* str: UTF-8 bytes and code points; bytes: bytes */
    char text[PATH_MAX_LEN + 1];
} key;

/* What a lookup compares target objects with: a key, or an attribute name. */
typedef struct needle {
    key_kind kind;
    bool integral;
    double f;
    const bigint *big;
    const char *s;
    size_t len, ncp;
} needle;

static needle key_needle(const key *k)
{
    return (needle){.kind = k->kind, .integral = k->integral, .f = k->f, .big = &k->big,
                    .s = k->text, .len = k->len, .ncp = k->ncp};
}

static size_t count_cp(const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        n += ((unsigned char)s[i] & 0xC0) != 0x80;
    return n;
}

static needle name_needle(const char *s, size_t len)
{
    return (needle){.kind = KEY_STR, .s = s, .len = len, .ncp = count_cp(s, len)};
}

/* ---- UTF-8 ------------------------------------------------------------------- */

/* Length of the valid UTF-8 sequence at s[i], or 0. */
static size_t utf8_valid_at(const unsigned char *s, size_t len, size_t i)
{
    uint32_t cp;
    return ph_utf8_decode(s + i, len - i, &cp);
}

/* The code point at s[*i] of valid UTF-8, advancing *i. */
static uint32_t utf8_next(const char *str, size_t *i)
{
    uint32_t cp = 0;
    size_t n = ph_utf8_decode((const unsigned char *)str + *i, 4, &cp);
    *i += n ? n : 1;
    return cp;
}

static size_t utf8_put(char *out, uint32_t c)
{
    return ph_utf8_encode(c, out);
}

/* Copies s[0, len) into out (cap >= 8), cut at a character boundary with
 * "..." when longer than cap - 1. */
static const char *clip(const char *s, size_t len, char *out, size_t cap)
{
    if (len < cap) {
        memcpy(out, s, len);
        out[len] = 0;
        return out;
    }
    size_t n = cap - 4;
    while (n && ((unsigned char)s[n] & 0xC0) == 0x80)
        n--;
    memcpy(out, s, n);
    memcpy(out + n, "...", 4);
    return out;
}

/* The path as error messages show it: whole, or its head and tail. */
static const char *shown_path(const char *s, size_t len, char *out, size_t cap)
{
    if (len < cap)
        return clip(s, len, out, cap);
    size_t half = (cap - 4) / 2, head = half, tail = len - half;
    while (head && ((unsigned char)s[head] & 0xC0) == 0x80)
        head--;
    while (tail < len && ((unsigned char)s[tail] & 0xC0) == 0x80)
        tail++;
    memcpy(out, s, head);
    memcpy(out + head, "...", 3);
    memcpy(out + head + 3, s + tail, len - tail);
    out[head + 3 + len - tail] = 0;
    return out;
}

/* Room for the path in a message whose other parts take used bytes: what
 * is left of ph_error.message, between 40 and 128 bytes. */
static size_t path_room(size_t used)
{
    size_t left = used < 255 ? 255 - used : 0;
    return left < 40 ? 40 : left > 128 ? 128 : left;
}

static const char *article(const char *word)
{
    return strchr("aeiouAEIOU", word[0]) && word[0] ? "an" : "a";
}

/* ---- syntax ------------------------------------------------------------------- */

typedef enum step_kind { STEP_NAME, STEP_ATTR, STEP_INDEX } step_kind;

typedef struct step {
    step_kind kind;
    size_t start, end;      /* the step's text in the path */
    size_t name, nlen;      /* STEP_NAME, STEP_ATTR: the name */
} step;

typedef struct parser {
    const char *s;
    size_t len, pos;
} parser;

static ph_error *syntax_error(const parser *p, size_t at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static ph_error *syntax_error(const parser *p, size_t at, const char *fmt, ...)
{
    char reason[160], shown[128];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof(reason), fmt, ap);
    va_end(ap);
    return ph_error_new(PH_ERR_ARGUMENT, 0, "%s: a syntax error at character %zu: %s",
                        shown_path(p->s, p->len, shown, path_room(strlen(reason) + 40)),
                        count_cp(p->s, at) + 1, reason);
}

/* How a character of the path reads in a message: 'x', or "the end of the path". */
static const char *describe_at(const parser *p, size_t at, char *out, size_t cap)
{
    if (at >= p->len)
        return "the end of the path";
    size_t n = utf8_valid_at((const unsigned char *)p->s, p->len, at);
    snprintf(out, cap, "'%.*s'", (int)(n ? n : 1), p->s + at);
    return out;
}

static bool is_name_start(unsigned char c)
{
    return c == '_' || ((c | 32) >= 'a' && (c | 32) <= 'z') || c >= 0x80;
}

static bool is_name_char(unsigned char c)
{
    return is_name_start(c) || (c >= '0' && c <= '9');
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static size_t scan_name(const parser *p, size_t at)
{
    size_t i = at;
    if (i < p->len && is_name_start((unsigned char)p->s[i]))
        for (i++; i < p->len && is_name_char((unsigned char)p->s[i]); i++)
            ;
    return i - at;
}

static int hexval(char c)
{
    return is_digit(c) ? c - '0' : (c | 32) >= 'a' && (c | 32) <= 'f' ? (c | 32) - 'a' + 10 : -1;
}

static void big_muladd(bigint *b, uint32_t mul, uint32_t add)
{
    uint64_t carry = add;
    for (uint32_t i = 0; i < b->n; i++) {
        uint64_t v = (uint64_t)b->d[i] * mul + carry;
        b->d[i] = (uint32_t)(v & DIGIT_MASK);
        carry = v >> 30;
    }
    while (carry && b->n < BIG_DIGITS) {
        b->d[b->n++] = (uint32_t)(carry & DIGIT_MASK);
        carry >>= 30;
    }
}

/* An integral double as a bigint; false when x is no integer (or inf, nan). */
static bool double_to_big(double x, bigint *b)
{
    uint64_t bits;
    memcpy(&bits, &x, 8);
    int exp = (int)((bits >> 52) & 0x7FF);
    uint64_t frac = bits & ((UINT64_C(1) << 52) - 1);
    b->n = 0;
    b->neg = false;
    if (exp == 0x7FF)
        return false;
    if (exp == 0)
        return frac == 0; /* zero; subnormals are fractions */
    uint64_t mant = frac | UINT64_C(1) << 52;
    int e = exp - 1075;
    if (e < 0) {
        if (e <= -53 || (mant & ((UINT64_C(1) << -e) - 1)))
            return false;
        mant >>= -e;
        e = 0;
    }
    uint32_t nd = (uint32_t)(53 + e + 29) / 30;
    for (uint32_t j = 0; j < nd; j++) {
        int lo = 30 * (int)j - e;
        uint64_t dg = lo >= 64 ? 0 : lo >= 0 ? mant >> lo : lo > -30 ? mant << -lo : 0;
        b->d[j] = (uint32_t)(dg & DIGIT_MASK);
    }
    while (nd && !b->d[nd - 1])
        nd--;
    b->n = nd;
    b->neg = nd && (bits >> 63);
    return true;
}

static bool big_eq(const bigint *a, const bigint *b)
{
    return a->n == b->n && a->neg == b->neg && memcmp(a->d, b->d, a->n * sizeof(uint32_t)) == 0;
}

/* The bigint as an int64_t; false when out of its range. */
static bool big_to_i64(const bigint *b, int64_t *out)
{
    if (b->n > 3 || (b->n == 3 && b->d[2] >= 8))
        return false;
    uint64_t m = 0;
    for (uint32_t i = b->n; i-- > 0;)
        m = m << 30 | b->d[i];
    *out = b->neg ? -(int64_t)m : (int64_t)m;
    return true;
}

/* A number: [+-] digits [. digits] [e [+-] digits], '_' between digits. */
static ph_error *parse_number(parser *p, key *k)
{
    size_t start = p->pos, i = p->pos;
    bool neg = false, is_float = false;
    char clean[PATH_MAX_LEN + 1];
    size_t n = 0, mant_digits = 0;
    if (p->s[i] == '+' || p->s[i] == '-') {
        neg = p->s[i] == '-';
        clean[n++] = p->s[i++];
    }
    for (int part = 0; part < 2; part++) { /* integer part, fraction */
        if (part == 1) {
            if (i >= p->len || p->s[i] != '.')
                break;
            is_float = true;
            clean[n++] = '.';
            i++;
        }
        while (i < p->len && (is_digit(p->s[i]) || p->s[i] == '_')) {
            if (p->s[i] == '_' && (i == 0 || !is_digit(p->s[i - 1]) || i + 1 >= p->len ||
                                   !is_digit(p->s[i + 1])))
                return syntax_error(p, i, "'_' may only stand between digits");
            if (p->s[i] != '_') {
                clean[n++] = p->s[i];
                mant_digits++;
            }
            i++;
        }
    }
    if (!mant_digits)
        return syntax_error(p, start, "a number needs digits");
    if (i < p->len && (p->s[i] | 32) == 'e') {
        size_t e = i;
        is_float = true;
        clean[n++] = 'e';
        i++;
        if (i < p->len && (p->s[i] == '+' || p->s[i] == '-'))
            clean[n++] = p->s[i++];
        if (i >= p->len || !is_digit(p->s[i]))
            return syntax_error(p, e, "an exponent needs digits");
        while (i < p->len && (is_digit(p->s[i]) || p->s[i] == '_')) {
            if (p->s[i] == '_' && (!is_digit(p->s[i - 1]) || i + 1 >= p->len || !is_digit(p->s[i + 1])))
                return syntax_error(p, i, "'_' may only stand between digits");
            if (p->s[i] != '_')
                clean[n++] = p->s[i];
            i++;
        }
    }
    clean[n] = 0;
    p->pos = i;
    if (!is_float) {
        k->kind = KEY_INT;
        k->integral = true;
        k->big.n = 0;
        uint32_t chunk = 0, mul = 1;
        for (size_t j = neg || clean[0] == '+' ? 1 : 0; j < n; j++) {
            chunk = chunk * 10 + (uint32_t)(clean[j] - '0');
            mul *= 10;
            if (mul == 1000000000) {
                big_muladd(&k->big, mul, chunk);
                chunk = 0;
                mul = 1;
            }
        }
        if (mul > 1)
            big_muladd(&k->big, mul, chunk);
        k->big.neg = neg && k->big.n;
        return NULL;
    }
    /* strtod reads the locale's decimal point: put it in place of '.' */
    const char *dp = localeconv()->decimal_point;
    size_t dpl = dp && *dp ? strlen(dp) : 0;
    char loc[PATH_MAX_LEN + 16];
    size_t m = 0;
    for (size_t j = 0; j < n && m + 8 < sizeof(loc); j++) {
        if (clean[j] == '.' && dpl && dpl < 8) {
            memcpy(loc + m, dp, dpl);
            m += dpl;
        } else {
            loc[m++] = clean[j];
        }
    }
    loc[m] = 0;
    k->kind = KEY_FLOAT;
    k->f = strtod(loc, NULL); /* out of range: +-inf or 0, as Python's float() */
    k->integral = double_to_big(k->f, &k->big);
    return NULL;
}

/* A str or bytes literal: p->pos at the prefix (bytes) or quote. */
static ph_error *parse_string(parser *p, key *k, bool bytes)
{
    size_t open = p->pos;
    size_t i = p->pos + (bytes ? 1 : 0);
    char q = p->s[i++];
    size_t n = 0;
    for (;;) {
        if (i >= p->len)
            return syntax_error(p, open, "the %s opened here is never closed", bytes ? "bytes" : "string");
        char c = p->s[i];
        if (c == q)
            break;
        if (c != '\\') {
            size_t w = utf8_valid_at((const unsigned char *)p->s, p->len, i);
            if (bytes && (unsigned char)c >= 0x80)
                return syntax_error(p, i, "bytes can only hold ASCII characters; write others as \\xHH");
            memcpy(k->text + n, p->s + i, w);
            n += w;
            i += w;
            continue;
        }
        size_t esc = i++;
        if (i >= p->len)
            return syntax_error(p, open, "the %s opened here is never closed", bytes ? "bytes" : "string");
        char e = p->s[i++];
        uint32_t cp;
        switch (e) {
        case '\\': case '\'': case '"':
            cp = (uint32_t)e;
            break;
        case 'n':
            cp = '\n';
            break;
        case 't':
            cp = '\t';
            break;
        case 'r':
            cp = '\r';
            break;
        case '0':
            cp = 0;
            break;
        case 'x': case 'u': case 'U': {
            int digits = e == 'x' ? 2 : e == 'u' ? 4 : 8;
            if (bytes && e != 'x')
                return syntax_error(p, esc, "bytes have no \\%c escape", e);
            cp = 0;
            for (int d = 0; d < digits; d++, i++) {
                int v = i < p->len ? hexval(p->s[i]) : -1;
                if (v < 0)
                    return syntax_error(p, esc, "\\%c needs %d hex digits", e, digits);
                cp = cp << 4 | (uint32_t)v;
            }
            if (cp > 0x10FFFF || (cp >= 0xD800 && cp < 0xE000))
                return syntax_error(p, esc, "\\%c%.*s is not a character probe-heap can look for", e,
                                    digits, p->s + esc + 2);
            break;
        }
        default: {
            char shown[8];
            size_t w = utf8_valid_at((const unsigned char *)p->s, p->len, i - 1);
            snprintf(shown, sizeof(shown), "%.*s", (int)(w ? w : 1), p->s + i - 1);
            return syntax_error(p, esc,
                                "unknown escape '\\%s' (known: \\\\ \\' \\\" \\n \\t \\r \\0 \\xHH%s)",
                                shown, bytes ? "" : " \\uHHHH \\UHHHHHHHH");
        }
        }
        if (bytes || cp < 0x80)
            k->text[n++] = (char)cp;
        else
            n += utf8_put(k->text + n, cp);
    }
    p->pos = i + 1;
    k->text[n] = 0;
    k->len = n;
    k->ncp = bytes ? n : count_cp(k->text, n);
    k->kind = bytes ? KEY_BYTES : KEY_STR;
    return NULL;
}

static ph_error *parse_key(parser *p, key *k)
{
    memset(k, 0, sizeof(*k)); /* every kind reads only its own fields, but needles copy all */
    char c = p->s[p->pos];
    char c1 = p->pos + 1 < p->len ? p->s[p->pos + 1] : 0;
    if (c == '\'' || c == '"')
        return parse_string(p, k, false);
    if ((c == 'b' || c == 'B') && (c1 == '\'' || c1 == '"'))
        return parse_string(p, k, true);
    if (is_digit(c) || ((c == '-' || c == '+' || c == '.') && (is_digit(c1) || c1 == '.')))
        return parse_number(p, k);
    size_t n = scan_name(p, p->pos);
    static const struct {
        const char *word;
        key_kind kind;
    } words[] = {{"True", KEY_TRUE}, {"False", KEY_FALSE}, {"None", KEY_NONE}};
    for (size_t w = 0; w < 3; w++)
        if (n == strlen(words[w].word) && memcmp(p->s + p->pos, words[w].word, n) == 0) {
            k->kind = words[w].kind;
            k->integral = k->kind != KEY_NONE;
            k->big.n = k->kind == KEY_TRUE;
            k->big.d[0] = 1;
            k->big.neg = false;
            p->pos += n;
            return NULL;
        }
    return syntax_error(p, p->pos, "a key is an int, a float, a str, bytes, True, False or None");
}

/* The module name: NAME ('.' NAME)* then ':'.  *mlen is its length. */
static ph_error *parse_module(parser *p, size_t *mlen)
{
    char what[16];
    for (;;) {
        size_t n = scan_name(p, p->pos);
        if (!n)
            return syntax_error(p, p->pos, p->pos == 0 ? "the path starts with a module name, not %s"
                                                        : "a name must follow '.', not %s",
                                describe_at(p, p->pos, what, sizeof(what)));
        p->pos += n;
        if (p->pos < p->len && p->s[p->pos] == '.') {
            p->pos++;
            continue;
        }
        break;
    }
    if (p->pos >= p->len || p->s[p->pos] != ':')
        return syntax_error(p, p->pos, "expected ':' after the module name, not %s",
                            describe_at(p, p->pos, what, sizeof(what)));
    *mlen = p->pos;
    p->pos++;
    return NULL;
}

static void skip_blanks(parser *p)
{
    while (p->pos < p->len && p->s[p->pos] == ' ')
        p->pos++;
}

/* One step at p->pos (the first is a bare NAME).  k receives an index's key. */
static ph_error *parse_step(parser *p, bool first, step *st, key *k)
{
    char what[16];
    st->start = p->pos;
    if (first || p->s[p->pos] == '.') {
        st->kind = first ? STEP_NAME : STEP_ATTR;
        if (!first)
            p->pos++;
        size_t n = scan_name(p, p->pos);
        if (!n)
            return syntax_error(p, p->pos, "a name must follow %s, not %s", first ? "':'" : "'.'",
                                describe_at(p, p->pos, what, sizeof(what)));
        st->name = p->pos;
        st->nlen = n;
        p->pos += n;
    } else if (p->s[p->pos] == '[') {
        size_t open = p->pos++;
        st->kind = STEP_INDEX;
        skip_blanks(p);
        if (p->pos >= p->len)
            return syntax_error(p, open, "'[' is never closed");
        if (p->s[p->pos] == ']')
            return syntax_error(p, p->pos, "a key must stand between '[' and ']'");
        ph_error *err = parse_key(p, k);
        if (err)
            return err;
        skip_blanks(p);
        if (p->pos >= p->len)
            return syntax_error(p, open, "'[' is never closed");
        if (p->s[p->pos] != ']')
            return syntax_error(p, p->pos, "expected ']' after the key, not %s",
                                describe_at(p, p->pos, what, sizeof(what)));
        p->pos++;
    } else {
        return syntax_error(p, p->pos, "expected '.', '[' or the end of the path, not %s",
                            describe_at(p, p->pos, what, sizeof(what)));
    }
    st->end = p->pos;
    return NULL;
}

/* ---- reading the target ------------------------------------------------------------ */

typedef struct rctx {
    ph_heap *h;
    const char *path;
    size_t len;
    int step;               /* 0: the module lookup */
    size_t sstart, send;    /* the step's text */
} rctx;

static ph_error *fail(const rctx *c, ph_error_code code, uint64_t addr, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static ph_error *fail(const rctx *c, ph_error_code code, uint64_t addr, const char *fmt, ...)
{
    char reason[224], shown[128], stext[72];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof(reason), fmt, ap);
    va_end(ap);
    if (c->step == 0) {
        shown_path(c->path, c->len, shown, path_room(strlen(reason) + 2));
        return ph_error_new(code, addr, "%s: %s", shown, reason);
    }
    clip(c->path + c->sstart, c->send - c->sstart, stext, sizeof(stext));
    shown_path(c->path, c->len, shown, path_room(strlen(reason) + strlen(stext) + 16));
    return ph_error_new(code, addr, "%s: step %d, %s: %s", shown, c->step, stext, reason);
}

static ph_error *corrupt(const rctx *c, uint64_t addr, const char *what)
{
    return fail(c, PH_ERR_CORRUPT, addr,
                "%s at 0x%llx is not a valid object (corrupt memory, or memory the core does not hold)",
                what, (unsigned long long)addr);
}

/* The type of a checked object, by value (h->types may move). */
static bool type_of(ph_heap *h, uint64_t obj, ph_type *out)
{
    uint32_t ti = ph_object_check(h, obj);
    if (ti == UINT32_MAX)
        return false;
    *out = h->types[ti];
    return true;
}

static const char *base_name(const ph_heap *h, const ph_type *t)
{
    return h->types[t->base_idx].name;
}

static bool str_equals(ph_heap *h, uint64_t addr, const char *s, size_t len, size_t ncp)
{
    ph_str_iter it;
    if (!ph_str_iter_init(h, addr, &it) || it.length != ncp)
        return false;
    size_t at = 0;
    uint32_t cp;
    while (ph_str_iter_next(h, &it, &cp))
        if (at >= len || utf8_next(s, &at) != cp)
            return false;
    return it.i == it.length && at == len;
}

static bool bytes_equals(ph_heap *h, uint64_t addr, const char *s, size_t len)
{
    int64_t size;
    if (!ph_ob_size(h, addr, &size) || size < 0 || (uint64_t)size != len)
        return false;
    unsigned char raw[512];
    for (size_t i = 0; i < len; i += sizeof(raw)) {
        size_t chunk = len - i < sizeof(raw) ? len - i : sizeof(raw);
        if (!ph_read(h->r, addr + (uint64_t)h->L->bytes_sval + i, raw, chunk) ||
            memcmp(raw, s + i, chunk) != 0)
            return false;
    }
    return true;
}

/* An int (or bool) object equal to b: sign, digit count, then digits. */
static bool int_equals(ph_heap *h, uint64_t addr, const bigint *b)
{
    const ph_layout *L = h->L;
    uint64_t n;
    bool neg;
    if (!ph_int_digits(h, addr, &n, &neg))
        return false;
    if (n != b->n || (n && neg != b->neg))
        return false;
    uint32_t digits[64];
    for (uint64_t i = 0; i < n; i += 64) {
        uint64_t chunk = n - i < 64 ? n - i : 64;
        if (!ph_read(h->r, addr + (uint64_t)L->long_digits + 4 * i, digits, (size_t)chunk * 4) ||
            memcmp(digits, b->d + i, (size_t)chunk * 4) != 0)
            return false;
    }
    return true;
}

/* Is obj equal to the needle, as Python's == on dict keys would say? */
static bool matches(ph_heap *h, uint64_t obj, const needle *nd)
{
    ph_type t;
    if (!type_of(h, obj, &t))
        return false;
    switch (nd->kind) {
    case KEY_STR:
        return t.shape == SHAPE_STR && str_equals(h, obj, nd->s, nd->len, nd->ncp);
    case KEY_BYTES:
        return t.shape == SHAPE_BYTES && bytes_equals(h, obj, nd->s, nd->len);
    case KEY_NONE:
        return !t.heap && strcmp(t.name, "NoneType") == 0;
    default: /* numbers: int, bool and float compare by value */
        if (t.shape == SHAPE_INT)
            return nd->integral && int_equals(h, obj, nd->big);
        if (strcmp(base_name(h, &t), "float") == 0) {
            double x;
            if (!ph_float_value(h, obj, &x))
                return false;
            if (!nd->integral)
                return x == nd->f;
            bigint b;
            return double_to_big(x, &b) && big_eq(&b, nd->big);
        }
        return false;
    }
}

typedef enum lookup { FOUND, MISSING, BAD_DICT, TOO_BIG, BAD_VALUE } lookup;

static lookup scan_entries(ph_heap *h, ph_dict_iter *it, const needle *nd, uint64_t *value)
{
    uint64_t k, v;
    while (it->i < (int64_t)DICT_BUDGET && ph_dict_iter_next(h, it, &k, &v)) {
        if (!matches(h, k, nd))
            continue;
        *value = v;
        return ph_object_check(h, v) == UINT32_MAX ? BAD_VALUE : FOUND;
    }
    return it->i >= (int64_t)DICT_BUDGET && it->i < it->n ? TOO_BIG : MISSING;
}

/* Looks nd up in the dict (or dict subclass) at dict. */
static lookup dict_find(ph_heap *h, uint64_t dict, const needle *nd, uint64_t *value)
{
    ph_type t;
    ph_dict_iter it;
    if (!type_of(h, dict, &t) || t.shape != SHAPE_DICT || !ph_dict_iter_init(h, dict, &it))
        return BAD_DICT;
    return scan_entries(h, &it, nd, value);
}

/* Looks a name up in the attribute values a 3.11+ instance keeps without a
 * dict: the keys are its type's ht_cached_keys, the values at values. */
static lookup values_find(ph_heap *h, uint64_t type_addr, uint64_t values, const needle *nd,
                          uint64_t *value)
{
    ph_dict_iter it;
    if (!ph_values_iter_init(h, type_addr, values, &it))
        return BAD_DICT;
    return scan_entries(h, &it, nd, value);
}

/* A type's attribute dict (3.12+ static builtins: in the interpreter). */
static uint64_t type_dict(ph_heap *h, uint64_t type_addr, const ph_type *t)
{
    uint64_t d = 0;
    ph_read_u64(h->r, type_addr + (uint64_t)h->L->tp_dict, &d);
    if (!d && !t->heap)
        d = ph_static_builtin_dict(h, type_addr);
    return d;
}

/* Looks a name up in the dicts of a type's MRO (or, without one, of its
 * base chain); unreadable dicts on the way are passed over. */
static lookup mro_find(ph_heap *h, uint64_t type_addr, const needle *nd, uint64_t *value)
{
    const ph_layout *L = h->L;
    uint64_t mro = 0;
    int64_t n = 0;
    ph_type mt;
    bool have_mro = ph_read_u64(h->r, type_addr + (uint64_t)L->tp_mro, &mro) && mro &&
                    type_of(h, mro, &mt) && mt.shape == SHAPE_TUPLE &&
                    ph_ob_size(h, mro, &n) && n >= 1 && n <= MRO_MAX;
    uint64_t base = type_addr;
    for (int64_t i = 0; i < (have_mro ? n : BASE_CHAIN_MAX); i++) {
        if (have_mro && !ph_read_u64(h->r, mro + (uint64_t)L->tuple_ob_item + 8 * (uint64_t)i, &base))
            break;
        uint32_t bi = ph_type_get(h, base);
        if (bi == UINT32_MAX)
            break;
        ph_type bt = h->types[bi];
        uint64_t d = type_dict(h, base, &bt);
        if (d) {
            lookup r = dict_find(h, d, nd, value);
            if (r != MISSING && r != BAD_DICT)
                return r;
        }
        if (!have_mro && (!ph_read_u64(h->r, base + (uint64_t)L->tp_base, &base) || !base))
            break;
    }
    return MISSING;
}

/* What a class attribute is, for getattr. */
typedef enum descr_kind {
    D_PLAIN,        /* any object: returned as it is */
    D_MEMBER,       /* member_descriptor: a __slots__ or C struct member */
    D_PROPERTY,     /* property (or a subclass), getset_descriptor: C code reads them */
    D_CODE_DATA,    /* a class with __get__ and __set__ or __delete__ */
    D_CODE,         /* a class with __get__ only: instance attributes come first */
    D_WRAPPER,      /* staticmethod, classmethod: the function they wrap */
} descr_kind;

static descr_kind classify(ph_heap *h, uint64_t descr, char *tname, size_t cap)
{
    ph_type t;
    if (!type_of(h, descr, &t))
        return D_PLAIN;
    snprintf(tname, cap, "%s", t.name);
    const char *bn = base_name(h, &t);
    if (!t.heap && strcmp(t.name, "member_descriptor") == 0)
        return D_MEMBER;
    if (strcmp(bn, "property") == 0 || (!t.heap && strcmp(t.name, "getset_descriptor") == 0))
        return D_PROPERTY;
    if (strcmp(bn, "staticmethod") == 0 || strcmp(bn, "classmethod") == 0)
        return D_WRAPPER;
    if (!t.heap)
        return D_PLAIN;
    uint64_t v;
    needle get = name_needle("__get__", 7), set = name_needle("__set__", 7),
           del = name_needle("__delete__", 10);
    if (mro_find(h, t.addr, &get, &v) != FOUND)
        return D_PLAIN;
    return mro_find(h, t.addr, &set, &v) == FOUND || mro_find(h, t.addr, &del, &v) == FOUND
               ? D_CODE_DATA
               : D_CODE;
}

static ph_error *cannot_run(const rctx *c, const char *name, const char *tname)
{
    return fail(c, PH_ERR_ARGUMENT, 0, "%s is %s %s; probe-heap cannot run code to get it", name,
                article(tname), tname);
}

/* staticmethod and classmethod keep the function at sm_callable / cm_callable,
 * right after the object header in every version (where a var-object's
 * ob_size would be). */
static ph_error *unwrap(const rctx *c, uint64_t wrapper, uint64_t *out)
{
    uint64_t f = 0;
    if (!ph_read_u64(c->h->r, wrapper + ph_off_ob_size(c->h->L), &f) || !f) {
        *out = wrapper;
        return NULL;
    }
    if (ph_object_check(c->h, f) == UINT32_MAX)
        return corrupt(c, f, "the function it wraps");
    *out = f;
    return NULL;
}

/* The value of a member_descriptor's field in obj (of type t). */
static ph_error *read_member(const rctx *c, uint64_t obj, const ph_type *t, uint64_t descr,
                             const char *name, uint64_t *out)
{
    ph_heap *h = c->h;
    const ph_layout *L = h->L;
    uint64_t def;
    int32_t mtype;
    int64_t off;
    if (!ph_read_u64(h->r, descr + (uint64_t)L->memberdescr_d_member, &def) || !ph_ptr_ok(def) ||
        !ph_read(h->r, def + (uint64_t)L->memberdef_type, &mtype, 4) ||
        !ph_read_i64(h->r, def + (uint64_t)L->memberdef_offset, &off))
        return fail(c, PH_ERR_CORRUPT, descr, "the member_descriptor of %s cannot be read", name);
    if (mtype != T_OBJECT && mtype != T_OBJECT_EX)
        return fail(c, PH_ERR_ARGUMENT, 0,
                    "%s is a C field (member type %d), not an object; probe-heap cannot run code to make one",
                    name, (int)mtype);
    if (off < 16 || off > t->basicsize - 8)
        return fail(c, PH_ERR_CORRUPT, descr, "the slot %s lies outside %s %s object", name,
                    article(t->name), t->name);
    uint64_t v = 0;
    if (!ph_read_u64(h->r, obj + (uint64_t)off, &v))
        return fail(c, PH_ERR_CORRUPT, obj + (uint64_t)off, "the slot %s cannot be read", name);
    if (!v && mtype == T_OBJECT_EX)
        return fail(c, PH_ERR_ARGUMENT, 0, "the slot %s of %s %s object is empty", name,
                    article(t->name), t->name);
    if (!v)
        return fail(c, PH_ERR_ARGUMENT, 0,
                    "%s is NULL, which Python shows as None; probe-heap does not know None's address", name);
    if (ph_object_check(h, v) == UINT32_MAX)
        return corrupt(c, v, "the slot's value");
    *out = v;
    return NULL;
}

static ph_error *lookup_error(const rctx *c, lookup r, uint64_t where, uint64_t value,
                              const char *what)
{
    if (r == BAD_VALUE)
        return corrupt(c, value, "the value found");
    if (r == TOO_BIG)
        return fail(c, PH_ERR_ARGUMENT, where,
                    "%s has more than %llu entries; probe-heap stopped looking there", what,
                    (unsigned long long)DICT_BUDGET);
    return fail(c, PH_ERR_CORRUPT, where, "%s at 0x%llx cannot be read", what,
                (unsigned long long)where);
}

/* "the module m" for a module, from its __name__; else "a T object". */
static const char *describe_obj(ph_heap *h, uint64_t obj, const ph_type *t, char *out, size_t cap)
{
    if (t->shape == SHAPE_MODULE) {
        uint64_t d = 0, v;
        char name[96];
        needle nn = name_needle("__name__", 8);
        if (ph_read_u64(h->r, obj + (uint64_t)h->L->module_md_dict, &d) && d &&
            dict_find(h, d, &nn, &v) == FOUND && ph_str_read(h, v, name, sizeof(name))) {
            snprintf(out, cap, "the module %s", name);
            return out;
        }
    }
    snprintf(out, cap, "%s %s object", article(t->name), t->name);
    return out;
}

/* obj.name for an object that is not a type: Python's generic getattr. */
static ph_error *instance_attr(const rctx *c, uint64_t obj, const ph_type *t, const char *name,
                               size_t nlen, uint64_t *out)
{
    ph_heap *h = c->h;
    needle nd = name_needle(name, nlen);
    char nm[72], tname[160], desc[200];
    clip(name, nlen, nm, sizeof(nm));
    uint64_t dict, values, v, descr = 0;
    ph_instance_storage(h, obj, t, &dict, &values);
    if (nlen == 8 && memcmp(name, "__dict__", 8) == 0) {
        if (dict) {
            if (ph_object_check(h, dict) == UINT32_MAX)
                return corrupt(c, dict, "its __dict__");
            *out = dict;
            return NULL;
        }
        if (values)
            return fail(c, PH_ERR_ARGUMENT, 0,
                        "%s keeps its attributes without a __dict__ (Python makes one on demand); "
                        "probe-heap cannot run code to make it",
                        describe_obj(h, obj, t, desc, sizeof(desc)));
    }
    lookup r = mro_find(h, t->addr, &nd, &descr);
    if (r != FOUND && r != MISSING)
        return lookup_error(c, r, t->addr, descr, "a class dict");
    descr_kind dk = r == FOUND ? classify(h, descr, tname, sizeof(tname)) : D_PLAIN;
    if (r == FOUND && dk == D_MEMBER)
        return read_member(c, obj, t, descr, nm, out);
    if (r == FOUND && (dk == D_PROPERTY || dk == D_CODE_DATA))
        return cannot_run(c, nm, tname);
    if (dict) {
        lookup dr = dict_find(h, dict, &nd, &v);
        if (dr == FOUND) {
            *out = v;
            return NULL;
        }
        if (dr != MISSING)
            return lookup_error(c, dr, dict, v, "its __dict__");
    } else if (values) {
        lookup vr = values_find(h, t->addr, values, &nd, &v);
        if (vr == FOUND) {
            *out = v;
            return NULL;
        }
        if (vr != MISSING)
            return lookup_error(c, vr, values, v, "its attribute values");
    }
    if (r == FOUND) {
        if (dk == D_CODE)
            return cannot_run(c, nm, tname);
        if (dk == D_WRAPPER)
            return unwrap(c, descr, out);
        *out = descr;
        return NULL;
    }
    /* A module's or class's __getattr__ could make it: say so. */
    needle ga = name_needle("__getattr__", 11);
    bool getattr = t->shape == SHAPE_MODULE ? dict && dict_find(h, dict, &ga, &v) == FOUND
                                            : mro_find(h, t->addr, &ga, &v) == FOUND;
    return fail(c, PH_ERR_ARGUMENT, 0, "%s has no attribute '%s'%s",
                describe_obj(h, obj, t, desc, sizeof(desc)), nm,
                getattr ? " (it has a __getattr__, which probe-heap cannot run)" : "");
}

/* A type field that is an object (tp_mro, tp_bases...). */
static ph_error *type_field(const rctx *c, uint64_t type_addr, int32_t off, const char *tname,
                            const char *name, uint64_t *out)
{
    uint64_t v = 0;
    if (off == PH_NONE || !ph_read_u64(c->h->r, type_addr + (uint64_t)(int64_t)off, &v))
        return fail(c, PH_ERR_CORRUPT, type_addr, "the type %s cannot be read", tname);
    if (!v)
        return fail(c, PH_ERR_ARGUMENT, 0,
                    "the %s of the type %s is None, which probe-heap has no address for", name, tname);
    if (ph_object_check(c->h, v) == UINT32_MAX)
        return corrupt(c, v, name);
    *out = v;
    return NULL;
}

/* T.name for a type T (its own entry self): the fields that are objects,
 * its MRO's dicts, then its metatype's (methods, members). */
static ph_error *type_attr(const rctx *c, uint64_t obj, uint32_t self, const ph_type *meta,
                           const char *name, size_t nlen, uint64_t *out)
{
    ph_heap *h = c->h;
    const ph_layout *L = h->L;
    const ph_type tt = h->types[self];
    needle nd = name_needle(name, nlen);
    char nm[72], dname[160];
    clip(name, nlen, nm, sizeof(nm));
    static const struct {
        const char *name;
        bool heap_only;
    } fields[] = {{"__dict__", false}, {"__mro__", false}, {"__bases__", false},
                  {"__base__", false}, {"__name__", true}, {"__qualname__", true}};
    const int32_t offs[] = {PH_NONE, L->tp_mro, L->tp_bases, L->tp_base, L->ht_name, L->ht_qualname};
    for (size_t i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
        if (strlen(fields[i].name) != nlen || memcmp(fields[i].name, name, nlen) != 0 ||
            (fields[i].heap_only && !tt.heap))
            continue;
        if (i == 0) {
            uint64_t d = type_dict(h, obj, &tt);
            if (!d || ph_object_check(h, d) == UINT32_MAX)
                return corrupt(c, d, "its dict");
            *out = d; /* what its mappingproxy shows */
            return NULL;
        }
        return type_field(c, obj, offs[i], tt.name, fields[i].name, out);
    }
    uint64_t v = 0;
    lookup r = mro_find(h, obj, &nd, &v);
    if (r == FOUND) {
        descr_kind dk = classify(h, v, dname, sizeof(dname));
        if (dk == D_CODE || dk == D_CODE_DATA) /* its __get__(None, T) is Python code */
            return cannot_run(c, nm, dname);
        if (dk == D_WRAPPER)
            return unwrap(c, v, out);
        *out = v; /* a property, member or getset of the class is itself */
        return NULL;
    }
    if (r != MISSING)
        return lookup_error(c, r, obj, v, "a class dict");
    r = mro_find(h, meta->addr, &nd, &v);
    if (r == FOUND) {
        descr_kind dk = classify(h, v, dname, sizeof(dname));
        if (dk == D_MEMBER)
            return read_member(c, obj, meta, v, nm, out);
        if (dk == D_PROPERTY || dk == D_CODE_DATA || dk == D_CODE)
            return cannot_run(c, nm, dname);
        if (dk == D_WRAPPER)
            return unwrap(c, v, out);
        *out = v;
        return NULL;
    }
    if (r != MISSING)
        return lookup_error(c, r, meta->addr, v, "a class dict");
    return fail(c, PH_ERR_ARGUMENT, 0, "the type %s has no attribute '%s'", tt.name, nm);
}

static ph_error *get_attr(const rctx *c, uint64_t obj, const char *name, size_t nlen, uint64_t *out)
{
    ph_heap *h = c->h;
    ph_type t;
    if (!type_of(h, obj, &t))
        return corrupt(c, obj, "the object");
    if (nlen == 9 && memcmp(name, "__class__", 9) == 0) {
        *out = t.addr;
        return NULL;
    }
    if (t.is_type_type) {
        uint32_t self = ph_type_get(h, obj);
        if (self != UINT32_MAX)
            return type_attr(c, obj, self, &t, name, nlen, out);
    }
    return instance_attr(c, obj, &t, name, nlen, out);
}

static const char *key_kind_name(key_kind k)
{
    switch (k) {
    case KEY_FLOAT: return "a float";
    case KEY_STR: return "a str";
    case KEY_BYTES: return "bytes";
    case KEY_NONE: return "None";
    default: return "an int";
    }
}

/* obj[key]: an item of a list or tuple, a value of a dict. */
static ph_error *get_item(const rctx *c, uint64_t obj, const key *k, size_t ktext, size_t kend,
                          uint64_t *out)
{
    ph_heap *h = c->h;
    const ph_layout *L = h->L;
    ph_type t;
    char kt[72];
    clip(c->path + ktext, kend - ktext, kt, sizeof(kt));
    if (!type_of(h, obj, &t))
        return corrupt(c, obj, "the object");
    if (t.shape == SHAPE_DICT) {
        needle nd = key_needle(k);
        uint64_t v = 0;
        lookup r = dict_find(h, obj, &nd, &v);
        if (r == FOUND) {
            *out = v;
            return NULL;
        }
        if (r == MISSING)
            return fail(c, PH_ERR_ARGUMENT, 0, "the %s has no key %s", t.name, kt);
        return lookup_error(c, r, obj, v, "the dict");
    }
    if (t.shape != SHAPE_LIST && t.shape != SHAPE_TUPLE)
        return fail(c, PH_ERR_ARGUMENT, 0,
                    "probe-heap can only index a list, a tuple or a dict, not %s %s object",
                    article(t.name), t.name);
    if (k->kind != KEY_INT && k->kind != KEY_TRUE && k->kind != KEY_FALSE)
        return fail(c, PH_ERR_ARGUMENT, 0, "%s %s is indexed by an int, not by %s",
                    article(t.name), t.name, key_kind_name(k->kind));
    int64_t n = 0, alloc = 0;
    uint64_t items;
    bool ok = ph_ob_size(h, obj, &n) && n >= 0 && (uint64_t)n <= MAX_CONTAINER_LEN;
    if (t.shape == SHAPE_LIST)
        ok = ok && ph_read_i64(h->r, obj + (uint64_t)L->list_allocated, &alloc) && n <= alloc &&
             ph_read_u64(h->r, obj + (uint64_t)L->list_ob_item, &items) && (n == 0 || ph_ptr_ok(items));
    else
        items = obj + (uint64_t)L->tuple_ob_item;
    if (!ok)
        return fail(c, PH_ERR_CORRUPT, obj, "the %s at 0x%llx cannot be read", t.name,
                    (unsigned long long)obj);
    int64_t i;
    if (!big_to_i64(&k->big, &i) || (i < 0 && i + n < 0) || (i >= 0 && i >= n))
        return fail(c, PH_ERR_ARGUMENT, 0, "the index is out of range: the %s has %lld item%s", t.name,
                    (long long)n, n == 1 ? "" : "s");
    if (i < 0)
        i += n;
    uint64_t v = 0;
    if (!ph_read_u64(h->r, items + 8 * (uint64_t)i, &v))
        return fail(c, PH_ERR_CORRUPT, items, "the items of the %s cannot be read", t.name);
    if (!v)
        return fail(c, PH_ERR_ARGUMENT, 0, "item %lld of the %s is NULL (it is being filled in)",
                    (long long)i, t.name);
    if (ph_object_check(h, v) == UINT32_MAX)
        return corrupt(c, v, "the item");
    *out = v;
    return NULL;
}

/* ---- the path ------------------------------------------------------------------- */

ph_error *ph_resolve_path(ph_heap *h, const char *path, uint64_t *address)
{
    if (!h || !path || !address || !h->L)
        return ph_error_new(PH_ERR_ARGUMENT, 0, "ph_resolve_path needs a heap, a path and an address");
    size_t len = strnlen(path, PATH_MAX_LEN + 1);
    if (len > PATH_MAX_LEN)
        return ph_error_new(PH_ERR_ARGUMENT, 0, "the path is longer than %d bytes", PATH_MAX_LEN);
    parser p = {path, len, 0};
    for (size_t i = 0; i < len;) {
        size_t n = utf8_valid_at((const unsigned char *)path, len, i);
        if (!n)
            return syntax_error(&p, i, "the path is not valid UTF-8 there");
        if ((unsigned char)path[i] < 0x20 || path[i] == 0x7F)
            return syntax_error(&p, i, "a control character");
        i += n;
    }
    key k; /* the key of the step being parsed */
    step st;
    size_t mlen = 0;

    /* Pass 1: syntax only. */
    ph_error *err = parse_module(&p, &mlen);
    int nsteps = 0;
    while (!err && (nsteps == 0 || p.pos < p.len)) {
        if (++nsteps > PATH_MAX_STEPS) {
            char shown[128];
            return ph_error_new(PH_ERR_ARGUMENT, 0, "%s: the path has more than %d steps",
                                shown_path(path, len, shown, sizeof(shown)), PATH_MAX_STEPS);
        }
        err = parse_step(&p, nsteps == 1, &st, &k);
    }
    if (err)
        return err;

    /* Pass 2: the module in sys.modules, then each step. */
    rctx c = {h, path, len, 0, 0, 0};
    const ph_layout *L = h->L;
    uint64_t modules = 0, cur = 0;
    ph_type mt;
    if (!h->interp_addr ||
        !ph_read_u64(h->r, h->interp_addr + (uint64_t)L->interp_modules, &modules) ||
        !type_of(h, modules, &mt) || mt.shape != SHAPE_DICT)
        return fail(&c, PH_ERR_CORRUPT, modules, "the interpreter's sys.modules cannot be read");
    needle mn = name_needle(path, mlen);
    lookup r = dict_find(h, modules, &mn, &cur);
    if (r == MISSING) {
        char m[96];
        return fail(&c, PH_ERR_ARGUMENT, 0, "there is no module '%s' in sys.modules",
                    clip(path, mlen, m, sizeof(m)));
    }
    if (r != FOUND)
        return lookup_error(&c, r, modules, cur, "sys.modules");
    p.pos = mlen + 1;
    for (int s = 1; s <= nsteps; s++) {
        err = parse_step(&p, s == 1, &st, &k);
        if (err) /* cannot happen: pass 1 took the same path */
            return err;
        c.step = s;
        c.sstart = st.start;
        c.send = st.end;
        uint64_t next = 0;
        if (st.kind == STEP_INDEX) {
            /* the key's text, without the brackets and blanks */
            size_t a = st.start + 1, b = st.end - 1;
            while (path[a] == ' ')
                a++;
            while (b > a && path[b - 1] == ' ')
                b--;
            err = get_item(&c, cur, &k, a, b, &next);
        } else {
            err = get_attr(&c, cur, path + st.name, st.nlen, &next);
        }
        if (err)
            return err;
        cur = next;
    }
    *address = cur;
    return NULL;
}
