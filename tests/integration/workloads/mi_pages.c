/* The oracle of test_alloc_mimalloc.py: mimalloc's pages, read in process.
 *
 * Built by the test against the free-threaded target's own internal headers
 * (Py_BUILD_CORE: pycore_mimalloc.h, pycore_tstate.h, mimalloc/types.h), so
 * every struct is laid out by the compiler from CPython's source, not by
 * probe-heap's tables.  mi_pages.snapshot() walks what
 * get_mimalloc_allocated_blocks (Objects/obmalloc.c) walks: each thread
 * state's four heaps (their page queues) and the interpreter's abandoned
 * pool (segment.c mi_segment_visit_pages), and counts, per page with blocks
 * in use, mimalloc's own page->used less the blocks freed by other threads
 * and not yet collected (the thread-free list, the heap's delayed-free list):
 * the blocks the program holds.  probe-heap counts the other way round,
 * capacity less every free list, from outside.
 *
 * The walk fills fixed C arrays and allocates nothing: take() walks,
 * result() builds the dict of the last walk, same() walks again and says
 * whether anything changed since take() (the workload writes the result
 * and stops only once nothing has).  The other threads must be parked (the
 * workload's are). */
#define Py_BUILD_CORE_MODULE 1
#include <Python.h>
#include "pycore_interp.h"
#include "pycore_mimalloc.h"
#include "pycore_tstate.h"

#define MAX_CLASSES 512
#define MAX_SEGMENTS 65536
#define MAX_DELAYED 1000000

typedef struct {
    size_t size, pages, allocated, nfree;
} cls_t;

typedef struct walk_t {
    cls_t cls[MAX_CLASSES];
    size_t ncls;
    uintptr_t segs[MAX_SEGMENTS];
    size_t nsegs;
    size_t threads, pages, abandoned_pages, abandoned_segments, page_bytes, used;
    size_t heaps[_Py_MIMALLOC_HEAP_COUNT];
    int overflow;
} walk_t;

static walk_t S, again;

static size_t list_len(mi_block_t *b, const mi_page_t *page)
{
    size_t n = 0;
    for (; b && n < 1000000; b = mi_block_next(page, b))
        n++;
    return n;
}

/* Blocks of the heap's delayed-free list that lie in page. */
static size_t delayed_in(mi_heap_t *heap, mi_page_t *page)
{
    if (!heap)
        return 0;
    size_t n = 0, k = 0;
    for (mi_block_t *b = mi_atomic_load_ptr_relaxed(mi_block_t, &heap->thread_delayed_free);
         b && k < MAX_DELAYED; b = mi_block_nextx(heap, b, heap->keys), k++)
        if (_mi_ptr_page(b) == page)
            n++;
    return n;
}

static void visit_page(mi_page_t *page, mi_heap_t *heap, int abandoned)
{
    if (page->used == 0 || page->capacity == 0)
        return;
    /* mi_page_block_size, but for huge pages (one block) the page's slices:
     * its exact size needs _mi_segment_page_start, which is not exported */
    size_t bsize = page->xblock_size < MI_HUGE_BLOCK_SIZE
                       ? page->xblock_size
                       : (size_t)page->slice_count * MI_SEGMENT_SLICE_SIZE;
    size_t xfree = list_len(mi_page_thread_free(page), page) + delayed_in(heap, page);
    size_t allocated = page->used - xfree;
    S.pages++;
    S.abandoned_pages += abandoned;
    S.page_bytes += (size_t)page->slice_count * MI_SEGMENT_SLICE_SIZE;
    S.used += page->used;
    if (page->tag < _Py_MIMALLOC_HEAP_COUNT)
        S.heaps[page->tag] += allocated;
    size_t i = 0;
    while (i < S.ncls && S.cls[i].size != bsize)
        i++;
    if (i == S.ncls) {
        if (S.ncls == MAX_CLASSES) {
            S.overflow = 1;
            return;
        }
        S.cls[S.ncls++].size = bsize;
    }
    S.cls[i].pages++;
    S.cls[i].allocated += allocated;
    S.cls[i].nfree += page->reserved - allocated;
    uintptr_t seg = (uintptr_t)_mi_ptr_segment(page);
    for (size_t k = 0; k < S.nsegs; k++)
        if (S.segs[k] == seg)
            return;
    if (S.nsegs == MAX_SEGMENTS)
        S.overflow = 1;
    else
        S.segs[S.nsegs++] = seg;
}

