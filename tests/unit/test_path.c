/* ph_resolve_path: object paths ("__main__:cache._store['key'][3].body")
 * resolved over a whole ph_heap_build of a synthetic runtime, for each
 * CPython 3.8-3.13 layout.
 *
 * The world is the one of test_walk.c (_PyRuntime, one interpreter, its
 * sys.modules, sysdict, GC lists) with the modules and objects of a
 * process that ran, in __main__:
 *
 *     class Cache: kind = 'cache'; def method(self): ...; sm = staticmethod(f)
 *         cp = CP()          # CP: a class with __get__ only
 *         dd = D()           # D: a class with __get__ and __set__
 *     class Derived(Cache): extra = 5
 *     class N: p = property(); g = <a getset_descriptor>
 *     class Slotted: __slots__ = ('x',)        # plus a C member 'count' (T_INT)
 *     class MyDict(dict): pass
 *     cache = Cache(); cache._store = {'other': 1}; cache.name = 'c'
 *     cache_d = Cache() whose __dict__ exists: {'name', 'kind', 'cp', 'p'}
 *     dobj = Derived(); n = N(); s = Slotted(); s.x = 11; s_empty = Slotted()
 *     lst = [..3 items..]; tup = (..2 items..); d = {keys of every kind}
 *     od = MyDict(x=...); bad = <a pointer to garbage>
 *
 * cache keeps its attributes where each version does without a dict: in a
 * dict at tp_dictoffset (3.8-3.10), in values at obj-32 (3.11), in the
 * tagged pointer at obj-24 (3.12), inline after the object (3.13). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "versions.h"

#define NKEYS 17

typedef struct world {
    img im;
    int i;
    ph_symbols syms;
    uint64_t runtime, interp, gc, modules;
    /* static types */
    uint64_t module_t, float_t, bytes_t, bool_t, none_t, property_t, getset_t, member_t,
        function_t, staticmethod_t;
    /* modules */
    uint64_t main, sys, sub, sub_val;
    /* classes */
    uint64_t Cache, Derived, N, Slotted, CP, D, MyDict;
    uint64_t kind_val, extra_val, method, sm, sm_func, cp, dd, prop, getset, doc;
    /* instances */
    uint64_t cache, store, name_val, cache_d, name2, kind2, cp2, p2, dobj, n, s, s_empty, x_val,
        od, od_val, bad;
    uint64_t lst, lst_items[3], tup, tup_items[2], d, V[NKEYS];
} world;



/* A dict big enough for n items (unicode entries when every key is a str). */
static uint64_t wdict(img *im, size_t n, const uint64_t *keys, const uint64_t *vals, bool unicode)
{
    unsigned l2 = 3;
    while (img_usable(UINT64_C(1) << l2) < n)
        l2++;
    return img_dict(im, l2, unicode, n, keys, vals);
}

/* A class of __main__ deriving from base, with tp_dict {'__module__':
 * '__main__', names[k]: vals[k]...} and tp_mro (self,) + mro_tail. */
static uint64_t wclass(world *w, const char *name, uint64_t base, size_t ntail, const uint64_t *mro_tail,
                       int64_t basicsize, int64_t dictoffset, int64_t weaklistoffset, uint64_t flags,
                       uint64_t cached_keys, size_t n, const char *const *names, const uint64_t *vals)
{
    img *im = &w->im;
    const ph_layout *L = im->L;
    uint64_t t = img_heap_type(im, "__main__", name, base, basicsize, dictoffset, weaklistoffset,
                               flags, cached_keys);
    uint64_t k[16], v[16];
    k[0] = img_str(im, "__module__");
    v[0] = img_str(im, "__main__");
    for (size_t j = 0; j < n; j++) {
        k[j + 1] = img_str(im, names[j]);
        v[j + 1] = vals[j];
    }
    img_field(im, t, L->tp_dict, wdict(im, n + 1, k, v, true));
    uint64_t mro[8] = {t};
    for (size_t j = 0; j < ntail; j++)
        mro[j + 1] = mro_tail[j];
    img_field(im, t, L->tp_mro, img_tuple(im, ntail + 1, mro));
    return t;
}

static uint64_t wfloat(world *w, double x)
{
    uint64_t f = img_object(&w->im, w->float_t, 24, false, false);
    memcpy(img_at(&w->im, f + 16, 8), &x, 8);
    return f;
}

static uint64_t wbytes(world *w, const char *s, size_t n)
{
    const ph_layout *L = w->im.L;
    uint64_t b = img_object(&w->im, w->bytes_t, (size_t)L->bytes_sval + n + 1, false, false);
    img_w64(&w->im, b + 16, n);
    img_w64(&w->im, b + 24, UINT64_MAX); /* ob_shash: not computed */
    memcpy(img_at(&w->im, b + (uint64_t)L->bytes_sval, n ? n : 1), s, n);
    return b;
}

/* An int of 30-bit digits given, least significant first. */
static uint64_t wbigint(world *w, bool neg, size_t nd, const uint32_t *digits)
{
    img *im = &w->im;
    const ph_layout *L = im->L;
    uint64_t a = img_object(im, im->int_type, (size_t)L->long_digits + 4 * nd, false, false);
    if (L->long_lv_tag != PH_NONE)
        img_field(im, a, L->long_lv_tag, (uint64_t)nd << 3 | (neg ? 2u : 0u));
    else
        img_w64(im, a + 16, neg ? 0 - (uint64_t)nd : (uint64_t)nd);
    for (size_t j = 0; j < nd; j++)
        img_w32(im, a + (uint64_t)L->long_digits + 4 * j, digits[j]);
    return a;
}

static uint64_t wmodule(world *w, const char *name, size_t n, const char *const *names,
                        const uint64_t *vals)
{
    img *im = &w->im;
    uint64_t k[8], v[8];
    k[0] = img_str(im, "__name__");
    v[0] = img_str(im, name);
    for (size_t j = 0; j < n; j++) {
        k[j + 1] = img_str(im, names[j]);
        v[j + 1] = vals[j];
    }
    uint64_t m = img_object(im, w->module_t, 56, true, false);
    img_field(im, m, im->L->module_md_dict, wdict(im, n + 1, k, v, true));
    return m;
}

