/* Compiled fast paths of gateway.fix (framing, parsing, encoding, store records).
 *
 * Each function here has a Python twin in gateway/fix/codec.py or gateway/fix/store.py, which
 * is the reference: the twin is what runs when this module is not built (no C compiler) or
 * ATS_PURE=1 is set, the whole test suite runs against both, and tests/fix/test_compiled.py
 * proves the outputs equal byte for byte (hypothesis over field values). Anything these
 * functions are unsure of (a damaged frame, an odd field) they leave to the Python code, which
 * decides exactly as before: they return "not handled" (None, or the unchanged position).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>
#if defined(__linux__)
#include <sys/mman.h>
#endif

#define MAX_CACHED_TAG 1000

static PyObject *tag_text[MAX_CACHED_TAG];   /* "1".."999" as str */
static PyObject *tag_int[MAX_CACHED_TAG];    /* 1..999 as int */
/* the last value parsed for each tag: the next message's equal value is the same str object
 * (no allocation; its hash, once computed by a set or dict lookup, is kept) */
static PyObject *last_value[MAX_CACHED_TAG];
#define MAX_INTERNED_VALUE 40
/* the last layout key made by parse: the next message of the same layout gets this same bytes
 * object (no allocation; its hash, once computed by the plans' dict, is kept) */
static PyObject *last_key;

/* the format checks of validate.py that values_ok runs in C (set_checks) */
static PyObject *check_float, *check_int, *check_char, *check_bool, *check_utc;
static uint32_t crc_table[8][256];

/* ---------------------------------------------------------------------------------------- */

static inline unsigned
sum_bytes(const unsigned char *p, Py_ssize_t n)
{
    /* eight bytes a step: the even and odd bytes added into four 16-bit lanes each step
     * (at most 510 a step, so 128 steps cannot overflow a lane), lanes folded per block */
    unsigned s = 0;
    while (n >= 8) {
        uint64_t lanes = 0;
        Py_ssize_t steps = n / 8 < 128 ? n / 8 : 128;
        for (Py_ssize_t k = 0; k < steps; k++) {
            uint64_t x;
            memcpy(&x, p, 8);
            lanes += (x & 0x00FF00FF00FF00FFull) + ((x >> 8) & 0x00FF00FF00FF00FFull);
            p += 8;
        }
        n -= steps * 8;
        s += (unsigned)((lanes & 0xFFFF) + ((lanes >> 16) & 0xFFFF) + ((lanes >> 32) & 0xFFFF) +
                        (lanes >> 48));
    }
    while (n-- > 0)
        s += *p++;
    return s;
}

static PyObject *
byte_sum(PyObject *self, PyObject *arg)
{
    Py_buffer view;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0)
        return NULL;
    unsigned long long s = 0;
    const unsigned char *p = view.buf;
    for (Py_ssize_t i = 0; i < view.len; i++)
        s += p[i];
    PyBuffer_Release(&view);
    return PyLong_FromUnsignedLongLong(s);
}

/* scan(buf, pos, out) -> pos: append the well-formed frames starting at pos to out.
 * Twin of codec._scan_py: 8=FIX<up to 32 non-SOH>SOH 9=<1-6 digits>SOH, then the body, then
 * SOH 10=ddd SOH with ddd the byte sum mod 256. Stops at the first place that is anything
 * else (incomplete, damaged, junk) and returns it: the exact path decides there. */
static PyObject *
scan(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 3 || !PyBytes_CheckExact(args[0]) || !PyList_CheckExact(args[2])) {
        PyErr_SetString(PyExc_TypeError, "scan(bytes, int, list)");
        return NULL;
    }
    const unsigned char *buf = (const unsigned char *)PyBytes_AS_STRING(args[0]);
    Py_ssize_t n = PyBytes_GET_SIZE(args[0]);
    Py_ssize_t pos = PyLong_AsSsize_t(args[1]);
    if (pos == -1 && PyErr_Occurred())
        return NULL;
    PyObject *out = args[2];
    while (pos < n) {
        Py_ssize_t i = pos;
        if (n - i < 5 || memcmp(buf + i, "8=FIX", 5) != 0)
            break;
        i += 5;
        Py_ssize_t limit = i + 32;
        while (i < n && i < limit && buf[i] != 1)
            i++;
        if (i >= n || buf[i] != 1)
            break;
        i++;
        if (n - i < 2 || buf[i] != '9' || buf[i + 1] != '=')
            break;
        i += 2;
        Py_ssize_t digits = 0, length = 0;
        while (i < n && digits < 7 && buf[i] >= '0' && buf[i] <= '9') {
            length = length * 10 + (buf[i] - '0');
            i++;
            digits++;
        }
        if (digits < 1 || digits > 6 || i >= n || buf[i] != 1)
            break;
        i++;
        Py_ssize_t body_end = i + length;
        Py_ssize_t end = body_end + 7;
        if (end > n || buf[end - 1] != 1 || memcmp(buf + body_end - 1, "\x01" "10=", 4) != 0)
            break;
        unsigned cks = sum_bytes(buf + pos, body_end - pos) & 255;
        const unsigned char *d = buf + body_end + 3;
        if (d[0] != '0' + cks / 100 || d[1] != '0' + (cks / 10) % 10 || d[2] != '0' + cks % 10)
            break;
        PyObject *frame = PyBytes_FromStringAndSize((const char *)buf + pos, end - pos);
        if (frame == NULL)
            return NULL;
        int rc = PyList_Append(out, frame);
        Py_DECREF(frame);
        if (rc < 0)
            return NULL;
        pos = end;
    }
    return PyLong_FromSsize_t(pos);
}

/* fields whose place parse notes in its first pass (a longer message is read twice after) */
#define MAX_NOTED 128
typedef struct {
    int tag;
    Py_ssize_t start, len;
} noted_field;
/* the bytes that end a value: SOH, and '=' (which a value may not hold) */
static unsigned char value_stop[256];

/* parse(raw) -> (flat, tag_map, key) or None. Twin of codec._parse_fast_py: every field is
 * tag=value with the tag 1..999 written without a leading zero, the value non-empty and
 * without '='; 8, 9, 35 first, 10 last. Anything else: None (the exact parser decides).
 * A value equal to the last one parsed for its tag (at most MAX_INTERNED_VALUE characters) is
 * that same str object: equal values, fewer allocations and hashes. key is the layout key
 * (codec.layout_key: the length of MsgType, MsgType, each tag as 4 bytes big-endian), made
 * as the tags go by, when no tag is repeated (else None); a key equal to the last one made
 * is that same bytes object. */
