/* Labels of references as text: ".name", "['key']", "[3]", "->+0x38",
 * and what a root is ("sys.modules", "thread 0x7f..: main (app.py:12), local 'x'").
 * Labels keep target addresses (labels in heap.h); the text is made here,
 * only for what is shown. */
#include "analyses/labels.h"

#include "analyses/repr.h"
#include "cpython/frames.h"
#include "cpython/ft.h"
#include "cpython/stackref.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

const char *ph_edge_kind_name(const ph_label *l)
{
    switch ((ph_edge_kind)l->kind) {
    case EDGE_FIELD: return "field";
    case EDGE_CLASS: return "class";
    case EDGE_INDEX: return "index";
    case EDGE_KEY: return "key";
    case EDGE_DICT_KEY: return "dict_key";
    case EDGE_MEMBER: return "member";
    case EDGE_VALUES:
    case EDGE_SLOT: return "attribute";
    case EDGE_LOCAL: return "local";
    case EDGE_STACK: return "stack";
    case EDGE_OFFSET: return "offset";
    case EDGE_WEAK: return "weak";
    case EDGE_ROOT: return "root";
    case EDGE_NONE: break;
    }
    return "unknown";
}

const char *ph_root_kind_name(const ph_label *l)
{
    switch ((ph_root_kind)l->root) {
    case ROOT_MODULES: return "sys.modules";
    case ROOT_SYS: return "sys";
    case ROOT_BUILTINS: return "builtins";
    case ROOT_INTERP: return "interpreter";
    case ROOT_INTERNED: return "interned";
    case ROOT_TYPE_DICT: return "type_dict";
    case ROOT_THREAD: return "thread";
    case ROOT_FRAME:
    case ROOT_FRAME_FIELD: return "frame";
    case ROOT_LOCAL:
    case ROOT_STACK: return "local";
    case ROOT_HELD: return "held";
    case ROOT_PERMANENT: return "permanent";
    case ROOT_STATIC: return "static";
    case ROOT_NONE: break;
    }
    return NULL;
}

/* The name of slot i of a type's cached (shared) keys: an instance's
 * inline or managed values are in that order. */
static bool values_name(ph_heap *h, uint64_t type, uint64_t i, char *buf, size_t cap)
{
    uint64_t keys;
    ph_dict_iter it;
    if (h->L->ht_cached_keys == PH_NONE ||
        !ph_read_u64(h->r, type + (uint64_t)h->L->ht_cached_keys, &keys) ||
        !ph_dict_keys_iter_init(h, keys, 0, &it) || i >= (uint64_t)it.n)
        return false;
    uint64_t e[3];
    if (!ph_read(h->r, it.entries + i * (uint64_t)it.entry_size, e, (size_t)it.entry_size))
        return false;
    uint64_t key = it.entry_size == 24 ? e[1] : e[0];
    return key && ph_str_read(h, key, buf, cap);
}

static void local_name(ph_heap *h, uint64_t code, uint64_t i, char *buf, size_t cap)
{
    uint64_t name = ph_ptr_ok(code) ? ph_code_local_name(h, code, i) : 0;
    if (!name || !ph_str_read(h, name, buf, cap))
        snprintf(buf, cap, "#%llu", (unsigned long long)i);
}

static void thread_text(ph_heap *h, uint64_t tstate, char *buf, size_t cap)
{
    uint64_t id = tstate ? ph_thread_ident(h, tstate) : 0;
    if (id)
        snprintf(buf, cap, "thread 0x%llx", (unsigned long long)id);
    else
        snprintf(buf, cap, "a thread");
}

