#include <stdlib.h>
#include <string.h>

#include "node_data.h"

/* What the node's other ranks need to map the first rank's copy: both Images
 * but their pointers, the class count and the subsets' sizes; or the failure. */
typedef struct {
    int rc;
    Err err;
    Images train, test;
    int n_classes, n_train, n_test;
} Header;

/* The ranks of this rank's node. AESWEEP_TEST_NODES=k (tests only) makes k fake
 * nodes of ranks r mod k: groups that are not contiguous in rank order, as on a
 * cluster whose launcher deals ranks round-robin over nodes. */
static MPI_Comm node_comm(void) {
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    const char *fake = getenv("AESWEEP_TEST_NODES");
    int k = fake ? atoi(fake) : 0;
    MPI_Comm c;
    if (k > 0) MPI_Comm_split(MPI_COMM_WORLD, rank % k, rank, &c);
    else MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank, MPI_INFO_NULL, &c);
    return c;
}

static size_t image_bytes(const Images *im) { return (size_t)im->n * (size_t)im->dim; }

static size_t copy_bytes(const Header *h) {
    return image_bytes(&h->train) + (size_t)h->train.n + image_bytes(&h->test) +
           (size_t)h->test.n;
}

/* Points im at its pixels and labels in the window, from *at on; with `move`,
 * the private copy goes there first and is freed. */
static void place(unsigned char *base, size_t *at, Images *im, int move) {
    size_t np = image_bytes(im), nl = (size_t)im->n;
    if (move) {
        memcpy(base + *at, im->pixels, np);
        memcpy(base + *at + np, im->labels, nl);
        free(im->pixels);
        free(im->labels);
    }
    im->pixels = base + *at;
    im->labels = base + *at + np;
    im->shared = 1;
    *at += np + nl;
}

/* All ranks of the node agree: 1 when every one of them has ok. */
static int all_ok(int ok, MPI_Comm c) {
    int all;
    MPI_Allreduce(&ok, &all, 1, MPI_INT, MPI_MIN, c);
    return all;
}

/* The first rank's data, mapped from the window by the others; the subsets come
 * from the first rank too, so every rank uses the same ones by construction. */
static int share(NodeData *nd, const Header *h, JobData *out) {
    int first = nd->node_rank == 0;
    size_t bytes = copy_bytes(h);
    unsigned char *base = NULL;
    /* a node whose shared memory is too small (a container's /dev/shm) gets
     * private copies rather than a failed run */
    MPI_Comm_set_errhandler(nd->node, MPI_ERRORS_RETURN);
    int rc = MPI_Win_allocate_shared(first ? (MPI_Aint)bytes : 0, 1, MPI_INFO_NULL, nd->node,
                                     &base, &nd->win);
    if (rc == MPI_SUCCESS && !first) {
        MPI_Aint size;
        int unit;
        rc = MPI_Win_shared_query(nd->win, 0, &size, &unit, &base);
    }
    if (!first) {
        out->data.train = h->train;
        out->data.test = h->test;
        out->data.n_classes = h->n_classes;
        out->train.n = h->n_train;
        out->test.n = h->n_test;
        out->train.idx = malloc(sizeof(int) * (size_t)(h->n_train + 1));
        out->test.idx = malloc(sizeof(int) * (size_t)(h->n_test + 1));
    }
    int ok = rc == MPI_SUCCESS && out->train.idx && out->test.idx;
    if (!all_ok(ok, nd->node)) {
        if (nd->win != MPI_WIN_NULL) MPI_Win_free(&nd->win);
        nd->win = MPI_WIN_NULL;
        if (!first) {
            free(out->train.idx), free(out->test.idx);
            memset(out, 0, sizeof *out);
        }
        return AE_ERUN;
    }
    size_t at = 0; /* train then test, each pixels then labels; the first rank moves them in */
    place(base, &at, &out->data.train, first);
    place(base, &at, &out->data.test, first);
    MPI_Bcast(out->train.idx, h->n_train, MPI_INT, 0, nd->node);
    MPI_Bcast(out->test.idx, h->n_test, MPI_INT, 0, nd->node);
    MPI_Barrier(nd->node); /* the copy is whole before anyone reads it */
    return AE_OK;
}

int node_data_load(const Job *job, NodeData *nd, JobData *out, Err *e) {
    memset(out, 0, sizeof *out);
    *nd = (NodeData){.node = MPI_COMM_NULL, .win = MPI_WIN_NULL};
    nd->node = node_comm();
    MPI_Comm_rank(nd->node, &nd->node_rank);
    MPI_Comm_size(nd->node, &nd->node_size);
    int first = nd->node_rank == 0;
    Header *h = calloc(1, sizeof *h);
    if (!all_ok(h != NULL, nd->node)) {
        free(h);
        return err_set(e, AE_ERUN, "out of memory");
    }
    if (first) {
        h->rc = job_data_load(job, out, &h->err);
        if (!h->rc) {
            h->train = out->data.train;
            h->test = out->data.test;
            h->n_classes = out->data.n_classes;
            h->n_train = out->train.n;
            h->n_test = out->test.n;
        }
    }
    if (nd->node_size > 1) MPI_Bcast(h, (int)sizeof *h, MPI_BYTE, 0, nd->node);
    int rc = h->rc;
    if (rc) *e = h->err; /* the first rank's message, on every rank of the node */
    nd->mbytes = (double)copy_bytes(h) / 1e6;
    if (!rc && nd->node_size > 1 && share(nd, h, out) != AE_OK) {
        /* no shared window: every other rank loads its own, as before */
        if (!first) rc = job_data_load(job, out, e);
        nd->node_size = 1;
        nd->private_copies = 1;
    }
    free(h);
    int copies = nd->node_size == 1 ? 1 : first;
    MPI_Allreduce(&copies, &nd->nodes, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    return rc;
}

void node_data_free(NodeData *nd) {
    if (nd->win != MPI_WIN_NULL) MPI_Win_free(&nd->win);
    if (nd->node != MPI_COMM_NULL) MPI_Comm_free(&nd->node);
    nd->win = MPI_WIN_NULL;
    nd->node = MPI_COMM_NULL;
}