static PyObject *
parse_impl(PyObject *arg, int with_map)
{
    if (!PyBytes_CheckExact(arg)) {
        PyErr_SetString(PyExc_TypeError, with_map ? "parse(bytes)" : "parse_flat(bytes)");
        return NULL;
    }
    const unsigned char *p = (const unsigned char *)PyBytes_AS_STRING(arg);
    Py_ssize_t n = PyBytes_GET_SIZE(arg);
    if (n == 0 || p[n - 1] != 1)
        Py_RETURN_NONE;
    /* first pass: check the shape and count the fields; the first MAX_NOTED fields' tags and
     * values are noted, so the second pass need not read those bytes again. The last byte is
     * SOH (checked above), which stops every scan below: no bound check per byte. */
    Py_ssize_t count = 0, i = 0, mt_start = 0, mt_len = 0;
    int first[3] = {0, 0, 0}, last = 0;
    noted_field noted[MAX_NOTED];
    while (i < n) {
        int tag = 0, digits = 0;
        if (p[i] == '0')
            Py_RETURN_NONE;
        while (p[i] >= '0' && p[i] <= '9') {
            if (++digits > 3)
                Py_RETURN_NONE;
            tag = tag * 10 + (p[i] - '0');
            i++;
        }
        if (digits == 0 || p[i] != '=')
            Py_RETURN_NONE;
        i++;
        Py_ssize_t start = i;
        while (!value_stop[p[i]])
            i++;
        if (p[i] != 1 || i == start)
            Py_RETURN_NONE;
        if (count == 2) {
            mt_start = start;
            mt_len = i - start;
        }
        if (count < MAX_NOTED) {
            noted[count].tag = tag;
            noted[count].start = start;
            noted[count].len = i - start;
        }
        i++;
        if (count < 3)
            first[count] = tag;
        last = tag;
        count++;
    }
    if (count < 4 || first[0] != 8 || first[1] != 9 || first[2] != 35 || last != 10)
        Py_RETURN_NONE;
    /* the layout key, written as the tags go by (in place, or in memory of its own if long) */
    unsigned char key_stack[512];
    unsigned char *key_buf = NULL;
    Py_ssize_t key_len = 1 + mt_len + 4 * count;
    if (mt_len <= 255) {
        key_buf = key_len <= (Py_ssize_t)sizeof key_stack ? key_stack : PyMem_Malloc(key_len);
        if (key_buf == NULL)
            return PyErr_NoMemory();
        key_buf[0] = (unsigned char)mt_len;
        memcpy(key_buf + 1, p + mt_start, mt_len);
    }
    unsigned char *kw = key_buf == NULL ? NULL : key_buf + 1 + mt_len;
    PyObject *flat = PyList_New(count * 2);
    PyObject *map = NULL;
    /* without the map: the tags seen so far, one bit each (a repeated tag means no key) */
    uint64_t seen[(MAX_CACHED_TAG + 63) / 64];
    int repeated = 0;
    if (with_map) {
#if PY_VERSION_HEX < 0x030D0000
        map = _PyDict_NewPresized(count); /* no resizes while it fills */
#else
        map = PyDict_New();
#endif
    } else {
        memset(seen, 0, sizeof seen);
    }
    if (flat == NULL || (with_map && map == NULL))
        goto fail;
    i = 0;
    for (Py_ssize_t k = 0; k < count; k++) {
        int tag;
        Py_ssize_t start, len;
        if (k < MAX_NOTED) {
            tag = noted[k].tag;
            start = noted[k].start;
            len = noted[k].len;
            i = start + len;
        } else {
            tag = 0;
            while (p[i] != '=') {
                tag = tag * 10 + (p[i] - '0');
                i++;
            }
            i++;
            start = i;
            while (p[i] != 1)
                i++;
            len = i - start;
        }
        PyObject *value = last_value[tag];
        if (value != NULL && len <= MAX_INTERNED_VALUE && PyUnicode_GET_LENGTH(value) == len &&
            memcmp(PyUnicode_1BYTE_DATA(value), p + start, len) == 0) {
            Py_INCREF(value);
        } else {
            value = PyUnicode_DecodeLatin1((const char *)p + start, len, NULL);
            if (value == NULL)
                goto fail;
            if (len <= MAX_INTERNED_VALUE) {
                Py_INCREF(value);
                Py_XSETREF(last_value[tag], value);
            }
        }
        i++;
        if (kw != NULL) {  /* a tag of 1..999: big-endian 00 00 hi lo */
            kw[0] = 0;
            kw[1] = 0;
            kw[2] = (unsigned char)(tag >> 8);
            kw[3] = (unsigned char)tag;
            kw += 4;
        }
        Py_INCREF(tag_text[tag]);
        PyList_SET_ITEM(flat, 2 * k, tag_text[tag]);
        PyList_SET_ITEM(flat, 2 * k + 1, value); /* the list owns the reference */
        if (!with_map) {
            uint64_t bit = (uint64_t)1 << (tag & 63);
            repeated |= (seen[tag >> 6] & bit) != 0;
            seen[tag >> 6] |= bit;
            continue;
        }
#if PY_VERSION_HEX < 0x030D0000
        /* the hash of a small int is its value: no hash call per field */
        if (_PyDict_SetItem_KnownHash(map, tag_int[tag], value, (Py_hash_t)tag) < 0)
            goto fail;
#else
        if (PyDict_SetItem(map, tag_int[tag], value) < 0)
            goto fail;
#endif
    }
    if (with_map)
        repeated = PyDict_GET_SIZE(map) != count;
    PyObject *key;
    if (key_buf == NULL || repeated) {  /* a tag repeated: no key */
        key = Py_None;
        Py_INCREF(key);
    } else if (last_key != NULL && PyBytes_GET_SIZE(last_key) == key_len &&
               memcmp(PyBytes_AS_STRING(last_key), key_buf, key_len) == 0) {
        key = last_key;
        Py_INCREF(key);
    } else {
        key = PyBytes_FromStringAndSize((const char *)key_buf, key_len);
        if (key == NULL)
            goto fail;
        Py_INCREF(key);
        Py_XSETREF(last_key, key);
    }
    if (key_buf != key_stack && key_buf != NULL)
        PyMem_Free(key_buf);
    /* flat holds str only and is never changed (Message keeps it): it can be in no reference
     * cycle, so the garbage collector need not visit it (nor the triple, dropped at once) */
    PyObject_GC_UnTrack(flat);
    PyObject *result = PyTuple_New(with_map ? 3 : 2);
    if (result == NULL) {
        Py_DECREF(flat);
        Py_XDECREF(map);
        Py_DECREF(key);
        return NULL;
    }
    PyTuple_SET_ITEM(result, 0, flat);
    if (with_map) {
        PyTuple_SET_ITEM(result, 1, map);
        PyTuple_SET_ITEM(result, 2, key);
    } else {
        PyTuple_SET_ITEM(result, 1, key);
    }
    PyObject_GC_UnTrack(result);
    return result;
fail:
    if (key_buf != key_stack && key_buf != NULL)
        PyMem_Free(key_buf);
    Py_XDECREF(flat);
    Py_XDECREF(map);
    return NULL;
}

