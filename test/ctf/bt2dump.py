#!/usr/bin/python3
"""Dumps what babeltrace2 (python3-bt2) reads from CTF traces, one JSON object per line, for
nstrace's reader differential tests: every event (time, name, trace and stream identity, field
values) and every discarded events/packets message, in babeltrace2's muxed order."""
import json
import sys

import bt2


def integer(v):
    return {"big": str(v)} if abs(v) > 2**53 - 1 else v


def value(f):
    if isinstance(f, bt2._EnumerationFieldConst):
        return integer(int(f))
    if isinstance(f, bt2._IntegerFieldConst):
        return integer(int(f))
    if isinstance(f, bt2._RealFieldConst):
        x = float(f)
        return {"float": repr(x)}
    if isinstance(f, bt2._StringFieldConst):
        return str(f)
    if isinstance(f, bt2._StructureFieldConst):
        return {k: value(v) for k, v in f.items()}
    if isinstance(f, bt2._ArrayFieldConst):
        return [value(v) for v in f]
    if isinstance(f, bt2._VariantFieldConst):
        return {"option": f.selected_option_index, "value": value(f.selected_option)}
    if isinstance(f, bt2._OptionFieldConst):
        return None if f.field is None else value(f.field)
    if isinstance(f, bt2._BoolFieldConst):
        return bool(f)
    return repr(f)


def stream_id(s):
    return {"trace": s.trace.name, "class": s.cls.id, "id": s.id}


def main(paths):
    limit = int(sys.argv[1])
    it = bt2.TraceCollectionMessageIterator([bt2.AutoSourceComponentSpec(p) for p in paths])
    n = 0
    out = sys.stdout
    for msg in it:
        if isinstance(msg, bt2._EventMessageConst):
            ev = msg.event
            rec = {
                "ns": str(msg.default_clock_snapshot.ns_from_origin) if msg.event.cls.stream_class.default_clock_class is not None else None,
                "name": ev.name,
                "stream": stream_id(ev.stream),
            }
            if ev.packet is not None and ev.packet.context_field is not None:
                rec["packet"] = value(ev.packet.context_field)
            if ev.common_context_field is not None:
                rec["sctx"] = value(ev.common_context_field)
            if ev.specific_context_field is not None:
                rec["ctx"] = value(ev.specific_context_field)
            if ev.payload_field is not None:
                rec["payload"] = value(ev.payload_field)
            out.write(json.dumps(rec) + "\n")
        elif isinstance(msg, (bt2._DiscardedEventsMessageConst, bt2._DiscardedPacketsMessageConst)):
            kind = "discarded-events" if isinstance(msg, bt2._DiscardedEventsMessageConst) else "discarded-packets"
            cls = msg.stream.cls
            has_cs = (
                cls.discarded_events_have_default_clock_snapshots
                if kind == "discarded-events"
                else cls.discarded_packets_have_default_clock_snapshots
            )
            rec = {
                "kind": kind,
                "count": msg.count,
                "stream": stream_id(msg.stream),
                "begin": str(msg.beginning_default_clock_snapshot.ns_from_origin) if has_cs else None,
                "end": str(msg.end_default_clock_snapshot.ns_from_origin) if has_cs else None,
            }
            out.write(json.dumps(rec) + "\n")
        else:
            continue
        n += 1
        if limit > 0 and n >= limit:
            break


if __name__ == "__main__":
    main(sys.argv[2:])
