/* The 3.13 and 3.14 tables are checked against the target's own
 * _Py_DebugOffsets: a runtime whose debug offsets agree passes (and says it
 * was checked), one that disagrees on any field is refused naming that field,
 * one without the cookie is not checked, one whose version field names
 * another release is refused. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "cpython/debug_offsets.h"

#define BASE UINT64_C(0x200000000)

static unsigned char runtime[4096];

/* A _Py_DebugOffsets that says exactly what the 3.L->minor table says, with
 * its version field (PY_VERSION_HEX of 3.minor.0 final). */
static ph_reader *agreeing_runtime(const ph_layout *L)
{
    memset(runtime, 0, sizeof(runtime));
    memcpy(runtime, "xdebugpy", 8);
    uint64_t hex = (UINT64_C(3) << 24) | ((uint64_t)L->minor << 16) | 0xf0;
    memcpy(runtime + 8, &hex, 8);
    uint32_t at;
    size_t field;
    for (size_t i = 0; ph_debug_offsets_check_at_version(L->minor, i, &at, &field); i++) {
        int32_t v;
        memcpy(&v, (const char *)L + field, 4);
        uint64_t u = (uint64_t)(int64_t)v;
        memcpy(runtime + at, &u, 8);
    }
    ph_reader *r;
    assert_null(ph_reader_new(&r));
    assert_null(ph_reader_add_buffer(r, BASE, sizeof(runtime), runtime));
    return r;
}

static void agreeing_offsets_are_checked(int minor)
{
    const ph_layout *L = ph_layout_get(3, minor);
    ph_version v = {.major = 3, .minor = minor, .text = "3.x.0"};
    ph_reader *r = agreeing_runtime(L);
    bool checked = false;
    assert_null(ph_debug_offsets_check(r, BASE, &v, L, &checked));
    assert_true(checked);
    ph_reader_free(r);
}

static void test_agreeing_offsets_are_checked(void **state)
{
    agreeing_offsets_are_checked(13);
}

static void test_agreeing_offsets_are_checked_3_14(void **state)
{
    agreeing_offsets_are_checked(14);
}

static void each_disagreement_is_refused(int minor, const char *text)
{
    const ph_layout *L = ph_layout_get(3, minor);
    ph_version v = {.major = 3, .minor = minor, .text = ""};
    snprintf(v.text, sizeof(v.text), "%s", text);
    uint32_t at;
    size_t field;
    const char *name;
    size_t n = 0;
    for (size_t i = 0; (name = ph_debug_offsets_check_at_version(minor, i, &at, &field)); i++, n++) {
        ph_reader *r = agreeing_runtime(L);
        runtime[at] ^= 8; /* one field moved by 8 bytes */
        bool checked = true;
        ph_error *err = ph_debug_offsets_check(r, BASE, &v, L, &checked);
        assert_non_null(err);
        assert_int_equal(err->code, PH_ERR_VERSION);
        assert_non_null(strstr(err->message, name));
        assert_non_null(strstr(err->message, text));
        assert_false(checked);
        ph_error_free(err);
        ph_reader_free(r);
    }
    assert_true(n >= 40);
}

static void test_each_disagreement_is_refused(void **state)
{
    each_disagreement_is_refused(13, "3.13.9");
}

static void test_each_disagreement_is_refused_3_14(void **state)
{
    each_disagreement_is_refused(14, "3.14.7");
}

/* 3.14's _Py_DebugOffsets whose version field says 3.13: not the layout
 * these offsets were read by, refused. */
static void test_other_version_field_is_refused(void **state)
{
    const ph_layout *L = ph_layout_get(3, 14);
    ph_version v = {.major = 3, .minor = 14, .text = "3.14.7"};
    ph_reader *r = agreeing_runtime(L);
    uint64_t hex = UINT64_C(0x030d00f0);
    memcpy(runtime + 8, &hex, 8);
    bool checked = true;
    ph_error *err = ph_debug_offsets_check(r, BASE, &v, L, &checked);
    assert_non_null(err);
    assert_int_equal(err->code, PH_ERR_VERSION);
    assert_false(checked);
    ph_error_free(err);
    ph_reader_free(r);
}

static void test_no_cookie_no_check(void **state)
{
    const ph_layout *L = ph_layout_get(3, 13);
    ph_version v = {.major = 3, .minor = 13, .text = "3.13.0"};
    ph_reader *r = agreeing_runtime(L);
    memcpy(runtime, "notdebug", 8);
    bool checked = true;
    assert_null(ph_debug_offsets_check(r, BASE, &v, L, &checked));
    assert_false(checked);
    /* and other versions are not checked at all */
    ph_version v12 = {.major = 3, .minor = 12, .text = "3.12.1"};
    assert_null(ph_debug_offsets_check(r, BASE, &v12, ph_layout_get(3, 12), &checked));
    assert_false(checked);
    ph_reader_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_agreeing_offsets_are_checked),
        cmocka_unit_test(test_each_disagreement_is_refused),
        cmocka_unit_test(test_no_cookie_no_check),
        cmocka_unit_test(test_agreeing_offsets_are_checked_3_14),
        cmocka_unit_test(test_each_disagreement_is_refused_3_14),
        cmocka_unit_test(test_other_version_field_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
