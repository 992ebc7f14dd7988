/* Compiled hot paths, optional: the backward walk's loop, and recording one op in forward.
 *
 * engine.py and graph.py are the reference; everything here has a Python twin that it must
 * equal, and tests/autograd/test_accelerator*.py run both and compare.
 *
 * The walk. `_step(w, node, g)` runs one node in Python. `walk` keeps the queue of reached nodes
 * (a max-heap on seq) and runs *plain* nodes itself: nodes without tensor hooks or aux, whose
 * saved tensors (and output) were not changed in place since they were saved, in a walk without
 * create_graph, anomaly mode, targets or post-accumulate hooks. Every other node goes to
 * `_step`, so rare features have one implementation; a rule that raises gets the same note
 * naming its node (engine._note_vjp_failure).
 *
 * The recorder. `record` is the body of graph.apply1 and of graph.binary_primitive's function
 * for one or two plain Tensors: run the forward, wrap the output, record the node. Whatever it
 * does not handle (a forward that raises, a saved tensor with a version counter) it leaves to
 * the Python path by returning NotImplemented.
 *
 * Node and Tensor are Python classes with __slots__; a slot is a PyObject* at a fixed offset,
 * read here through the offsets their member descriptors publish (see `setup`). */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>

#define SLOT(obj, offset) (*(PyObject **)((char *)(obj) + (offset)))

static PyTypeObject *node_type = NULL;
static PyTypeObject *tensor_type = NULL;
static PyObject *add_to_leaf = NULL; /* engine._add_to_leaf(table, leaf, gx, defer) */
static PyObject *conform = NULL;     /* engine._conform(ns, gx, shape, dtype, node, gxs, g, None) */
static PyObject *note_failure = NULL; /* engine._note_vjp_failure(node, err) */
static Py_ssize_t defer_max_count = 0;

static Py_ssize_t node_op, node_edges, node_needs, node_saved, node_out_data, node_params,
    node_shape, node_dtype, node_seq, node_hooks, node_versions, node_out_version;
static Py_ssize_t tensor_data, tensor_version, tensor_requires_grad, tensor_node;

static PyObject *str_table, *str_ns, *str_retain_graph, *str_save_out, *str_has_aux, *str_vjp,
    *str_shape, *str_dtype;

/* ------------------------------------------------------------------------------ setup */
static int
slot_offset(PyTypeObject *type, const char *name, Py_ssize_t *offset)
{
    PyObject *descr = PyDict_GetItemString(type->tp_dict, name); /* borrowed */
    if (descr == NULL || Py_TYPE(descr) != &PyMemberDescr_Type) {
        PyErr_Format(PyExc_TypeError, "_accel.setup: %s.%s is not a slot", type->tp_name, name);
        return -1;
    }
    PyMemberDef *member = ((PyMemberDescrObject *)descr)->d_member;
    if (member->type != T_OBJECT_EX) {
        PyErr_Format(PyExc_TypeError, "_accel.setup: %s.%s is not an object slot",
                     type->tp_name, name);
        return -1;
    }
    *offset = member->offset;
    return 0;
}

static PyObject *
setup(PyObject *self, PyObject *args)
{
    PyObject *node, *tensor, *leaf_fn, *conform_fn, *note_fn;
    Py_ssize_t max_count;
    if (!PyArg_ParseTuple(args, "O!O!OOOn", &PyType_Type, &node, &PyType_Type, &tensor,
                          &leaf_fn, &conform_fn, &note_fn, &max_count))
        return NULL;
    PyTypeObject *nt = (PyTypeObject *)node, *tt = (PyTypeObject *)tensor;
    if (slot_offset(nt, "op", &node_op) || slot_offset(nt, "edges", &node_edges) ||
        slot_offset(nt, "needs", &node_needs) || slot_offset(nt, "saved", &node_saved) ||
        slot_offset(nt, "out_data", &node_out_data) ||
        slot_offset(nt, "params", &node_params) || slot_offset(nt, "shape", &node_shape) ||
        slot_offset(nt, "dtype", &node_dtype) || slot_offset(nt, "seq", &node_seq) ||
        slot_offset(nt, "hooks", &node_hooks) || slot_offset(nt, "versions", &node_versions) ||
        slot_offset(nt, "out_version", &node_out_version) ||
        slot_offset(tt, "data", &tensor_data) || slot_offset(tt, "_version", &tensor_version) ||
        slot_offset(tt, "_requires_grad", &tensor_requires_grad) ||
        slot_offset(tt, "_node", &tensor_node))
        return NULL;
    Py_XSETREF(node_type, (PyTypeObject *)Py_NewRef(node));
    Py_XSETREF(tensor_type, (PyTypeObject *)Py_NewRef(tensor));
    Py_XSETREF(add_to_leaf, Py_NewRef(leaf_fn));
    Py_XSETREF(conform, Py_NewRef(conform_fn));
    Py_XSETREF(note_failure, Py_NewRef(note_fn));
    defer_max_count = max_count;
    Py_RETURN_NONE;
}

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
static PyObject *
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