/* A member_descriptor for a PyMemberDef {name, type, offset}. */
static uint64_t wmember(world *w, const char *name, int32_t type, int64_t offset)
{
    img *im = &w->im;
    const ph_layout *L = im->L;
    uint64_t def = img_alloc(im, (size_t)L->memberdef_sizeof);
    img_w64(im, def, img_cstr(im, name));
    img_w32(im, def + (uint64_t)L->memberdef_type, (uint32_t)type);
    img_w64(im, def + (uint64_t)L->memberdef_offset, (uint64_t)offset);
    uint64_t descr = img_object(im, w->member_t, 48, true, false);
    img_field(im, descr, L->memberdescr_d_member, def);
    return descr;
}

/* An instance of a plain class (the NODE_* layout of versions.h) whose attributes are in
 * dict (when dict is not 0) or else in values for keys of its type's
 * ht_cached_keys (3.11+). */
static uint64_t winstance(world *w, uint64_t cls, uint64_t dict, size_t n, const uint64_t *vals)
{
    img *im = &w->im;
    const ph_layout *L = im->L;
    int i = w->i;
    bool managed = MINORS[i] >= 11;
    uint64_t o = img_object(im, cls, (size_t)NODE_BASICSIZE[i] + (MINORS[i] >= 13 ? 8 + 8 * 4 : 0),
                            true, managed);
    if (!managed) {
        img_w64(im, o + (uint64_t)NODE_DICTOFFSET[i], dict);
    } else if (dict) {
        img_w64(im, o + (uint64_t)(int64_t)L->managed_dict, dict);
        if (MINORS[i] >= 13) {
            uint64_t v = o + (uint64_t)NODE_BASICSIZE[i];
            img_w8(im, v, 4); /* capacity; size 0, not embedded, not valid: all in the dict */
        }
    } else if (MINORS[i] == 11) {
        img_w64(im, o + (uint64_t)(int64_t)L->managed_values, img_split_values(im, 30, n, vals, false));
    } else if (MINORS[i] == 12) {
        img_w64(im, o + (uint64_t)(int64_t)L->managed_dict, img_split_values(im, 30, n, vals, false) - 1);
    } else {
        uint64_t v = o + (uint64_t)NODE_BASICSIZE[i];
        img_w8(im, v, 4);          /* capacity */
        img_w8(im, v + 1, (uint8_t)n); /* size */
        img_w8(im, v + 2, 1);      /* embedded */
        img_w8(im, v + 3, 1);      /* valid */
        for (size_t j = 0; j < n; j++)
            img_w64(im, v + (uint64_t)L->dictvalues_values + 8 * j, vals[j]);
    }
    return o;
}


/* s = n copies of unit, with last (if not 0) as its last character. */
static char *repeat(char *s, const char *unit, size_t n, char last)
{
    size_t u = strlen(unit);
    for (size_t j = 0; j < n; j++)
        memcpy(s + u * j, unit, u);
    s[u * n] = 0;
    if (last)
        s[u * n - 1] = last;
    return s;
}

