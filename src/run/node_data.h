/* One copy of a job's data per node: the ranks of a node share it read-only
 * through MPI-3 shared memory instead of each loading its own (150 MB of
 * CIFAR-10 times 128 ranks is 19 GB of a node for bytes that never change). */
#ifndef AESWEEP_NODE_DATA_H
#define AESWEEP_NODE_DATA_H

#include <mpi.h>

#include "plan.h"

typedef struct {
    MPI_Comm node;  /* the ranks that share this rank's copy */
    MPI_Win win;    /* the copy's window; MPI_WIN_NULL: a private copy */
    int node_rank, node_size;
    int nodes;      /* how many copies the whole run holds */
    double mbytes;  /* the size of one copy */
    int private_copies; /* the shared window could not be made: each rank has its own */
} NodeData;

/* Collective over MPI_COMM_WORLD. The ranks of each node (MPI_COMM_TYPE_SHARED,
 * or with AESWEEP_TEST_NODES=k the fake nodes {r : r mod k = i}, for tests)
 * load the job's data once: the node's first rank reads and checks it and puts
 * it in a shared window; the others map it. A node of one rank keeps a private
 * copy. On success *out is the data (Images marked shared), on failure every
 * rank of the node returns the loader's code and message. */
int node_data_load(const Job *job, NodeData *nd, JobData *out, Err *e);
/* Collective: frees the window (after the data's last use). */
void node_data_free(NodeData *nd);

#endif
