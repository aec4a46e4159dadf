#include <string.h>
#include <unistd.h>

#include "err.h"
#include "stop.h"

volatile sig_atomic_t stop_requested = 0;

static void on_signal(int sig) {
    if (sig == SIGINT && stop_requested) _exit(AE_EINTR);
    stop_requested = 1;
}

void stop_on_signals(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGUSR1, &sa, NULL);
}
