/* Stopping on a signal: SIGINT, SIGTERM and SIGUSR1 (Slurm's --signal) set one
 * flag that the trainer checks between minibatches; a second SIGINT (an
 * impatient ^C) exits at once with code 3. Every file aesweep writes is written
 * under a temporary name and renamed, so even that damages nothing. */
#ifndef AESWEEP_STOP_H
#define AESWEEP_STOP_H

#include <signal.h>

extern volatile sig_atomic_t stop_requested;

void stop_on_signals(void);

#endif
