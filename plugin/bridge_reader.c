/* Reader: the target's memory (a core file's segments or a live process's
 * mappings, gdb's reads as the fallback), and the files a core maps. */
#include "bridge.h"

#include <string.h>

static bool fallback_read(uint64_t addr, void *buf, size_t len, void *payload)
{
    ReaderObject *self = payload;
    if (!self->fallback)
        return false;
    PyObject *exc_type, *exc_value, *exc_tb;
    PyErr_Fetch(&exc_type, &exc_value, &exc_tb);
    PyObject *res = PyObject_CallFunction(self->fallback, "Kn", (unsigned long long)addr,
                                          (Py_ssize_t)len);
    bool ok = false;
    if (res && PyBytes_Check(res) && (size_t)PyBytes_GET_SIZE(res) == len) {
        memcpy(buf, PyBytes_AS_STRING(res), len);
        ok = true;
    }
    Py_XDECREF(res);
    PyErr_Clear();
    PyErr_Restore(exc_type, exc_value, exc_tb);
    return ok;
}

static int Reader_init(ReaderObject *self, PyObject *args, PyObject *kw)
{
    if (!PyArg_ParseTuple(args, ""))
        return -1;
    ph_reader_free(self->r);
    self->r = NULL;
    ph_error *err = ph_reader_new(&self->r);
    if (err) {
        raise_error(err);
        return -1;
    }
    return 0;
}

static void Reader_dealloc(ReaderObject *self)
{
    ph_reader_free(self->r);
    Py_XDECREF(self->fallback);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* A Reader made by __new__ alone has no reader: refuse, never crash. */
int bridge_reader_ready(ReaderObject *self)
{
    if (self->r)
        return 1;
    PyErr_SetString(PyExc_ValueError, "Reader is not initialised");
    return 0;
}

static PyObject *Reader_open_core(ReaderObject *self, PyObject *args)
{
    if (!bridge_reader_ready(self))
        return NULL;
    const char *path;
    if (!PyArg_ParseTuple(args, "s", &path))
        return NULL;
    ph_error *err = ph_reader_open_core(self->r, path);
    if (err)
        return raise_error(err);
    Py_RETURN_NONE;
}

static PyObject *Reader_open_pid(ReaderObject *self, PyObject *args)
{
    if (!bridge_reader_ready(self))
        return NULL;
    int pid;
    if (!PyArg_ParseTuple(args, "i", &pid))
        return NULL;
    ph_error *err = ph_reader_open_pid(self->r, pid);
    if (err)
        return raise_error(err);
    Py_RETURN_NONE;
}

static PyObject *Reader_set_fallback(ReaderObject *self, PyObject *args)
{
    if (!bridge_reader_ready(self))
        return NULL;
    PyObject *fn;
    if (!PyArg_ParseTuple(args, "O", &fn))
        return NULL;
    Py_XDECREF(self->fallback);
    self->fallback = fn == Py_None ? NULL : (Py_INCREF(fn), fn);
    ph_reader_set_fallback(self->r, fallback_read, self);
    Py_RETURN_NONE;
}

static PyObject *Reader_read(ReaderObject *self, PyObject *args)
{
    if (!bridge_reader_ready(self))
        return NULL;
    unsigned long long addr;
    Py_ssize_t len;
    if (!PyArg_ParseTuple(args, "Kn", &addr, &len))
        return NULL;
    if (len < 0 || len > (1 << 24)) {
        PyErr_SetString(PyExc_ValueError, "length out of range");
        return NULL;
    }
    PyObject *b = PyBytes_FromStringAndSize(NULL, len);
    if (!b)
        return NULL;
    if (!ph_read(self->r, addr, PyBytes_AS_STRING(b), (size_t)len)) {
        Py_DECREF(b);
        Py_RETURN_NONE;
    }
    return b;
}

static PyMethodDef Reader_methods[] = {
    {"open_core", (PyCFunction)Reader_open_core, METH_VARARGS, "Add the PT_LOAD segments of a core file."},
    {"open_pid", (PyCFunction)Reader_open_pid, METH_VARARGS, "Add the mappings of a live process."},
    {"set_fallback", (PyCFunction)Reader_set_fallback, METH_VARARGS,
     "Callable(addr, len) -> bytes or None, for memory no segment covers."},
    {"read", (PyCFunction)Reader_read, METH_VARARGS, "Read bytes, or None when unreadable."},
    {NULL},
};

PyTypeObject bridge_ReaderType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "_probeheap.Reader",
    .tp_basicsize = sizeof(ReaderObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Reader_init,
    .tp_dealloc = (destructor)Reader_dealloc,
    .tp_methods = Reader_methods,
    .tp_doc = "Target memory: core file or live process segments, with a page cache.",
};

static ph_error *collect_file(uint64_t start, uint64_t end, uint64_t off, const char *path,
                              bool is_exe, void *payload)
{
    PyObject *t = Py_BuildValue("(KKKNO)", (unsigned long long)start, (unsigned long long)end,
                                (unsigned long long)off, PyUnicode_DecodeFSDefault(path),
                                is_exe ? Py_True : Py_False);
    if (!t || PyList_Append((PyObject *)payload, t) < 0) {
        Py_XDECREF(t);
        PyErr_Clear();
        return NULL;
    }
    Py_DECREF(t);
    return NULL;
}

static PyObject *mod_core_mapped_files(PyObject *mod, PyObject *args)
{
    const char *path;
    if (!PyArg_ParseTuple(args, "s", &path))
        return NULL;
    PyObject *list = PyList_New(0);
    if (!list)
        return NULL;
    ph_error *err = ph_core_mapped_files(path, collect_file, list);
    if (err) {
        Py_DECREF(list);
        return raise_error(err);
    }
    return list;
}

static PyMethodDef module_methods[] = {
    {"core_mapped_files", mod_core_mapped_files, METH_VARARGS,
     "core_mapped_files(path) -> [(start, end, offset, path, is_exe)]"},
    {NULL},
};

int bridge_reader(bridge_set *set)
{
    return bridge_add_type(set, "Reader", &bridge_ReaderType) ||
           bridge_add_module_methods(set, module_methods);
}