static void visit_segment(mi_segment_t *segment)
{
    S.abandoned_segments++;
    mi_slice_t *slice = &segment->slices[0];
    const mi_slice_t *end = &segment->slices[segment->slice_entries];
    while (slice < end) {
        if (slice->xblock_size > 0) /* mi_slice_is_used */
            visit_page((mi_page_t *)slice, NULL, 1);
        if (slice->slice_count == 0)
            break;
        slice += slice->slice_count;
    }
}

static void walk(void)
{
    memset(&S, 0, sizeof(S));
    PyInterpreterState *interp = PyInterpreterState_Get();
    for (PyThreadState *t = PyInterpreterState_ThreadHead(interp); t; t = PyThreadState_Next(t)) {
        _PyThreadStateImpl *ts = (_PyThreadStateImpl *)t;
        if (!ts->mimalloc.initialized)
            continue;
        S.threads++;
        for (int h = 0; h < _Py_MIMALLOC_HEAP_COUNT; h++) {
            mi_heap_t *heap = &ts->mimalloc.heaps[h];
            for (size_t q = 0; q <= MI_BIN_FULL; q++)
                for (mi_page_t *p = heap->pages[q].first; p; p = p->next)
                    visit_page(p, heap, 0);
        }
    }
    mi_abandoned_pool_t *pool = &interp->mimalloc.abandoned_pool;
    mi_segment_t *lists[2] = {
        (mi_segment_t *)(mi_atomic_load_relaxed(&pool->abandoned) & ~MI_SEGMENT_MASK),
        mi_atomic_load_ptr_relaxed(mi_segment_t, &pool->abandoned_visited)};
    for (int k = 0; k < 2; k++)
        for (mi_segment_t *s = lists[k]; s; s = mi_atomic_load_ptr_relaxed(mi_segment_t, &s->abandoned_next))
            visit_segment(s);
}

static PyObject *take(PyObject *self, PyObject *unused)
{
    walk();
    Py_RETURN_NONE;
}

static PyObject *same(PyObject *self, PyObject *unused)
{
    memcpy(&again, &S, sizeof(S));
    walk();
    int eq = memcmp(&again, &S, sizeof(S)) == 0;
    memcpy(&S, &again, sizeof(S));
    return PyBool_FromLong(eq);
}

static PyObject *result(PyObject *self, PyObject *unused)
{
    if (S.overflow) {
        PyErr_SetString(PyExc_OverflowError, "more classes or segments than mi_pages can count");
        return NULL;
    }
    PyObject *classes = PyDict_New();
    for (size_t i = 0; classes && i < S.ncls; i++) {
        PyObject *v = Py_BuildValue("[nnn]", (Py_ssize_t)S.cls[i].pages,
                                    (Py_ssize_t)S.cls[i].allocated, (Py_ssize_t)S.cls[i].nfree);
        PyObject *k = PyLong_FromSize_t(S.cls[i].size);
        if (!v || !k || PyDict_SetItem(classes, k, v) < 0)
            Py_CLEAR(classes);
        Py_XDECREF(k);
        Py_XDECREF(v);
    }
    if (!classes)
        return NULL;
    return Py_BuildValue("{s:n,s:n,s:n,s:n,s:n,s:n,s:n,s:[nnnn],s:N}", "threads",
                         (Py_ssize_t)S.threads, "segments", (Py_ssize_t)S.nsegs,
                         "abandoned_segments", (Py_ssize_t)S.abandoned_segments, "pages",
                         (Py_ssize_t)S.pages, "abandoned_pages", (Py_ssize_t)S.abandoned_pages,
                         "page_bytes", (Py_ssize_t)S.page_bytes, "used_blocks", (Py_ssize_t)S.used,
                         "heaps", (Py_ssize_t)S.heaps[0], (Py_ssize_t)S.heaps[1],
                         (Py_ssize_t)S.heaps[2], (Py_ssize_t)S.heaps[3], "classes", classes);
}

static PyMethodDef methods[] = {
    {"take", take, METH_NOARGS, "walks mimalloc's pages in use (allocates nothing)"},
    {"same", same, METH_NOARGS, "walks again: True when nothing changed since take()"},
    {"result", result, METH_NOARGS, "what take() counted, as a dict"},
    {NULL, NULL, 0, NULL},
};

static PyModuleDef_Slot slots[] = {
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
    {0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "mi_pages", NULL, 0, methods, slots};

PyMODINIT_FUNC PyInit_mi_pages(void)
{
    return PyModuleDef_Init(&module);
}