static void make_world(world *w, int i)
{
    memset(w, 0, sizeof(*w));
    w->i = i;
    img *im = &w->im;
    img_init(im, MINORS[i], 1u << 22);
    const ph_layout *L = im->L;

    img_runtime(im, &w->runtime, &w->interp, &w->gc);

    uint64_t k = img_str(im, "version"), v = img_str(im, SYS_VERSION[i]);
    img_field(im, w->interp, L->interp_sysdict, img_dict(im, 3, true, 1, &k, &v));

    /* static types */
    w->module_t = img_static_type(im, "module", 56, 0, TPFLAGS_HAVE_GC | IMG_TPFLAGS_BASETYPE);
    img_field(im, w->module_t, L->tp_dictoffset, (uint64_t)L->module_md_dict);
    w->float_t = img_static_type(im, "float", 24, 0, IMG_TPFLAGS_BASETYPE);
    w->bytes_t = img_static_type(im, "bytes", L->bytes_sval, 1,
                                 TPFLAGS_BYTES_SUBCLASS | IMG_TPFLAGS_BASETYPE);
    w->bool_t = img_static_type(im, "bool", L->long_digits, 4, TPFLAGS_LONG_SUBCLASS);
    img_field(im, w->bool_t, L->tp_base, im->int_type);
    w->none_t = img_static_type(im, "NoneType", 16, 0, 0);
    w->property_t = img_static_type(im, "property", 56, 0, TPFLAGS_HAVE_GC | IMG_TPFLAGS_BASETYPE);
    w->getset_t = img_static_type(im, "getset_descriptor", 48, 0, TPFLAGS_HAVE_GC);
    w->member_t = img_static_type(im, "member_descriptor", 48, 0, TPFLAGS_HAVE_GC);
    w->function_t = img_static_type(im, "function", L->func_sizeof, 0, TPFLAGS_HAVE_GC);
    w->staticmethod_t = img_static_type(im, "staticmethod", 32, 0, TPFLAGS_HAVE_GC | IMG_TPFLAGS_BASETYPE);

    /* object's dict: in its tp_dict, or (3.12+) in interp->types.builtins[0] */
    k = img_str(im, "__doc__");
    w->doc = img_str(im, "The base class of the class hierarchy.");
    uint64_t odict = img_dict(im, 3, true, 1, &k, &w->doc);
    if (L->interp_types_builtins != PH_NONE) {
        img_field(im, im->object_type, L->tp_subclasses, 1);
        img_field(im, w->interp + (uint64_t)L->interp_types_builtins, L->static_builtin_state_tp_dict, odict);
    } else {
        img_field(im, im->object_type, L->tp_dict, odict);
    }

    /* descriptor classes: CP (__get__ only), D (__get__ and __set__) */
    uint64_t f1 = img_object(im, w->function_t, (size_t)L->func_sizeof, true, false);
    uint64_t f2 = img_object(im, w->function_t, (size_t)L->func_sizeof, true, false);
    uint64_t obj = im->object_type;
    uint64_t flags = NODE_FLAGS[i];
    w->CP = wclass(w, "CP", obj, 1, &obj, NODE_BASICSIZE[i], NODE_DICTOFFSET[i], NODE_WEAKLISTOFFSET[i],
                   flags, 0, 1, (const char *[]){"__get__"}, &f1);
    w->D = wclass(w, "D", obj, 1, &obj, NODE_BASICSIZE[i], NODE_DICTOFFSET[i], NODE_WEAKLISTOFFSET[i],
                  flags, 0, 2, (const char *[]){"__get__", "__set__"}, (uint64_t[]){f1, f2});
    w->cp = winstance(w, w->CP, img_dict(im, 3, true, 0, NULL, NULL), 0, NULL);
    w->dd = winstance(w, w->D, img_dict(im, 3, true, 0, NULL, NULL), 0, NULL);

    /* class Cache */
    w->kind_val = img_str(im, "cache");
    w->method = img_object(im, w->function_t, (size_t)L->func_sizeof, true, false);
    w->sm_func = img_object(im, w->function_t, (size_t)L->func_sizeof, true, false);
    w->sm = img_object(im, w->staticmethod_t, 32, true, false);
    img_w64(im, w->sm + 16, w->sm_func);
    uint64_t attr_keys[2] = {img_str(im, "_store"), img_str(im, "name")};
    w->Cache = wclass(w, "Cache", obj, 1, &obj, NODE_BASICSIZE[i], NODE_DICTOFFSET[i],
                      NODE_WEAKLISTOFFSET[i], flags, node_cached_keys(im, 2, attr_keys), 5,
                      (const char *[]){"kind", "method", "sm", "cp", "dd"},
                      (uint64_t[]){w->kind_val, w->method, w->sm, w->cp, w->dd});
    w->extra_val = img_int(im, 5);
    w->Derived = wclass(w, "Derived", w->Cache, 2, (uint64_t[]){w->Cache, obj}, NODE_BASICSIZE[i],
                        NODE_DICTOFFSET[i], NODE_WEAKLISTOFFSET[i], flags, node_cached_keys(im, 0, NULL), 1,
                        (const char *[]){"extra"}, &w->extra_val);

    /* class N: p = property(); g = a getset_descriptor */
    w->prop = img_object(im, w->property_t, 56, true, false);
    w->getset = img_object(im, w->getset_t, 48, true, false);
    w->N = wclass(w, "N", obj, 1, &obj, NODE_BASICSIZE[i], NODE_DICTOFFSET[i], NODE_WEAKLISTOFFSET[i],
                  flags, node_cached_keys(im, 0, NULL), 2, (const char *[]){"p", "g"},
                  (uint64_t[]){w->prop, w->getset});

    /* class Slotted: __slots__ = ('x',), basicsize 24 + a C member 'count' (T_INT 1) */
    w->Slotted = wclass(w, "Slotted", obj, 1, &obj, 24, 0, 0, TPFLAGS_HAVE_GC | IMG_TPFLAGS_BASETYPE, 0,
                        2, (const char *[]){"x", "count"},
                        (uint64_t[]){wmember(w, "x", 16, 16), wmember(w, "count", 1, 16)});

    /* class MyDict(dict) */
    w->MyDict = img_heap_type(im, "__main__", "MyDict", im->dict_type, L->dict_sizeof, 0, 0,
                              TPFLAGS_HAVE_GC | TPFLAGS_DICT_SUBCLASS, 0);

    /* instances */
    uint64_t other = img_str(im, "other"), one = img_int(im, 1);
    w->store = img_dict(im, 3, true, 1, &other, &one);
    w->name_val = img_str(im, "c");
    w->cache = winstance(w, w->Cache, 0, 2, (uint64_t[]){w->store, w->name_val});
    if (MINORS[i] <= 10) /* no values before 3.11: the same attributes in a dict */
        img_w64(im, w->cache + (uint64_t)NODE_DICTOFFSET[i],
                img_dict(im, 3, true, 2, attr_keys, (uint64_t[]){w->store, w->name_val}));
    w->name2 = img_str(im, "c2");
    w->kind2 = img_str(im, "mine");
    w->cp2 = img_int(im, 42);
    w->p2 = img_int(im, 43);
    uint64_t dkeys[4] = {img_str(im, "name"), img_str(im, "kind"), img_str(im, "cp"), img_str(im, "p")};
    w->cache_d = winstance(w, w->Cache, img_dict(im, 3, true, 4, dkeys,
                                                 (uint64_t[]){w->name2, w->kind2, w->cp2, w->p2}),
                           0, NULL);
    w->dobj = winstance(w, w->Derived, img_dict(im, 3, true, 0, NULL, NULL), 0, NULL);
    /* n's __dict__ has a 'p' too: the property still wins (a data descriptor) */
    w->n = winstance(w, w->N, img_dict(im, 3, true, 1, &dkeys[3], &w->p2), 0, NULL);
    w->x_val = img_int(im, 11);
    w->s = img_object(im, w->Slotted, 24, true, false);
    img_w64(im, w->s + 16, w->x_val);
    w->s_empty = img_object(im, w->Slotted, 24, true, false);
    w->od_val = img_int(im, 77);
    uint64_t kx = img_str(im, "x");
    w->od = img_dict(im, 3, true, 1, &kx, &w->od_val);
    img_w64(im, w->od + 8, w->MyDict);
    w->bad = img_alloc(im, 64); /* zeros: refcount 0, no type */

    for (int j = 0; j < 3; j++)
        w->lst_items[j] = img_int(im, 1000 + j);
    w->lst = img_list(im, 3, 4, w->lst_items);
    w->tup_items[0] = img_str(im, "t0");
    w->tup_items[1] = img_str(im, "t1");
    w->tup = img_tuple(im, 2, w->tup_items);

    /* d: a key of every kind */
    uint64_t none = img_object(im, w->none_t, 16, false, false);
    uint64_t false_ = img_object(im, w->bool_t, (size_t)L->long_digits + 4, false, false);
    if (L->long_lv_tag != PH_NONE)
        img_field(im, false_, L->long_lv_tag, 1); /* zero */
    uint32_t cp_e[1] = {0xE9}, cp_euro[4] = {0x20AC, 'u', 'r', 'o'};
    static char big1[1204], big2[1204];
    repeat(big1, "big", 400, 0);
    repeat(big2, "big", 400, 'X');
    uint64_t dk[NKEYS] = {
        img_str(im, "k"),
        img_int(im, 7),
        img_int(im, -5),
        wbytes(w, "raw", 3),
        wfloat(w, 2.5),
        none,
        false_,
        img_str_kind(im, 1, cp_e, 1),
        img_str_kind(im, 2, cp_euro, 4),
        wbigint(w, false, 3, (uint32_t[]){0, 0, 1u << 10}), /* 2**70 */
        img_str(im, "a'b\"c\n\t\\"),
        wbytes(w, "\x00\xff", 2),
        img_str(im, big1),
        img_str(im, big2),
        wfloat(w, 1e100),
        wfloat(w, -0.5),
        img_str(im, "with space"),
    };
    for (int j = 0; j < NKEYS; j++)
        w->V[j] = img_int(im, 100 + j);
    w->d = wdict(im, NKEYS, dk, w->V, false);

    /* modules */
    w->sub_val = img_str(im, "in pkg.sub");
    uint64_t getattr_fn = img_object(im, w->function_t, (size_t)L->func_sizeof, true, false);
    w->sub = wmodule(w, "pkg.sub", 2, (const char *[]){"val", "__getattr__"},
                     (uint64_t[]){w->sub_val, getattr_fn});
    w->main = wmodule(w, "__main__", 0, NULL, NULL);
    const char *more_names[] = {"__name__", "cache", "Cache", "Derived", "N", "Slotted", "MyDict",
                                "bad", "cache_d", "dobj", "n", "s", "s_empty", "lst", "tup", "d", "od"};
    uint64_t more_vals[] = {img_str(im, "__main__"), w->cache, w->Cache, w->Derived, w->N, w->Slotted,
                            w->MyDict, w->bad, w->cache_d, w->dobj, w->n, w->s, w->s_empty,
                            w->lst, w->tup, w->d, w->od};
    uint64_t more_keys[17];
    for (int j = 0; j < 17; j++)
        more_keys[j] = img_str(im, more_names[j]);
    img_field(im, w->main, L->module_md_dict, wdict(im, 17, more_keys, more_vals, true));

    uint64_t mk[3] = {img_str(im, "__main__"), img_str(im, "sys"), img_str(im, "pkg.sub")};
    w->sys = wmodule(w, "sys", 0, NULL, NULL);
    uint64_t mv[3] = {w->main, w->sys, w->sub};
    w->modules = img_dict(im, 3, true, 3, mk, mv);
    img_field(im, w->interp, L->interp_modules, w->modules);
    /* sys.modules is sys's 'modules' */
    uint64_t sk[2] = {img_str(im, "__name__"), img_str(im, "modules")};
    uint64_t sv[2] = {img_str(im, "sys"), w->modules};
    img_field(im, w->sys, L->module_md_dict, img_dict(im, 3, true, 2, sk, sv));

    w->syms.py_runtime = w->runtime;
    w->syms.type_type = im->type_type;
    w->syms.py_version = VERSION_HEX[i] ? u64_at(im, VERSION_HEX[i]) : 0;
}

