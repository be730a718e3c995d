/*
 * Tracepoint provider of the nstrace filter differential test (see ../README.md).
 * One event per family of CTF field types that lttng-ust can write.
 */
#undef LTTNG_UST_TRACEPOINT_PROVIDER
#define LTTNG_UST_TRACEPOINT_PROVIDER nsfilt

#undef LTTNG_UST_TRACEPOINT_INCLUDE
#define LTTNG_UST_TRACEPOINT_INCLUDE "./nsfilt-tp.h"

#if !defined(NSFILT_TP_H) || defined(LTTNG_UST_TRACEPOINT_HEADER_MULTI_READ)
#define NSFILT_TP_H

#include <lttng/tracepoint.h>
#include <stdint.h>
#include <string.h>

LTTNG_UST_TRACEPOINT_ENUM(nsfilt, color,
	LTTNG_UST_TP_ENUM_VALUES(
		lttng_ust_field_enum_value("RED", 0)
		lttng_ust_field_enum_value("GREEN", 1)
		lttng_ust_field_enum_range("MANY", 2, 100)
	)
)

/* Integers of every size and signedness, decimal, hex and big-endian. */
LTTNG_UST_TRACEPOINT_EVENT(nsfilt, ints,
	LTTNG_UST_TP_ARGS(int, i, int64_t, a, uint64_t, b),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_integer(int, i, i)
		lttng_ust_field_integer(int8_t, s8, (int8_t) a)
		lttng_ust_field_integer(uint8_t, u8, (uint8_t) a)
		lttng_ust_field_integer(int16_t, s16, (int16_t) a)
		lttng_ust_field_integer(uint16_t, u16, (uint16_t) a)
		lttng_ust_field_integer(int32_t, s32, (int32_t) a)
		lttng_ust_field_integer(uint32_t, u32, (uint32_t) a)
		lttng_ust_field_integer(int64_t, s64, a)
		lttng_ust_field_integer(uint64_t, u64, b)
		lttng_ust_field_integer_hex(uint32_t, x32, (uint32_t) b)
		lttng_ust_field_integer_hex(uint64_t, x64, b)
		lttng_ust_field_integer_network(int32_t, n32, (int32_t) a)
		lttng_ust_field_integer_network_hex(uint16_t, nx16, (uint16_t) b)
	)
)

LTTNG_UST_TRACEPOINT_EVENT(nsfilt, floats,
	LTTNG_UST_TP_ARGS(int, i, double, d),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_integer(int, i, i)
		lttng_ust_field_float(float, f32, (float) d)
		lttng_ust_field_float(double, f64, d)
	)
)

/* s must point to at least 8 readable bytes; arr to at least 4 ints. */
LTTNG_UST_TRACEPOINT_EVENT(nsfilt, text,
	LTTNG_UST_TP_ARGS(int, i, const char *, s, const int *, arr, unsigned int, n),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_integer(int, i, i)
		lttng_ust_field_string(str, s)
		lttng_ust_field_array_text(char, atext, s, 8)
		lttng_ust_field_sequence_text(char, stext, s, unsigned int, strlen(s))
		lttng_ust_field_array(char, craw, s, 4)
		lttng_ust_field_array(int, arr4, arr, 4)
		lttng_ust_field_sequence(int, seq, arr, unsigned int, n)
		lttng_ust_field_array_hex(uint8_t, hexbytes, (const uint8_t *) arr, 3)
	)
)

LTTNG_UST_TRACEPOINT_EVENT(nsfilt, enums,
	LTTNG_UST_TP_ARGS(int, i, int, c),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_integer(int, i, i)
		lttng_ust_field_enum(nsfilt, color, int, color, c)
	)
)

/* Same names as other events with other types: per-class compilation. */
LTTNG_UST_TRACEPOINT_EVENT(nsfilt, mixed,
	LTTNG_UST_TP_ARGS(int, i, const char *, s),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_integer(int, i, i)
		lttng_ust_field_integer(int, str, i * 3)
		lttng_ust_field_string(s64, s)
		lttng_ust_field_float(double, u8, i / 4.0)
	)
)

#endif /* NSFILT_TP_H */

#include <lttng/tracepoint-event.h>