static PyObject *
parse(PyObject *self, PyObject *arg)
{
    return parse_impl(arg, 1);
}

/* parse_flat(raw) -> (flat, key) or None. Twin of codec._parse_flat_py: parse without the tag
 * map (the Message reads its values through its layout's index, codec._layout_index). */
static PyObject *
parse_flat(PyObject *self, PyObject *arg)
{
    return parse_impl(arg, 0);
}

/* ---------------------------------------------------------------------------------------- */
/* Encoding: one allocation, the CheckSum summed while copying. */

typedef struct {
    const char *p;
    Py_ssize_t n;
} piece;

static int
get_piece(PyObject *o, piece *out, const char *what)
{
    if (!PyBytes_Check(o)) {
        PyErr_Format(PyExc_TypeError, "%s must be bytes", what);
        return -1;
    }
    out->p = PyBytes_AS_STRING(o);
    out->n = PyBytes_GET_SIZE(o);
    return 0;
}

static Py_ssize_t
format_uint(char *dst, unsigned long long v)
{
    char tmp[24];
    Py_ssize_t k = 0;
    do {
        tmp[k++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (Py_ssize_t j = 0; j < k; j++)
        dst[j] = tmp[k - 1 - j];
    return k;
}

/* begin + "9=<len>\x01" + body pieces + "10=ddd\x01" */
static PyObject *
frame_pieces(const piece *begin, const piece *parts, int nparts)
{
    Py_ssize_t body_len = 0;
    for (int k = 0; k < nparts; k++)
        body_len += parts[k].n;
    char len_text[24];
    Py_ssize_t len_digits = format_uint(len_text, (unsigned long long)body_len);
    Py_ssize_t total = begin->n + 2 + len_digits + 1 + body_len + 7;
    PyObject *out = PyBytes_FromStringAndSize(NULL, total);
    if (out == NULL)
        return NULL;
    char *w = PyBytes_AS_STRING(out);
    char *start = w;
    memcpy(w, begin->p, begin->n);
    w += begin->n;
    *w++ = '9';
    *w++ = '=';
    memcpy(w, len_text, len_digits);
    w += len_digits;
    *w++ = 1;
    for (int k = 0; k < nparts; k++) {
        memcpy(w, parts[k].p, parts[k].n);
        w += parts[k].n;
    }
    unsigned cks = sum_bytes((const unsigned char *)start, w - start) & 255;
    w[0] = '1';
    w[1] = '0';
    w[2] = '=';
    w[3] = (char)('0' + cks / 100);
    w[4] = (char)('0' + (cks / 10) % 10);
    w[5] = (char)('0' + cks % 10);
    w[6] = 1;
    return out;
}

/* frame(body, begin) -> bytes; twin of codec._frame_py */
static PyObject *
frame(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "frame(body, begin)");
        return NULL;
    }
    piece body, begin;
    if (get_piece(args[0], &body, "body") < 0 || get_piece(args[1], &begin, "begin") < 0)
        return NULL;
    return frame_pieces(&begin, &body, 1);
}

/* build(begin, msg_type, seq, mid, ts, tail, extra, body) -> bytes; twin of codec._build_py:
 * frame(b"35=%s\x0134=%d%s%s%s%s%s" % (msg_type, seq, mid, ts, tail, extra, body), begin) */
static PyObject *
build(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 8) {
        PyErr_SetString(PyExc_TypeError,
                        "build(begin, msg_type, seq, mid, ts, tail, extra, body)");
        return NULL;
    }
    piece begin, parts[9];
    char seq_text[32];
    if (get_piece(args[0], &begin, "begin") < 0 || get_piece(args[1], &parts[1], "msg_type") < 0)
        return NULL;
    long long seq = PyLong_AsLongLong(args[2]);
    if (seq == -1 && PyErr_Occurred())
        return NULL;
    Py_ssize_t k = 0;
    if (seq < 0) {
        seq_text[k++] = '-';
        k += format_uint(seq_text + k, (unsigned long long)(-(seq + 1)) + 1);
    } else {
        k = format_uint(seq_text, (unsigned long long)seq);
    }
    parts[0].p = "35=";
    parts[0].n = 3;
    parts[2].p = "\x01" "34=";
    parts[2].n = 4;
    parts[3].p = seq_text;
    parts[3].n = k;
    if (get_piece(args[3], &parts[4], "mid") < 0 || get_piece(args[4], &parts[5], "ts") < 0 ||
        get_piece(args[5], &parts[6], "tail") < 0 || get_piece(args[6], &parts[7], "extra") < 0 ||
        get_piece(args[7], &parts[8], "body") < 0)
        return NULL;
    return frame_pieces(&begin, parts, 9);
}

/* ---------------------------------------------------------------------------------------- */
/* Store records: kind(1) | value(8, big-endian) | length(4) | payload | crc32(4) */

static void
init_crc_table(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int j = 0; j < 8; j++)
            c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        crc_table[0][i] = c;
    }
    for (int k = 1; k < 8; k++)
        for (int i = 0; i < 256; i++)
            crc_table[k][i] = (crc_table[k - 1][i] >> 8) ^ crc_table[0][crc_table[k - 1][i] & 0xFF];
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define HAVE_CRC_CLMUL 1
#include <immintrin.h>

/* CRC-32 (zlib's polynomial, bit-reflected) of n bytes, n >= 64 and a multiple of 16, by
 * carry-less multiplication (PCLMULQDQ): four 128-bit lanes folded 64 bytes a step, then into
 * one, then a Barrett reduction. "Fast CRC Computation for Generic Polynomials Using PCLMULQDQ
 * Instruction" (Gopal, Ozturk et al., Intel, 2009); the constants are the bit-reflected ones
 * of its appendix, as Linux (crc32-pclmul) and Chromium's zlib use them. Takes and returns the
 * CRC register as the table code holds it (inverted). No table: a record's CRC costs the same
 * whether or not an earlier one left the tables in the cache. */
