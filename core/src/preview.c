/* Short previews of objects, for listings: what a user needs to recognise
 * an object at a glance, read from the target and bounded. */
#include "heap.h"

#include <stdio.h>
#include <string.h>

#define PREVIEW_TEXT 60

/* Appends text to buf, cutting it with "..." when it does not fit in limit. */
static void put_cut(char *buf, size_t cap, const char *text, size_t limit)
{
    size_t n = strlen(text);
    if (n <= limit) {
        snprintf(buf, cap, "%s", text);
        return;
    }
    /* cut on a UTF-8 boundary */
    while (limit > 0 && ((unsigned char)text[limit] & 0xC0) == 0x80)
        limit--;
    snprintf(buf, cap, "%.*s...", (int)limit, text);
}

static bool int_value(ph_heap *h, uint64_t addr, int64_t *out)
{
    const ph_layout *L = h->L;
    uint64_t ndigits;
    int sign;
    if (L->long_lv_tag != PH_NONE) {
        uint64_t tag;
        if (!ph_read_u64(h->r, addr + (uint64_t)L->long_lv_tag, &tag))
            return false;
        ndigits = tag >> 3;
        sign = (tag & 3) == 2 ? -1 : 1;
    } else {
        int64_t n;
        if (!ph_read_i64(h->r, addr + 16, &n))
            return false;
        ndigits = ph_abs64(n);
        sign = n < 0 ? -1 : 1;
    }
    if (ndigits > 2)
        return false;
    uint32_t d[2] = {0, 0};
    if (ndigits && !ph_read(h->r, addr + (uint64_t)L->long_digits, d, 4 * ndigits))
        return false;
    *out = sign * (int64_t)((uint64_t)(d[0] & 0x3fffffff) | (uint64_t)(d[1] & 0x3fffffff) << 30);
    return true;
}

static void name_field(ph_heap *h, uint64_t addr, int32_t off, char *buf, size_t cap)
{
    uint64_t p;
    if (off != PH_NONE && ph_read_u64(h->r, addr + (uint64_t)off, &p) && p)
        ph_str_read(h, p, buf, cap);
}

void ph_preview(ph_heap *h, uint64_t addr, char *buf, size_t cap)
{
    const ph_layout *L = h->L;
    buf[0] = 0;
    uint32_t ti = ph_object_check(h, addr);
    if (ti == UINT32_MAX || cap < 8)
        return;
    const ph_type *t = &h->types[ti];
    char text[512] = "";
    int64_t n = 0;
    switch (t->shape) {
    case SHAPE_STR:
        if (ph_str_read(h, addr, text, sizeof(text))) {
            char quoted[520];
            snprintf(quoted, sizeof(quoted), "'%s'", text);
            put_cut(buf, cap, quoted, PREVIEW_TEXT);
        }
        break;
    case SHAPE_INT:
        if (strcmp(t->name, "bool") == 0 && int_value(h, addr, &n))
            snprintf(buf, cap, "%s", n ? "True" : "False");
        else if (int_value(h, addr, &n))
            snprintf(buf, cap, "%lld", (long long)n);
        else
            snprintf(buf, cap, "(big int)");
        break;
    case SHAPE_LEAF:
        if (strcmp(t->name, "float") == 0) {
            double d;
            if (ph_read(h->r, addr + 16, &d, 8))
                snprintf(buf, cap, "%.17g", d);
        }
        break;
    case SHAPE_BYTES: {
        unsigned char raw[24];
        ph_read_i64(h->r, addr + 16, &n);
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
    case SHAPE_BYTEARRAY:
    case SHAPE_TUPLE:
    case SHAPE_LIST:
        ph_read_i64(h->r, addr + 16, &n);
        snprintf(buf, cap, t->shape == SHAPE_BYTEARRAY ? "%lld bytes" : "len %lld", (long long)n);
        break;
    case SHAPE_DICT:
        ph_read_i64(h->r, addr + (uint64_t)L->dict_ma_used, &n);
        snprintf(buf, cap, "len %lld", (long long)n);
        break;
    case SHAPE_SET:
        ph_read_i64(h->r, addr + (uint64_t)L->set_used, &n);
        snprintf(buf, cap, "len %lld", (long long)n);
        break;
    case SHAPE_TYPE: {
        uint32_t self = ph_type_get(h, addr);
        if (self != UINT32_MAX)
            snprintf(buf, cap, "%s", h->types[self].name);
        break;
    }
    case SHAPE_MODULE: {
        uint64_t d;
        if (ph_read_u64(h->r, addr + (uint64_t)L->module_md_dict, &d) && d) {
            uint64_t name = ph_dict_get_str(h, d, "__name__");
            if (name && ph_str_read(h, name, text, sizeof(text)))
                snprintf(buf, cap, "%s", text);
        }
        break;
    }
    case SHAPE_FUNCTION:
        name_field(h, addr, L->func_qualname, text, sizeof(text));
        snprintf(buf, cap, "%s", text);
        break;
    case SHAPE_CODE:
        name_field(h, addr, L->code_qualname != PH_NONE ? L->code_qualname : L->code_name, text,
                   sizeof(text));
        snprintf(buf, cap, "%s", text);
        break;
    default:
        break;
    }
}
