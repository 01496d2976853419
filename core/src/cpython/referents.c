/* The references of an object, by the shape of its type.
 *
 * Builtin containers are taken apart field by field, like their
 * tp_traverse (and a little more: dict keys, a heap type's names, a code
 * object's constants, which tp_traverse skips because they cannot form
 * cycles).  Types we do not know are scanned word by word for pointers to
 * valid objects: conservative, but never unsafe, since every candidate goes
 * through ph_object_check. */
#include "heap/heap.h"
#include "cpython/stackref.h"
#include "cpython/ctypes.h"
#include "cpython/module_state.h"
#include "cpython/conservative.h"
#include "cpython/cstacks.h"

#include <stdlib.h>
#include <string.h>

/* enum _frameowner (3.11 pycore_frame.h to 3.14 pycore_interpframe_structs.h):
 * a frame object owns its _PyInterpreterFrame once the frame has returned. */
#define FRAME_OWNED_BY_FRAME_OBJECT 2


typedef struct ctx {
    ph_visit_fn *visit;
    void *payload;
} ctx;

static uint32_t ref(ph_heap *h, const ctx *c, uint64_t p)
{
    return p ? c->visit(h, p, c->payload) : PH_NO_OBJ;
}

/* A pointer field; name labels it (".__mro__") when labelling. */
static uint32_t field(ph_heap *h, const ctx *c, uint64_t base, int32_t off, const char *name)
{
    uint64_t p;
    if (off == PH_NONE || !ph_read_u64(h->r, base + (uint64_t)(int64_t)off, &p))
        return PH_NO_OBJ;
    PH_LABEL(h, EDGE_FIELD, name, 0, 0);
    return ref(h, c, p);
}

/* Visits n pointers stored at addr, read in bulk, labelled kind (with obj)
 * and their index.  A corrupt array (too long, or unreadable) counts once
 * as skipped. */
static void array(ph_heap *h, const ctx *c, uint64_t addr, uint64_t n, ph_edge_kind kind,
                  uint64_t obj)
{
    uint64_t buf[512];
    bool too_long = n > MAX_ITEMS;
    if (too_long)
        n = MAX_ITEMS;
    for (uint64_t i = 0; i < n; i += 512) {
        if (i && i % (512 * 64) == 0 && ph_poll(h))
            return;
        uint64_t k = n - i < 512 ? n - i : 512;
        if (!ph_read(h->r, addr + 8 * i, buf, (size_t)k * 8)) {
            too_long = true;
            break;
        }
        for (uint64_t j = 0; j < k; j++) {
            PH_LABEL(h, (uint8_t)kind, NULL, i + j, obj);
            ref(h, c, buf[j]);
        }
    }
    if (too_long)
        ph_skip(h, addr, "a container longer than probe-heap follows");
}

static int64_t ob_size(ph_heap *h, uint64_t addr)
{
    int64_t n = 0;
    ph_ob_size(h, addr, &n);
    return n;
}

static void scan(ph_heap *h, const ctx *c, uint64_t base, uint64_t from, uint64_t to)
{
    ph_scan_words(h, base, from, to, NULL, c->visit, c->payload);
}

/* A field of a _PyInterpreterFrame: an edge of its generator or frame
 * object, or a root when it is one of a thread's frames. */
static void iframe_field(ph_heap *h, uint64_t f, int32_t off, const char *name,
                         ph_visit_fn *visit, void *payload)
{
    if (h->root_tstate)
        PH_LABEL_ROOT(h, ROOT_FRAME_FIELD, name, 0, f, h->root_tstate);
    else
        PH_LABEL(h, EDGE_FIELD, name, 0, 0);
    uint64_t p;
    if (off != PH_NONE && ph_read_u64(h->r, f + (uint64_t)(int64_t)off, &p) && p)
        visit(h, p, payload);
}

