/* The backward walk's loop (see accel.h, and engine._walk / engine._step). */
#include "accel.h"

/* ------------------------------------------------------------------------------ the queue */
/* A max-heap of nodes on seq; it owns a reference to each node it holds. */
typedef struct {
    long long seq;
    PyObject *node;
} Entry;

typedef struct {
    Entry *entries;
    Py_ssize_t size, capacity;
} Heap;

static int
heap_push(Heap *heap, PyObject *node)
{
    PyObject *seq_object = Py_TYPE(node) == node_type ? SLOT(node, node_seq) : NULL;
    if (seq_object == NULL) {
        PyErr_Format(PyExc_TypeError, "backward: expected a graph Node to walk, got %s",
                     Py_TYPE(node)->tp_name);
        return -1;
    }
    long long seq = PyLong_AsLongLong(seq_object);
    if (seq == -1 && PyErr_Occurred())
        return -1;
    if (heap->size == heap->capacity) {
        Py_ssize_t capacity = heap->capacity ? 2 * heap->capacity : 64;
        Entry *entries = PyMem_Realloc(heap->entries, capacity * sizeof(Entry));
        if (entries == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        heap->entries = entries;
        heap->capacity = capacity;
    }
    Py_ssize_t i = heap->size++;
    while (i > 0) {
        Py_ssize_t parent = (i - 1) / 2;
        if (heap->entries[parent].seq >= seq)
            break;
        heap->entries[i] = heap->entries[parent];
        i = parent;
    }
    heap->entries[i].seq = seq;
    heap->entries[i].node = Py_NewRef(node);
    return 0;
}

static PyObject * /* a new reference */
heap_pop(Heap *heap)
{
    PyObject *top = heap->entries[0].node;
    Entry last = heap->entries[--heap->size];
    Py_ssize_t i = 0, n = heap->size;
    for (;;) {
        Py_ssize_t child = 2 * i + 1;
        if (child >= n)
            break;
        if (child + 1 < n && heap->entries[child + 1].seq > heap->entries[child].seq)
            child++;
        if (heap->entries[child].seq <= last.seq)
            break;
        heap->entries[i] = heap->entries[child];
        i = child;
    }
    if (n > 0)
        heap->entries[i] = last;
    return top;
}

static void
heap_clear(Heap *heap)
{
    for (Py_ssize_t i = 0; i < heap->size; i++)
        Py_DECREF(heap->entries[i].node);
    PyMem_Free(heap->entries);
}

/* ------------------------------------------------------------------------------ op rules */
/* What the loop reads of an op class (its VJP rule and two flags), cached by the class's
 * version tag: CPython gives a class a new tag whenever it or a base class is changed, so an
 * entry is used only while the class is as it was when the entry was made. */
typedef struct {
    PyTypeObject *op;
    unsigned int tag;
    PyObject *vjp; /* a strong reference */
    int save_out, has_aux;
} OpInfo;

#define OP_CACHE_SIZE 256
static OpInfo op_cache[OP_CACHE_SIZE];

static int
flag(PyObject *op, PyObject *name)
{
    PyObject *value = PyObject_GetAttr(op, name);
    if (value == NULL)
        return -1;
    int truth = PyObject_IsTrue(value);
    Py_DECREF(value);
    return truth;
}

/* The op's rules, from the cache or looked up (and cached when the class allows); NULL with an
 * exception set on error. Only valid until the next call. */
static OpInfo *
op_info(PyObject *op)
{
    static OpInfo uncached;
    OpInfo *entry = &uncached;
    if (PyType_Check(op)) {
        PyTypeObject *type = (PyTypeObject *)op;
        entry = &op_cache[((uintptr_t)op >> 4) % OP_CACHE_SIZE];
        if (entry->op == type && entry->tag == type->tp_version_tag &&
            (type->tp_flags & Py_TPFLAGS_VALID_VERSION_TAG))
            return entry;
    }
    PyObject *vjp = PyObject_GetAttr(op, str_vjp);
    int save_out = vjp ? flag(op, str_save_out) : -1;
    int has_aux = save_out >= 0 ? flag(op, str_has_aux) : -1;
    if (has_aux < 0) {
        Py_XDECREF(vjp);
        return NULL;
    }
    Py_XSETREF(entry->vjp, vjp);
    entry->save_out = save_out;
    entry->has_aux = has_aux;
    entry->op = NULL;
    if (entry != &uncached && (((PyTypeObject *)op)->tp_flags & Py_TPFLAGS_VALID_VERSION_TAG)) {
        entry->op = (PyTypeObject *)op; /* borrowed: only compared, never dereferenced */
        entry->tag = ((PyTypeObject *)op)->tp_version_tag;
    }
    return entry;
}

/* ------------------------------------------------------------------------------ one node */
/* The count of a version counter `[count, name of the last in-place op]`; -1 when it is not
 * one (the caller then leaves the node to _step). */
static long long
version_of(PyObject *counter)
{
    if (!PyList_CheckExact(counter) || PyList_GET_SIZE(counter) < 1)
        return -1;
    long long count = PyLong_AsLongLong(PyList_GET_ITEM(counter, 0));
    if (count == -1 && PyErr_Occurred()) {
        PyErr_Clear();
        return -1;
    }
    return count;
}

/* 1: is the node plain (see the top of the file)? 0: no. */
static int
is_plain(PyObject *node)
{
    if (Py_TYPE(node) != node_type)
        return 0;
    /* tensor hooks, or an output changed in place since: _step's job */
    PyObject *hooks = SLOT(node, node_hooks), *out_version = SLOT(node, node_out_version);
    if ((hooks != NULL && hooks != Py_None) || out_version == NULL)
        return 0;
    if (out_version != Py_None && version_of(out_version) != 0)
        return 0;
    PyObject *saved = SLOT(node, node_saved);
    if (saved == NULL || !PyTuple_CheckExact(saved))
        return 0; /* None once released: _step raises the message */
    PyObject *versions = SLOT(node, node_versions);
    if (versions == NULL || (versions != Py_None && (!PyTuple_CheckExact(versions) ||
                                                     PyTuple_GET_SIZE(versions) !=
                                                         PyTuple_GET_SIZE(saved))))
        return 0;
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(saved); i++) {
        PyObject *x = PyTuple_GET_ITEM(saved, i);
        if (!PyObject_TypeCheck(x, tensor_type) || SLOT(x, tensor_data) == NULL)
            return 0;
        PyObject *counter = SLOT(x, tensor_version);
        if (counter == NULL)
            return 0;
        if (counter != Py_None) { /* changed in place at some time: since it was saved? */
            long long saved_version = 0;
            if (versions != Py_None) {
                saved_version = PyLong_AsLongLong(PyTuple_GET_ITEM(versions, i));
                if (saved_version == -1 && PyErr_Occurred()) {
                    PyErr_Clear();
                    return 0;
                }
            }
            if (version_of(counter) != saved_version)
                return 0; /* _step raises the message */
        }
    }
    return 1;
}