__attribute__((target("pclmul,sse4.1")))
static uint32_t
crc32_clmul(uint32_t crc, const unsigned char *buf, Py_ssize_t len)
{
    const __m128i k1k2 = _mm_set_epi64x(0x01c6e41596LL, 0x0154442bd4LL);
    const __m128i k3k4 = _mm_set_epi64x(0x00ccaa009eLL, 0x01751997d0LL);
    const __m128i k5k0 = _mm_set_epi64x(0, 0x0163cd6124LL);
    const __m128i poly = _mm_set_epi64x(0x01f7011641LL, 0x01db710641LL);
    const __m128i mask32 = _mm_setr_epi32(~0, 0, ~0, 0);
    __m128i x0, x1, x2, x3, x4, x5, x6, x7, x8;

    x1 = _mm_loadu_si128((const __m128i *)(buf + 0x00));
    x2 = _mm_loadu_si128((const __m128i *)(buf + 0x10));
    x3 = _mm_loadu_si128((const __m128i *)(buf + 0x20));
    x4 = _mm_loadu_si128((const __m128i *)(buf + 0x30));
    x1 = _mm_xor_si128(x1, _mm_cvtsi32_si128((int)crc));
    x0 = k1k2;
    buf += 64;
    len -= 64;
    while (len >= 64) {  /* four lanes, 64 bytes a step */
        x5 = _mm_clmulepi64_si128(x1, x0, 0x00);
        x6 = _mm_clmulepi64_si128(x2, x0, 0x00);
        x7 = _mm_clmulepi64_si128(x3, x0, 0x00);
        x8 = _mm_clmulepi64_si128(x4, x0, 0x00);
        x1 = _mm_clmulepi64_si128(x1, x0, 0x11);
        x2 = _mm_clmulepi64_si128(x2, x0, 0x11);
        x3 = _mm_clmulepi64_si128(x3, x0, 0x11);
        x4 = _mm_clmulepi64_si128(x4, x0, 0x11);
        x1 = _mm_xor_si128(_mm_xor_si128(x1, x5),
                           _mm_loadu_si128((const __m128i *)(buf + 0x00)));
        x2 = _mm_xor_si128(_mm_xor_si128(x2, x6),
                           _mm_loadu_si128((const __m128i *)(buf + 0x10)));
        x3 = _mm_xor_si128(_mm_xor_si128(x3, x7),
                           _mm_loadu_si128((const __m128i *)(buf + 0x20)));
        x4 = _mm_xor_si128(_mm_xor_si128(x4, x8),
                           _mm_loadu_si128((const __m128i *)(buf + 0x30)));
        buf += 64;
        len -= 64;
    }
    /* the four lanes into one */
    x0 = k3k4;
    x5 = _mm_clmulepi64_si128(x1, x0, 0x00);
    x1 = _mm_clmulepi64_si128(x1, x0, 0x11);
    x1 = _mm_xor_si128(_mm_xor_si128(x1, x2), x5);
    x5 = _mm_clmulepi64_si128(x1, x0, 0x00);
    x1 = _mm_clmulepi64_si128(x1, x0, 0x11);
    x1 = _mm_xor_si128(_mm_xor_si128(x1, x3), x5);
    x5 = _mm_clmulepi64_si128(x1, x0, 0x00);
    x1 = _mm_clmulepi64_si128(x1, x0, 0x11);
    x1 = _mm_xor_si128(_mm_xor_si128(x1, x4), x5);
    while (len >= 16) {  /* 16 bytes a step */
        x2 = _mm_loadu_si128((const __m128i *)buf);
        x5 = _mm_clmulepi64_si128(x1, x0, 0x00);
        x1 = _mm_clmulepi64_si128(x1, x0, 0x11);
        x1 = _mm_xor_si128(_mm_xor_si128(x1, x2), x5);
        buf += 16;
        len -= 16;
    }
    /* 128 bits to 64 */
    x2 = _mm_clmulepi64_si128(x1, x0, 0x10);
    x1 = _mm_xor_si128(_mm_srli_si128(x1, 8), x2);
    x0 = k5k0;
    x2 = _mm_srli_si128(x1, 4);
    x1 = _mm_and_si128(x1, mask32);
    x1 = _mm_clmulepi64_si128(x1, x0, 0x00);
    x1 = _mm_xor_si128(x1, x2);
    /* Barrett reduction to 32 bits */
    x0 = poly;
    x2 = _mm_and_si128(x1, mask32);
    x2 = _mm_clmulepi64_si128(x2, x0, 0x10);
    x2 = _mm_and_si128(x2, mask32);
    x2 = _mm_clmulepi64_si128(x2, x0, 0x00);
    x1 = _mm_xor_si128(x1, x2);
    return (uint32_t)_mm_extract_epi32(x1, 1);
}

/* whether this CPU has PCLMULQDQ and SSE4.1 (set at import) */
static int crc_clmul_ok;
#endif

/* CRC-32 (zlib's): the same value as zlib.crc32. From 64 bytes on, by carry-less multiplication
 * where the CPU has it (crc32_clmul), its tail of under 16 bytes and shorter data by tables,
 * eight bytes a step ("slicing by 8"). */
