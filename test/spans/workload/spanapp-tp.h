/* Tracepoints of the spans test application (test/spans/workload/spanapp.c). */
#undef LTTNG_UST_TRACEPOINT_PROVIDER
#define LTTNG_UST_TRACEPOINT_PROVIDER spanapp
#undef LTTNG_UST_TRACEPOINT_INCLUDE
#define LTTNG_UST_TRACEPOINT_INCLUDE "./spanapp-tp.h"
#if !defined(_SPANAPP_TP_H) || defined(LTTNG_UST_TRACEPOINT_HEADER_MULTI_READ)
#define _SPANAPP_TP_H
#include <lttng/tracepoint.h>
LTTNG_UST_TRACEPOINT_EVENT(spanapp, request_begin,
  LTTNG_UST_TP_ARGS(int, id),
  LTTNG_UST_TP_FIELDS(lttng_ust_field_integer(int, id, id))
)
LTTNG_UST_TRACEPOINT_EVENT(spanapp, request_end,
  LTTNG_UST_TP_ARGS(int, id),
  LTTNG_UST_TP_FIELDS(lttng_ust_field_integer(int, id, id))
)
#endif
#include <lttng/tracepoint-event.h>