/* The references of one _PyInterpreterFrame (3.11+). */
void ph_iframe_referents(ph_heap *h, uint64_t f, ph_visit_fn *visit, void *payload)
{
    const ph_layout *L = h->L;
    int8_t owner = 0;
    int32_t stacktop = 0;
    if (!ph_read(h->r, f + (uint64_t)L->iframe_owner, &owner, 1))
        return;
    if (L->iframe_stacktop != PH_NONE) {
        if (!ph_read(h->r, f + (uint64_t)L->iframe_stacktop, &stacktop, 4))
            return;
    } else {
        /* 3.14: _PyStackRef *stackpointer; the slot count is its distance
         * from localsplus (NULL or out of the frame: unknown, as -1 was) */
        uint64_t sp = 0, base = f + (uint64_t)L->iframe_localsplus;
        if (!ph_read_u64(h->r, f + (uint64_t)L->iframe_stackpointer, &sp))
            return;
        stacktop = sp >= base && sp - base < (UINT64_C(8) << 21) && !((sp - base) & 7)
                       ? (int32_t)((sp - base) / 8)
                       : -1;
    }
    /* 3.14: f_executable and f_funcobj are _PyStackRefs */
    uint64_t code = 0, func = 0;
    if (!ph_read_u64(h->r, f + (uint64_t)L->iframe_code, &code))
        return;
    code = ph_stackref_obj(L, code);
    if (h->root_tstate)
        PH_LABEL_ROOT(h, ROOT_FRAME_FIELD, ".f_code", 0, f, h->root_tstate);
    else
        PH_LABEL(h, EDGE_FIELD, ".f_code", 0, 0);
    if (code)
        visit(h, code, payload);
    /* An entry frame (3.12/3.13 FRAME_OWNED_BY_CSTACK, 3.14
     * FRAME_OWNED_BY_INTERPRETER or FRAME_OWNED_BY_CSTACK): only its code is
     * set, the other fields are whatever the stack held. */
    if (L->frame_owner_entry != PH_NONE && owner >= L->frame_owner_entry)
        return;
    if (ph_read_u64(h->r, f + (uint64_t)L->iframe_funcobj, &func) &&
        (func = ph_stackref_obj(L, func))) {
        if (h->root_tstate)
            PH_LABEL_ROOT(h, ROOT_FRAME_FIELD, "<f_func>", 0, f, h->root_tstate);
        else
            PH_LABEL(h, EDGE_FIELD, "<f_func>", 0, 0);
        visit(h, func, payload);
    }
    iframe_field(h, f, L->iframe_globals, ".f_globals", visit, payload);
    iframe_field(h, f, L->iframe_builtins, ".f_builtins", visit, payload);
    iframe_field(h, f, L->iframe_locals, "<f_locals dict>", visit, payload);
    iframe_field(h, f, L->iframe_frame_obj, "<frame object>", visit, payload);
    int32_t nlocalsplus = 0, stacksize = 0;
    if (!ph_ptr_ok(code) ||
        !ph_read(h->r, code + (uint64_t)L->code_nlocalsplus, &nlocalsplus, 4) ||
        !ph_read(h->r, code + (uint64_t)L->code_stacksize, &stacksize, 4) || nlocalsplus < 0 ||
        nlocalsplus > (1 << 20) || stacksize < 0 || stacksize > (1 << 20))
        return;
    /* Locals, cells and free variables are always in place.  The value
     * stack above them is only as good as stacktop, which the eval loop
     * saves at some calls and not others (-1 while it runs the frame): its
     * words are guesses, checked like a conservative scan. */
    int32_t nlocals = stacktop >= 0 && stacktop < nlocalsplus ? stacktop : nlocalsplus;
    int32_t top = stacktop > nlocalsplus + stacksize ? nlocalsplus + stacksize : stacktop;
    if (stacktop < 0 && h->root_tstate && stacksize) {
        /* what it passes to the C function it calls (the int given to
         * os.kill), up to where the C stack says its stack ends */
        uint64_t base = f + (uint64_t)L->iframe_localsplus;
        uint64_t t = ph_cstack_highest_into(h, base + 8 * (uint64_t)nlocalsplus,
                                            base + 8 * (uint64_t)(nlocalsplus + stacksize));
        /* 3.11/3.12: the highest such word is the callee's args (the
         * eval loop's stack_pointer stays in a register); the call's oparg,
         * in the code unit at prev_instr, is how many follow. */
        uint64_t instr = 0;
        uint8_t unit[2] = {0, 0};
        if (t && (L->minor == 11 || L->minor == 12) &&
            ph_read_u64(h->r, f + (uint64_t)L->iframe_instr, &instr) && ph_read(h->r, instr, unit, 2))
            t += 8 * (uint64_t)unit[1];
        if (t)
            top = (int32_t)((t - base) / 8);
        if (top > nlocalsplus + stacksize)
            top = nlocalsplus + stacksize;
    }
    uint64_t items[256];
    for (int32_t i = 0; i < top || i < nlocals; i += 256) {
        int32_t end = top > nlocals ? top : nlocals;
        int32_t n = end - i < 256 ? end - i : 256;
        if (!ph_read(h->r, f + (uint64_t)L->iframe_localsplus + 8 * (uint64_t)i, items,
                     (size_t)n * 8))
            return;
        for (int32_t j = 0; j < n; j++) {
            items[j] = ph_stackref_obj(L, items[j]); /* 3.14: NULL and ints are no references */
            if (!items[j])
                continue;
            bool was = h->conservative, local = i + j < nlocals;
            h->conservative = was || !local;
            if (h->root_tstate)
                PH_LABEL_ROOT(h, local ? ROOT_LOCAL : ROOT_STACK, NULL, (uint64_t)(i + j), f,
                              h->root_tstate);
            else
                PH_LABEL(h, local ? EDGE_LOCAL : EDGE_STACK, NULL, (uint64_t)(i + j), code);
            visit(h, items[j], payload);
            h->conservative = was;
        }
    }
}