/* ------------------------------------------------------------------------------ the recorder */
static PyObject *graph_globals = NULL; /* graph.py's module dict: _grad_enabled and _seq */
static PyObject *needs_one, *needs_both, *needs_first, *needs_second, *no_params;
static PyObject *ndarray_type, *asarray_fn, *empty_tuple;
static PyObject *str_grad_enabled, *str_seq;

static PyObject *
setup_record(PyObject *self, PyObject *args)
{
    PyObject *globals, *one, *both, *first, *second, *params, *ndarray, *asarray;
    if (!PyArg_ParseTuple(args, "O!OOOOOOO", &PyDict_Type, &globals, &one, &both, &first,
                          &second, &params, &ndarray, &asarray))
        return NULL;
    Py_XSETREF(graph_globals, Py_NewRef(globals));
    Py_XSETREF(needs_one, Py_NewRef(one));
    Py_XSETREF(needs_both, Py_NewRef(both));
    Py_XSETREF(needs_first, Py_NewRef(first));
    Py_XSETREF(needs_second, Py_NewRef(second));
    Py_XSETREF(no_params, Py_NewRef(params));
    Py_XSETREF(ndarray_type, Py_NewRef(ndarray));
    Py_XSETREF(asarray_fn, Py_NewRef(asarray));
    Py_RETURN_NONE;
}

static PyObject *
new_instance(PyTypeObject *type)
{
    /* object.__new__(type): allocates and prepares the instance __dict__ as Python does */
    return PyBaseObject_Type.tp_new(type, empty_tuple, NULL);
}

#define SAVE_X 1
#define SAVE_Y 2
#define SAVE_OUT 4

/* record(op, forward, x, y, flags): y is None for a one-input op; flags say what the node keeps
 * (SAVE_X, SAVE_Y: inputs; SAVE_OUT: the output). Returns the output Tensor, or NotImplemented
 * when the Python path must do it. */
