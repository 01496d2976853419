/* What 3.14 changed in the words every walker reads: the reference count at
 * the start of each object (a u32 ob_refcnt, then u16 ob_overflow and u16
 * ob_flags, on 64-bit little-endian default builds) and the _PyStackRef
 * values of frames (f_executable, f_funcobj, localsplus).  The layout says
 * which applies (ob_refcnt_size, stackref_tagged); these decode the raw
 * words accordingly. */
#ifndef PH_STACKREF_H
#define PH_STACKREF_H

#include "cpython/layout.h"

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