static uint32_t
crc32_update(uint32_t crc, const unsigned char *p, Py_ssize_t n)
{
    crc = ~crc;
#ifdef HAVE_CRC_CLMUL
    if (n >= 64 && crc_clmul_ok) {
        Py_ssize_t chunk = n & ~(Py_ssize_t)15;
        crc = crc32_clmul(crc, p, chunk);
        p += chunk;
        n -= chunk;
    }
#endif
    while (n >= 8) {
        uint32_t one = ((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                        (uint32_t)p[3] << 24) ^ crc;
        uint32_t two = (uint32_t)p[4] | (uint32_t)p[5] << 8 | (uint32_t)p[6] << 16 |
                       (uint32_t)p[7] << 24;
        crc = crc_table[7][one & 0xFF] ^ crc_table[6][(one >> 8) & 0xFF] ^
              crc_table[5][(one >> 16) & 0xFF] ^ crc_table[4][one >> 24] ^
              crc_table[3][two & 0xFF] ^ crc_table[2][(two >> 8) & 0xFF] ^
              crc_table[1][(two >> 16) & 0xFF] ^ crc_table[0][two >> 24];
        p += 8;
        n -= 8;
    }
    while (n-- > 0)
        crc = crc_table[0][(crc ^ *p++) & 0xFF] ^ (crc >> 8);
    return ~crc;
}

/* crc32(data, value=0, tables=False) -> int: zlib.crc32(data, value) by the code the store
 * records use (tables=True: the table code alone, as on a CPU without PCLMULQDQ) */
static PyObject *
crc32_py(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs < 1 || nargs > 3) {
        PyErr_SetString(PyExc_TypeError, "crc32(data, value=0, tables=False)");
        return NULL;
    }
    uint32_t start = 0;
    if (nargs >= 2) {
        unsigned long v = PyLong_AsUnsignedLongMask(args[1]);
        if (v == (unsigned long)-1 && PyErr_Occurred())
            return NULL;
        start = (uint32_t)v;
    }
    int tables = nargs == 3 ? PyObject_IsTrue(args[2]) : 0;
    if (tables < 0)
        return NULL;
    Py_buffer data;
    if (PyObject_GetBuffer(args[0], &data, PyBUF_SIMPLE) < 0)
        return NULL;
    uint32_t crc;
#ifdef HAVE_CRC_CLMUL
    int saved = crc_clmul_ok;
    if (tables)
        crc_clmul_ok = 0;
    crc = crc32_update(start, (const unsigned char *)data.buf, data.len);
    crc_clmul_ok = saved;
#else
    crc = crc32_update(start, (const unsigned char *)data.buf, data.len);
#endif
    PyBuffer_Release(&data);
    return PyLong_FromUnsignedLong(crc);
}

/* record(kind, value, payload) -> bytes; twin of store._record_py */
/* One store record at w (13 + payload + 4 bytes, sized by the caller): kind, value as 8 bytes
   big-endian, the payload's length as 4, the payload, then the CRC-32 of all of it as 4.
   Releases the payload's buffer. */
static void
write_record(unsigned char *w, char kind, uint64_t value, Py_buffer *payload)
{
    w[0] = (unsigned char)kind;
    for (int j = 0; j < 8; j++)
        w[1 + j] = (unsigned char)(value >> (56 - 8 * j));
    uint32_t len = (uint32_t)payload->len;
    w[9] = (unsigned char)(len >> 24);
    w[10] = (unsigned char)(len >> 16);
    w[11] = (unsigned char)(len >> 8);
    w[12] = (unsigned char)len;
    memcpy(w + 13, payload->buf, payload->len);
    PyBuffer_Release(payload);
    uint32_t crc = crc32_update(0, w, 13 + (Py_ssize_t)len);
    unsigned char *c = w + 13 + len;
    c[0] = (unsigned char)(crc >> 24);
    c[1] = (unsigned char)(crc >> 16);
    c[2] = (unsigned char)(crc >> 8);
    c[3] = (unsigned char)crc;
}

static PyObject *
record(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 3 || !PyBytes_Check(args[0]) || PyBytes_GET_SIZE(args[0]) != 1) {
        PyErr_SetString(PyExc_TypeError, "record(kind: 1 byte, value, payload)");
        return NULL;
    }
    unsigned long long value = PyLong_AsUnsignedLongLong(args[1]);
    if (value == (unsigned long long)-1 && PyErr_Occurred())
        return NULL;
    Py_buffer payload;
    if (PyObject_GetBuffer(args[2], &payload, PyBUF_SIMPLE) < 0)
        return NULL;
    if ((unsigned long long)payload.len > 0xFFFFFFFFull) {
        PyBuffer_Release(&payload);
        PyErr_SetString(PyExc_OverflowError, "payload too long");
        return NULL;
    }
    Py_ssize_t total = 13 + payload.len + 4;
    PyObject *out = PyBytes_FromStringAndSize(NULL, total);
    if (out == NULL) {
        PyBuffer_Release(&payload);
        return NULL;
    }
    unsigned char *w = (unsigned char *)PyBytes_AS_STRING(out);
    write_record(w, PyBytes_AS_STRING(args[0])[0], value, &payload);
    return out;
}


/* plan_key(msg_type, present) -> bytes or None; twin of validate._plan_key_py: the length of
 * MsgType (one byte), MsgType (latin-1), then each tag of present in order as 4 bytes
 * (big-endian, signed). None when MsgType is longer than 255 characters or not latin-1, or a
 * tag is not an int of 32 bits. */
static PyObject *
plan_key(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2 || !PyUnicode_Check(args[0]) || !PyDict_CheckExact(args[1])) {
        PyErr_SetString(PyExc_TypeError, "plan_key(str, dict)");
        return NULL;
    }
    PyObject *mt = args[0], *present = args[1];
    Py_ssize_t mt_len = PyUnicode_GET_LENGTH(mt);
    if (mt_len > 255 || PyUnicode_KIND(mt) != PyUnicode_1BYTE_KIND)
        Py_RETURN_NONE;
    Py_ssize_t count = PyDict_GET_SIZE(present);
    PyObject *out = PyBytes_FromStringAndSize(NULL, 1 + mt_len + 4 * count);
    if (out == NULL)
        return NULL;
    unsigned char *w = (unsigned char *)PyBytes_AS_STRING(out);
    *w++ = (unsigned char)mt_len;
    memcpy(w, PyUnicode_1BYTE_DATA(mt), mt_len);
    w += mt_len;
    Py_ssize_t pos = 0, k = 0;
    PyObject *key, *value;
    while (PyDict_Next(present, &pos, &key, &value)) {
        long t;
        if (!PyLong_Check(key) || k >= count)
            goto none;
#if PY_VERSION_HEX < 0x030C0000
        if (Py_SIZE(key) == 1) /* one 30-bit digit: a tag as the parser makes them */
            t = (long)((PyLongObject *)key)->ob_digit[0];
        else
#endif
        {
            t = PyLong_AsLong(key);
            if (t == -1 && PyErr_Occurred()) {
                PyErr_Clear();
                goto none;
            }
        }
        if (t < INT32_MIN || t > INT32_MAX)
            goto none;
        uint32_t u = (uint32_t)(int32_t)t;
        w[0] = (unsigned char)(u >> 24);
        w[1] = (unsigned char)(u >> 16);
        w[2] = (unsigned char)(u >> 8);
        w[3] = (unsigned char)u;
        w += 4;
        k++;
    }
    if (k != count)
        goto none;
    return out;
none:
    Py_DECREF(out);
    Py_RETURN_NONE;
}

/* append_record(pending, kind, value, payload) -> offset; twin of store._append_record_py:
 * record(kind, value, payload) appended to the bytearray pending in place (no intermediate
 * bytes); returns where the payload starts in pending. */
