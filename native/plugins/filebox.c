/*
 * FileBox (type 6): a Nyash BID-1 plugin over POSIX file descriptors.
 *
 *   0          birth                -> instance id (4 raw bytes)
 *   1          open(path, mode)     -> void     modes: r, w (create+truncate),
 *                                               a (append+create), rw / r+ (read+write+create)
 *   2          read                 -> bytes of the whole file
 *   3          write(data)          -> i32 bytes written (data: string or bytes)
 *   4          close                -> void
 *   7          copyFrom(handle)     -> void     appends/writes the other FileBox's whole file
 *   8          cloneSelf            -> handle   a new FileBox on the same open file
 *   0xFFFFFFFF fini                 -> void
 *
 * Every method checks its result buffer before any side effect (two-phase results).
 */
#define _POSIX_C_SOURCE 200809L
#include "nyash_plugin.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define FILEBOX_TYPE_ID 6u

typedef struct {
    int used;
    int fd;   /* -1 when not open */
} FileBox;

static FileBox *boxes = NULL;     /* slot i holds instance id i + 1 */
static size_t box_count = 0;

static FileBox *lookup(uint32_t id) {
    if (id == 0 || id > box_count || !boxes[id - 1].used) return NULL;
    return &boxes[id - 1];
}

static int32_t new_instance(uint32_t *id_out) {
    for (size_t i = 0; i < box_count; i++) {
        if (!boxes[i].used) {
            boxes[i].used = 1; boxes[i].fd = -1; *id_out = (uint32_t)(i + 1);
            return NYB_SUCCESS;
        }
    }
    if (box_count >= 0xFFFFFFF0u) return NYB_E_OUT_OF_MEMORY;
    FileBox *grown = realloc(boxes, (box_count + 1) * sizeof *boxes);
    if (grown == NULL) return NYB_E_OUT_OF_MEMORY;
    boxes = grown;
    boxes[box_count].used = 1; boxes[box_count].fd = -1;
    box_count++;
    *id_out = (uint32_t)box_count;
    return NYB_SUCCESS;
}

static void close_fd(FileBox *b) {
    if (b->fd >= 0) { close(b->fd); b->fd = -1; }
}

/* The whole file of `b` into a fresh buffer (caller frees); size in *n. */
static int32_t slurp(FileBox *b, uint8_t **out, size_t *n) {
    struct stat st;
    if (b->fd < 0 || fstat(b->fd, &st) != 0) return NYB_E_PLUGIN_ERROR;
    size_t size = (size_t)st.st_size;
    uint8_t *data = malloc(size ? size : 1);
    if (data == NULL) return NYB_E_OUT_OF_MEMORY;
    size_t got = 0;
    while (got < size) {
        ssize_t r = pread(b->fd, data + got, size - got, (off_t)got);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) { free(data); return NYB_E_PLUGIN_ERROR; }
        if (r == 0) break;  /* the file shrank meanwhile */
        got += (size_t)r;
    }
    *out = data; *n = got;
    return NYB_SUCCESS;
}

static int32_t write_all(int fd, const uint8_t *p, size_t n) {
    size_t done = 0;
    while (done < n) {
        ssize_t w = write(fd, p + done, n - done);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return NYB_E_PLUGIN_ERROR;
        done += (size_t)w;
    }
    return NYB_SUCCESS;
}

