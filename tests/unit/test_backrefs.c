/* Why is it alive, over the tiny synthetic runtime of world.h: chains from
 * the roots with their labels, unreachable garbage with its referrers, an
 * object held from C, referrers and referents, objects of a kind, and the
 * partitions by rcs and via, on every version's layout. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "world.h"
#include "analyses/graph.h"

static ph_heap *build(world *w, int i)
{
    ph_heap *h = NULL;
    ph_error *err = ph_heap_build(w->im.r, &w->syms, NULL, &h);
    if (err)
        fail_msg("3.%d: ph_heap_build: %s", MINORS[i], err->message);
    img_heap_track(h);
    return h;
}

static void assert_link(const ph_link *k, uint64_t addr, const char *edge, const char *edge_kind)
{
    assert_int_equal(k->address, addr);
    assert_string_equal(k->edge, edge);
    assert_string_equal(k->edge_kind, edge_kind);
    assert_false(k->conservative);
    assert_false(k->weak);
}

static void test_chains(void **state)
{
    FOR_EACH_VERSION(i) {
        world w;
        make_world(&w, i);
        ph_heap *h = build(&w, i);
        uint64_t seven = 0;
        ph_links *refs = NULL;
        assert_null(ph_referents_get(h, w.instdict, &refs));
        for (size_t k = 0; k < refs->n; k++)
            if (strcmp(refs->items[k].edge, "['a']") == 0)
                seven = refs->items[k].address;
        ph_links_free(refs);
        assert_int_not_equal(seven, 0);

        /* sys.modules['main'].__dict__['a']: four links from the modules dict */
        ph_backrefs *b = NULL;
        assert_null(ph_backrefs_get(h, seven, 3, &b));
        assert_true(b->reachable);
        assert_false(b->garbage);
        assert_false(b->held_weakly);
        assert_int_equal(b->nchains, 1); /* one referrer only */
        const ph_links *c = &b->chains[0];
        assert_int_equal(c->n, 4);
        assert_link(&c->items[0], w.modules, "sys.modules", "root");
        assert_string_equal(c->items[0].root, "sys.modules");
        assert_link(&c->items[1], w.inst, "['main']", "key");
        assert_string_equal(c->items[1].kind, "mod.Node");
        assert_link(&c->items[2], w.instdict, ".__dict__", "field");
        assert_string_equal(c->items[2].kind, "dict of mod.Node");
        assert_link(&c->items[3], seven, "['a']", "key");
        assert_string_equal(c->items[3].preview, "7");
        assert_string_equal(b->target.type, "int");
        ph_backrefs_free(b);

        /* builtins.__dict__['x'] */
        assert_null(ph_backrefs_get(h, w.int5, 1, &b));
        assert_int_equal(b->nchains, 1);
        assert_int_equal(b->chains[0].n, 2);
        assert_string_equal(b->chains[0].items[0].root, "builtins");
        assert_string_equal(b->chains[0].items[0].edge, "builtins.__dict__");
        assert_link(&b->chains[0].items[1], w.int5, "['x']", "key");
        ph_backrefs_free(b);

        /* C, held from outside Python: a root of its own */
        assert_null(ph_backrefs_get(h, w.C, 1, &b));
        assert_true(b->reachable);
        assert_int_equal(b->chains[0].n, 1);
        assert_string_equal(b->chains[0].items[0].root, "held");
        ph_backrefs_free(b);

        /* A: cyclic garbage, referred to by B's item 0 */
        assert_null(ph_backrefs_get(h, w.A, 3, &b));
        assert_false(b->reachable);
        assert_true(b->garbage);
        assert_int_equal(b->nchains, 0);
        assert_int_equal(b->referrers.n, 1);
        assert_link(&b->referrers.items[0], w.B, "[0]", "index");
        ph_backrefs_free(b);

        /* no object there */
        ph_error *err = ph_backrefs_get(h, w.inst + 8, 1, &b);
        assert_non_null(err);
        assert_int_equal(err->code, PH_ERR_ARGUMENT);
        ph_error_free(err);
    }
}

