/* Partition: heapy's partition of the heap, by kind, type, size, module,
 * referrers' kinds or reference names; rows only (plugin/probeheap/tables.py
 * makes the text). */
#include "bridge.h"

#include <string.h>

typedef struct {
    PyObject_HEAD
    ph_partition *p;
    PyObject *heap; /* keeps the strings alive */
} PartitionObject;

static void Partition_dealloc(PartitionObject *self)
{
    ph_partition_free(self->p);
    Py_XDECREF(self->heap);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *Partition_rows(PartitionObject *self, PyObject *unused)
{
    PyObject *list = PyList_New((Py_ssize_t)self->p->nrows);
    if (!list)
        return NULL;
    for (size_t i = 0; i < self->p->nrows; i++) {
        const ph_row *r = &self->p->rows[i];
        PyObject *t = Py_BuildValue("(NNKKO)", target_text(r->kind), target_text(r->type),
                                    (unsigned long long)r->count, (unsigned long long)r->size,
                                    r->estimate ? Py_True : Py_False);
        if (!t) {
            Py_DECREF(list);
            return NULL;
        }
        PyList_SET_ITEM(list, (Py_ssize_t)i, t);
    }
    return list;
}

static PyObject *Partition_get_count(PartitionObject *self, void *c)
{
    return PyLong_FromUnsignedLongLong(self->p->count);
}

static PyObject *Partition_get_size(PartitionObject *self, void *c)
{
    return PyLong_FromUnsignedLongLong(self->p->size);
}

static PyObject *Partition_get_nrows(PartitionObject *self, void *c)
{
    return PyLong_FromSize_t(self->p->nrows);
}

static PyGetSetDef Partition_getset[] = {
    {"count", (getter)Partition_get_count, NULL, "objects in all rows", NULL},
    {"size", (getter)Partition_get_size, NULL, "bytes in all rows", NULL},
    {"nrows", (getter)Partition_get_nrows, NULL, "number of rows", NULL},
    {NULL},
};

static PyMethodDef Partition_methods[] = {
    {"rows", (PyCFunction)Partition_rows, METH_NOARGS, "[(kind, type, count, size, estimate)]"},
    {NULL},
};

static PyTypeObject PartitionType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "_probeheap.Partition",
    .tp_basicsize = sizeof(PartitionObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_dealloc = (destructor)Partition_dealloc,
    .tp_methods = Partition_methods,
    .tp_getset = Partition_getset,
};

static PyObject *Heap_partition(HeapObject *self, PyObject *args)
{
    const char *by = "kind", *kind = NULL;
    if (!PyArg_ParseTuple(args, "|sz", &by, &kind))
        return NULL;
    static const struct {
        const char *name;
        ph_partition_by by;
    } bys[] = {{"kind", PH_BY_KIND}, {"type", PH_BY_TYPE}, {"size", PH_BY_SIZE},
               {"module", PH_BY_MODULE}, {"rcs", PH_BY_RCS}, {"via", PH_BY_VIA}};
    ph_partition_by b = PH_BY_KIND;
    size_t i;
    for (i = 0; i < sizeof(bys) / sizeof(bys[0]) && strcmp(by, bys[i].name) != 0; i++)
        ;
    if (i == sizeof(bys) / sizeof(bys[0])) {
        PyErr_Format(PyExc_ValueError, "cannot partition by %s", by);
        return NULL;
    }
    b = bys[i].by;
    PartitionObject *p = PyObject_New(PartitionObject, &PartitionType);
    if (!p)
        return NULL;
    p->p = NULL;
    p->heap = NULL;
    ph_error *err = INTERRUPTIBLE(self, kind ? ph_partition_of_kind(self->h, b, kind, &p->p)
                                             : ph_partition_new(self->h, b, &p->p));
    if (err) {
        Py_DECREF(p);
        return raise_error(err);
    }
    Py_INCREF(self);
    p->heap = (PyObject *)self;
    return (PyObject *)p;
}

static PyMethodDef methods[] = {
    {"partition", (PyCFunction)Heap_partition, METH_VARARGS, "partition(by='kind'|'type'|'size'|'module'|'rcs'|'via', kind=None): of one kind's objects when kind is given"},
    {NULL},
};

int bridge_partition(bridge_set *set)
{
    return bridge_add_type(set, NULL, &PartitionType) || bridge_add_heap_methods(set, methods);
}
