/* base/: the growing array, the hash tables and UTF-8, against simple
 * models (a bitmap of the keys put, Python's own UTF-8 for the samples). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "base/table.h"
#include "base/utf8.h"
#include "base/vec.h"

#include <stdlib.h>
#include <string.h>

static void test_vec(void **state)
{
    (void)state;
    uint64_t *v = NULL;
    size_t cap = 0, n = 0;
    for (uint64_t i = 0; i < 100000; i++) {
        assert_true(PH_VEC_RESERVE(v, cap, n + 1, 16));
        assert_true(cap >= n + 1);
        v[n++] = i * 3;
    }
    for (size_t i = 0; i < n; i++)
        assert_int_equal(v[i], i * 3);
    assert_true(cap >= 100000 && cap < 200000); /* doubling from 16 */
    /* a size that overflows is refused, the array kept */
    uint64_t *keep = v;
    size_t keep_cap = cap;
    assert_false(PH_VEC_RESERVE(v, cap, SIZE_MAX / 4, 16));
    assert_ptr_equal(v, keep);
    assert_int_equal(cap, keep_cap);
    PH_VEC_TRIM(v, cap, n);
    assert_int_equal(cap, n);
    assert_int_equal(v[n - 1], (n - 1) * 3);
    free(v);
}

/* An id table over an array of keys, as the index and the rows use it. */
typedef struct keys {
    uint64_t *k;
} keys;
#define K_HASH(x) (x)
#define K_HASH_ID(ks, id) ((ks)->k[id])
#define K_IS(ks, id, x) ((ks)->k[id] == (x))
PH_DEFINE_ID_TABLE(ktab, const keys *, uint64_t, K_HASH, K_HASH_ID, K_IS)

static void test_idtable(void **state)
{
    (void)state;
    enum { N = 50000 };
    keys ks = {calloc(N, sizeof(uint64_t))};
    ph_idtable t = {0};
    assert_int_equal(ktab_find(&t, &ks, 42), PH_TABLE_ABSENT); /* empty: no slots yet */
    for (uint32_t i = 0; i < N; i++) {
        ks.k[i] = UINT64_C(0x7f0000000000) + (uint64_t)i * 48; /* like object addresses */
        assert_int_equal(ktab_find(&t, &ks, ks.k[i]), PH_TABLE_ABSENT);
        assert_null(ktab_add(&t, &ks, ks.k[i], i));
        assert_true(t.n * 2 <= t.cap); /* at most half full */
    }
    for (uint32_t i = 0; i < N; i++) {
        assert_int_equal(ktab_find(&t, &ks, ks.k[i]), i);
        assert_int_equal(ktab_find(&t, &ks, ks.k[i] + 8), PH_TABLE_ABSENT);
    }
    assert_int_equal(t.n, N);
    ph_idtable_free(&t);
    free(ks.k);
}

static void test_map64(void **state)
{
    (void)state;
    ph_map64 m = {0};
    uint32_t v = 7;
    assert_false(ph_map64_get(&m, 1, &v));
    assert_false(ph_map64_put(&m, 0, 1)); /* 0 is the empty key */
    for (uint64_t k = 1; k <= 20000; k++)
        assert_true(ph_map64_put(&m, k * 4096, (uint32_t)k));
    assert_true(ph_map64_put(&m, 4096, UINT32_MAX)); /* overwrite */
    assert_int_equal(m.n, 20000);
    assert_true(ph_map64_get(&m, 4096, &v));
    assert_int_equal(v, UINT32_MAX);
    for (uint64_t k = 2; k <= 20000; k++) {
        assert_true(ph_map64_get(&m, k * 4096, &v));
        assert_int_equal(v, k);
    }
    assert_false(ph_map64_get(&m, 0, &v));
    assert_false(ph_map64_get(&m, 4095, &v));
    ph_map64_free(&m);
}

static void test_utf8(void **state)
{
    (void)state;
    /* the bytes are Python's str.encode('utf-8') of each code point */
    static const struct {
        uint32_t cp;
        const char *bytes;
    } ok[] = {{0x41, "A"}, {0xE9, "\xc3\xa9"}, {0x20AC, "\xe2\x82\xac"}, {0x1F600, "\xf0\x9f\x98\x80"},
              {0x7FF, "\xdf\xbf"}, {0xFFFF, "\xef\xbf\xbf"}, {0x10FFFF, "\xf4\x8f\xbf\xbf"}};
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        char out[4];
        size_t n = ph_utf8_encode(ok[i].cp, out);
        assert_int_equal(n, strlen(ok[i].bytes));
        assert_memory_equal(out, ok[i].bytes, n);
        uint32_t cp = 0;
        assert_int_equal(ph_utf8_decode((const unsigned char *)ok[i].bytes, n, &cp), n);
        assert_int_equal(cp, ok[i].cp);
    }
    /* Python's decoder refuses each of these ('strict') */
    static const char *bad[] = {"\x80", "\xc0\x80", "\xe0\x80\x80", "\xed\xa0\x80",
                                "\xf4\x90\x80\x80", "\xf5\x80\x80\x80", "\xe2\x82", "\xc3"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        uint32_t cp = 0;
        assert_int_equal(ph_utf8_decode((const unsigned char *)bad[i], strlen(bad[i]), &cp), 0);
    }
    char out[4];
    assert_int_equal(ph_utf8_encode(0x110000, out), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vec),
        cmocka_unit_test(test_idtable),
        cmocka_unit_test(test_map64),
        cmocka_unit_test(test_utf8),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