static void test_referrers_referents_objects(void **state)
{
    FOR_EACH_VERSION(i) {
        world w;
        make_world(&w, i);
        ph_heap *h = build(&w, i);

        ph_links *l = NULL;
        assert_null(ph_referrers_get(h, w.inst, &l));
        assert_int_equal(l->n, 1);
        assert_link(&l->items[0], w.modules, "['main']", "key");
        ph_links_free(l);

        /* the modules dict: a root, referred to by nothing else */
        assert_null(ph_referrers_get(h, w.modules, &l));
        assert_int_equal(l->n, 1);
        assert_string_equal(l->items[0].edge_kind, "root");
        assert_string_equal(l->items[0].root, "sys.modules");
        ph_links_free(l);

        assert_null(ph_referents_get(h, w.inst, &l));
        bool cls = false, dict = false;
        for (size_t k = 0; k < l->n; k++) {
            cls |= l->items[k].address == w.node && strcmp(l->items[k].edge, ".__class__") == 0;
            dict |= l->items[k].address == w.instdict && strcmp(l->items[k].edge, ".__dict__") == 0;
        }
        assert_true(cls);
        assert_true(dict);
        ph_links_free(l);

        /* the modules dict refers to its key and its value */
        assert_null(ph_referents_get(h, w.modules, &l));
        assert_int_equal(l->n, 2);
        assert_string_equal(l->items[0].edge, "<key>");
        assert_string_equal(l->items[0].preview, "'main'");
        assert_link(&l->items[1], w.inst, "['main']", "key");
        ph_links_free(l);

        ph_objects *o = NULL;
        assert_null(ph_objects_get(h, "mod.Node", 0, 0, &o));
        assert_int_equal(o->count, 1);
        assert_int_equal(o->list.n, 1);
        assert_int_equal(o->list.items[0].address, w.inst);
        ph_objects_free(o);
        assert_null(ph_objects_get(h, "dict of mod.Node", 0, 0, &o));
        assert_int_equal(o->count, 1);
        assert_int_equal(o->list.items[0].address, w.instdict);
        ph_objects_free(o);
        /* largest first, then by address; limit and min_size */
        assert_null(ph_objects_get(h, "list", 0, 2, &o));
        assert_int_equal(o->count, 3);
        assert_int_equal(o->list.n, 2);
        assert_true(o->list.items[0].size >= o->list.items[1].size);
        ph_objects_free(o);
        assert_null(ph_objects_get(h, "list", 60, 0, &o));
        assert_int_equal(o->count, 2); /* A and B (64 bytes), not the empty C */
        ph_objects_free(o);
    }
}

static const ph_row *row(const ph_partition *p, const char *kind)
{
    for (size_t r = 0; r < p->nrows; r++)
        if (strcmp(p->rows[r].kind, kind) == 0)
            return &p->rows[r];
    return NULL;
}

static void test_partitions_by_references(void **state)
{
    FOR_EACH_VERSION(i) {
        world w;
        make_world(&w, i);
        ph_heap *h = build(&w, i);
        ph_heap_info info;
        ph_heap_info_get(h, &info);
        static const ph_partition_by bys[] = {PH_BY_RCS, PH_BY_VIA, PH_BY_SIZE, PH_BY_MODULE};
        for (size_t b = 0; b < sizeof(bys) / sizeof(bys[0]); b++) {
            ph_partition *p = NULL;
            assert_null(ph_partition_new(h, bys[b], &p));
            assert_int_equal(p->count, info.objects);
            assert_int_equal(p->size, info.bytes);
            uint64_t count = 0;
            for (size_t r = 0; r < p->nrows; r++)
                count += p->rows[r].count;
            assert_int_equal(count, info.objects);
            const ph_row *x;
            switch (bys[b]) {
            case PH_BY_RCS:
                /* A is referred to by a list only; the modules dict by a root only */
                assert_non_null(x = row(p, "list"));
                assert_true(x->count >= 2);
                assert_non_null(row(p, "<root>"));
                break;
            case PH_BY_VIA:
                /* inst's __dict__ and Node's tp_dict */
                assert_non_null(x = row(p, "'.__dict__'"));
                assert_true(x->count >= 2);
                /* 7 and 5, each the only value under its key */
                assert_non_null(row(p, "\"['a']\""));
                assert_non_null(row(p, "\"['x']\""));
                break;
            case PH_BY_SIZE:
                assert_non_null(x = row(p, "64"));
                /* A and B; on 3.14 also Node.__mro__, (Node, object): tuples
                 * cache their hash there, sys.getsizeof((1, 2)) is 64 */
                assert_int_equal(x->count, MINORS[i] >= 14 ? 3 : 2);
                break;
            default:
                assert_non_null(x = row(p, "mod"));
                assert_int_equal(x->count, 1); /* inst */
                break;
            }
            ph_partition_free(p);
        }
    }
}

