/* Short previews of objects, for listings: what a user needs to recognise
 * an object at a glance, read from the target and bounded. */
#include "heap/heap.h"
#include "analyses/labels.h"
#include "analyses/repr.h" /* labels.h and repr.h are below: they never preview */

#include <stdio.h>
#include <string.h>

#define PREVIEW_TEXT 60

/* An instance of a class: "name=value" for its first attributes (inline
 * values on 3.11+, __slots__, else its __dict__'s str keys), each value as
 * ph_repr_short shows it; "..." when there are more. */
#define PREVIEW_ATTRS 3

typedef struct attrs {
    char *buf;
    size_t cap, used;
    unsigned n;
    bool more, in_dict;
    uint64_t dict; /* the instance's __dict__, read when nothing else gave attributes */
} attrs;

static void attrs_add(ph_heap *h, attrs *a, const char *name, uint64_t value)
{
    if (a->more)
        return;
    if (a->n == PREVIEW_ATTRS) {
        a->more = true;
        return;
    }
    char v[48], n[32];
    ph_repr_short(h, value, v, sizeof(v));
    uint32_t vt = v[0] == '<' ? ph_object_check(h, value) : UINT32_MAX;
    if (vt != UINT32_MAX && !h->types[vt].heap) {
        /* a container: its length, not its address ("<list len 3>") */
        ph_preview(h, value, n, sizeof(n));
        if (strncmp(n, "len ", 4) == 0)
            snprintf(v, sizeof(v), "<%.20s %.20s>", h->types[vt].name, n);
    }
    int k = snprintf(a->buf + a->used, a->cap - a->used, "%s%s=%s", a->n ? " " : "", name, v);
    if (k < 0 || (size_t)k >= a->cap - a->used - 4) { /* room left for " ..." */
        a->buf[a->used] = 0;
        a->more = true;
        return;
    }
    a->used += (size_t)k;
    a->n++;
}

static uint32_t attr_visit(ph_heap *h, const ph_ref *ref, void *payload)
{
    attrs *a = payload;
    const uint64_t addr = ref->addr;
    const ph_label l = ref->label;
    char name[64];
    if (a->in_dict) {
        uint32_t kt = l.kind == EDGE_KEY ? ph_object_check(h, l.obj) : UINT32_MAX;
        if (kt != UINT32_MAX && h->types[kt].shape == SHAPE_STR &&
            ph_str_read(h, l.obj, name, sizeof(name)))
            attrs_add(h, a, name, addr);
    } else if (l.kind == EDGE_FIELD && l.name && strcmp(l.name, ".__dict__") == 0) {
        a->dict = addr;
    } else if (l.kind == EDGE_VALUES || l.kind == EDGE_SLOT) {
        ph_label_text(h, &l, addr, name, sizeof(name));
        if (name[0] == '.')
            attrs_add(h, a, name + 1, addr);
    }
    return PH_NO_OBJ;
}

static void instance_preview(ph_heap *h, uint64_t addr, uint32_t ti, char *buf, size_t cap)
{
    /* A labelled visit of its own, inside whatever visit asked for the preview. */
    bool labelling = h->labelling;
    uint64_t skipped = h->skipped;
    attrs a = {.buf = buf, .cap = cap};
    h->labelling = true;
    ph_referents_at(h, addr, ti, attr_visit, &a);
    uint32_t dt = a.n == 0 && a.dict ? ph_object_check(h, a.dict) : UINT32_MAX;
    if (dt != UINT32_MAX && h->types[dt].shape == SHAPE_DICT) {
        a.in_dict = true;
        ph_referents_at(h, a.dict, dt, attr_visit, &a);
    }
    h->labelling = labelling;
    h->skipped = skipped;
    if (a.more && a.used + 4 < cap)
        snprintf(buf + a.used, cap - a.used, "%s...", a.n ? " " : "");
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
        ph_str_repr(h, addr, buf, cap, PREVIEW_TEXT);
        break;
    case SHAPE_INT:
    case SHAPE_LEAF:
    case SHAPE_BYTES:
        ph_scalar_repr(h, addr, t, buf, cap);
        break;
    case SHAPE_BYTEARRAY:
    case SHAPE_TUPLE:
    case SHAPE_LIST:
        ph_ob_size(h, addr, &n);
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
    case SHAPE_FUNCTION: {
        uint64_t code = 0;
        char file[256] = "";
        int32_t line = 0;
        ph_name_field(h, addr, L->func_qualname, text, sizeof(text));
        if (ph_read_u64(h->r, addr + (uint64_t)L->func_code, &code) && ph_ptr_ok(code)) {
            ph_name_field(h, code, L->code_filename, file, sizeof(file));
            ph_read(h->r, code + (uint64_t)L->code_firstlineno, &line, 4);
        }
        if (file[0]) {
            /* A long path keeps its end: the file's name and the line are what tell. */
            size_t flen = strlen(file);
            const char *tail = flen > PREVIEW_TEXT ? file + flen - (PREVIEW_TEXT - 3) : file;
            snprintf(buf, cap, "%.60s %s%s:%d", text, tail == file ? "" : "...", tail, (int)line);
        }
        else
            snprintf(buf, cap, "%s", text);
        break;
    }
    case SHAPE_CODE:
        ph_name_field(h, addr, L->code_qualname != PH_NONE ? L->code_qualname : L->code_name, text,
                   sizeof(text));
        snprintf(buf, cap, "%s", text);
        break;
    case SHAPE_OBJECT: /* a class's instance */
    case SHAPE_OTHER:  /* one with C fields of its own too */
        if (t->heap && !t->is_type_type)
            instance_preview(h, addr, ti, buf, cap);
        break;
    default:
        break;
    }
}