static ph_heap *build(world *w)
{
    ph_heap *h = NULL;
    ph_error *err = ph_heap_build(w->im.r, &w->syms, NULL, &h);
    if (err)
        fail_msg("3.%d: ph_heap_build: %s", MINORS[w->i], err->message);
    img_heap_track(h);
    return h;
}

static void expect(ph_heap *h, int minor, const char *path, uint64_t want)
{
    uint64_t got = 0;
    ph_error *err = ph_resolve_path(h, path, &got);
    if (err) {
        char msg[300];
        snprintf(msg, sizeof(msg), "%s", err->message);
        ph_error_free(err);
        fail_msg("3.%d: %s: %s", minor, path, msg);
    }
    if (got != want)
        fail_msg("3.%d: %s: 0x%llx, want 0x%llx", minor, path, (unsigned long long)got,
                 (unsigned long long)want);
}

static void expect_error(ph_heap *h, int minor, const char *path, ph_error_code code, const char *msg)
{
    uint64_t got = 0xdead;
    ph_error *err = ph_resolve_path(h, path, &got);
    if (!err)
        fail_msg("3.%d: %s: no error (0x%llx), want \"%s\"", minor, path, (unsigned long long)got, msg);
    char m[300];
    snprintf(m, sizeof(m), "%s", err->message);
    ph_error_code c = err->code;
    ph_error_free(err);
    if (strcmp(m, msg) != 0)
        fail_msg("3.%d: %s:\n  got  \"%s\"\n  want \"%s\"", minor, path, m, msg);
    if (c != code)
        fail_msg("3.%d: %s: code %d, want %d", minor, path, (int)c, (int)code);
    assert_int_equal(got, 0xdead); /* untouched on failure */
}

#define WORLD_BEGIN(i)                                                                             \
    world wv, *w = &wv;                                                                            \
    make_world(w, i);                                                                              \
    ph_heap *h = build(w);                                                                         \
    int minor = MINORS[i];                                                                         \
    (void)minor

#define WORLD_END()                                                                                \
    img_heap_free(h);                                                                              \
    img_free(&w->im)

/* ---- modules ------------------------------------------------------------------------------ */

static void test_module_attributes(void **state)
{
    FOR_EACH_VERSION(i) {
        WORLD_BEGIN(i);
        /* the world is sound: nothing skipped while walking it */
        ph_heap_info info;
        ph_heap_info_get(h, &info);
        assert_int_equal(info.skipped, 1); /* only 'bad' */
        expect(h, minor, "__main__:cache", w->cache);
        expect(h, minor, "__main__:lst", w->lst);
        expect(h, minor, "pkg.sub:val", w->sub_val);
        expect(h, minor, "sys:modules", w->modules);
        expect(h, minor, "sys:modules['__main__']", w->main);
        expect(h, minor, "sys:modules['pkg.sub'].val", w->sub_val);
        expect(h, minor, "__main__:__dict__", img_r64(&w->im, w->main + (uint64_t)w->im.L->module_md_dict));
        expect(h, minor, "__main__:__class__", w->module_t);
        expect(h, minor, "__main__:cache.__class__", w->Cache);
        /* the result is in the index */
        uint64_t a = 0;
        assert_null(ph_resolve_path(h, "__main__:cache._store", &a));
        assert_int_not_equal(ph_index_find(&h->idx, a), PH_NO_OBJ);
        WORLD_END();
    }
}

/* ---- instances ---------------------------------------------------------------------------- */