static PyObject *
append_record(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 4 || !PyByteArray_CheckExact(args[0]) || !PyBytes_Check(args[1]) ||
        PyBytes_GET_SIZE(args[1]) != 1) {
        PyErr_SetString(PyExc_TypeError,
                        "append_record(pending: bytearray, kind: 1 byte, value, payload)");
        return NULL;
    }
    unsigned long long value = PyLong_AsUnsignedLongLong(args[2]);
    if (value == (unsigned long long)-1 && PyErr_Occurred())
        return NULL;
    Py_buffer payload;
    if (PyObject_GetBuffer(args[3], &payload, PyBUF_SIMPLE) < 0)
        return NULL;
    if ((unsigned long long)payload.len > 0xFFFFFFFFull) {
        PyBuffer_Release(&payload);
        PyErr_SetString(PyExc_OverflowError, "payload too long");
        return NULL;
    }
    PyObject *pending = args[0];
    Py_ssize_t old = PyByteArray_GET_SIZE(pending);
    if (PyByteArray_Resize(pending, old + 13 + payload.len + 4) < 0) {
        PyBuffer_Release(&payload);
        return NULL;
    }
    unsigned char *w = (unsigned char *)PyByteArray_AS_STRING(pending) + old;
    write_record(w, PyBytes_AS_STRING(args[1])[0], value, &payload);
    return PyLong_FromSsize_t(old + 13);
}

/* ---------------------------------------------------------------------------------------- */
/* Validation plans */

static inline int
is_digit(Py_UCS1 c)
{
    return c >= '0' && c <= '9';
}

/* validate._FLOAT: -?(?:[0-9]+\.?[0-9]*|\.[0-9]+), the whole value */
static int
float_ok(const Py_UCS1 *s, Py_ssize_t n)
{
    Py_ssize_t i = 0, digits = 0;
    if (i < n && s[i] == '-')
        i++;
    while (i < n && is_digit(s[i])) {
        i++;
        digits++;
    }
    if (digits) {
        if (i < n && s[i] == '.')
            i++;
        while (i < n && is_digit(s[i]))
            i++;
        return i == n;
    }
    if (i >= n || s[i] != '.')
        return 0;
    i++;
    while (i < n && is_digit(s[i])) {
        i++;
        digits++;
    }
    return digits > 0 && i == n;
}

/* validate._int: at most 20 characters, -?[0-9]+, and within signed 32 bits */
static int
int_ok(const Py_UCS1 *s, Py_ssize_t n)
{
    Py_ssize_t i = 0;
    int negative = 0;
    if (n > 20)
        return 0;
    if (i < n && s[i] == '-') {
        negative = 1;
        i++;
    }
    if (i >= n)
        return 0;
    long long v = 0;
    for (; i < n; i++) {
        if (!is_digit(s[i]))
            return 0;
        if (v <= 2147483648LL)  /* past that it stays out of range: stop growing */
            v = v * 10 + (s[i] - '0');
    }
    return negative ? v <= 2147483648LL : v <= 2147483647LL;
}

static int
two(const Py_UCS1 *s)
{
    return (s[0] - '0') * 10 + (s[1] - '0');
}

/* codec.utc_timestamp_ok: YYYYMMDD-HH:MM:SS then nothing or .[0-9]{1,9}; a real date (the
 * Gregorian calendar), hour <= 23, minute <= 59, second <= 60. Returns 1/0, or -1 where the
 * Python function is asked (year 0, which it refuses with an exception). */
static int
utc_ok(const Py_UCS1 *s, Py_ssize_t n)
{
    static const int days[13] = {0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (n < 17 || s[8] != '-' || s[11] != ':' || s[14] != ':')
        return 0;
    for (int i = 0; i < 17; i++)
        if (i != 8 && i != 11 && i != 14 && !is_digit(s[i]))
            return 0;
    int year = two(s) * 100 + two(s + 2), month = two(s + 4), day = two(s + 6);
    if (year == 0)
        return -1;
    if (month < 1 || month > 12 || day < 1)
        return 0;
    int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    if (day > days[month] + (month == 2 && leap))
        return 0;
    if (two(s + 9) > 23 || two(s + 12) > 59 || two(s + 15) > 60)
        return 0;
    if (n == 17)
        return 1;
    if (s[17] != '.' || n < 19 || n > 27)
        return 0;
    for (Py_ssize_t i = 18; i < n; i++)
        if (!is_digit(s[i]))
            return 0;
    return 1;
}

/* One format check of values_ok: the checks set_checks named run here in C, any other (or a
 * case left to Python) is called. 1, 0, or -1 with an exception set. */
static int
run_check(PyObject *check, PyObject *value)
{
    if (PyUnicode_CheckExact(value) && check != NULL) {
        Py_ssize_t n = PyUnicode_GET_LENGTH(value);
        if (check == check_char)
            return n == 1;
        if (PyUnicode_KIND(value) == PyUnicode_1BYTE_KIND) {
            const Py_UCS1 *s = PyUnicode_1BYTE_DATA(value);
            if (check == check_float)
                return float_ok(s, n);
            if (check == check_int)
                return int_ok(s, n);
            if (check == check_bool)
                return n == 1 && (s[0] == 'Y' || s[0] == 'N');
            if (check == check_utc) {
                int ok = utc_ok(s, n);
                if (ok >= 0)
                    return ok;
            }
        } else if (check == check_float || check == check_int || check == check_bool ||
                   check == check_utc) {
            return 0;  /* a character above U+00FF: no digit, no Y/N (the regexes are ASCII) */
        }
    }
    PyObject *r = PyObject_CallOneArg(check, value);
    if (r == NULL)
        return -1;
    int ok = PyObject_IsTrue(r);
    Py_DECREF(r);
    return ok;
}

/* set_checks(float, int, char, bool, utc) -> None: the check objects of validate.py whose
 * rule values_ok runs in C (float_ok, int_ok, n == 1, Y/N, utc_ok); each equal to its Python
 * function (tests/fix/test_compiled.py). */
static PyObject *
set_checks(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 5) {
        PyErr_SetString(PyExc_TypeError, "set_checks(float, int, char, bool, utc)");
        return NULL;
    }
    PyObject **slots[5] = {&check_float, &check_int, &check_char, &check_bool, &check_utc};
    for (int k = 0; k < 5; k++) {
        Py_INCREF(args[k]);
        Py_XSETREF(*slots[k], args[k]);
    }
    Py_RETURN_NONE;
}

/* check(which, value) -> bool: one of the C format rules on its own (tests) */
static PyObject *
check_one(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "check(check, value)");
        return NULL;
    }
    int ok = run_check(args[0], args[1]);
    if (ok < 0)
        return NULL;
    return PyBool_FromLong(ok);
}

