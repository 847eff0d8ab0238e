/* Flat-memory twins of two matcher structures (matcher/flat.py has the contracts and the
 * pure-Python twins, which are the reference).
 *
 * index_of(lst, x): where x is in a list, found by its identity in the list's array of pointers.
 * The book finds an order to remove in a level (or pool, or broker group) this way: the lists
 * are kept in (Inclusion Level, Time) order, but a bisection over them reads a probed order's
 * fields at every step, each order elsewhere in memory, while this reads one contiguous array
 * (that the removal's memmove reads and writes again anyway) and no order at all.
 *
 * ClidMap: the ClOrdID -> order map of one session.
 *
 * Why not a dict: the map holds every ClOrdID of the session's day and is probed on every new
 * order, cancel and replace, almost always in a table far larger than the CPU's caches. A
 * CPython dict of str keys keeps its slots in two arrays (an index table, then the entries) and
 * does not store the keys' hashes beside them, so a probe that meets another key reads that
 * key's string object to compare hashes: a lookup of an absent ClOrdID (every new order) costs
 * about four cache misses. Here a slot is (hash, key, value) in one open-addressing array with
 * linear probing at a load of at most one half: an absent key costs the one line of its slot
 * (its neighbours are in the same or the next line), a present one that line and the key's
 * string, compared only on an equal 64-bit hash.
 *
 * Keys are str and are never removed (a session's ClOrdIDs stay unique for the day); values are
 * any objects. Iteration order is the table's, not insertion order.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>

typedef struct {
    Py_hash_t hash;
    PyObject *key; /* NULL: an empty slot */
    PyObject *value;
} Slot;

typedef struct {
    PyObject_HEAD
    Slot *slots;
    size_t mask; /* number of slots - 1 (a power of two) */
    Py_ssize_t used;
} ClidMap;

#define MIN_SLOTS 8

static int
key_eq(PyObject *a, PyObject *b)
{
    /* a and b are str of equal hash */
    Py_ssize_t n = PyUnicode_GET_LENGTH(a);
    if (n != PyUnicode_GET_LENGTH(b) || PyUnicode_KIND(a) != PyUnicode_KIND(b))
        return 0;
    return memcmp(PyUnicode_DATA(a), PyUnicode_DATA(b), (size_t)n * PyUnicode_KIND(a)) == 0;
}

/* The slot holding key, or the empty slot where it would go. */
static inline Slot *
probe(ClidMap *m, PyObject *key, Py_hash_t hash)
{
    size_t i = (size_t)hash & m->mask;
    for (;;) {
        Slot *s = &m->slots[i];
        PyObject *k = s->key;
        if (k == NULL || k == key || (s->hash == hash && key_eq(k, key)))
            return s;
        i = (i + 1) & m->mask;
    }
}

static int
check_key(PyObject *key, Py_hash_t *hash)
{
    if (!PyUnicode_Check(key)) {
        PyErr_Format(PyExc_TypeError, "ClidMap keys are str, not %.100s",
                     Py_TYPE(key)->tp_name);
        return -1;
    }
    *hash = PyObject_Hash(key);
    return *hash == -1 && PyErr_Occurred() ? -1 : 0;
}

static int
grow(ClidMap *m)
{
    size_t n = (m->mask + 1) * 2;
    Slot *slots = PyMem_Calloc(n, sizeof(Slot));
    if (slots == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    size_t mask = n - 1;
    for (size_t j = 0; j <= m->mask; j++) {
        Slot *s = &m->slots[j];
        if (s->key == NULL)
            continue;
        size_t i = (size_t)s->hash & mask;
        while (slots[i].key != NULL)
            i = (i + 1) & mask;
        slots[i] = *s;
    }
    PyMem_Free(m->slots);
    m->slots = slots;
    m->mask = mask;
    return 0;
}

static PyObject *
ClidMap_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    if (PyTuple_GET_SIZE(args) != 0 || (kwds != NULL && PyDict_GET_SIZE(kwds) != 0)) {
        PyErr_SetString(PyExc_TypeError, "ClidMap() takes no arguments");
        return NULL;
    }
    ClidMap *m = (ClidMap *)type->tp_alloc(type, 0);
    if (m == NULL)
        return NULL;
    m->slots = PyMem_Calloc(MIN_SLOTS, sizeof(Slot));
    if (m->slots == NULL) {
        Py_DECREF(m);
        return PyErr_NoMemory();
    }
    m->mask = MIN_SLOTS - 1;
    m->used = 0;
    return (PyObject *)m;
}