static void test_instance_attributes(void **state)
{
    FOR_EACH_VERSION(i) {
        WORLD_BEGIN(i);
        /* no dict: tp_dictoffset's dict (3.8-3.10), values (3.11, 3.12), inline values (3.13) */
        expect(h, minor, "__main__:cache._store", w->store);
        expect(h, minor, "__main__:cache.name", w->name_val);
        /* a dict: at tp_dictoffset, or the managed dict */
        expect(h, minor, "__main__:cache_d.name", w->name2);
        expect(h, minor, "__main__:cache_d.__dict__",
               MINORS[i] >= 11 ? img_r64(&w->im, w->cache_d + (uint64_t)(int64_t)w->im.L->managed_dict)
                               : img_r64(&w->im, w->cache_d + (uint64_t)NODE_DICTOFFSET[i]));
        if (MINORS[i] >= 11)
            expect_error(h, minor, "__main__:cache.__dict__", PH_ERR_ARGUMENT,
                         "__main__:cache.__dict__: step 2, .__dict__: a __main__.Cache object keeps its "
                         "attributes without a __dict__ (Python makes one on demand); probe-heap cannot "
                         "run code to make it");
        /* an instance attribute hides a class attribute, not a property */
        expect(h, minor, "__main__:cache_d.kind", w->kind2);
        expect(h, minor, "__main__:cache.kind", w->kind_val);
        /* class attributes: a function, a staticmethod's function */
        expect(h, minor, "__main__:cache.method", w->method);
        expect(h, minor, "__main__:cache.sm", w->sm_func);
        /* a non-data descriptor of a Python class: the instance's own value, else refused */
        expect(h, minor, "__main__:cache_d.cp", w->cp2);
        expect_error(h, minor, "__main__:cache.cp", PH_ERR_ARGUMENT,
                     "__main__:cache.cp: step 2, .cp: cp is a __main__.CP; probe-heap cannot run code to get it");
        expect_error(h, minor, "__main__:cache.dd", PH_ERR_ARGUMENT,
                     "__main__:cache.dd: step 2, .dd: dd is a __main__.D; probe-heap cannot run code to get it");
        /* object's dict (3.12+: in the interpreter) through the MRO */
        expect(h, minor, "__main__:cache.__doc__", w->doc);
        /* 3.13: a dict while the inline values are no longer valid */
        expect_error(h, minor, "__main__:cache_d._store", PH_ERR_ARGUMENT,
                     "__main__:cache_d._store: step 2, ._store: a __main__.Cache object has no attribute '_store'");
        WORLD_END();
    }
}

static void test_slots(void **state)
{
    FOR_EACH_VERSION(i) {
        WORLD_BEGIN(i);
        expect(h, minor, "__main__:s.x", w->x_val);
        expect_error(h, minor, "__main__:s_empty.x", PH_ERR_ARGUMENT,
                     "__main__:s_empty.x: step 2, .x: the slot x of a __main__.Slotted object is empty");
        expect_error(h, minor, "__main__:s.count", PH_ERR_ARGUMENT,
                     "__main__:s.count: step 2, .count: count is a C field (member type 1), not an object; "
                     "probe-heap cannot run code to make one");
        expect_error(h, minor, "__main__:s.y", PH_ERR_ARGUMENT,
                     "__main__:s.y: step 2, .y: a __main__.Slotted object has no attribute 'y'");
        /* the class itself gives the member_descriptor */
        uint64_t descr = 0;
        assert_null(ph_resolve_path(h, "__main__:Slotted.x", &descr));
        uint32_t ti = ph_object_check(h, descr);
        assert_int_not_equal(ti, UINT32_MAX);
        assert_string_equal(h->types[ti].name, "member_descriptor");
        WORLD_END();
    }
}

/* ---- classes ----------------------------------------------------------------------------- */

static void test_class_attributes(void **state)
{
    FOR_EACH_VERSION(i) {
        WORLD_BEGIN(i);
        expect(h, minor, "__main__:Cache.kind", w->kind_val);
        expect(h, minor, "__main__:Derived.kind", w->kind_val);     /* from Cache, through the MRO */
        expect(h, minor, "__main__:Derived.extra", w->extra_val);
        expect(h, minor, "__main__:dobj.kind", w->kind_val);        /* instance -> class -> base */
        expect(h, minor, "__main__:dobj.extra", w->extra_val);
        expect(h, minor, "__main__:Derived.__doc__", w->doc);      /* object's dict */
        expect(h, minor, "__main__:Cache.method", w->method);
        expect(h, minor, "__main__:Cache.sm", w->sm_func);
        expect(h, minor, "__main__:N.p", w->prop);                 /* a property of a class is itself */
        expect(h, minor, "__main__:N.g", w->getset);
        expect(h, minor, "__main__:Derived.__base__", w->Cache);
        expect(h, minor, "__main__:Derived.__mro__", img_r64(&w->im, w->Derived + (uint64_t)w->im.L->tp_mro));
        expect(h, minor, "__main__:Derived.__mro__[1]", w->Cache);
        expect(h, minor, "__main__:Derived.__mro__[-1]", w->im.object_type);
        expect(h, minor, "__main__:Derived.__bases__[0]", w->Cache);
        expect(h, minor, "__main__:Cache.__name__", img_r64(&w->im, w->Cache + (uint64_t)w->im.L->ht_name));
        expect(h, minor, "__main__:Cache.__dict__", img_r64(&w->im, w->Cache + (uint64_t)w->im.L->tp_dict));
        expect(h, minor, "__main__:Cache.__dict__['kind']", w->kind_val);
        expect(h, minor, "__main__:Cache.__class__", w->im.type_type);
        expect(h, minor, "__main__:cache.__class__.__mro__[0].kind", w->kind_val);
        expect_error(h, minor, "__main__:Cache.nosuch", PH_ERR_ARGUMENT,
                     "__main__:Cache.nosuch: step 2, .nosuch: the type __main__.Cache has no attribute 'nosuch'");
        expect_error(h, minor, "__main__:Cache.cp", PH_ERR_ARGUMENT,
                     "__main__:Cache.cp: step 2, .cp: cp is a __main__.CP; probe-heap cannot run code to get it");
        WORLD_END();
    }
}

/* ---- indexes and keys --------------------------------------------------------------------- */