/* values_ok(present, enums, formats[, passed]) -> bool; twin of validate._values_ok_py: every
 * (k, allowed) of enums has present[k] in allowed, every (k, check) of formats passes; present
 * is a dict (k a tag) or a list (k a place in it). passed (a list, one slot per check: enums
 * then formats) keeps the value object that last passed each check: that same object passes
 * again without being checked (str is immutable, and the list holds it: same object, same
 * text, same answer). */
static PyObject *
values_ok(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if ((nargs != 3 && nargs != 4) || !(PyDict_CheckExact(args[0]) || PyList_CheckExact(args[0])) ||
        !PyTuple_CheckExact(args[1]) || !PyTuple_CheckExact(args[2]) ||
        (nargs == 4 && args[3] != Py_None && !PyList_CheckExact(args[3]))) {
        PyErr_SetString(PyExc_TypeError,
                        "values_ok(dict or list, tuple, tuple[, list or None])");
        return NULL;
    }
    PyObject *present = args[0];
    int is_list = PyList_CheckExact(present);
    PyObject *passed = nargs == 4 && args[3] != Py_None ? args[3] : NULL;
    if (passed != NULL &&
        PyList_GET_SIZE(passed) != PyTuple_GET_SIZE(args[1]) + PyTuple_GET_SIZE(args[2]))
        passed = NULL;  /* not one slot per check: not used */
    Py_ssize_t slot = 0;
    for (int which = 1; which <= 2; which++) {
        PyObject *items = args[which];
        Py_ssize_t n = PyTuple_GET_SIZE(items);
        for (Py_ssize_t k = 0; k < n; k++, slot++) {
            PyObject *pair = PyTuple_GET_ITEM(items, k);
            if (!PyTuple_CheckExact(pair) || PyTuple_GET_SIZE(pair) != 2) {
                PyErr_SetString(PyExc_TypeError, "values_ok: (tag, x) pairs");
                return NULL;
            }
            PyObject *value;
            if (is_list) {
                Py_ssize_t at = PyLong_AsSsize_t(PyTuple_GET_ITEM(pair, 0));
                if (at == -1 && PyErr_Occurred())
                    return NULL;
                if (at < 0)
                    at += PyList_GET_SIZE(present);
                if (at < 0 || at >= PyList_GET_SIZE(present)) {
                    PyErr_SetString(PyExc_IndexError, "list index out of range");
                    return NULL;
                }
                value = PyList_GET_ITEM(present, at);
            } else {
                value = PyDict_GetItemWithError(present, PyTuple_GET_ITEM(pair, 0));
                if (value == NULL) {
                    if (!PyErr_Occurred())
                        PyErr_SetObject(PyExc_KeyError, PyTuple_GET_ITEM(pair, 0));
                    return NULL;
                }
            }
            if (passed != NULL && PyList_GET_ITEM(passed, slot) == value &&
                PyUnicode_CheckExact(value))
                continue;
            int ok;
            if (which == 1) {
                PyObject *allowed = PyTuple_GET_ITEM(pair, 1);
                ok = PyFrozenSet_CheckExact(allowed) ? PySet_Contains(allowed, value)
                                                     : PySequence_Contains(allowed, value);
            } else {
                ok = run_check(PyTuple_GET_ITEM(pair, 1), value);
            }
            if (ok < 0)
                return NULL;
            if (!ok)
                Py_RETURN_FALSE;
            if (passed != NULL && PyUnicode_CheckExact(value)) {
                Py_INCREF(value);
                PyList_SetItem(passed, slot, value);  /* steals; releases the old one */
            }
        }
    }
    Py_RETURN_TRUE;
}

/* ---------------------------------------------------------------------------------------- */
/* Object memory on transparent huge pages: huge_arenas(). Not a twin of any Python function: a
 * process setting, which the pure build does without (Python's default arenas).
 *
 * pymalloc takes the memory of small objects (orders, events, strings) from the OS in arenas
 * (1 MiB on 64-bit Python 3.11), each a separate mmap of 4 KiB pages. A book of hundreds of
 * thousands of orders then costs a page fault for each 4 KiB page first touched and a TLB entry
 * for each one touched later. With huge_arenas() installed, pymalloc's arenas are carved out of
 * 2 MiB-aligned reservations advised MADV_HUGEPAGE (one fault and one TLB entry per 2 MiB), and
 * an arena pymalloc frees is kept for its next one instead of going back to the OS: the
 * process's object memory stays at its peak. Arenas made before the call keep their own
 * allocator's free (anything not in a reservation goes back to it). */
#if defined(__linux__) && defined(MADV_HUGEPAGE)
#define ARENA_HUGE_PAGE ((size_t)2 << 20)
#define ARENA_MAX_CHUNKS 4096
static PyObjectArenaAllocator arena_default;
static size_t arena_chunk;     /* bytes per reservation: a multiple of ARENA_HUGE_PAGE */
static size_t arena_size;      /* pymalloc's arena size, learnt at its first request */
static char *arena_cur, *arena_end;
static void *arena_free_list;  /* freed arenas of the reservations, linked through word 0 */
static char *arena_lo[ARENA_MAX_CHUNKS];
static int arena_chunks;
static Py_ssize_t arena_reused, arena_fresh;

static int
arena_reserve(void)
{
    size_t len = arena_chunk + ARENA_HUGE_PAGE;
    char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return -1;
    char *a = (char *)(((uintptr_t)p + ARENA_HUGE_PAGE - 1) & ~(uintptr_t)(ARENA_HUGE_PAGE - 1));
    if (a > p)
        munmap(p, (size_t)(a - p));
    if (a + arena_chunk < p + len)
        munmap(a + arena_chunk, (size_t)(p + len - (a + arena_chunk)));
    if (madvise(a, arena_chunk, MADV_HUGEPAGE) != 0) {
        munmap(a, arena_chunk);
        return -1;
    }
    arena_lo[arena_chunks++] = a;
    arena_cur = a;
    arena_end = a + arena_chunk;
    return 0;
}

static int
arena_ours(void *ptr)
{
    for (int i = 0; i < arena_chunks; i++)
        if ((char *)ptr >= arena_lo[i] && (char *)ptr < arena_lo[i] + arena_chunk)
            return 1;
    return 0;
}