/* The gradient `gx` for input `edge` (a Node or a leaf Tensor) into the table.
 * Returns 0 or -1 (error); pushes a node reached for the first time onto the heap. */
static int
add_gradient(PyObject *table, Heap *heap, PyObject *ns, PyObject *node, PyObject *gxs,
             PyObject *g, PyObject *edge, PyObject *gx)
{
    PyObject *shape, *dtype;
    int is_node = Py_TYPE(edge) == node_type;
    if (is_node) {
        shape = SLOT(edge, node_shape);
        dtype = SLOT(edge, node_dtype);
        if (shape == NULL || dtype == NULL) {
            PyErr_SetString(PyExc_RuntimeError, "backward: a graph Node lacks shape or dtype");
            return -1;
        }
        Py_INCREF(shape);
        Py_INCREF(dtype);
    } else {
        PyObject *data = PyObject_TypeCheck(edge, tensor_type) ? SLOT(edge, tensor_data) : NULL;
        if (data == NULL) {
            PyErr_Format(PyExc_TypeError, "backward: a graph edge is a %s, not a Node or Tensor",
                         Py_TYPE(edge)->tp_name);
            return -1;
        }
        shape = PyObject_GetAttr(data, str_shape);
        dtype = shape ? PyObject_GetAttr(data, str_dtype) : NULL;
        if (dtype == NULL) {
            Py_XDECREF(shape);
            return -1;
        }
    }
    /* shape first, then dtype: the order of engine._conform's test */
    PyObject *gx_shape = PyObject_GetAttr(gx, str_shape);
    if (gx_shape == NULL)
        goto fail;
    int fits = PyObject_RichCompareBool(gx_shape, shape, Py_EQ);
    Py_DECREF(gx_shape);
    if (fits > 0) {
        PyObject *gx_dtype = PyObject_GetAttr(gx, str_dtype);
        if (gx_dtype == NULL)
            goto fail;
        fits = gx_dtype == dtype;
        Py_DECREF(gx_dtype);
    }
    if (fits < 0)
        goto fail;
    if (fits)
        Py_INCREF(gx);
    else { /* `gxs` is the rule's tuple, or NULL for a one-input node's lone gradient */
        PyObject *lone = gxs == NULL ? PyTuple_Pack(1, gx) : NULL;
        if (gxs == NULL && lone == NULL)
            goto fail;
        PyObject *call[8] = {ns, gx, shape, dtype, node, gxs ? gxs : lone, g, Py_None};
        gx = PyObject_Vectorcall(conform, call, 8, NULL);
        Py_XDECREF(lone);
        if (gx == NULL)
            goto fail;
    }
    Py_DECREF(shape);
    Py_DECREF(dtype);

    int status = 0;
    PyObject *previous = PyDict_GetItemWithError(table, edge); /* borrowed */
    if (previous == NULL) {
        if (PyErr_Occurred() || PyDict_SetItem(table, edge, gx) < 0)
            status = -1;
        else if (is_node)
            status = heap_push(heap, edge);
    } else if (is_node) {
        PyObject *total = PyNumber_Add(previous, gx);
        if (total == NULL || PyDict_SetItem(table, edge, total) < 0)
            status = -1;
        Py_XDECREF(total);
    } else if (PyList_CheckExact(previous) && PyList_GET_SIZE(previous) < defer_max_count) {
        status = PyList_Append(previous, gx);
    } else {
        PyObject *call[4] = {table, edge, gx, Py_True};
        PyObject *result = PyObject_Vectorcall(add_to_leaf, call, 4, NULL);
        status = result == NULL ? -1 : 0;
        Py_XDECREF(result);
    }
    Py_DECREF(gx);
    return status;
fail:
    Py_DECREF(shape);
    Py_DECREF(dtype);
    return -1;
}