static void dict_refs(ph_heap *h, const ctx *c, uint64_t addr)
{
    ph_dict_iter it;
    if (!ph_dict_iter_init(h, addr, &it)) {
        ph_skip(h, addr, "a dict whose keys cannot be read");
        return;
    }
    uint64_t k, v;
    while (ph_dict_iter_next(h, &it, &k, &v)) {
        PH_LABEL(h, EDGE_DICT_KEY, NULL, 0, k);
        ref(h, c, k);
        PH_LABEL(h, EDGE_KEY, NULL, 0, k);
        ref(h, c, v);
    }
}

static void set_refs(ph_heap *h, const ctx *c, uint64_t addr)
{
    const ph_layout *L = h->L;
    int64_t mask;
    uint64_t table;
    if (!ph_read_i64(h->r, addr + (uint64_t)L->set_mask, &mask) ||
        !ph_read_u64(h->r, addr + (uint64_t)L->set_table, &table) || mask < 0 ||
        (uint64_t)mask >= MAX_CONTAINER_LEN || ((mask + 1) & mask)) {
        ph_skip(h, addr, "a set whose table cannot be read");
        return;
    }
    uint64_t buf[512];
    uint64_t n = (uint64_t)mask + 1; /* entries of {key, hash} */
    for (uint64_t i = 0; i < n; i += 256) {
        uint64_t k = n - i < 256 ? n - i : 256;
        if (!ph_read(h->r, table + 16 * i, buf, (size_t)k * 16)) {
            ph_skip(h, table, "a set table that cannot be read");
            return;
        }
        for (uint64_t j = 0; j < k; j++)
            if (buf[2 * j] && buf[2 * j] != h->syms.set_dummy) {
                PH_LABEL(h, EDGE_MEMBER, NULL, 0, 0);
                ref(h, c, buf[2 * j]);
            }
    }
}

