/* libFuzzer target: a job spec as a user might hand it over. job_parse must turn
 * any bytes into a job or an error message, never a crash or a leak; a job that
 * parses goes on to its search space, the second reader of user JSON. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "search.h"
#include "spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *text = malloc(size + 1);
    if (!text) return 0;
    memcpy(text, data, size);
    text[size] = 0;
    Job job;
    Err e = {0};
    if (job_parse(text, "fuzz.json", NULL, 0, &job, &e) == AE_OK) {
        Space space;
        if (space_parse(&job, &space, &e) == AE_OK) space_free(&space);
        job_free(&job);
    }
    free(text);
    return 0;
}
