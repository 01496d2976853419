/* Heap.alloc(): pymalloc's arenas, pools and blocks. */
#include "bridge.h"

static bool is_mimalloc(const ph_alloc *a)
{
    return a->allocator && !strcmp(a->allocator, "mimalloc");
}

static PyObject *classes_list(const ph_alloc *a)
{
    PyObject *list = PyList_New((Py_ssize_t)a->nclasses);
    for (size_t i = 0; list && i < a->nclasses; i++) {
        const ph_size_class *c = &a->classes[i];
        /* mimalloc's classes are made of pages, pymalloc's of pools */
        PyObject *d = Py_BuildValue(
            "{s:I,s:K,s:K,s:K,s:K,s:K,s:K,s:K}", "size", (unsigned)c->size,
            is_mimalloc(a) ? "pages" : "pools",
            (unsigned long long)c->pools, "blocks_used", (unsigned long long)c->blocks_used,
            "blocks_free", (unsigned long long)c->blocks_free, "bytes_used",
            (unsigned long long)(c->blocks_used * c->size), "bytes_free",
            (unsigned long long)(c->blocks_free * c->size), "objects",
            (unsigned long long)c->objects, "object_bytes", (unsigned long long)c->object_bytes);
        if (!d) {
            Py_CLEAR(list);
            break;
        }
        PyList_SET_ITEM(list, (Py_ssize_t)i, d);
    }
    return list;
}

static PyObject *types_list(const ph_alloc *a)
{
    PyObject *list = PyList_New((Py_ssize_t)a->nmalloc_types);
    for (size_t i = 0; list && i < a->nmalloc_types; i++) {
        const ph_kind_total *k = &a->malloc_types[i];
        PyObject *d = Py_BuildValue("{s:N,s:K,s:K}", "type", target_text(k->kind), "count",
                                    (unsigned long long)k->count, "size",
                                    (unsigned long long)k->size);
        if (!d) {
            Py_CLEAR(list);
            break;
        }
        PyList_SET_ITEM(list, (Py_ssize_t)i, d);
    }
    return list;
}

static PyObject *count_bytes(uint64_t count, uint64_t bytes)
{
    return Py_BuildValue("{s:K,s:K}", "count", (unsigned long long)count, "bytes",
                         (unsigned long long)bytes);
}

/* Sets d[key] to v, taking v's reference; -1 when v is NULL or on error. */
static int dict_set(PyObject *d, const char *key, PyObject *v)
{
    if (!v)
        return -1;
    int rc = PyDict_SetItemString(d, key, v);
    Py_DECREF(v);
    return rc;
}

/* A free-threaded build's segments, pages and heaps. */
static PyObject *mimalloc_dict(const ph_alloc *a)
{
    static const char *const heaps[4] = {"mem", "object", "gc", "gc_pre"};
    PyObject *by_heap = PyDict_New();
    for (int t = 0; by_heap && t < 4; t++)
        if (dict_set(by_heap, heaps[t], count_bytes(a->mi_blocks[t], a->mi_bytes[t])) < 0)
            Py_CLEAR(by_heap);
    if (!by_heap)
        return NULL;
    return Py_BuildValue(
        "{s:I,s:I,s:K,s:K,s:K,s:K,s:K,s:K,s:K,s:K,s:N}", "segment_size",
        (unsigned)a->mi_segment_size, "slice_size", (unsigned)a->mi_slice_size, "threads",
        (unsigned long long)a->mi_threads, "segments", (unsigned long long)a->mi_segments,
        "abandoned_segments", (unsigned long long)a->mi_abandoned_segments, "pages",
        (unsigned long long)a->mi_pages, "abandoned_pages", (unsigned long long)a->mi_abandoned_pages,
        "page_bytes", (unsigned long long)a->mi_page_bytes, "used_blocks",
        (unsigned long long)a->mi_used_blocks, "bad_pages", (unsigned long long)a->mi_bad_pages,
        "heaps", by_heap);
}

