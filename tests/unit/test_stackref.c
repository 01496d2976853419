/* What 3.14 changed in the words every walker reads (core/src/stackref.h):
 * frame slots hold _PyStackRef values (PyStackRef_NULL is 1, tagged ints have
 * their low bits 3, references may carry Py_TAG_REFCNT), and the reference
 * count is a u32 whose high half holds ob_overflow and ob_flags.  The values
 * are those of CPython 3.14.7's Include/internal/pycore_stackref.h (default
 * build) and Include/refcount.h; the frame is walked as a thread's frame
 * (ph_iframe_referents) in a synthetic 3.14 image, and for 3.13 the same
 * words are plain pointers. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "image.h"
#include "cpython/stackref.h"

#define P UINT64_C(0x7f0012345670) /* an object's address (16-aligned) */

static void test_stackref_decoding(void **state)
{
    const ph_layout *L14 = ph_layout_get(3, 14), *L13 = ph_layout_get(3, 13);
    assert_int_equal(ph_stackref_obj(L14, 0), 0);
    assert_int_equal(ph_stackref_obj(L14, 1), 0);              /* PyStackRef_NULL */
    assert_int_equal(ph_stackref_obj(L14, P), P);              /* Py_TAG_PTR: a strong reference */
    assert_int_equal(ph_stackref_obj(L14, P | 1), P);          /* Py_TAG_REFCNT: deferred or immortal */
    assert_int_equal(ph_stackref_obj(L14, (UINT64_C(42) << 2) | 3), 0); /* PyStackRef_TagInt(42) */
    assert_int_equal(ph_stackref_obj(L14, ~UINT64_C(0)), 0);   /* PyStackRef_TagInt(-1) */
    /* before 3.14 a slot is a PyObject * */
    assert_int_equal(ph_stackref_obj(L13, P), P);
    assert_int_equal(ph_stackref_obj(L13, 0), 0);
}

static void test_refcount_word(void **state)
{
    const ph_layout *L14 = ph_layout_get(3, 14), *L13 = ph_layout_get(3, 13);
    assert_int_equal(ph_refcnt_word(L14, 5), 5);
    /* _Py_IMMORTAL_INITIAL_REFCNT 3 << 30 with ob_flags _Py_IMMORTAL_FLAGS 1, and the
     * static ones' _Py_STATIC_FLAG_BITS 5 (_Py_STATIC_IMMORTAL_INITIAL_REFCNT) */
    assert_int_equal(ph_refcnt_word(L14, (UINT64_C(1) << 48) | (UINT64_C(3) << 30)), UINT64_C(3) << 30);
    assert_int_equal(ph_refcnt_word(L14, (UINT64_C(5) << 48) | (UINT64_C(3) << 30)), UINT64_C(3) << 30);
    /* a freelist link (_PyFreeList_Push stores the next free object there) */
    assert_int_equal(ph_refcnt_word(L14, P), -1);
    assert_int_equal(ph_refcnt_word(L14, UINT64_C(0x55f11d27cea0)), -1);
    assert_int_equal(ph_refcnt_word(L14, UINT64_C(1) << 32), -1); /* ob_overflow is never set */
    /* before 3.14 the whole word */
    assert_int_equal(ph_refcnt_word(L13, UINT64_C(1) << 32), (int64_t)(UINT64_C(1) << 32));
}

/* A dead object on a 3.14 freelist is no object; the same block with a
 * reference count is. */
static void test_freelisted_object_rejected(void **state)
{
    img im;
    img_init(&im, 14, 1u << 20);
    ph_heap *h = img_heap(&im);
    uint64_t a = img_list(&im, 0, 0, NULL), b = img_list(&im, 0, 0, NULL);
    assert_int_not_equal(ph_object_check(h, a), UINT32_MAX);
    img_w64(&im, a, b); /* a's first word links to b, as on the freelist */
    assert_int_equal(ph_object_check(h, a), UINT32_MAX);
    img_w64(&im, a, (UINT64_C(1) << 48) | (UINT64_C(3) << 30)); /* immortal */
    assert_int_not_equal(ph_object_check(h, a), UINT32_MAX);
    img_heap_free(h);
    img_free(&im);
}

typedef struct seen {
    uint64_t addr[32];
    int n;
} seen;

static uint32_t note(ph_heap *h, uint64_t addr, void *payload)
{
    seen *s = payload;
    if (s->n < 32)
        s->addr[s->n++] = addr;
    return PH_NO_OBJ;
}

static bool has(const seen *s, uint64_t a)
{
    for (int i = 0; i < s->n; i++)
        if (s->addr[i] == a)
            return true;
    return false;
}

/* A 3.14 frame of a code object with 4 locals and a stack of 2: its
 * executable and function are deferred references, the locals a strong
 * reference, a deferred one, NULL and a tagged int, the stack one value
 * (stackpointer past it).  Only the three objects and the code/function are
 * visited, untagged; nothing else is taken for a pointer. */
static void test_frame_slots_3_14(void **state)
{
    img im;
    img_init(&im, 14, 1u << 20);
    const ph_layout *L = im.L;
    ph_heap *h = img_heap(&im);
    uint64_t code_type = img_static_type(&im, "code", L->code_sizeof, 2, 0);
    uint64_t code = img_object(&im, code_type, (size_t)L->code_sizeof, false, false);
    img_w32(&im, code + (uint64_t)L->code_nlocalsplus, 4);
    img_w32(&im, code + (uint64_t)L->code_stacksize, 2);
    uint64_t func = img_list(&im, 0, 0, NULL); /* any object will do as the function */
    uint64_t x = img_int(&im, 1000), y = img_int(&im, 2000), z = img_int(&im, 3000);
    uint64_t f = img_alloc(&im, (size_t)L->iframe_localsplus + 8 * 6);
    img_field(&im, f, L->iframe_code, code | 1);
    img_field(&im, f, L->iframe_funcobj, func | 1);
    img_w8(&im, f + (uint64_t)L->iframe_owner, 0); /* FRAME_OWNED_BY_THREAD */
    uint64_t slots = f + (uint64_t)L->iframe_localsplus;
    img_w64(&im, slots + 0, x);
    img_w64(&im, slots + 8, y | 1);
    img_w64(&im, slots + 16, 1);
    img_w64(&im, slots + 24, (UINT64_C(7) << 2) | 3);
    img_w64(&im, slots + 32, z);
    img_w64(&im, slots + 40, UINT64_C(0xdeadbeef0)); /* above stackpointer: not read */
    img_field(&im, f, L->iframe_stackpointer, slots + 40);
    seen s = {0};
    ph_iframe_referents(h, f, note, &s);
    assert_true(has(&s, code));
    assert_true(has(&s, func));
    assert_true(has(&s, x));
    assert_true(has(&s, y));
    assert_true(has(&s, z));
    assert_int_equal(s.n, 5);
    /* an entry frame (FRAME_OWNED_BY_INTERPRETER 3): its code only */
    img_w8(&im, f + (uint64_t)L->iframe_owner, 3);
    s.n = 0;
    ph_iframe_referents(h, f, note, &s);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.addr[0], code);
    img_heap_free(h);
    img_free(&im);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stackref_decoding),
        cmocka_unit_test(test_refcount_word),
        cmocka_unit_test(test_freelisted_object_rejected),
        cmocka_unit_test(test_frame_slots_3_14),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