static PyObject *
record(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 5 || graph_globals == NULL || node_type == NULL) {
        PyErr_SetString(PyExc_TypeError, "_accel.record(op, forward, x, y, flags) after setup");
        return NULL;
    }
    PyObject *op = args[0], *forward = args[1], *x = args[2], *y = args[3];
    long flags = PyLong_AsLong(args[4]);
    if (flags == -1 && PyErr_Occurred())
        return NULL;
    int binary = y != Py_None;
    if (!PyObject_TypeCheck(x, tensor_type) || (binary && !PyObject_TypeCheck(y, tensor_type)))
        Py_RETURN_NOTIMPLEMENTED; /* not a Tensor: the Python path words the error */
    PyObject *x_data = SLOT(x, tensor_data), *y_data = binary ? SLOT(y, tensor_data) : NULL;
    if (x_data == NULL || (binary && y_data == NULL))
        Py_RETURN_NOTIMPLEMENTED;
    /* a saved tensor changed in place before: the Python path records its version */
    if (((flags & SAVE_X) && SLOT(x, tensor_version) != Py_None) ||
        ((flags & SAVE_Y) && binary && SLOT(y, tensor_version) != Py_None))
        Py_RETURN_NOTIMPLEMENTED;

    PyObject *call[2] = {x_data, y_data};
    PyObject *out = PyObject_Vectorcall(forward, call, binary ? 2 : 1, NULL);
    if (out == NULL) {
        if (!PyErr_ExceptionMatches(PyExc_Exception))
            return NULL;
        PyErr_Clear(); /* the Python path runs it again and words the error */
        Py_RETURN_NOTIMPLEMENTED;
    }
    if ((PyObject *)Py_TYPE(out) != ndarray_type) { /* a NumPy scalar from 0-d inputs */
        PyObject *array = PyObject_CallOneArg(asarray_fn, out);
        Py_DECREF(out);
        if (array == NULL)
            return NULL;
        out = array;
    }
    PyObject *t = new_instance(tensor_type);
    if (t == NULL) {
        Py_DECREF(out);
        return NULL;
    }
    SLOT(t, tensor_data) = out; /* the tensor takes our reference */
    SLOT(t, tensor_version) = Py_NewRef(Py_None);

    PyObject *enabled = PyDict_GetItemWithError(graph_globals, str_grad_enabled);
    if (enabled == NULL) {
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_RuntimeError, "_accel.record: graph._grad_enabled is missing");
        Py_DECREF(t);
        return NULL;
    }
    int x_wants = SLOT(x, tensor_requires_grad) == Py_True;
    int y_wants = binary && SLOT(y, tensor_requires_grad) == Py_True;
    if (enabled != Py_True || !(x_wants || y_wants)) {
        SLOT(t, tensor_requires_grad) = Py_NewRef(Py_False);
        SLOT(t, tensor_node) = Py_NewRef(Py_None);
        return t;
    }

    PyObject *seq_now = PyDict_GetItemWithError(graph_globals, str_seq);
    long long seq = seq_now ? PyLong_AsLongLong(seq_now) : -1;
    if (seq == -1) {
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_RuntimeError, "_accel.record: graph._seq is missing");
        Py_DECREF(t);
        return NULL;
    }
    PyObject *seq_next = PyLong_FromLongLong(seq + 1);
    PyObject *node = seq_next ? new_instance(node_type) : NULL;
    PyObject *shape = node ? PyObject_GetAttr(out, str_shape) : NULL;
    PyObject *dtype = shape ? PyObject_GetAttr(out, str_dtype) : NULL;
    PyObject *edges = dtype ? PyTuple_New(binary ? 2 : 1) : NULL;
    PyObject *saved = NULL;
    if (edges != NULL) {
        int n_saved = ((flags & SAVE_X) != 0) + (binary && (flags & SAVE_Y) != 0);
        saved = PyTuple_New(n_saved);
    }
    if (saved == NULL || PyDict_SetItem(graph_globals, str_seq, seq_next) < 0) {
        Py_XDECREF(seq_next);
        Py_XDECREF(node);
        Py_XDECREF(shape);
        Py_XDECREF(dtype);
        Py_XDECREF(edges);
        Py_XDECREF(saved);
        Py_DECREF(t);
        return NULL;
    }
    PyObject *x_node = SLOT(x, tensor_node) ? SLOT(x, tensor_node) : Py_None;
    PyTuple_SET_ITEM(edges, 0, Py_NewRef(!x_wants ? Py_None : x_node != Py_None ? x_node : x));
    if (binary) {
        PyObject *y_node = SLOT(y, tensor_node) ? SLOT(y, tensor_node) : Py_None;
        PyTuple_SET_ITEM(edges, 1,
                         Py_NewRef(!y_wants ? Py_None : y_node != Py_None ? y_node : y));
    }
    Py_ssize_t k = 0;
    if (flags & SAVE_X)
        PyTuple_SET_ITEM(saved, k++, Py_NewRef(x));
    if (binary && (flags & SAVE_Y))
        PyTuple_SET_ITEM(saved, k++, Py_NewRef(y));
    PyObject *needs = !binary ? needs_one : x_wants && y_wants ? needs_both
                                            : x_wants          ? needs_first
                                                               : needs_second;
    SLOT(node, node_op) = Py_NewRef(op);
    SLOT(node, node_edges) = edges;
    SLOT(node, node_needs) = Py_NewRef(needs);
    SLOT(node, node_params) = Py_NewRef(no_params);
    SLOT(node, node_shape) = shape;
    SLOT(node, node_dtype) = dtype;
    SLOT(node, node_seq) = seq_next;
    SLOT(node, node_hooks) = Py_NewRef(Py_None);
    SLOT(node, node_versions) = Py_NewRef(Py_None);
    SLOT(node, node_out_version) = Py_NewRef(Py_None);
    SLOT(node, node_saved) = saved;
    SLOT(node, node_out_data) = Py_NewRef((flags & SAVE_OUT) ? out : Py_None);
    SLOT(t, tensor_requires_grad) = Py_NewRef(Py_True);
    SLOT(t, tensor_node) = node; /* the tensor takes our reference */
    return t;
}