static void test_sequences(void **state)
{
    FOR_EACH_VERSION(i) {
        WORLD_BEGIN(i);
        expect(h, minor, "__main__:lst[0]", w->lst_items[0]);
        expect(h, minor, "__main__:lst[2]", w->lst_items[2]);
        expect(h, minor, "__main__:lst[-1]", w->lst_items[2]);
        expect(h, minor, "__main__:lst[-3]", w->lst_items[0]);
        expect(h, minor, "__main__:lst[ 1 ]", w->lst_items[1]);
        expect(h, minor, "__main__:lst[True]", w->lst_items[1]);
        expect(h, minor, "__main__:lst[+1]", w->lst_items[1]);
        expect(h, minor, "__main__:tup[0]", w->tup_items[0]);
        expect(h, minor, "__main__:tup[-1]", w->tup_items[1]);
        expect(h, minor, "__main__:tup[-2]", w->tup_items[0]);
        expect_error(h, minor, "__main__:lst[3]", PH_ERR_ARGUMENT,
                     "__main__:lst[3]: step 2, [3]: the index is out of range: the list has 3 items");
        expect_error(h, minor, "__main__:lst[-4]", PH_ERR_ARGUMENT,
                     "__main__:lst[-4]: step 2, [-4]: the index is out of range: the list has 3 items");
        expect_error(h, minor, "__main__:tup[2]", PH_ERR_ARGUMENT,
                     "__main__:tup[2]: step 2, [2]: the index is out of range: the tuple has 2 items");
        expect_error(h, minor, "__main__:tup[-3]", PH_ERR_ARGUMENT,
                     "__main__:tup[-3]: step 2, [-3]: the index is out of range: the tuple has 2 items");
        expect_error(h, minor, "__main__:lst[99999999999999999999999999]", PH_ERR_ARGUMENT,
                     "__main__:lst[99999999999999999999999999]: step 2, [99999999999999999999999999]: "
                     "the index is out of range: the list has 3 items");
        expect_error(h, minor, "__main__:lst[-9223372036854775808]", PH_ERR_ARGUMENT,
                     "__main__:lst[-9223372036854775808]: step 2, [-9223372036854775808]: "
                     "the index is out of range: the list has 3 items");
        expect_error(h, minor, "__main__:lst['a']", PH_ERR_ARGUMENT,
                     "__main__:lst['a']: step 2, ['a']: a list is indexed by an int, not by a str");
        expect_error(h, minor, "__main__:tup[1.0]", PH_ERR_ARGUMENT,
                     "__main__:tup[1.0]: step 2, [1.0]: a tuple is indexed by an int, not by a float");
        expect_error(h, minor, "__main__:cache[0]", PH_ERR_ARGUMENT,
                     "__main__:cache[0]: step 2, [0]: probe-heap can only index a list, a tuple or a dict, "
                     "not a __main__.Cache object");
        expect_error(h, minor, "__main__:lst[0][0]", PH_ERR_ARGUMENT,
                     "__main__:lst[0][0]: step 3, [0]: probe-heap can only index a list, a tuple or a dict, "
                     "not an int object");
        WORLD_END();
    }
}

static void test_dict_keys(void **state)
{
    FOR_EACH_VERSION(i) {
        WORLD_BEGIN(i);
        uint64_t *V = w->V;
        expect(h, minor, "__main__:d['k']", V[0]);
        expect(h, minor, "__main__:d[\"k\"]", V[0]);
        expect(h, minor, "__main__:d[7]", V[1]);
        expect(h, minor, "__main__:d[7.0]", V[1]);   /* 7 == 7.0, as in Python */
        expect(h, minor, "__main__:d[-5]", V[2]);
        expect(h, minor, "__main__:d[b'raw']", V[3]);
        expect(h, minor, "__main__:d[B\"raw\"]", V[3]);
        expect(h, minor, "__main__:d[2.5]", V[4]);
        expect(h, minor, "__main__:d[25e-1]", V[4]);
        expect(h, minor, "__main__:d[None]", V[5]);
        expect(h, minor, "__main__:d[False]", V[6]);
        expect(h, minor, "__main__:d[0]", V[6]);     /* 0 == False */
        expect(h, minor, "__main__:d['\\xe9']", V[7]);
        expect(h, minor, "__main__:d['\xc3\xa9']", V[7]); /* the same, in UTF-8 */
        expect(h, minor, "__main__:d['\\u20acuro']", V[8]);
        expect(h, minor, "__main__:d['\xe2\x82\xacuro']", V[8]);
        expect(h, minor, "__main__:d[1180591620717411303424]", V[9]); /* 2**70 */
        expect(h, minor, "__main__:d[1_180_591_620_717_411_303_424]", V[9]);
        expect(h, minor, "__main__:d['a\\'b\"c\\n\\t\\\\']", V[10]);
        expect(h, minor, "__main__:d[\"a'b\\\"c\\n\\t\\\\\"]", V[10]);
        expect(h, minor, "__main__:d[b'\\x00\\xff']", V[11]);
        expect(h, minor, "__main__:d[1e100]", V[14]);
        /* int(1e100), exactly */
        expect(h, minor,
               "__main__:d[10000000000000000159028911097599180468360808563945281389781327557747838772170381060"
               "813469985856815104]",
               V[14]);
        expect(h, minor, "__main__:d[-0.5]", V[15]);
        expect(h, minor, "__main__:d[-.5]", V[15]);
        expect(h, minor, "__main__:d['with space']", V[16]);
        expect(h, minor, "__main__:od['x']", w->od_val);  /* a dict subclass */

        /* keys longer than any fixed buffer: compared whole */
        static char big1[1204], big2[1204], big3[1204], path[1300];
        repeat(big1, "big", 400, 0);
        repeat(big2, "big", 400, 'X');
        repeat(big3, "big", 401, 0);
        snprintf(path, sizeof(path), "__main__:d['%s']", big1);
        expect(h, minor, path, V[12]);
        snprintf(path, sizeof(path), "__main__:d['%s']", big2);
        expect(h, minor, path, V[13]);
        snprintf(path, sizeof(path), "__main__:d['%s']", big3);
        uint64_t got;
        ph_error *err = ph_resolve_path(h, path, &got);
        assert_non_null(err);
        assert_int_equal(err->code, PH_ERR_ARGUMENT);
        assert_non_null(strstr(err->message, "the dict has no key 'bigbigbig"));
        ph_error_free(err);

        expect_error(h, minor, "__main__:d['raw']", PH_ERR_ARGUMENT,
                     "__main__:d['raw']: step 2, ['raw']: the dict has no key 'raw'");
        expect_error(h, minor, "__main__:d[b'k']", PH_ERR_ARGUMENT,
                     "__main__:d[b'k']: step 2, [b'k']: the dict has no key b'k'");
        expect_error(h, minor, "__main__:d[True]", PH_ERR_ARGUMENT,
                     "__main__:d[True]: step 2, [True]: the dict has no key True");
        expect_error(h, minor, "__main__:d[2]", PH_ERR_ARGUMENT,
                     "__main__:d[2]: step 2, [2]: the dict has no key 2");
        expect_error(h, minor, "__main__:d[5]", PH_ERR_ARGUMENT,
                     "__main__:d[5]: step 2, [5]: the dict has no key 5");
        expect_error(h, minor, "__main__:d[2.25]", PH_ERR_ARGUMENT,
                     "__main__:d[2.25]: step 2, [2.25]: the dict has no key 2.25");
        expect_error(h, minor, "__main__:d[-1180591620717411303424]", PH_ERR_ARGUMENT,
                     "__main__:d[-1180591620717411303424]: step 2, [-1180591620717411303424]: "
                     "the dict has no key -1180591620717411303424");
        expect_error(h, minor, "__main__:d[1180591620717411303425]", PH_ERR_ARGUMENT,
                     "__main__:d[1180591620717411303425]: step 2, [1180591620717411303425]: "
                     "the dict has no key 1180591620717411303425");
        expect_error(h, minor, "__main__:od['y']", PH_ERR_ARGUMENT,
                     "__main__:od['y']: step 2, ['y']: the __main__.MyDict has no key 'y'");
        WORLD_END();
    }
}