static void type_refs(ph_heap *h, const ctx *c, uint32_t ti, uint64_t addr)
{
    const ph_layout *L = h->L;
    uint64_t flags = 0;
    ph_read_u64(h->r, addr + (uint64_t)L->tp_flags, &flags);
    uint64_t d = 0;
    ph_read_u64(h->r, addr + (uint64_t)L->tp_dict, &d);
    if (!d && !(flags & TPFLAGS_HEAPTYPE))
        d = ph_static_builtin_dict(h, addr);
    PH_LABEL(h, EDGE_FIELD, ".__dict__", 0, 0);
    uint32_t did = ref(h, c, d);
    if (did != PH_NO_OBJ && !h->idx.owner[did])
        h->idx.owner[did] = ti + 1;
    field(h, c, addr, L->tp_mro, ".__mro__");
    field(h, c, addr, L->tp_bases, ".__bases__");
    field(h, c, addr, L->tp_base, ".__base__");
    if (!(flags & TPFLAGS_HEAPTYPE)) {
        if (L->interp_types_builtins == PH_NONE)
            field(h, c, addr, L->tp_subclasses, "<tp_subclasses>");
        return;
    }
    field(h, c, addr, L->tp_subclasses, "<tp_subclasses>");
    field(h, c, addr, L->ht_name, ".__name__");
    field(h, c, addr, L->ht_qualname, ".__qualname__");
    field(h, c, addr, L->ht_slots, ".__slots__");
    field(h, c, addr, L->ht_module, "<ht_module>");
}

static void code_refs(ph_heap *h, const ctx *c, uint64_t addr)
{
    const ph_layout *L = h->L;
    const struct {
        int32_t off;
        const char *name;
    } fields[] = {{L->code_consts, ".co_consts"},
                  {L->code_names, ".co_names"},
                  {L->code_varnames, ".co_varnames"},
                  {L->code_freevars, ".co_freevars"},
                  {L->code_cellvars, ".co_cellvars"},
                  {L->code_localsplusnames, "<co_localsplusnames>"},
                  {L->code_localspluskinds, "<co_localspluskinds>"},
                  {L->code_filename, ".co_filename"},
                  {L->code_name, ".co_name"},
                  {L->code_qualname, ".co_qualname"},
                  {L->code_lnotab, ".co_lnotab"},
                  {L->code_linetable, ".co_linetable"},
                  {L->code_exceptiontable, ".co_exceptiontable"},
                  {L->code_code, ".co_code"}};
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
        field(h, c, addr, fields[i].off, fields[i].name);
}

static void frame_refs(ph_heap *h, const ctx *c, uint64_t addr)
{
    const ph_layout *L = h->L;
    field(h, c, addr, L->frame_back, ".f_back");
    field(h, c, addr, L->frame_trace, ".f_trace");
    if (L->frame_frame != PH_NONE) {
        /* 3.11+: a frame object owns its _PyInterpreterFrame once the frame has
         * returned (owner FRAME_OWNED_BY_FRAME_OBJECT); otherwise the thread or
         * generator that owns it is walked instead. */
        uint64_t f;
        int8_t owner;
        if (ph_read_u64(h->r, addr + (uint64_t)L->frame_frame, &f) && ph_ptr_ok(f) &&
            ph_read(h->r, f + (uint64_t)L->iframe_owner, &owner, 1) &&
            owner == FRAME_OWNED_BY_FRAME_OBJECT)
            ph_iframe_referents(h, f, c->visit, c->payload);
        return;
    }
    uint64_t code = 0;
    ph_read_u64(h->r, addr + (uint64_t)L->frame_code, &code);
    field(h, c, addr, L->frame_code, ".f_code");
    field(h, c, addr, L->frame_builtins, ".f_builtins");
    field(h, c, addr, L->frame_globals, ".f_globals");
    field(h, c, addr, L->frame_locals, "<f_locals dict>");
    uint64_t vs = 0, top = 0;
    ph_read_u64(h->r, addr + (uint64_t)L->frame_valuestack, &vs);
    uint64_t locals = addr + (uint64_t)L->frame_localsplus;
    if (vs < locals || vs - locals > (UINT64_C(8) << 20)) {
        ph_skip(h, addr, "a frame whose value stack cannot be read");
        return;
    }
    array(h, c, locals, (vs - locals) / 8, EDGE_LOCAL, code);
    bool running;
    if (L->frame_stacktop != PH_NONE) {
        /* NULL while the frame executes: its stack is in the C eval loop. */
        running = ph_read_u64(h->r, addr + (uint64_t)L->frame_stacktop, &top) && !top;
        if (top > vs && top - vs < (UINT64_C(8) << 20))
            array(h, c, vs, (top - vs) / 8, EDGE_STACK, 0);
    } else {
        int32_t depth = 0;
        running = ph_read(h->r, addr + (uint64_t)L->frame_stackdepth, &depth, 4) && depth < 0;
        if (depth > 0 && depth < (1 << 20))
            array(h, c, vs, (uint64_t)depth, EDGE_STACK, 0);
    }
    int32_t stacksize = 0;
    if (running && ph_ptr_ok(code) &&
        ph_read(h->r, code + (uint64_t)L->code_stacksize, &stacksize, 4) && stacksize > 0 &&
        stacksize < (1 << 20)) {
        /* Executing: the eval loop's stack_pointer (3.8-3.10 take its
         * address, so it is in memory) is a word of the C stack into the
         * value stack; the slots below it are what it passes to the call in
         * progress, read as guesses. */
        top = ph_cstack_highest_into(h, vs, vs + 8 * (uint64_t)stacksize);
        if (top > vs) {
            bool was = h->conservative;
            h->conservative = true;
            array(h, c, vs, (top - vs) / 8, EDGE_STACK, 0);
            h->conservative = was;
        }
    }
}