static int32_t m_open(FileBox *b, const uint8_t *args, size_t len, uint8_t *result, size_t *result_len) {
    NyashTlvReader r; const char *path, *mode; size_t path_n, mode_n; int32_t rc;
    if ((rc = nyash_tlv_reader_init(&r, args, len)) != NYB_SUCCESS) return rc;
    if ((rc = nyash_tlv_read_string(&r, &path, &path_n)) != NYB_SUCCESS) return rc;
    if ((rc = nyash_tlv_read_string(&r, &mode, &mode_n)) != NYB_SUCCESS) return rc;
    if ((rc = nyash_tlv_reader_done(&r)) != NYB_SUCCESS) return rc;
    int flags;
    if (mode_n == 1 && mode[0] == 'r') flags = O_RDONLY;
    else if (mode_n == 1 && mode[0] == 'w') flags = O_WRONLY | O_CREAT | O_TRUNC;
    else if (mode_n == 1 && mode[0] == 'a') flags = O_WRONLY | O_CREAT | O_APPEND;
    else if (mode_n == 2 && (memcmp(mode, "rw", 2) == 0 || memcmp(mode, "r+", 2) == 0)) flags = O_RDWR | O_CREAT;
    else return NYB_E_INVALID_ARGS;
    if (memchr(path, 0, path_n) != NULL) return NYB_E_INVALID_ARGS;
    if ((rc = nyash_result_reserve(result, result_len, NYASH_TLV_SIZE(1, 0))) != NYB_SUCCESS) return rc;
    char *cpath = malloc(path_n + 1);
    if (cpath == NULL) return NYB_E_OUT_OF_MEMORY;
    memcpy(cpath, path, path_n); cpath[path_n] = 0;
    int fd = open(cpath, flags | O_CLOEXEC, 0644);
    free(cpath);
    if (fd < 0) return NYB_E_PLUGIN_ERROR;
    close_fd(b);
    b->fd = fd;
    return nyash_result_void(result, result_len);
}

static int32_t m_read(FileBox *b, const uint8_t *args, size_t len, uint8_t *result, size_t *result_len) {
    int32_t rc = nyash_tlv_expect_empty(args, len);
    if (rc != NYB_SUCCESS) return rc;
    uint8_t *data; size_t n;
    if ((rc = slurp(b, &data, &n)) != NYB_SUCCESS) return rc;
    if (n > 0xFFFF) { free(data); return NYB_E_PLUGIN_ERROR; }  /* one TLV entry holds <= 65535 */
    rc = nyash_result_reserve(result, result_len, NYASH_TLV_SIZE(1, n));
    if (rc == NYB_SUCCESS) {
        NyashTlvWriter w; nyash_tlv_begin(&w, result, *result_len);
        nyash_tlv_put_bytes(&w, data, n);
        rc = nyash_tlv_end(&w, result_len);
    }
    free(data);
    return rc;
}

static int32_t m_write(FileBox *b, const uint8_t *args, size_t len, uint8_t *result, size_t *result_len) {
    NyashTlvReader r; const uint8_t *data; size_t n; int32_t rc;
    if ((rc = nyash_tlv_reader_init(&r, args, len)) != NYB_SUCCESS) return rc;
    if ((rc = nyash_tlv_read_data(&r, &data, &n)) != NYB_SUCCESS) return rc;
    if ((rc = nyash_tlv_reader_done(&r)) != NYB_SUCCESS) return rc;
    if (b->fd < 0) return NYB_E_PLUGIN_ERROR;
    if ((rc = nyash_result_reserve(result, result_len, NYASH_TLV_SIZE(1, 4))) != NYB_SUCCESS) return rc;
    if ((rc = write_all(b->fd, data, n)) != NYB_SUCCESS) return rc;
    return nyash_result_i32(result, result_len, (int32_t)n);
}

static int32_t m_close(FileBox *b, const uint8_t *args, size_t len, uint8_t *result, size_t *result_len) {
    int32_t rc = nyash_tlv_expect_empty(args, len);
    if (rc != NYB_SUCCESS) return rc;
    if ((rc = nyash_result_reserve(result, result_len, NYASH_TLV_SIZE(1, 0))) != NYB_SUCCESS) return rc;
    close_fd(b);
    return nyash_result_void(result, result_len);
}