/* ---- the messages of the interface --------------------------------------------------------- */

static void test_error_messages(void **state)
{
    FOR_EACH_VERSION(i) {
        WORLD_BEGIN(i);
        expect_error(h, minor, "__main__:cache._store['key']", PH_ERR_ARGUMENT,
                     "__main__:cache._store['key']: step 3, ['key']: the dict has no key 'key'");
        expect_error(h, minor, "__main__:cache.x", PH_ERR_ARGUMENT,
                     "__main__:cache.x: step 2, .x: a __main__.Cache object has no attribute 'x'");
        expect_error(h, minor, "__main__:n.p", PH_ERR_ARGUMENT,
                     "__main__:n.p: step 2, .p: p is a property; probe-heap cannot run code to get it");
        expect_error(h, minor, "__main__:n.g", PH_ERR_ARGUMENT,
                     "__main__:n.g: step 2, .g: g is a getset_descriptor; probe-heap cannot run code to get it");
        expect_error(h, minor, "nosuch:x", PH_ERR_ARGUMENT,
                     "nosuch:x: there is no module 'nosuch' in sys.modules");
        expect_error(h, minor, "pkg:val", PH_ERR_ARGUMENT,
                     "pkg:val: there is no module 'pkg' in sys.modules");
        expect_error(h, minor, "__main__:x[", PH_ERR_ARGUMENT,
                     "__main__:x[: a syntax error at character 11: '[' is never closed");
        expect_error(h, minor, "__main__:nosuch", PH_ERR_ARGUMENT,
                     "__main__:nosuch: step 1, nosuch: the module __main__ has no attribute 'nosuch'");
        expect_error(h, minor, "pkg.sub:nothing", PH_ERR_ARGUMENT,
                     "pkg.sub:nothing: step 1, nothing: the module pkg.sub has no attribute 'nothing' "
                     "(it has a __getattr__, which probe-heap cannot run)");
        /* the failing step is named, whatever follows */
        expect_error(h, minor, "__main__:cache._store['key'][3].body", PH_ERR_ARGUMENT,
                     "__main__:cache._store['key'][3].body: step 3, ['key']: the dict has no key 'key'");
        /* a pointer to garbage is never followed */
        uint64_t got;
        ph_error *err = ph_resolve_path(h, "__main__:bad.x", &got);
        assert_non_null(err);
        assert_int_equal(err->code, PH_ERR_CORRUPT);
        assert_non_null(strstr(err->message, "is not a valid object"));
        ph_error_free(err);
        WORLD_END();
    }
}