static void function_refs(ph_heap *h, const ctx *c, uint64_t addr)
{
    const ph_layout *L = h->L;
    const struct {
        int32_t off;
        const char *name;
    } fields[] = {{L->func_code, ".__code__"},
                  {L->func_globals, ".__globals__"},
                  {L->func_builtins, ".__builtins__"},
                  {L->func_name, ".__name__"},
                  {L->func_qualname, ".__qualname__"},
                  {L->func_defaults, ".__defaults__"},
                  {L->func_kwdefaults, ".__kwdefaults__"},
                  {L->func_closure, ".__closure__"},
                  {L->func_doc, ".__doc__"},
                  {L->func_module, ".__module__"},
                  {L->func_annotations, ".__annotations__"},
                  {L->func_typeparams, ".__type_params__"},
                  {L->func_annotate, ".__annotate__"}};
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
        field(h, c, addr, fields[i].off, fields[i].name);
}

/* The attribute values an instance keeps without a dict (3.11+). */
static void values_refs(ph_heap *h, const ctx *c, uint64_t values, const ph_type *t)
{
    const ph_layout *L = h->L;
    uint64_t n;
    if (L->dictvalues_values > 0) {
        /* 3.13+: {u8 capacity, size, embedded, valid} then the values, then
         * the insertion order: size u8 indices at &values[capacity]
         * (pycore_dict.h get_insertion_order_array).  Visited in that order,
         * as vars() lists them: on 3.14 the cached keys are in another. */
        uint8_t hdr[4], order[256];
        if (!ph_read(h->r, values, hdr, 4) || !hdr[3])
            return;
        uint64_t at = values + (uint64_t)L->dictvalues_values;
        uint64_t vals[256];
        if (hdr[1] > hdr[0] || !ph_read(h->r, at, vals, (size_t)hdr[0] * 8) ||
            !ph_read(h->r, at + 8 * (uint64_t)hdr[0], order, hdr[1])) {
            array(h, c, at, hdr[0], EDGE_VALUES, t->addr); /* no order: by index */
            return;
        }
        bool seen[256] = {false};
        for (unsigned j = 0; j < hdr[1]; j++) {
            if (order[j] >= hdr[0] || seen[order[j]])
                continue;
            seen[order[j]] = true;
            PH_LABEL(h, EDGE_VALUES, NULL, order[j], t->addr);
            ref(h, c, vals[order[j]]);
        }
        for (unsigned i = 0; i < hdr[0]; i++) /* any not in the order (NULL when sane) */
            if (!seen[i] && vals[i]) {
                PH_LABEL(h, EDGE_VALUES, NULL, i, t->addr);
                ref(h, c, vals[i]);
            }
        return;
    } else {
        uint64_t keys;
        int64_t nentries;
        if (!ph_read_u64(h->r, t->addr + (uint64_t)L->ht_cached_keys, &keys) || !ph_ptr_ok(keys) ||
            !ph_read_i64(h->r, keys + (uint64_t)L->dk_nentries, &nentries) || nentries < 0 ||
            nentries > 1 << 20)
            return;
        n = (uint64_t)nentries;
    }
    array(h, c, values + (uint64_t)L->dictvalues_values, n, EDGE_VALUES, t->addr);
}

