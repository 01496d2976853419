/* Heap.threads(): the threads and their Python stacks. */
#include "bridge.h"

static PyObject *Heap_threads(HeapObject *self, PyObject *unused)
{
    ph_threads *t;
    ph_error *err = ph_threads_get(self->h, &t);
    if (err)
        return raise_error(err);
    PyObject *list = PyList_New(0);
    for (size_t i = 0; list && i < t->n; i++) {
        const ph_thread_info *ti = &t->items[i];
        PyObject *frames = PyList_New(0);
        for (size_t j = 0; frames && j < ti->nframes; j++) {
            const ph_frame_info *f = &ti->frames[j];
            PyObject *fd = Py_BuildValue("{s:K,s:K,s:N,s:N,s:i,s:i}", "address",
                                         (unsigned long long)f->address, "code",
                                         (unsigned long long)f->code, "function",
                                         target_text(f->function), "file", target_text(f->file),
                                         "line", f->line, "first_line", f->first_line);
            if (!fd || PyList_Append(frames, fd) < 0)
                Py_CLEAR(frames);
            Py_XDECREF(fd);
        }
        PyObject *td = frames ? Py_BuildValue("{s:K,s:K,s:K,s:K,s:N,s:O}", "tstate",
                                              (unsigned long long)ti->tstate, "thread_id",
                                              (unsigned long long)ti->thread_id, "native_id",
                                              (unsigned long long)ti->native_id, "interp",
                                              (unsigned long long)ti->interp, "frames", frames,
                                              "truncated", ti->truncated ? Py_True : Py_False)
                              : NULL;
        if (!td || PyList_Append(list, td) < 0)
            Py_CLEAR(list);
        Py_XDECREF(td);
    }
    ph_threads_free(t);
    return list;
}

static PyMethodDef methods[] = {
    {"threads", (PyCFunction)Heap_threads, METH_NOARGS,
     "threads() -> [dict]: each thread's id and its Python frames, innermost first"},
    {NULL},
};

int bridge_threads(bridge_set *set)
{
    return bridge_add_heap_methods(set, methods);
}