/* ------------------------------------------------------------------------------ primitives */
/* Primitive(op, forward, fallback, flags, arity, floating): a callable for the hottest ops (the
 * operators, tanh, relu...) that records plain calls itself and passes every other call to
 * `fallback`, the op's Python function (graph.fast_primitive). A call is plain when the
 * accelerator is on, no mode (autocast, anomaly...) is active, and the arguments are `arity`
 * exact Tensors without keywords, of one dtype (binary ops) or of a float dtype (`floating`
 * unary ops, whose Python function would convert other dtypes first). As a method descriptor
 * it is called without a bound method, like a built-in method, so `y * w` runs no Python
 * frame. */
typedef struct {
    PyObject_HEAD
    PyObject *op, *forward, *fallback, *flags, *dict;
    int arity, floating;
    vectorcallfunc vectorcall;
} Primitive;

static PyObject *float_dtypes = NULL; /* the dtypes a `floating` op takes as they are */
static PyObject *str_plain, *str_record;

static int
plain_call(Primitive *p, PyObject *const *args)
{
    PyObject *plain = PyDict_GetItemWithError(graph_globals, str_plain);
    PyObject *recorder = PyDict_GetItemWithError(graph_globals, str_record);
    if (plain != Py_True || recorder == NULL || recorder == Py_None || float_dtypes == NULL) {
        PyErr_Clear();
        return 0;
    }
    for (int i = 0; i < p->arity; i++)
        if (Py_TYPE(args[i]) != tensor_type || SLOT(args[i], tensor_data) == NULL)
            return 0;
    PyObject *dtype = PyObject_GetAttr(SLOT(args[0], tensor_data), str_dtype);
    if (dtype == NULL) {
        PyErr_Clear();
        return 0;
    }
    int ok = 1;
    if (p->arity == 2) {
        PyObject *other = PyObject_GetAttr(SLOT(args[1], tensor_data), str_dtype);
        if (other == NULL)
            PyErr_Clear();
        ok = other == dtype;
        Py_XDECREF(other);
    } else if (p->floating) {
        ok = 0;
        for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(float_dtypes); i++)
            ok |= PyTuple_GET_ITEM(float_dtypes, i) == dtype;
    }
    Py_DECREF(dtype);
    return ok;
}

static PyObject *
primitive_vectorcall(PyObject *callable, PyObject *const *args, size_t nargsf,
                     PyObject *kwnames)
{
    Primitive *p = (Primitive *)callable;
    Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
    if (kwnames == NULL && nargs == p->arity && graph_globals != NULL && plain_call(p, args)) {
        PyObject *call[5] = {p->op, p->forward, args[0], p->arity == 2 ? args[1] : Py_None,
                             p->flags};
        PyObject *t = record(NULL, call, 5);
        if (t != Py_NotImplemented)
            return t; /* the output, or NULL: an error */
        Py_DECREF(t);
    }
    return PyObject_Vectorcall(p->fallback, args, nargsf, kwnames);
}

static PyObject *
primitive_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    PyObject *op, *forward, *fallback, *flags;
    int arity, floating;
    if (!PyArg_ParseTuple(args, "OOOO!ip", &op, &forward, &fallback, &PyLong_Type, &flags,
                          &arity, &floating))
        return NULL;
    if (arity != 1 && arity != 2) {
        PyErr_SetString(PyExc_ValueError, "Primitive: arity must be 1 or 2");
        return NULL;
    }
    Primitive *p = (Primitive *)type->tp_alloc(type, 0);
    if (p == NULL)
        return NULL;
    p->op = Py_NewRef(op);
    p->forward = Py_NewRef(forward);
    p->fallback = Py_NewRef(fallback);
    p->flags = Py_NewRef(flags);
    p->arity = arity;
    p->floating = floating;
    p->vectorcall = primitive_vectorcall;
    return (PyObject *)p;
}

static int
primitive_traverse(Primitive *p, visitproc visit, void *arg)
{
    Py_VISIT(p->op);
    Py_VISIT(p->forward);
    Py_VISIT(p->fallback);
    Py_VISIT(p->flags);
    Py_VISIT(p->dict);
    return 0;
}

static int
primitive_clear(Primitive *p)
{
    Py_CLEAR(p->op);
    Py_CLEAR(p->forward);
    Py_CLEAR(p->fallback);
    Py_CLEAR(p->flags);
    Py_CLEAR(p->dict);
    return 0;
}

static void
primitive_dealloc(Primitive *p)
{
    PyObject_GC_UnTrack(p);
    primitive_clear(p);
    Py_TYPE(p)->tp_free((PyObject *)p);
}

static PyObject *
primitive_get(PyObject *self, PyObject *obj, PyObject *type)
{
    if (obj == NULL || obj == Py_None)
        return Py_NewRef(self);
    return PyMethod_New(self, obj);
}