static void *
arena_alloc(void *ctx, size_t size)
{
    (void)ctx;
    if (arena_size == 0)
        arena_size = size;
    if (size != arena_size || size > arena_chunk)
        return arena_default.alloc(arena_default.ctx, size);
    if (arena_free_list != NULL) {
        void *p = arena_free_list;
        arena_free_list = *(void **)p;
        arena_reused++;
        return p;
    }
    if (arena_cur + size > arena_end
            && (arena_chunks == ARENA_MAX_CHUNKS || arena_reserve() != 0))
        return arena_default.alloc(arena_default.ctx, size);  /* no reservation: 4 KiB pages */
    void *p = arena_cur;
    arena_cur += size;
    arena_fresh++;
    return p;
}

static void
arena_free(void *ctx, void *ptr, size_t size)
{
    (void)ctx;
    if (ptr != NULL && size == arena_size && arena_ours(ptr)) {
        *(void **)ptr = arena_free_list;
        arena_free_list = ptr;
        return;
    }
    arena_default.free(arena_default.ctx, ptr, size);
}
#endif

static PyObject *
huge_arenas(PyObject *self, PyObject *arg)
{
    (void)self;
    Py_ssize_t mib = PyLong_AsSsize_t(arg);
    if (mib == -1 && PyErr_Occurred())
        return NULL;
    if (mib < 2 || mib > 1024 || mib % 2) {
        PyErr_SetString(PyExc_ValueError, "huge_arenas: the reservation size must be an even "
                                          "number of MiB from 2 to 1024");
        return NULL;
    }
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    if (arena_chunks > 0)
        Py_RETURN_TRUE;  /* installed already */
    arena_chunk = (size_t)mib << 20;
    if (arena_reserve() != 0)
        Py_RETURN_FALSE;  /* no huge pages here (madvise refused): the default arenas stay */
    PyObjectArenaAllocator ours = {NULL, arena_alloc, arena_free};
    PyObject_GetArenaAllocator(&arena_default);
    PyObject_SetArenaAllocator(&ours);
    Py_RETURN_TRUE;
#else
    Py_RETURN_FALSE;
#endif
}

static PyObject *
huge_arena_stats(PyObject *self, PyObject *unused)
{
    (void)self;
    (void)unused;
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    return Py_BuildValue("{s:n,s:n,s:n,s:n}", "reservations", (Py_ssize_t)arena_chunks,
                         "reserved_bytes", (Py_ssize_t)(arena_chunks * arena_chunk),
                         "arenas_made", arena_fresh, "arenas_reused", arena_reused);
#else
    return Py_BuildValue("{s:n,s:n,s:n,s:n}", "reservations", (Py_ssize_t)0, "reserved_bytes",
                         (Py_ssize_t)0, "arenas_made", (Py_ssize_t)0, "arenas_reused",
                         (Py_ssize_t)0);
#endif
}

/* ---------------------------------------------------------------------------------------- */

static PyMethodDef methods[] = {
    {"byte_sum", byte_sum, METH_O, "Sum of the bytes (CheckSum before % 256)."},
    {"scan", (PyCFunction)(void (*)(void))scan, METH_FASTCALL,
     "scan(buf, pos, out) -> pos: append the well-formed frames at pos to out."},
    {"parse", parse, METH_O, "parse(raw) -> (flat, tag_map, layout key) or None."},
    {"parse_flat", parse_flat, METH_O, "parse_flat(raw) -> (flat, layout key) or None."},
    {"frame", (PyCFunction)(void (*)(void))frame, METH_FASTCALL,
     "frame(body, begin) -> bytes with BodyLength and CheckSum."},
    {"build", (PyCFunction)(void (*)(void))build, METH_FASTCALL,
     "build(begin, msg_type, seq, mid, ts, tail, extra, body) -> framed message."},
    {"values_ok", (PyCFunction)(void (*)(void))values_ok, METH_FASTCALL,
     "values_ok(present, enums, formats) -> whether every value passes its plan check."},
    {"crc32", (PyCFunction)(void (*)(void))crc32_py, METH_FASTCALL,
     "crc32(data, value=0, tables=False) -> zlib.crc32(data, value), as store records use it."},
    {"record", (PyCFunction)(void (*)(void))record, METH_FASTCALL,
     "record(kind, value, payload) -> a store record with its CRC-32."},
    {"append_record", (PyCFunction)(void (*)(void))append_record, METH_FASTCALL,
     "append_record(pending, kind, value, payload) -> the payload's offset in pending."},
    {"plan_key", (PyCFunction)(void (*)(void))plan_key, METH_FASTCALL,
     "plan_key(msg_type, present) -> the validation plan's key of a layout, or None."},
    {"set_checks", (PyCFunction)(void (*)(void))set_checks, METH_FASTCALL,
     "set_checks(float, int, char, bool, utc): the checks values_ok runs in C."},
    {"check", (PyCFunction)(void (*)(void))check_one, METH_FASTCALL,
     "check(check, value) -> bool: one format check as values_ok runs it."},
    {"huge_arenas", huge_arenas, METH_O,
     "huge_arenas(mib) -> bool: pymalloc's arenas from MADV_HUGEPAGE reservations of mib MiB."},
    {"huge_arena_stats", huge_arena_stats, METH_NOARGS,
     "huge_arena_stats() -> reservations, reserved bytes, arenas made and reused."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "gateway.fix._speedups",
    "Compiled twins of gateway.fix hot paths (see codec.BUILD).", -1, methods,
};

PyMODINIT_FUNC
PyInit__speedups(void)
{
    init_crc_table();
#ifdef HAVE_CRC_CLMUL
    __builtin_cpu_init();
    crc_clmul_ok = __builtin_cpu_supports("pclmul") && __builtin_cpu_supports("sse4.1") &&
                   getenv("ATS_NO_CLMUL") == NULL;
#endif
    value_stop[1] = value_stop['='] = 1;
    for (int t = 1; t < MAX_CACHED_TAG; t++) {
        if (tag_text[t] == NULL) {
            tag_text[t] = PyUnicode_FromFormat("%d", t);
            tag_int[t] = PyLong_FromLong(t);
            if (tag_text[t] == NULL || tag_int[t] == NULL)
                return NULL;
            PyUnicode_InternInPlace(&tag_text[t]);
        }
    }
    PyObject *m = PyModule_Create(&module);
    if (m == NULL)
        return NULL;
#ifdef HAVE_CRC_CLMUL
    int clmul = crc_clmul_ok;
#else
    int clmul = 0;
#endif
    /* whether CRC-32s of 64 bytes and more use PCLMULQDQ (crc32_update) */
    if (PyModule_AddIntConstant(m, "CRC_CLMUL", clmul) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
