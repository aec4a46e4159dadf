/* A deliberate leak of aesweep's own memory in an MPI process, which the ASan
 * step must report (tests/sanitize/run.sh): if an option or a suppression ever
 * silences LeakSanitizer, this is what notices. Models come from
 * model_init_stack (their memory from model_build), as in a task, and are
 * dropped without model_free. */
#include <mpi.h>
#include <stdio.h>

#include "model.h"

#define DROPPED 16

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    int widths[] = {8, 4};
    Act acts[] = {ACT_RELU};
    for (int i = 0; i < DROPPED; i++) { /* each overwrites the last: 15 are lost for sure */
        Model m;
        Err e = {0};
        if (model_init_stack(&m, 1, widths, acts, 0, 0, &e)) {
            fprintf(stderr, "leak_canary: %s\n", e.msg);
            MPI_Abort(MPI_COMM_WORLD, 1);
        }
    }
    MPI_Finalize();
    return 0;
}