/* Like a function: copies are the object itself, and pickling refers to it by module and name. */
static PyObject *
primitive_self(PyObject *self, PyObject *unused)
{
    return Py_NewRef(self);
}

static PyObject *
primitive_reduce(PyObject *self, PyObject *unused)
{
    return PyObject_GetAttrString(self, "__name__");
}

static PyMethodDef primitive_methods[] = {
    {"__copy__", primitive_self, METH_NOARGS, NULL},
    {"__deepcopy__", primitive_self, METH_O, NULL},
    {"__reduce__", primitive_reduce, METH_NOARGS, NULL},
    {NULL},
};

static PyMemberDef primitive_members[] = {
    {"__wrapped__", T_OBJECT, offsetof(Primitive, fallback), READONLY,
     "the op's Python function, which takes every call that is not plain"},
    {"__dictoffset__", T_PYSSIZET, offsetof(Primitive, dict), READONLY},
    {"__vectorcalloffset__", T_PYSSIZET, offsetof(Primitive, vectorcall), READONLY},
    {NULL},
};

static PyTypeObject PrimitiveType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "retrograd.autograd._accel.Primitive",
    .tp_basicsize = sizeof(Primitive),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_METHOD_DESCRIPTOR |
                Py_TPFLAGS_HAVE_VECTORCALL,
    .tp_doc = "An op's function with its plain path compiled (see graph.fast_primitive).",
    .tp_new = primitive_new,
    .tp_dealloc = (destructor)primitive_dealloc,
    .tp_traverse = (traverseproc)primitive_traverse,
    .tp_clear = (inquiry)primitive_clear,
    .tp_call = PyVectorcall_Call,
    .tp_vectorcall_offset = offsetof(Primitive, vectorcall),
    .tp_descr_get = primitive_get,
    .tp_dictoffset = offsetof(Primitive, dict),
    .tp_members = primitive_members,
    .tp_methods = primitive_methods,
};

static PyObject *
setup_primitives(PyObject *self, PyObject *args)
{
    PyObject *dtypes;
    if (!PyArg_ParseTuple(args, "O!", &PyTuple_Type, &dtypes))
        return NULL;
    Py_XSETREF(float_dtypes, Py_NewRef(dtypes));
    Py_RETURN_NONE;
}

/* ------------------------------------------------------------------------------ module */
static PyMethodDef methods[] = {
    {"setup", setup, METH_VARARGS,
     "setup(Node, Tensor, add_to_leaf, conform, note_vjp_failure, defer_max_count): bind the "
     "engine's types and helpers."},
    {"walk", walk, METH_VARARGS,
     "walk(w, starts, plain, step): run the backward walk `w` from the nodes `starts`."},
    {"setup_record", setup_record, METH_VARARGS,
     "setup_record(graph_globals, ONE, BOTH, FIRST, SECOND, NO_PARAMS, ndarray, asarray)."},
    {"setup_primitives", setup_primitives, METH_VARARGS,
     "setup_primitives(float_dtypes): the dtypes `floating` primitives take as they are."},
    {"record", (PyCFunction)(void (*)(void))record, METH_FASTCALL,
     "record(op, forward, x, y, flags): graph.apply1/binary_primitive's plain path."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_accel", "Compiled hot paths: the backward walk, the op recorder.", -1,
    methods,
};

PyMODINIT_FUNC
PyInit__accel(void)
{
#define INTERN(var, text)                                                                     \
    if ((var = PyUnicode_InternFromString(text)) == NULL)                                     \
        return NULL;
    INTERN(str_table, "table");
    INTERN(str_ns, "ns");
    INTERN(str_retain_graph, "retain_graph");
    INTERN(str_save_out, "save_out");
    INTERN(str_has_aux, "has_aux");
    INTERN(str_vjp, "vjp");
    INTERN(str_shape, "shape");
    INTERN(str_dtype, "dtype");
    INTERN(str_grad_enabled, "_grad_enabled");
    INTERN(str_seq, "_seq");
    INTERN(str_plain, "_plain");
    INTERN(str_record, "_record");
#undef INTERN
    if ((empty_tuple = PyTuple_New(0)) == NULL || PyType_Ready(&PrimitiveType) < 0)
        return NULL;
    PyObject *m = PyModule_Create(&module);
    if (m == NULL)
        return NULL;
    if (PyModule_AddObjectRef(m, "Primitive", (PyObject *)&PrimitiveType) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
