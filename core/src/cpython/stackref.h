/* What 3.14 changed in the words every walker reads: the reference count at
 * the start of each object (a u32 ob_refcnt, then u16 ob_overflow and u16
 * ob_flags, on 64-bit little-endian default builds) and the _PyStackRef
 * values of frames (f_executable, f_funcobj, localsplus).  The layout says
 * which applies (ob_refcnt_size, stackref_tagged); these decode the raw
 * words accordingly. */
#ifndef PH_STACKREF_H
#define PH_STACKREF_H

#include "cpython/layout.h"
#include "memory/reader.h"

#include <stdbool.h>
#include <stdint.h>

/* The reference count in the object's first word, as Py_REFCNT gives it:
 * the whole word before 3.14, its low 32 bits on 3.14, where the high ones
 * are ob_overflow (never set) and ob_flags (only _Py_IMMORTAL_FLAGS 1 and
 * _Py_STATICALLY_ALLOCATED_FLAG 4: refcount.h, Objects/object.c).  Any other
 * high bits say the word is no reference count: -1.  So a dead object on one
 * of 3.14's freelists (pycore_freelist.h _PyFreeList_Push stores the next
 * free object's address in its first word) is not taken for a live one. */
static inline int64_t ph_refcnt_word(const ph_layout *L, uint64_t word)
{
    if (L->ob_refcnt_size != 4)
        return (int64_t)word;
    if ((word >> 32) & ~(UINT64_C(5) << 16))
        return -1;
    return (int64_t)(uint32_t)word;
}

/* Whether the target's objects can be immortal: 3.12+ (PEP 683). */
static inline bool ph_has_immortal_objects(const ph_layout *L)
{
    return L->minor >= 12;
}

/* Whether a reference count as Py_REFCNT gives it is an immortal object's:
 * its low 32 bits negative (3.12+ refcount.h _Py_IsImmortal; a free-threaded
 * build's immortal count is reported as UINT32_MAX, below). */
static inline bool ph_refcnt_immortal(const ph_layout *L, int64_t rc)
{
    return ph_has_immortal_objects(L) && (int32_t)(uint32_t)rc < 0;
}

/* The reference count of the object at addr, from the header of the
 * target's build, as Py_REFCNT gives it; -1 when the words are no reference
 * count.  *immortal says whether the object is immortal (3.12+).
 * ph_refcnt_read_ex also says when a count of 0 is that of a live object
 * with deferred reference counting (free-threaded builds).
 *
 * Free-threaded builds (Include/object.h, Py_GIL_DISABLED): a u32
 * ob_ref_local (the owning thread's count; UINT32_MAX, _Py_IMMORTAL_REFCNT_LOCAL,
 * when immortal) and a Py_ssize_t ob_ref_shared whose low two bits are flags
 * (_Py_REF_SHARED_SHIFT 2): the count is local + (shared >> 2), less the
 * deferred bias below.  An immortal object's count is reported as
 * UINT32_MAX, whose low 32 bits are negative like the default builds'
 * immortal counts. */
static inline bool ph_refcnt_read_ex(ph_reader *r, const ph_layout *L, uint64_t addr,
                                     int64_t *rc, bool *immortal, bool *deferred_zero)
{
    *immortal = false;
    *deferred_zero = false;
    if (L->free_threaded == 1) {
        uint32_t local;
        int64_t shared;
        if (!ph_read(r, addr + (uint64_t)L->ob_ref_local, &local, 4) ||
            !ph_read(r, addr + (uint64_t)L->ob_ref_shared, &shared, 8))
            return false;
        if (local == UINT32_MAX) {
            *immortal = true;
            *rc = (int64_t)UINT32_MAX;
            return true;
        }
        /* Deferred reference counting (_PyGC_BITS_DEFERRED, bit 6 of
         * ob_gc_bits: functions, code, modules, heap types...) adds
         * _Py_REF_DEFERRED (PY_SSIZE_T_MAX / 8) to the shared count
         * (pycore_object.h _PyObject_SetDeferredRefcount), which Py_REFCNT
         * shows; the count of references is what is left. */
        uint8_t gc_bits = 0;
        if (!ph_read(r, addr + (uint64_t)L->ob_gc_bits, &gc_bits, 1))
            return false;
        int64_t total = (int64_t)local + (shared >> 2);
        if (gc_bits & (1u << 6)) {
            /* References from frames are not counted (deferred), and heap
             * types and code objects keep part of their count in each
             * thread's refcounts array (their unique_id; pycore_uniqueid.h),
             * so the shared count of a live object can fall to 0 or below
             * (gc_free_threading.c merges the per-thread counts before it
             * looks).  Such an object counts as 0, and is no dead one. */
            total -= INT64_MAX / 8;
            if (total <= 0) {
                *deferred_zero = true;
                total = 0;
            }
        }
        *rc = total < 0 ? -1 : total;
        return true;
    }
    uint64_t word;
    if (!ph_read(r, addr, &word, 8))
        return false;
    *rc = ph_refcnt_word(L, word);
    *immortal = *rc >= 0 && ph_refcnt_immortal(L, *rc);
    return true;
}

static inline bool ph_refcnt_read(ph_reader *r, const ph_layout *L, uint64_t addr, int64_t *rc,
                                  bool *immortal)
{
    bool deferred_zero;
    return ph_refcnt_read_ex(r, L, addr, rc, immortal, &deferred_zero);
}

/* The object a frame slot refers to, or 0 for none.  3.14 (default build,
 * pycore_stackref.h): PyStackRef_NULL is 1 (Py_TAG_REFCNT), a tagged int
 * has its low two bits set (Py_INT_TAG 3) and is no pointer, and a
 * reference is the pointer with Py_TAG_REFCNT possibly set (deferred or
 * immortal): BITS_TO_PTR_MASKED clears it. */
static inline uint64_t ph_stackref_obj(const ph_layout *L, uint64_t bits)
{
    if (L->stackref_tagged != 1)
        return bits;
    if ((bits & 3) == 3)
        return 0; /* a tagged int */
    bits &= ~(uint64_t)1;
    return bits; /* 0 for PyStackRef_NULL (and for a plain NULL) */
}

#endif