static int32_t m_copy_from(FileBox *b, const uint8_t *args, size_t len, uint8_t *result, size_t *result_len) {
    NyashTlvReader r; uint32_t type_id, inst; int32_t rc;
    if ((rc = nyash_tlv_reader_init(&r, args, len)) != NYB_SUCCESS) return rc;
    if ((rc = nyash_tlv_read_handle(&r, &type_id, &inst)) != NYB_SUCCESS) return rc;
    if ((rc = nyash_tlv_reader_done(&r)) != NYB_SUCCESS) return rc;
    if (type_id != FILEBOX_TYPE_ID) return NYB_E_INVALID_ARGS;
    FileBox *src = lookup(inst);
    if (src == NULL) return NYB_E_INVALID_HANDLE;
    if (b->fd < 0) return NYB_E_PLUGIN_ERROR;
    if ((rc = nyash_result_reserve(result, result_len, NYASH_TLV_SIZE(1, 0))) != NYB_SUCCESS) return rc;
    uint8_t *data; size_t n;
    if ((rc = slurp(src, &data, &n)) != NYB_SUCCESS) return rc;
    rc = write_all(b->fd, data, n);
    free(data);
    if (rc != NYB_SUCCESS) return rc;
    return nyash_result_void(result, result_len);
}

static int32_t m_clone(uint32_t self_id, const uint8_t *args, size_t len, uint8_t *result, size_t *result_len) {
    int32_t rc = nyash_tlv_expect_empty(args, len);
    if (rc != NYB_SUCCESS) return rc;
    if ((rc = nyash_result_reserve(result, result_len, NYASH_TLV_SIZE(1, 8))) != NYB_SUCCESS) return rc;
    uint32_t id;
    if ((rc = new_instance(&id)) != NYB_SUCCESS) return rc;
    FileBox *self = lookup(self_id);   /* re-lookup: new_instance may have moved the table */
    if (self->fd >= 0) boxes[id - 1].fd = fcntl(self->fd, F_DUPFD_CLOEXEC, 0);
    return nyash_result_handle(result, result_len, FILEBOX_TYPE_ID, id);
}

NYASH_EXPORT uint32_t nyash_plugin_abi(void) { return NYASH_ABI_VERSION; }

NYASH_EXPORT int32_t nyash_plugin_init(void) { return NYB_SUCCESS; }

NYASH_EXPORT void nyash_plugin_shutdown(void) {
    for (size_t i = 0; i < box_count; i++) {
        if (boxes[i].used) close_fd(&boxes[i]);
    }
    free(boxes);
    boxes = NULL;
    box_count = 0;
}

NYASH_EXPORT int32_t nyash_plugin_invoke(uint32_t type_id, uint32_t method_id, uint32_t instance_id,
                                         const uint8_t *args, size_t args_len,
                                         uint8_t *result, size_t *result_len) {
    if (type_id != FILEBOX_TYPE_ID) return NYB_E_INVALID_TYPE;
    if (result_len == NULL) return NYB_E_INVALID_ARGS;
    if (method_id == NYASH_METHOD_BIRTH) {
        int32_t rc = nyash_tlv_expect_empty(args, args_len);
        if (rc != NYB_SUCCESS) return rc;
        if ((rc = nyash_result_reserve(result, result_len, 4)) != NYB_SUCCESS) return rc;
        uint32_t id;
        if ((rc = new_instance(&id)) != NYB_SUCCESS) return rc;
        return nyash_write_instance_id(result, result_len, id);
    }
    FileBox *b = lookup(instance_id);
    if (b == NULL) return NYB_E_INVALID_HANDLE;
    switch (method_id) {
        case 1: return m_open(b, args, args_len, result, result_len);
        case 2: return m_read(b, args, args_len, result, result_len);
        case 3: return m_write(b, args, args_len, result, result_len);
        case 4: return m_close(b, args, args_len, result, result_len);
        case 7: return m_copy_from(b, args, args_len, result, result_len);
        case 8: return m_clone(instance_id, args, args_len, result, result_len);
        case NYASH_METHOD_FINI: {
            int32_t rc = nyash_result_reserve(result, result_len, NYASH_TLV_SIZE(1, 0));
            if (rc != NYB_SUCCESS) return rc;
            close_fd(b);
            b->used = 0;
            return nyash_result_void(result, result_len);
        }
        default: return NYB_E_INVALID_METHOD;
    }
}