/* Instance attributes: the __dict__ (setting its owner), inline or managed
 * values, and __slots__. */
static void instance_refs(ph_heap *h, const ctx *c, uint32_t ti, uint64_t addr, const ph_type *t)
{
    const ph_layout *L = h->L;
    uint64_t dict = 0, values = 0;
    if (L->managed_dict != PH_NONE && (t->flags & TPFLAGS_MANAGED_DICT)) {
        uint64_t slot = 0;
        ph_read_u64(h->r, addr + (uint64_t)(int64_t)L->managed_dict, &slot);
        if (L->managed_values != PH_NONE) { /* 3.11 */
            dict = slot;
            ph_read_u64(h->r, addr + (uint64_t)(int64_t)L->managed_values, &values);
        } else if (ph_managed_dict_or_values(L)) { /* 3.12 */
            if (slot & 1)
                values = slot + 1;
            else
                dict = slot;
        } else { /* 3.13 */
            /* The inline values are the instance's while they are valid,
             * even when a __dict__ was made over them (it then shares them:
             * see dict_refs). */
            dict = slot;
            if (t->flags & TPFLAGS_INLINE_VALUES)
                values = addr + (uint64_t)t->basicsize; /* _PyObject_InlineValues */
        }
    } else if (t->dictoffset > 0) {
        ph_read_u64(h->r, addr + (uint64_t)t->dictoffset, &dict);
    } else if (t->dictoffset < 0) {
        int64_t n = ob_size(h, addr);
        uint64_t size = (uint64_t)t->basicsize + ph_abs64(n) * (uint64_t)t->itemsize;
        size = (size + 7) & ~(uint64_t)7;
        ph_read_u64(h->r, addr + size + (uint64_t)t->dictoffset, &dict);
    }
    if (t->shape == SHAPE_TYPE)
        dict = 0; /* a type's dict (its dictoffset is tp_dict): visited by type_refs */
    if (dict) {
        PH_LABEL(h, EDGE_FIELD, ".__dict__", 0, 0);
        uint32_t did = ref(h, c, dict);
        if (did != PH_NO_OBJ && !h->idx.owner[did]) {
            if (ph_type_is_exact_dict(&h->types[h->idx.type[did]]))
                h->idx.owner[did] = ti + 1;
        }
    }
    /* 3.13: values a __dict__ was made over are still the instance's while
     * the dict shares them (its ma_values points at them); once the dict
     * has its own storage, what is left inline is stale. */
    uint64_t shared = 0;
    if (dict && L->dictvalues_values > 0)
        ph_read_u64(h->r, dict + (uint64_t)L->dict_ma_values, &shared);
    /* 3.14 (GH-130327, PyObject_VisitManagedDict): with a dict, the
     * instance refers to the dict alone, which refers to the values it
     * shares. */
    if (dict && L->values_visited_with_dict == 0)
        shared = 0;
    if ((!dict || (shared && shared == values)) && ph_ptr_ok(values))
        values_refs(h, c, values, t); /* 3.13: only while valid */
    for (uint32_t i = 0; i < t->nslots; i++) {
        uint64_t p;
        if (!ph_read_u64(h->r, addr + t->slots[i], &p))
            continue;
        PH_LABEL(h, EDGE_SLOT, NULL, 0, t->slot_names ? t->slot_names[i] : 0);
        ref(h, c, p);
    }
}

uint32_t ph_ref_emit(ph_heap *h, uint64_t addr, void *sink)
{
    const ph_ref_sink *s = sink;
    ph_ref r = {.addr = addr, .guessed = h->conservative, .permanent = h->in_permanent,
                .tstate = h->root_tstate};
    if (h->labelling)
        r.label = h->lab;
    /* What the reading code has pending is kept across the visitor, which
     * may read other objects' references itself. */
    const ph_label lab = h->lab;
    const bool conservative = h->conservative, labelling = h->labelling, permanent = h->in_permanent;
    const uint64_t tstate = h->root_tstate;
    uint32_t id = s->fn(h, &r, s->payload);
    h->lab = lab;
    h->conservative = conservative;
    h->labelling = labelling;
    h->in_permanent = permanent;
    h->root_tstate = tstate;
    return id;
}

