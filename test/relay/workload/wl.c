/*
 * Test workload for the relay tests: emits COUNT `nstrace_test:tick` events
 * (i = 0..COUNT-1, msg = MSG), sleeping SLEEP_US microseconds after every 1000 events,
 * after waiting START_US microseconds (time for the session daemon to enable the events of
 * every session in the app; under load, a session could otherwise miss the first events).
 * usage: wl COUNT [SLEEP_US [MSG [START_US]]]
 */
#include <stdlib.h>
#include <unistd.h>
#include "tp.h"

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 1000;
	long us = argc > 2 ? atol(argv[2]) : 0;
	const char *msg = argc > 3 ? argv[3] : "hello";
	long start = argc > 4 ? atol(argv[4]) : 0;

	if (start)
		usleep(start);

	for (long i = 0; i < n; i++) {
		lttng_ust_tracepoint(nstrace_test, tick, (int) i, msg);
		if (us && i % 1000 == 999)
			usleep(us);
	}
	return 0;
}
