/* Values as Python shows them, short and bounded: ints, floats, bytes, strs (repr, cut),
 * the names in a function's or code's fields, and a dict key as a label
 * shows it (str, int, bytes, float, None, True, False). */
#include "analyses/repr.h"
#include "base/utf8.h"

#include <stdio.h>
#include <string.h>

void ph_name_field(ph_heap *h, uint64_t addr, int32_t off, char *buf, size_t cap)
{
    uint64_t p;
    if (off != PH_NONE && ph_read_u64(h->r, addr + (uint64_t)off, &p) && p)
        ph_str_read(h, p, buf, cap);
}

/* Python's repr of a str, from its code points, cut after limit of them. */
void ph_str_repr(ph_heap *h, uint64_t addr, char *buf, size_t cap, size_t limit)
{
    ph_str_iter it;
    if (!ph_str_iter_init(h, addr, &it)) {
        snprintf(buf, cap, "<str at 0x%llx>", (unsigned long long)addr);
        return;
    }
    /* Python's choice of quote: ' unless the text has ' and no " */
    bool sq = false, dq = false;
    uint32_t cp;
    ph_str_iter probe = it;
    for (size_t n = 0; n < limit && ph_str_iter_next(h, &probe, &cp); n++) {
        sq |= cp == '\'';
        dq |= cp == '"';
    }
    char q = sq && !dq ? '"' : '\'';
    size_t o = 0, n = 0;
    if (cap < 16)
        return;
    buf[o++] = q;
    while (o + 16 < cap && ph_str_iter_next(h, &it, &cp)) {
        if (n++ == limit) {
            o += (size_t)snprintf(buf + o, cap - o, "...");
            break;
        }
        if (cp == (uint32_t)q || cp == '\\')
            o += (size_t)snprintf(buf + o, cap - o, "\\%c", (char)cp);
        else if (cp == '\n')
            o += (size_t)snprintf(buf + o, cap - o, "\\n");
        else if (cp == '\t')
            o += (size_t)snprintf(buf + o, cap - o, "\\t");
        else if (cp == '\r')
            o += (size_t)snprintf(buf + o, cap - o, "\\r");
        else if (cp < 32 || cp == 127)
            o += (size_t)snprintf(buf + o, cap - o, "\\x%02x", cp);
        else
            o += ph_utf8_encode(cp, buf + o);
    }
    if (o + 1 < cap)
        buf[o++] = q;
    buf[o < cap ? o : cap - 1] = 0;
}

/* An int, a bool, a float or bytes as a preview shows it (42, True,
 * 0.5, b'ab' (2 bytes)); "" for another leaf. */
void ph_scalar_repr(ph_heap *h, uint64_t addr, const ph_type *t, char *buf, size_t cap)
{
    const ph_layout *L = h->L;
    char text[512] = "";
    int64_t n = 0;
    buf[0] = 0;
    if (cap < 8)
        return;
    switch (t->shape) {
    case SHAPE_INT:
        if (strcmp(t->name, "bool") == 0 && ph_int_value(h, addr, &n))
            snprintf(buf, cap, "%s", n ? "True" : "False");
        else if (ph_int_value(h, addr, &n))
            snprintf(buf, cap, "%lld", (long long)n);
        else
            snprintf(buf, cap, "(big int)");
        break;
    case SHAPE_LEAF:
        if (strcmp(t->name, "float") == 0) {
            double d;
            if (ph_float_value(h, addr, &d))
                snprintf(buf, cap, "%.17g", d);
        }
        break;
    case SHAPE_BYTES: {
        unsigned char raw[24];
        ph_ob_size(h, addr, &n);
        size_t k = n > 0 ? (size_t)(n < 24 ? n : 24) : 0;
        if (k && !ph_read(h->r, addr + (uint64_t)L->bytes_sval, raw, k))
            break;
        size_t o = (size_t)snprintf(text, sizeof(text), "b'");
        for (size_t i = 0; i < k && o + 8 < sizeof(text); i++)
            o += (size_t)snprintf(text + o, sizeof(text) - o,
                                  raw[i] >= 32 && raw[i] < 127 && raw[i] != '\'' && raw[i] != '\\'
                                      ? "%c" : "\\x%02x", raw[i]);
        snprintf(buf, cap, "%s'%s (%lld bytes)", text, n > 24 ? "..." : "", (long long)n);
        break;
    }
    default:
        break;
    }
}

void ph_repr_short(ph_heap *h, uint64_t addr, char *buf, size_t cap)
{
    buf[0] = 0;
    uint32_t ti = ph_object_check(h, addr);
    if (ti == UINT32_MAX) {
        snprintf(buf, cap, "<? at 0x%llx>", (unsigned long long)addr);
        return;
    }
    const ph_type *t = &h->types[ti];
    switch (t->shape) {
    case SHAPE_STR:
        ph_str_repr(h, addr, buf, cap, 40);
        return;
    case SHAPE_INT:
    case SHAPE_BYTES:
        ph_scalar_repr(h, addr, t, buf, cap);
        if (t->shape == SHAPE_BYTES) {
            char *sp = strstr(buf, " (");
            if (sp)
                *sp = 0;
        }
        if (buf[0] && strcmp(buf, "(big int)") != 0)
            return;
        break;
    case SHAPE_LEAF:
        if (strcmp(t->name, "NoneType") == 0) {
            snprintf(buf, cap, "None");
            return;
        }
        ph_scalar_repr(h, addr, t, buf, cap);
        if (buf[0])
            return;
        break;
    default:
        break;
    }
    snprintf(buf, cap, "<%s at 0x%llx>", t->name, (unsigned long long)addr);
}
