/*
 * The application of the spans end-to-end test: THREADS threads each serve N "requests". A
 * request is a span between the tracepoints spanapp:request_begin and spanapp:request_end
 * (field `id`, unique): BUSY_MS of CPU work, a sleep of SLEEP_MS, BUSY_MS of CPU work again.
 * Each thread measures its own truth per request and writes it to OUT, one line per request:
 *
 *   id vtid cpu_ns asleep_ns sleep_requested_ns wall_ns run_delay_ns
 *
 * cpu_ns: the thread's CPU clock (CLOCK_THREAD_CPUTIME_ID) over the request; asleep_ns:
 * CLOCK_MONOTONIC around the sleep (the time blocked plus the wait for a CPU after the wakeup);
 * wall_ns: CLOCK_MONOTONIC over the request; run_delay_ns: the time the thread waited on a run
 * queue over the request, as the scheduler counts it (/proc/thread-self/schedstat, second
 * field), -1 when the kernel does not say. On a virtual machine the CPU clock leaves out the
 * time the hypervisor took the vCPU (steal) while the thread held it; wall - run_delay - the
 * time blocked does not. Usage: spanapp N BUSY_MS SLEEP_MS THREADS OUT
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>
#include "spanapp-tp.h"

static int n_req, busy_ms, sleep_ms, n_threads;
static FILE *out;
static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;

static long long now_ns(clockid_t c) {
  struct timespec ts;
  clock_gettime(c, &ts);
  return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* The thread's run-queue wait so far (ns), or -1. */
static long long run_delay_ns(void) {
  FILE *f = fopen("/proc/thread-self/schedstat", "r");
  if (f == NULL) return -1;
  unsigned long long exec, delay;
  int n = fscanf(f, "%llu %llu", &exec, &delay);
  fclose(f);
  return n == 2 ? (long long)delay : -1;
}

static volatile unsigned long sink;

/* Spins until the thread has used `ms` of CPU. */
static void burn(int ms) {
  long long until = now_ns(CLOCK_THREAD_CPUTIME_ID) + (long long)ms * 1000000LL;
  unsigned long x = sink;
  while (now_ns(CLOCK_THREAD_CPUTIME_ID) < until) {
    for (int i = 0; i < 2000; i++) x = x * 6364136223846793005UL + 1442695040888963407UL;
  }
  sink = x;
}

static void *serve(void *arg) {
  int t = (int)(long)arg;
  int vtid = (int)syscall(SYS_gettid);
  for (int i = 0; i < n_req; i++) {
    int id = (t + 1) * 1000 + i;
    lttng_ust_tracepoint(spanapp, request_begin, id);
    /* The run-queue window inside the wall window: a wait between the two readings must not
       be in the run-queue wait and out of the wall time. */
    long long w0 = now_ns(CLOCK_MONOTONIC);
    long long d0 = run_delay_ns();
    long long c0 = now_ns(CLOCK_THREAD_CPUTIME_ID);
    burn(busy_ms);
    struct timespec req = {sleep_ms / 1000, (long)(sleep_ms % 1000) * 1000000L};
    long long s0 = now_ns(CLOCK_MONOTONIC);
    nanosleep(&req, NULL);
    long long s1 = now_ns(CLOCK_MONOTONIC);
    burn(busy_ms);
    long long c1 = now_ns(CLOCK_THREAD_CPUTIME_ID);
    long long d1 = run_delay_ns();
    long long w1 = now_ns(CLOCK_MONOTONIC);
    lttng_ust_tracepoint(spanapp, request_end, id);
    pthread_mutex_lock(&out_lock);
    fprintf(out, "%d %d %lld %lld %lld %lld %lld\n", id, vtid, c1 - c0, s1 - s0,
            (long long)sleep_ms * 1000000LL, w1 - w0, d0 < 0 || d1 < 0 ? -1 : d1 - d0);
    pthread_mutex_unlock(&out_lock);
  }
  return NULL;
}

int main(int argc, char **argv) {
  if (argc != 6) {
    fprintf(stderr, "usage: spanapp N BUSY_MS SLEEP_MS THREADS OUT\n");
    return 2;
  }
  n_req = atoi(argv[1]);
  busy_ms = atoi(argv[2]);
  sleep_ms = atoi(argv[3]);
  n_threads = atoi(argv[4]);
  out = fopen(argv[5], "w");
  if (out == NULL) {
    perror(argv[5]);
    return 1;
  }
  pthread_t th[64];
  if (n_threads < 1 || n_threads > 64) return 2;
  /* Thread 0 is the main thread (vtid == vpid); the others are pthreads. */
  for (int t = 1; t < n_threads; t++) pthread_create(&th[t], NULL, serve, (void *)(long)t);
  serve((void *)0L);
  for (int t = 1; t < n_threads; t++) pthread_join(th[t], NULL);
  fclose(out);
  return 0;
}