static int
ClidMap_clear(ClidMap *m)
{
    if (m->slots == NULL)
        return 0;
    for (size_t j = 0; j <= m->mask; j++) {
        Slot *s = &m->slots[j];
        PyObject *k = s->key, *v = s->value;
        s->key = s->value = NULL;
        Py_XDECREF(k);
        Py_XDECREF(v);
    }
    m->used = 0;
    return 0;
}

static int
ClidMap_traverse(ClidMap *m, visitproc visit, void *arg)
{
    if (m->slots == NULL)
        return 0;
    for (size_t j = 0; j <= m->mask; j++) {
        Py_VISIT(m->slots[j].value);
    }
    return 0;
}

static void
ClidMap_dealloc(ClidMap *m)
{
    PyObject_GC_UnTrack(m);
    ClidMap_clear(m);
    PyMem_Free(m->slots);
    m->slots = NULL;
    Py_TYPE(m)->tp_free((PyObject *)m);
}

static Py_ssize_t
ClidMap_len(ClidMap *m)
{
    return m->used;
}

static PyObject *
ClidMap_subscript(ClidMap *m, PyObject *key)
{
    Py_hash_t hash;
    if (check_key(key, &hash) < 0)
        return NULL;
    Slot *s = probe(m, key, hash);
    if (s->key == NULL) {
        PyErr_SetObject(PyExc_KeyError, key);
        return NULL;
    }
    return Py_NewRef(s->value);
}

static int
ClidMap_ass_subscript(ClidMap *m, PyObject *key, PyObject *value)
{
    if (value == NULL) {
        PyErr_SetString(PyExc_TypeError, "a ClidMap keeps every key: no deletion");
        return -1;
    }
    Py_hash_t hash;
    if (check_key(key, &hash) < 0)
        return -1;
    Slot *s = probe(m, key, hash);
    if (s->key != NULL) {
        PyObject *old = s->value;
        s->value = Py_NewRef(value);
        Py_DECREF(old);
        return 0;
    }
    if ((size_t)(m->used + 1) * 2 > m->mask + 1) {
        if (grow(m) < 0)
            return -1;
        s = probe(m, key, hash);
    }
    s->hash = hash;
    s->key = Py_NewRef(key);
    s->value = Py_NewRef(value);
    m->used++;
    return 0;
}

static int
ClidMap_contains(ClidMap *m, PyObject *key)
{
    if (!PyUnicode_Check(key))
        return 0; /* as a dict of str keys answers */
    Py_hash_t hash = PyObject_Hash(key);
    if (hash == -1 && PyErr_Occurred())
        return -1;
    return probe(m, key, hash)->key != NULL;
}

static PyObject *
ClidMap_get(ClidMap *m, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs < 1 || nargs > 2) {
        PyErr_SetString(PyExc_TypeError, "get(key, default=None)");
        return NULL;
    }
    PyObject *key = args[0];
    PyObject *dflt = nargs == 2 ? args[1] : Py_None;
    if (!PyUnicode_Check(key))
        return Py_NewRef(dflt);
    Py_hash_t hash = PyObject_Hash(key);
    if (hash == -1 && PyErr_Occurred())
        return NULL;
    Slot *s = probe(m, key, hash);
    return Py_NewRef(s->key != NULL ? s->value : dflt);
}

/* which: 0 keys, 1 values, 2 items */
static PyObject *
listing(ClidMap *m, int which)
{
    PyObject *out = PyList_New(m->used);
    if (out == NULL)
        return NULL;
    Py_ssize_t n = 0;
    for (size_t j = 0; j <= m->mask && n < m->used; j++) {
        Slot *s = &m->slots[j];
        if (s->key == NULL)
            continue;
        PyObject *x;
        if (which == 0)
            x = Py_NewRef(s->key);
        else if (which == 1)
            x = Py_NewRef(s->value);
        else if ((x = PyTuple_Pack(2, s->key, s->value)) == NULL) {
            Py_DECREF(out);
            return NULL;
        }
        PyList_SET_ITEM(out, n++, x);
    }
    return out;
}

