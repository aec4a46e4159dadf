/* aesweep run: the coordinator (rank 0) and the workers. The only code that
 * speaks MPI. */
#ifndef AESWEEP_RUN_H
#define AESWEEP_RUN_H

typedef struct {
    const char *job_path;
    const char *out_dir; /* NULL: the job's output.dir */
    int fresh;
    const char *const *sets;
    int n_sets;
} RunOptions;

/* Runs the search under MPI (MPI_Init .. MPI_Finalize inside); returns the exit
 * code of SPEC §2 on every rank. */
int run_search(const RunOptions *o, int *argc, char ***argv);

#endif
