#ifndef AE_CLOCK_H
#define AE_CLOCK_H

/* Seconds on the monotonic clock, for durations (never for results' bits). */
double clock_seconds(void);

#endif
