/* A search as the coordinator holds one (job, space, driver), built from a job
 * text, for the strategy tests. Header-only: each test is one file. */
#ifndef AESWEEP_TEST_SEARCH_FIX_H
#define AESWEEP_TEST_SEARCH_FIX_H

#include <string.h>

#include "search.h"
#include "test.h"

typedef struct {
    Job job;
    Space space;
    Search s;
} Fix;

/* 1 when the job parses and its search starts; 0 (a failed check) otherwise. */
static int fix_from_text(Fix *f, const char *text, const char *source) {
    Err e = {0};
    memset(f, 0, sizeof *f);
    if (job_parse(text, source, NULL, 0, &f->job, &e)) {
        CHECK(0, "job_parse: %s", e.msg);
        return 0;
    }
    if (space_parse(&f->job, &f->space, &e) || search_init(&f->s, &f->job, &f->space, &e)) {
        CHECK(0, "search: %s", e.msg);
        space_free(&f->space);
        job_free(&f->job);
        return 0;
    }
    return 1;
}

static void fix_close(Fix *f) {
    search_free(&f->s);
    space_free(&f->space);
    job_free(&f->job);
}

#endif