static PyObject *Heap_alloc(HeapObject *self, PyObject *unused)
{
    ph_alloc *a;
    ph_error *err = INTERRUPTIBLE(self, ph_alloc_get(self->h, &a));
    if (err)
        return raise_error(err);
    PyObject *raw = a->raw_allocated_blocks < 0
                        ? Py_NewRef(Py_None)
                        : PyLong_FromLongLong((long long)a->raw_allocated_blocks);
    PyObject *objects = raw ? Py_BuildValue(
                                  "{s:N,s:N,s:N,s:N,s:K}", "in_arenas",
                                  count_bytes(a->objects_in_arenas, a->bytes_in_arenas),
                                  "malloc", count_bytes(a->objects_malloc, a->bytes_malloc),
                                  "static", count_bytes(a->objects_static, a->bytes_static),
                                  "stray", count_bytes(a->objects_stray, a->bytes_stray),
                                  "buffer_bytes", (unsigned long long)a->buffer_bytes)
                            : NULL;
    PyObject *d = NULL;
    if (objects)
        d = Py_BuildValue(
            "{s:I,s:I,s:I,s:I,s:s,s:K,s:K,s:K,s:K,"
            "s:K,s:K,s:K,s:K,s:K,s:K,s:K,s:K,s:K,s:K,s:K,s:K,s:N,s:K,s:K,s:K,s:K,"
            "s:N,s:N,s:N,s:d}",
            "arena_size", (unsigned)a->arena_size, "pool_size", (unsigned)a->pool_size,
            "pool_overhead", (unsigned)a->pool_overhead, "small_request_threshold",
            (unsigned)a->small_request_threshold, "found_by", a->found_by, "arenas_var",
            (unsigned long long)a->arenas_var, "arenas_at", (unsigned long long)a->arenas_at,
            "maxarenas", (unsigned long long)a->maxarenas, "states", (unsigned long long)a->states,
            "arenas", (unsigned long long)a->arenas, "arena_bytes",
            (unsigned long long)a->arena_bytes, "pools_used", (unsigned long long)a->pools_used,
            "pools_unused", (unsigned long long)a->pools_unused, "blocks_used",
            (unsigned long long)a->blocks_used, "blocks_free", (unsigned long long)a->blocks_free,
            "bytes_used", (unsigned long long)a->bytes_used, "bytes_free",
            (unsigned long long)a->bytes_free, "unused_pool_bytes",
            (unsigned long long)a->unused_pool_bytes, "pool_header_bytes",
            (unsigned long long)a->pool_header_bytes, "quantization_bytes",
            (unsigned long long)a->quantization_bytes, "alignment_bytes",
            (unsigned long long)a->alignment_bytes, "raw_allocated_blocks", raw, "map_bytes",
            (unsigned long long)a->map_bytes, "arena_objects_bytes",
            (unsigned long long)a->arena_objects_bytes, "corrupt_arenas",
            (unsigned long long)a->corrupt_arenas, "corrupt_pools",
            (unsigned long long)a->corrupt_pools, "classes", classes_list(a), "objects", objects,
            "malloc_types", types_list(a), "seconds", a->seconds);
    else
        Py_XDECREF(raw);
    if (d && dict_set(d, "allocator", PyUnicode_FromString(a->allocator ? a->allocator : "pymalloc")) < 0)
        Py_CLEAR(d);
    if (d && is_mimalloc(a) && dict_set(d, "mimalloc", mimalloc_dict(a)) < 0)
        Py_CLEAR(d);
    ph_alloc_free(a);
    return d;
}

static PyMethodDef methods[] = {
    {"alloc", (PyCFunction)Heap_alloc, METH_NOARGS,
     "alloc() -> dict: pymalloc's arenas, pools and blocks by size class"},
    {NULL},
};

int bridge_alloc(bridge_set *set)
{
    return bridge_add_heap_methods(set, methods);
}