/* Run a plain node. Returns 1 when done, 0 when it must go to _step instead (nothing has
 * changed then), -1 on error. */
static int
run_plain(PyObject *node, PyObject *g, PyObject *table, Heap *heap, PyObject *ns, int retain)
{
    PyObject *op = SLOT(node, node_op);
    PyObject *saved = SLOT(node, node_saved);
    PyObject *edges = SLOT(node, node_edges);
    PyObject *params = SLOT(node, node_params);
    PyObject *needs = SLOT(node, node_needs);
    if (op == NULL || edges == NULL || params == NULL || needs == NULL ||
        !PyTuple_CheckExact(edges))
        return 0;

    OpInfo *info = op_info(op);
    if (info == NULL)
        return -1;
    if (info->has_aux)
        return 0;
    int save_out = info->save_out;
    PyObject *vjp = Py_NewRef(info->vjp);

    Py_ssize_t n_saved = PyTuple_GET_SIZE(saved);
    PyObject *values = PyList_New(n_saved + save_out);
    if (values == NULL) {
        Py_DECREF(vjp);
        return -1;
    }
    for (Py_ssize_t i = 0; i < n_saved; i++)
        PyList_SET_ITEM(values, i, Py_NewRef(SLOT(PyTuple_GET_ITEM(saved, i), tensor_data)));
    if (save_out) {
        PyObject *out = SLOT(node, node_out_data);
        PyList_SET_ITEM(values, n_saved, Py_NewRef(out ? out : Py_None));
    }

    if (vjp == Py_None) { /* no rule: _step raises the message */
        Py_DECREF(vjp);
        Py_DECREF(values);
        return 0;
    }
    PyObject *call[5] = {ns, g, values, params, needs};
    PyObject *result = PyObject_Vectorcall(vjp, call, 5, NULL);
    Py_DECREF(vjp);
    Py_DECREF(values);
    if (result == NULL) { /* the rule raised: name the node in a note, as _step does */
        PyObject *type, *value, *traceback;
        PyErr_Fetch(&type, &value, &traceback);
        PyErr_NormalizeException(&type, &value, &traceback);
        if (traceback != NULL)
            PyException_SetTraceback(value, traceback);
        PyObject *note_call[2] = {node, value};
        PyObject *noted = PyObject_Vectorcall(note_failure, note_call, 2, NULL);
        if (noted == NULL) { /* the note itself failed: report that, chained to the rule's */
            Py_XDECREF(type);
            Py_XDECREF(value);
            Py_XDECREF(traceback);
            return -1;
        }
        Py_DECREF(noted);
        PyErr_Restore(type, value, traceback);
        return -1;
    }

    Py_ssize_t n_edges = PyTuple_GET_SIZE(edges);
    int status = 1;
    if (n_edges == 1) { /* the rule returned the one gradient itself */
        PyObject *edge = PyTuple_GET_ITEM(edges, 0);
        if (edge != Py_None && result != Py_None &&
            add_gradient(table, heap, ns, node, NULL, g, edge, result) < 0)
            status = -1;
    } else if (PyTuple_CheckExact(result) && PyTuple_GET_SIZE(result) == n_edges) {
        for (Py_ssize_t i = 0; i < n_edges; i++) {
            PyObject *edge = PyTuple_GET_ITEM(edges, i);
            PyObject *gx = PyTuple_GET_ITEM(result, i);
            if (edge == Py_None || gx == Py_None)
                continue;
            if (add_gradient(table, heap, ns, node, result, g, edge, gx) < 0) {
                status = -1;
                break;
            }
        }
    } else {
        Py_DECREF(result); /* an unusual rule result: _step's zip() decides what it means */
        return 0;
    }
    Py_DECREF(result);
    if (status == 1 && !retain) { /* release what backward kept */
        Py_SETREF(SLOT(node, node_saved), Py_NewRef(Py_None));
        PyObject *out = SLOT(node, node_out_data);
        SLOT(node, node_out_data) = Py_NewRef(Py_None);
        Py_XDECREF(out);
    }
    return status;
}

