/*
 * Workload of the nstrace filter differential test: emits a fixed, deterministic set of
 * nsfilt:* events (see nsfilt-tp.h) from the main thread and from a second thread, so that
 * vtid != vpid for some of them. Usage: nsfilt [ROUNDS] (default 1).
 */
#define LTTNG_UST_TRACEPOINT_DEFINE
#define LTTNG_UST_TRACEPOINT_CREATE_PROBES
#include "nsfilt-tp.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static const char *const strings[] = {
	"", "a", "hello", "hello world", "h*llo", "help", "192.168.1.1", "192.168.10.7",
	"10.0.0.1", "a\\b", "*star", "star*", "x", "abcdefghijklmnop", "HELLO", "h\xc3\xa9llo",
};
#define NSTRINGS (sizeof(strings) / sizeof(strings[0]))

static const int64_t ivals[] = {
	0, 1, -1, 2, 7, 42, 127, 128, 255, 256, -128, -129, 1000, 65535, 65536, -32768,
	2147483647, -2147483647 - 1, 4294967295LL, 4294967296LL, 9007199254740991LL,
	9007199254740993LL, INT64_MAX, INT64_MIN, 0x5a5a5a5a5a5aLL, -0x123456789LL, 0xff7, 0x240,
	0x1234000, 3, 64, 63,
};
#define NIVALS (sizeof(ivals) / sizeof(ivals[0]))

static const uint64_t uvals[] = {
	0, 1, 2, 255, 0xff00, 0xdeadbeef, 0xffffffffULL, 0x100000000ULL, 9007199254740993ULL,
	0x7fffffffffffffffULL, 0x8000000000000000ULL, 0xffffffffffffffffULL, 12345, 0x240, 0xff7,
	0xfffffffffffffffeULL,
};
#define NUVALS (sizeof(uvals) / sizeof(uvals[0]))

static const double dvals[] = {
	0.0, 1.0, -1.0, 0.5, 1.5, 2.0, 3.25, -2.5, 1e9, 17.34e9, 1e-3, 123456.789, 42.0, 1e300,
	-0.0, 7.0,
};
#define NDVALS (sizeof(dvals) / sizeof(dvals[0]))

static void emit(int base)
{
	for (int k = 0; k < 48; k++) {
		int i = base + k;
		int arr[4] = { k, -k, k * 1000, 7 };
		char buf[32];
		const char *s = strings[k % NSTRINGS];

		/* ctf_array_text reads 8 bytes: copy into a zero-padded buffer. */
		snprintf(buf, sizeof(buf), "%s", s);
		for (size_t z = strlen(buf) + 1; z < sizeof(buf); z++)
			buf[z] = 0;
		lttng_ust_tracepoint(nsfilt, ints, i, ivals[k % NIVALS], uvals[k % NUVALS]);
		lttng_ust_tracepoint(nsfilt, floats, i, dvals[k % NDVALS]);
		lttng_ust_tracepoint(nsfilt, text, i, buf, arr, (unsigned int) (k % 5));
		lttng_ust_tracepoint(nsfilt, enums, i, k % 7 == 6 ? 150 : k % 7);
		lttng_ust_tracepoint(nsfilt, mixed, i, buf);
	}
}

static void *thread_main(void *arg)
{
	emit(*(int *) arg);
	return NULL;
}

int main(int argc, char **argv)
{
	int rounds = argc > 1 ? atoi(argv[1]) : 1;

	for (int r = 0; r < rounds; r++) {
		pthread_t t;
		int tbase = r * 1000 + 500;

		emit(r * 1000);
		if (pthread_create(&t, NULL, thread_main, &tbase) != 0)
			return 1;
		pthread_join(t, NULL);
	}
	return 0;
}