static PyObject *
ClidMap_keys(ClidMap *m, PyObject *Py_UNUSED(ignored))
{
    return listing(m, 0);
}

static PyObject *
ClidMap_values(ClidMap *m, PyObject *Py_UNUSED(ignored))
{
    return listing(m, 1);
}

static PyObject *
ClidMap_items(ClidMap *m, PyObject *Py_UNUSED(ignored))
{
    return listing(m, 2);
}

static PyObject *
ClidMap_iter(ClidMap *m)
{
    PyObject *keys = listing(m, 0);
    if (keys == NULL)
        return NULL;
    PyObject *it = PyObject_GetIter(keys);
    Py_DECREF(keys);
    return it;
}

static PyObject *
ClidMap_repr(ClidMap *m)
{
    return PyUnicode_FromFormat("<ClidMap of %zd keys>", m->used);
}

static PyObject *
index_of(PyObject *Py_UNUSED(module), PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2 || !PyList_Check(args[0])) {
        PyErr_SetString(PyExc_TypeError, "index_of(list, x)");
        return NULL;
    }
    PyObject **items = ((PyListObject *)args[0])->ob_item;
    PyObject *x = args[1];
    Py_ssize_t n = PyList_GET_SIZE(args[0]);
    for (Py_ssize_t i = 0; i < n; i++) {
        if (items[i] == x)
            return PyLong_FromSsize_t(i);
    }
    PyErr_SetString(PyExc_ValueError, "index_of(list, x): x is not in the list");
    return NULL;
}

static PyMethodDef module_methods[] = {
    {"index_of", (PyCFunction)(void (*)(void))index_of, METH_FASTCALL,
     "index_of(list, x): the position of x (by identity) in the list; ValueError if absent."},
    {NULL, NULL, 0, NULL},
};

static PyMethodDef ClidMap_methods[] = {
    {"get", (PyCFunction)(void (*)(void))ClidMap_get, METH_FASTCALL,
     "get(key, default=None): the value of key, or default."},
    {"keys", (PyCFunction)ClidMap_keys, METH_NOARGS, "A list of the keys."},
    {"values", (PyCFunction)ClidMap_values, METH_NOARGS, "A list of the values."},
    {"items", (PyCFunction)ClidMap_items, METH_NOARGS, "A list of (key, value) pairs."},
    {"__class_getitem__", Py_GenericAlias, METH_O | METH_CLASS, "ClidMap[V] for annotations"},
    {NULL, NULL, 0, NULL},
};

static PyMappingMethods ClidMap_as_mapping = {
    (lenfunc)ClidMap_len,
    (binaryfunc)ClidMap_subscript,
    (objobjargproc)ClidMap_ass_subscript,
};

static PySequenceMethods ClidMap_as_sequence = {
    .sq_contains = (objobjproc)ClidMap_contains,
};

static PyTypeObject ClidMapType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "matcher._flat.ClidMap",
    .tp_doc = "str key -> value map that keeps every key (a session's ClOrdIDs); see "
              "matcher/flat.py",
    .tp_basicsize = sizeof(ClidMap),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_new = ClidMap_new,
    .tp_dealloc = (destructor)ClidMap_dealloc,
    .tp_traverse = (traverseproc)ClidMap_traverse,
    .tp_clear = (inquiry)ClidMap_clear,
    .tp_repr = (reprfunc)ClidMap_repr,
    .tp_as_mapping = &ClidMap_as_mapping,
    .tp_as_sequence = &ClidMap_as_sequence,
    .tp_iter = (getiterfunc)ClidMap_iter,
    .tp_methods = ClidMap_methods,
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "matcher._flat",
    "C twins of matcher.flat (see there).", -1, module_methods,
};

PyMODINIT_FUNC
PyInit__flat(void)
{
    if (PyType_Ready(&ClidMapType) < 0)
        return NULL;
    PyObject *m = PyModule_Create(&module);
    if (m == NULL)
        return NULL;
    if (PyModule_AddObjectRef(m, "ClidMap", (PyObject *)&ClidMapType) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
