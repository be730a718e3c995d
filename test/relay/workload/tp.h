/* Tracepoint provider of the relay test workload (lttng-ust 2.13 API). */
#undef LTTNG_UST_TRACEPOINT_PROVIDER
#define LTTNG_UST_TRACEPOINT_PROVIDER nstrace_test
#undef LTTNG_UST_TRACEPOINT_INCLUDE
#define LTTNG_UST_TRACEPOINT_INCLUDE "./tp.h"
#if !defined(_TP_H) || defined(LTTNG_UST_TRACEPOINT_HEADER_MULTI_READ)
#define _TP_H
#include <lttng/tracepoint.h>
LTTNG_UST_TRACEPOINT_EVENT(nstrace_test, tick,
  LTTNG_UST_TP_ARGS(int, i, const char *, msg),
  LTTNG_UST_TP_FIELDS(
    lttng_ust_field_integer(int, i, i)
    lttng_ust_field_string(msg, msg)
  )
)
#endif
#include <lttng/tracepoint-event.h>