static void drop_referrers_for_test(ph_graph *g)
{
    free(g->rev_off), free(g->rev);
    g->rev_off = g->rev = NULL;
}

/* The referrers' lists: the dominator tree builds them for itself and gives
 * them back; one object's referrers without them (a pass over the references)
 * are the same, in the same order, as a slice of them; ph_graph_edges builds
 * them again. */
static void test_referrers_without_lists(void **state)
{
    FOR_EACH_VERSION(i) {
        world w;
        make_world(&w, i);
        ph_heap *h = build(&w, i);
        ph_graph *g;
        assert_null(ph_graph_get(h, &g));
        assert_null(g->rev);
        assert_null(g->po);
        assert_true(g->idom != NULL && g->reachable > 0);
        uint32_t N = g->n + 1;
        /* past the scans' budget, the lists are built again */
        for (int k = 0; k < PH_REFERRER_SCANS; k++) {
            const uint32_t *list;
            size_t n;
            uint32_t *buf;
            assert_null(ph_graph_referrers_of(g, g->n, &list, &n, &buf));
            free(buf);
            assert_null(g->rev);
        }
        g->rev_scans = 0; /* as many passes as there are objects, for the comparison */
        uint32_t **scan = calloc(N, sizeof(*scan));
        size_t *nscan = calloc(N, sizeof(*nscan));
        assert_true(scan && nscan);
        size_t total = 0;
        for (uint32_t v = 0; v < N; v++) {
            const uint32_t *list;
            uint32_t *buf;
            g->rev_scans = 0;
            assert_null(ph_graph_referrers_of(g, v, &list, &nscan[v], &buf));
            assert_null(g->rev);
            assert_true(!nscan[v] || buf == list);
            scan[v] = buf;
            total += nscan[v];
        }
        assert_int_equal(total, g->nedges);
        {
            const uint32_t *list;
            size_t n;
            uint32_t *buf;
            g->rev_scans = PH_REFERRER_SCANS;
            assert_null(ph_graph_referrers_of(g, g->n, &list, &n, &buf));
            assert_null(buf);
            assert_non_null(g->rev); /* the budget spent: built */
            drop_referrers_for_test(g);
        }
        assert_null(ph_graph_edges(h, &g));
        assert_non_null(g->rev);
        for (uint32_t v = 0; v < N; v++) {
            const uint32_t *list;
            size_t n;
            uint32_t *buf;
            assert_null(ph_graph_referrers_of(g, v, &list, &n, &buf));
            assert_null(buf);
            assert_int_equal(n, nscan[v]);
            for (size_t k = 0; k < n; k++) {
                assert_int_equal(list[k], scan[v][k]);
                assert_true(k == 0 || list[k - 1] <= list[k]);
            }
            free(scan[v]);
        }
        free(scan);
        free(nscan);
        /* the modules dict is a root: its one referrer, the virtual root */
        ph_links *l = NULL;
        assert_null(ph_referrers_get(h, w.modules, &l));
        assert_int_equal(l->n, 1);
        assert_string_equal(l->items[0].root, "sys.modules");
        ph_links_free(l);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_chains, img_cleanup),
        cmocka_unit_test_teardown(test_referrers_referents_objects, img_cleanup),
        cmocka_unit_test_teardown(test_partitions_by_references, img_cleanup),
        cmocka_unit_test_teardown(test_referrers_without_lists, img_cleanup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