void ph_referents(ph_heap *h, uint32_t id, ph_ref_fn *fn, void *payload)
{
    ph_referents_at(h, h->idx.addr[id], h->idx.type[id], fn, payload);
}

static void referents_at(ph_heap *h, uint64_t addr, uint32_t ti, ph_visit_fn *visit, void *payload);

void ph_frame_referents(ph_heap *h, uint64_t frame, ph_ref_fn *fn, void *payload)
{
    ph_ref_sink sink = {fn, payload};
    const bool conservative = h->conservative;
    const uint64_t tstate = h->root_tstate;
    h->conservative = false;
    h->root_tstate = 0;
    ph_iframe_referents(h, frame, ph_ref_emit, &sink);
    h->conservative = conservative;
    h->root_tstate = tstate;
}

void ph_referents_at(ph_heap *h, uint64_t addr, uint32_t ti, ph_ref_fn *fn, void *payload)
{
    ph_ref_sink sink = {fn, payload};
    const bool conservative = h->conservative;
    h->conservative = false;
    referents_at(h, addr, ti, ph_ref_emit, &sink);
    h->conservative = conservative;
}

static void referents_at(ph_heap *h, uint64_t addr, uint32_t ti, ph_visit_fn *visit, void *payload)
{
    const ph_layout *L = h->L;
    ctx c = {visit, payload};
    /* A copy: visiting may add types and move h->types. */
    const ph_type type = h->types[ti];
    const ph_type *t = &type;
    if (t->heap || t->unready) {
        PH_LABEL(h, EDGE_CLASS, NULL, 0, 0);
        ref(h, &c, t->addr);
    }
    switch (t->shape) {
    case SHAPE_TUPLE: {
        int64_t n = ob_size(h, addr);
        if (n > 0)
            array(h, &c, addr + (uint64_t)L->tuple_ob_item, (uint64_t)n, EDGE_INDEX, 0);
        break;
    }
    case SHAPE_LIST: {
        int64_t n = ob_size(h, addr), alloc = 0;
        uint64_t items = 0;
        ph_read_i64(h->r, addr + (uint64_t)L->list_allocated, &alloc);
        ph_read_u64(h->r, addr + (uint64_t)L->list_ob_item, &items);
        if (n == 0 && alloc == -1 && !items)
            break; /* being sorted: list.sort holds the items in C meanwhile */
        if (n < 0 || n > alloc) {
            ph_skip(h, addr, "a list whose size exceeds its allocation");
            break;
        }
        if (n > 0)
            array(h, &c, items, (uint64_t)n, EDGE_INDEX, 0);
        break;
    }
    case SHAPE_DICT:
        dict_refs(h, &c, addr);
        break;
    case SHAPE_SET:
        set_refs(h, &c, addr);
        break;
    case SHAPE_TYPE:
        type_refs(h, &c, ti, addr);
        break;
    case SHAPE_MODULE: /* md_dict is the module type's dictoffset: see instance_refs */
        ph_module_state_refs(h, addr, visit, payload);
        break;
    case SHAPE_CODE:
        code_refs(h, &c, addr);
        ph_code_cache_refs(h, addr, visit, payload);
        break;
    case SHAPE_FRAME:
        frame_refs(h, &c, addr);
        break;
    case SHAPE_CELL:
        field(h, &c, addr, L->cell_ob_ref, ".cell_contents");
        break;
    case SHAPE_METHOD:
        field(h, &c, addr, L->method_im_func, ".__func__");
        field(h, &c, addr, L->method_im_self, ".__self__");
        break;
    case SHAPE_FUNCTION: /* func_dict is the dictoffset: see instance_refs */
        function_refs(h, &c, addr);
        break;
    case SHAPE_GEN: {
        /* The header's fields (name, qualname, exception state...) by scan,
         * the embedded frame precisely.  gi_origin_or_finalizer holds a
         * coroutine's origin or an async generator's finalizer; a plain
         * generator never sets it (it keeps whatever the allocator's block
         * held: a stale pointer, now and then to a freed object). */
        uint64_t f = ph_gen_iframe(L, addr, t);
        int8_t state = 0;
        ph_read(h->r, addr + (uint64_t)L->gen_frame_state, &state, 1);
        uint64_t origin = addr + (uint64_t)L->gen_origin_or_finalizer;
        scan(h, &c, addr, addr + ph_off_ob_size(L), t->plain_generator ? origin : origin + 8);
        /* after it, up to the frame: flags (hooks_inited, closed,
         * running_async, frame_state), no pointers */
        if (state >= 1) /* FRAME_COMPLETED or FRAME_CLEARED: only the code is kept */
        {
            uint64_t code = 0;
            if (ph_read_u64(h->r, f + (uint64_t)L->iframe_code, &code)) {
                PH_LABEL(h, EDGE_FIELD, ".gi_code", 0, 0);
                ref(h, &c, ph_stackref_obj(L, code)); /* 3.14: a _PyStackRef */
            }
        }
        else
            ph_iframe_referents(h, f, visit, payload);
        break;
    }
    case SHAPE_OTHER: {
        if (t->ctype || (t->ndarray && h->numpy))
            break; /* below: known exactly */
        uint64_t size = (uint64_t)t->basicsize;
        if (t->itemsize) {
            int64_t n = ob_size(h, addr);
            size += ph_abs64(n) * (uint64_t)t->itemsize;
        }
        scan(h, &c, addr, addr + ph_off_ob_size(L), addr + size);
        ph_cython_refs(h, addr, t, visit, payload);
        break;
    }
    case SHAPE_WEAKREF:
        /* Like its tp_traverse: only the callback.  The referent is shown
         * when labelling, as a weak edge, but never followed by the walk. */
        field(h, &c, addr, L->weakref_callback, ".__callback__");
        /* A static type (tp_subclasses holds its subclasses weakly) is
         * immortal: the walk follows it, to count it. */
        uint64_t referent;
        if (ph_read_u64(h->r, addr + (uint64_t)L->weakref_object, &referent) && ph_ptr_ok(referent)) {
            uint64_t mt = 0, flags = TPFLAGS_HEAPTYPE;
            uint32_t mti = h->labelling || !ph_ob_type(h, referent, &mt)
                               ? UINT32_MAX
                               : ph_type_get(h, mt);
            if (mti != UINT32_MAX && h->types[mti].is_type_type)
                ph_read_u64(h->r, referent + (uint64_t)L->tp_flags, &flags);
            if (h->labelling || !(flags & TPFLAGS_HEAPTYPE)) {
                PH_LABEL(h, EDGE_WEAK, "()", 0, 0);
                ref(h, &c, referent);
            }
        }
        break;
    default:
        break;
    }
    if (t->static_subclass && !t->ctype && !t->frozendict) {
        /* The fields a static subclass adds after the builtin's struct. */
        int32_t base = t->shape == SHAPE_DICT ? L->dict_sizeof
                       : t->shape == SHAPE_LIST ? L->list_sizeof
                                                : L->heaptype_sizeof;
        scan(h, &c, addr, addr + (uint64_t)base, addr + (uint64_t)t->basicsize);
    }
    if (t->heap || t->dictoffset)
        instance_refs(h, &c, ti, addr, t);
    if (t->ndarray)
        ph_ndarray_referents(h, addr, visit, payload); /* base, dtype, dtype=object elements */
    if (t->ctype) {
        /* a C type known exactly (ctypes.h): its fields instead of a scan */
        if (t->ctype->referents)
            t->ctype->referents(h, ph_default_header_view(h->L, addr), t, visit, payload);
    } else if (t->cfields_to) {
        uint64_t to = addr + t->cfields_to;
        if (t->citems) {
            uint64_t n = ph_abs64(ob_size(h, addr));
            to += (n < PH_SCAN_MAX ? n : PH_SCAN_MAX) * (uint64_t)t->itemsize;
        }
        scan(h, &c, addr, addr + t->cfields_from, to);
        ph_cython_refs(h, addr, t, visit, payload);
    }
}
