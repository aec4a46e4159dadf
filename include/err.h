/* Errors travel up the stack as an int code plus a message buffer; only main exits. */
#ifndef AESWEEP_ERR_H
#define AESWEEP_ERR_H

enum {
    AE_OK = 0,
    AE_ERUN = 1,    /* failure at run time (I/O, out of memory) */
    AE_EINPUT = 2,  /* bad command line, job spec or input file */
    AE_EINTR = 3,   /* interrupted, resumable */
};

typedef struct {
    int code;
    char msg[1024];
} Err;

/* Records code and message in e (when e is non-NULL) and returns code. */
int err_set(Err *e, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prepends "prefix: " to the message already in e; returns e->code. */
int err_prefix(Err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Appends to the message already in e (a hint); returns e->code. */
int err_append(Err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* malloc/calloc that record AE_ERUN in e on failure. */
void *xmalloc(size_t n, Err *e);
void *xcalloc(size_t n, size_t size, Err *e);

#endif