/* ------------------------------------------------------------------------------ the walk */
PyObject *
walk(PyObject *self, PyObject *args)
{
    PyObject *w, *starts, *step;
    int plain;
    if (!PyArg_ParseTuple(args, "OO!pO", &w, &PyList_Type, &starts, &plain, &step))
        return NULL;
    if (node_type == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "_accel.walk: setup() was not called");
        return NULL;
    }
    PyObject *table = PyObject_GetAttr(w, str_table);
    PyObject *ns = table ? PyObject_GetAttr(w, str_ns) : NULL;
    PyObject *retain_flag = ns ? PyObject_GetAttr(w, str_retain_graph) : NULL;
    int retain = retain_flag ? PyObject_IsTrue(retain_flag) : -1;
    Py_XDECREF(retain_flag);
    Heap heap = {NULL, 0, 0};
    PyObject *node = NULL, *g = NULL;
    if (retain < 0)
        goto fail;
    if (!PyDict_CheckExact(table)) {
        PyErr_SetString(PyExc_TypeError, "_accel.walk: the table must be a dict");
        goto fail;
    }
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(starts); i++)
        if (heap_push(&heap, PyList_GET_ITEM(starts, i)) < 0)
            goto fail;

    while (heap.size > 0) {
        node = heap_pop(&heap);
        g = PyDict_GetItemWithError(table, node);
        if (g == NULL) {
            if (!PyErr_Occurred())
                PyErr_SetString(PyExc_RuntimeError, "_accel.walk: a queued node has no gradient");
            goto fail;
        }
        Py_INCREF(g);
        if (PyDict_DelItem(table, node) < 0)
            goto fail;
        int done = plain && is_plain(node) ? run_plain(node, g, table, &heap, ns, retain) : 0;
        if (done < 0)
            goto fail;
        if (done == 0) {
            PyObject *call[3] = {w, node, g};
            PyObject *reached = PyObject_Vectorcall(step, call, 3, NULL);
            Py_CLEAR(g);
            if (reached == NULL)
                goto fail;
            PyObject *fast = PySequence_Fast(reached, "_step must return a list");
            Py_DECREF(reached);
            if (fast == NULL)
                goto fail;
            for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(fast); i++)
                if (heap_push(&heap, PySequence_Fast_GET_ITEM(fast, i)) < 0) {
                    Py_DECREF(fast);
                    goto fail;
                }
            Py_DECREF(fast);
        }
        Py_CLEAR(g);
        Py_CLEAR(node);
    }
    heap_clear(&heap);
    Py_DECREF(table);
    Py_DECREF(ns);
    Py_RETURN_NONE;
fail:
    Py_XDECREF(g);
    Py_XDECREF(node);
    heap_clear(&heap);
    Py_XDECREF(table);
    Py_XDECREF(ns);
    return NULL;
}