static void root_text(ph_heap *h, const ph_label *l, uint64_t addr, char *buf, size_t cap)
{
    char th[64], where[400], name[128];
    switch ((ph_root_kind)l->root) {
    case ROOT_MODULES: snprintf(buf, cap, "sys.modules"); return;
    case ROOT_SYS: snprintf(buf, cap, "sys.__dict__"); return;
    case ROOT_BUILTINS: snprintf(buf, cap, "builtins.__dict__"); return;
    case ROOT_INTERP: snprintf(buf, cap, "the interpreter's dict"); return;
    case ROOT_INTERNED: snprintf(buf, cap, "the interned strings"); return;
    case ROOT_TYPE_DICT: snprintf(buf, cap, "the __dict__ of a static builtin type"); return;
    case ROOT_HELD: {
        int64_t rc = 0;
        bool immortal;
        uint32_t id = ph_index_find(&h->idx, addr);
        if (!ph_object_refcnt(h, addr, id == PH_NO_OBJ ? UINT32_MAX : h->idx.type[id], &rc,
                              &immortal))
            rc = 0;
        snprintf(buf, cap, "held from outside Python (refcount %lld): a C extension, a C global "
                 "or a leaked reference", (long long)rc);
        return;
    }
    case ROOT_PERMANENT: snprintf(buf, cap, "the permanent generation (gc.freeze)"); return;
    case ROOT_STATIC:
        /* a global, or the thread stack or state that holds it */
        snprintf(buf, cap, "%s", ph_statics_kind(h, l->num) == PH_REGION_STATIC ? "C global "
                                                                                : "held by ");
        ph_statics_name(h, l->num, buf + strlen(buf), cap - strlen(buf));
        return;
    case ROOT_THREAD:
        thread_text(h, l->aux, th, sizeof(th));
        snprintf(buf, cap, "%s: %s", th, l->name ? l->name : "state");
        return;
    case ROOT_FRAME:
        thread_text(h, l->aux, th, sizeof(th));
        ph_frame_where(h, addr, false, where, sizeof(where));
        snprintf(buf, cap, "%s: frame of %s", th, where);
        return;
    case ROOT_LOCAL:
    case ROOT_STACK:
    case ROOT_FRAME_FIELD: {
        thread_text(h, l->aux, th, sizeof(th));
        ph_frame_where(h, l->obj, true, where, sizeof(where));
        if (l->root == ROOT_FRAME_FIELD) {
            snprintf(buf, cap, "%s: %s %s", th, where, l->name ? l->name : "");
        } else if (l->root == ROOT_STACK) {
            snprintf(buf, cap, "%s: %s, value stack [%llu]", th, where, (unsigned long long)l->num);
        } else {
            uint64_t code = 0;
            ph_read_u64(h->r, l->obj + (uint64_t)h->L->iframe_code, &code);
            code = ph_stackref_obj(h->L, code);
            local_name(h, code, l->num, name, sizeof(name));
            snprintf(buf, cap, "%s: %s, local '%s'", th, where, name);
        }
        return;
    }
    case ROOT_NONE: break;
    }
    snprintf(buf, cap, "a root");
}

void ph_label_text(ph_heap *h, const ph_label *l, uint64_t addr, char *buf, size_t cap)
{
    char text[256];
    buf[0] = 0;
    switch ((ph_edge_kind)l->kind) {
    case EDGE_FIELD:
    case EDGE_WEAK:
        snprintf(buf, cap, "%s", l->name ? l->name : "<field>");
        return;
    case EDGE_CLASS: snprintf(buf, cap, ".__class__"); return;
    case EDGE_INDEX: snprintf(buf, cap, "[%llu]", (unsigned long long)l->num); return;
    case EDGE_KEY:
        ph_repr_short(h, l->obj, text, sizeof(text));
        snprintf(buf, cap, "[%s]", text);
        return;
    case EDGE_DICT_KEY: snprintf(buf, cap, "<key>"); return;
    case EDGE_MEMBER: snprintf(buf, cap, "<member>"); return;
    case EDGE_VALUES:
        if (values_name(h, l->obj, l->num, text, sizeof(text)))
            snprintf(buf, cap, ".%s", text);
        else
            snprintf(buf, cap, "<attribute #%llu>", (unsigned long long)l->num);
        return;
    case EDGE_SLOT:
        if (l->obj && ph_read_cstr(h->r, l->obj, text, sizeof(text)) && text[0])
            snprintf(buf, cap, ".%s", text);
        else
            snprintf(buf, cap, "<slot>");
        return;
    case EDGE_LOCAL:
        local_name(h, l->obj, l->num, text, sizeof(text));
        snprintf(buf, cap, "<local '%s'>", text);
        return;
    case EDGE_STACK: snprintf(buf, cap, "<stack>"); return;
    case EDGE_OFFSET:
        snprintf(buf, cap, "%s+0x%llx", l->name ? l->name : "->", (unsigned long long)l->num);
        return;
    case EDGE_ROOT: root_text(h, l, addr, buf, cap); return;
    case EDGE_NONE: break;
    }
    snprintf(buf, cap, "?");
}