static void test_syntax_errors(void **state)
{
    world wv, *w = &wv;
    make_world(w, 0);
    ph_heap *h = build(w);
    static const struct {
        const char *path, *msg;
    } cases[] = {
        {"__main__:d['key]", "__main__:d['key]: a syntax error at character 12: the string opened here is never closed"},
        {"__main__:d[b\"key]", "__main__:d[b\"key]: a syntax error at character 12: the bytes opened here is never closed"},
        {"__main__:d['k\\']", "__main__:d['k\\']: a syntax error at character 12: the string opened here is never closed"},
        {"__main__:d['key'", "__main__:d['key': a syntax error at character 11: '[' is never closed"},
        {"__main__:d['key' x]", "__main__:d['key' x]: a syntax error at character 18: expected ']' after the key, not 'x'"},
        {"__main__:d[1x]", "__main__:d[1x]: a syntax error at character 13: expected ']' after the key, not 'x'"},
        {"__main__:d[]", "__main__:d[]: a syntax error at character 12: a key must stand between '[' and ']'"},
        {"__main__:d[abc]", "__main__:d[abc]: a syntax error at character 12: a key is an int, a float, a str, bytes, True, False or None"},
        {"__main__:cache..x", "__main__:cache..x: a syntax error at character 16: a name must follow '.', not '.'"},
        {"__main__:cache.", "__main__:cache.: a syntax error at character 16: a name must follow '.', not the end of the path"},
        {"__main__:", "__main__:: a syntax error at character 10: a name must follow ':', not the end of the path"},
        {"__main__:1x", "__main__:1x: a syntax error at character 10: a name must follow ':', not '1'"},
        {":x", ":x: a syntax error at character 1: the path starts with a module name, not ':'"},
        {"", ": a syntax error at character 1: the path starts with a module name, not the end of the path"},
        {"__main__", "__main__: a syntax error at character 9: expected ':' after the module name, not the end of the path"},
        {"pkg..sub:x", "pkg..sub:x: a syntax error at character 5: a name must follow '.', not '.'"},
        {"__main__:cache]", "__main__:cache]: a syntax error at character 15: expected '.', '[' or the end of the path, not ']'"},
        {"__main__:cache x", "__main__:cache x: a syntax error at character 15: expected '.', '[' or the end of the path, not ' '"},
        {"__main__:d[1]]", "__main__:d[1]]: a syntax error at character 14: expected '.', '[' or the end of the path, not ']'"},
        {"__main__:d['\\q']", "__main__:d['\\q']: a syntax error at character 13: unknown escape '\\q' (known: \\\\ \\' \\\" \\n \\t \\r \\0 \\xHH \\uHHHH \\UHHHHHHHH)"},
        {"__main__:d['\\x4']", "__main__:d['\\x4']: a syntax error at character 13: \\x needs 2 hex digits"},
        {"__main__:d[b'\\u0041']", "__main__:d[b'\\u0041']: a syntax error at character 14: bytes have no \\u escape"},
        {"__main__:d['\\ud800']", "__main__:d['\\ud800']: a syntax error at character 13: \\ud800 is not a character probe-heap can look for"},
        {"__main__:d[b'\xc3\xa9']", "__main__:d[b'\xc3\xa9']: a syntax error at character 14: bytes can only hold ASCII characters; write others as \\xHH"},
        {"__main__:d[1__0]", "__main__:d[1__0]: a syntax error at character 13: '_' may only stand between digits"},
        {"__main__:d[1e]", "__main__:d[1e]: a syntax error at character 13: an exponent needs digits"},
        {"__main__:d[-]", "__main__:d[-]: a syntax error at character 12: a key is an int, a float, a str, bytes, True, False or None"},
        {"__main__:\xc3\xa9\xff", "__main__:\xc3\xa9\xff: a syntax error at character 11: the path is not valid UTF-8 there"},
        {"__main__:a\tb", "__main__:a\tb: a syntax error at character 11: a control character"},
        /* a syntax error is found before anything is looked up */
        {"nosuch:x[", "nosuch:x[: a syntax error at character 9: '[' is never closed"},
    };
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++)
        expect_error(h, 8, cases[c].path, PH_ERR_ARGUMENT, cases[c].msg);
    /* character positions count characters, not bytes */
    expect_error(h, 8, "__main__:d['\xc3\xa9'", PH_ERR_ARGUMENT,
                 "__main__:d['\xc3\xa9': a syntax error at character 11: '[' is never closed");
    expect_error(h, 8, "__main__:\xc3\xa9\xc3\xa9 x", PH_ERR_ARGUMENT,
                 "__main__:\xc3\xa9\xc3\xa9 x: a syntax error at character 12: expected '.', '[' or the end of "
                 "the path, not ' '");
    img_heap_free(h);
    img_free(&w->im);
}

/* ---- limits ------------------------------------------------------------------------------ */

static void test_limits(void **state)
{
    world wv, *w = &wv;
    make_world(w, 5);
    ph_heap *h = build(w);
    uint64_t got = 0;
    ph_error *err;

    err = ph_resolve_path(NULL, "__main__:x", &got);
    assert_non_null(err);
    assert_int_equal(err->code, PH_ERR_ARGUMENT);
    ph_error_free(err);
    err = ph_resolve_path(h, NULL, &got);
    assert_non_null(err);
    ph_error_free(err);
    err = ph_resolve_path(h, "__main__:x", NULL);
    assert_non_null(err);
    ph_error_free(err);

    /* longer than 4096 bytes */
    static char longp[5000];
    memcpy(longp, "__main__:", 9);
    memset(longp + 9, 'a', 5000 - 10);
    longp[4999] = 0;
    err = ph_resolve_path(h, longp, &got);
    assert_non_null(err);
    assert_string_equal(err->message, "the path is longer than 4096 bytes");
    ph_error_free(err);

    /* 256 steps: fine (as a syntax); 257: too many */
    char *p = longp;
    size_t n = (size_t)sprintf(p, "__main__:lst");
    for (int s = 1; s < 256; s++)
        n += (size_t)sprintf(p + n, "[0]");
    err = ph_resolve_path(h, p, &got); /* lst[0] is an int: step 3 fails */
    assert_non_null(err);
    assert_non_null(strstr(err->message, ": step 3, [0]: probe-heap can only index"));
    assert_non_null(strstr(err->message, "...")); /* a long path is shown by its ends */
    /* the path gives way to the reason, which is never cut */
    size_t ml = strlen(err->message);
    assert_true(ml < sizeof(err->message) - 1);
    assert_string_equal(err->message + ml - strlen("a dict, not an int object"), "a dict, not an int object");
    ph_error_free(err);
    sprintf(p + n, "[0]");
    err = ph_resolve_path(h, p, &got);
    assert_non_null(err);
    assert_non_null(strstr(err->message, "the path has more than 256 steps"));
    ph_error_free(err);

    /* a long name is clipped in the message, which keeps its end */
    n = (size_t)sprintf(p, "__main__:cache.");
    memset(p + n, 'z', 300);
    p[n + 300] = 0;
    err = ph_resolve_path(h, p, &got);
    assert_non_null(err);
    assert_non_null(strstr(err->message, "zzz...: a __main__.Cache object has no attribute 'zzz"));
    ml = strlen(err->message);
    assert_true(ml < sizeof(err->message) - 1);
    assert_string_equal(err->message + ml - 6, "zz...'");
    ph_error_free(err);

    /* a heap without an interpreter */
    uint64_t interp = h->interp_addr;
    h->interp_addr = 0;
    expect_error(h, 13, "__main__:cache", PH_ERR_CORRUPT,
                 "__main__:cache: the interpreter's sys.modules cannot be read");
    h->interp_addr = interp;
    expect(h, 13, "__main__:cache", w->cache);
    img_heap_free(h);
    img_free(&w->im);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_module_attributes, img_cleanup),
        cmocka_unit_test_teardown(test_instance_attributes, img_cleanup),
        cmocka_unit_test_teardown(test_slots, img_cleanup),
        cmocka_unit_test_teardown(test_class_attributes, img_cleanup),
        cmocka_unit_test_teardown(test_sequences, img_cleanup),
        cmocka_unit_test_teardown(test_dict_keys, img_cleanup),
        cmocka_unit_test_teardown(test_error_messages, img_cleanup),
        cmocka_unit_test_teardown(test_syntax_errors, img_cleanup),
        cmocka_unit_test_teardown(test_limits, img_cleanup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
