#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"

int err_set(Err *e, int code, const char *fmt, ...) {
    if (e) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(e->msg, sizeof e->msg, fmt, ap);
        va_end(ap);
        e->code = code;
    }
    return code;
}

int err_prefix(Err *e, const char *fmt, ...) {
    if (!e) return AE_ERUN;
    char head[512], old[sizeof e->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(head, sizeof head, fmt, ap);
    va_end(ap);
    memcpy(old, e->msg, sizeof old);
    /* A long message is cut at the end, which keeps the new context in front. */
    if (snprintf(e->msg, sizeof e->msg, "%s: %s", head, old) >= (int)sizeof e->msg)
        e->msg[sizeof e->msg - 1] = 0;
    return e->code;
}

int err_append(Err *e, const char *fmt, ...) {
    if (!e) return AE_ERUN;
    size_t n = strlen(e->msg);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg + n, sizeof e->msg - n, fmt, ap);
    va_end(ap);
    return e->code;
}

void *xmalloc(size_t n, Err *e) {
    void *p = malloc(n ? n : 1);
    if (!p) err_set(e, AE_ERUN, "out of memory (%zu bytes)", n);
    return p;
}

void *xcalloc(size_t n, size_t size, Err *e) {
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p) err_set(e, AE_ERUN, "out of memory (%zu x %zu bytes)", n, size);
    return p;
}
