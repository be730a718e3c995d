#!/usr/bin/python3
"""Dumps a CTF trace as babeltrace2 (Python bindings) decodes it, one JSON object per line.

Integers are strings (exact), reals are numbers, strings are strings, structures are lists
of [name, value], arrays are lists, variants are {"option": name, "value": v}, enumerations
are {"enum": "<int>", "labels": [...]}. Used by the CTF writer tests as a differential peer.
"""
import json
import sys

import bt2


def conv(f):
    if isinstance(f, bt2._EnumerationFieldConst):
        try:
            labels = sorted(f.labels)
        except AssertionError:  # the 2.0.4 bindings assert on a value without a label
            labels = []
        return {"enum": str(int(f)), "labels": labels}
    if isinstance(f, bt2._BoolFieldConst):
        return bool(f)
    if isinstance(f, bt2._IntegerFieldConst):
        return str(int(f))
    if isinstance(f, bt2._RealFieldConst):
        return float(f)
    if isinstance(f, bt2._StringFieldConst):
        return str(f)
    if isinstance(f, bt2._StructureFieldConst):
        return [[k, conv(v)] for k, v in f.items()]
    if isinstance(f, bt2._ArrayFieldConst):
        return [conv(x) for x in f]
    if isinstance(f, bt2._VariantFieldConst):
        return {"option": f.cls.option_at_index(f.selected_option_index).name, "value": conv(f.selected_option)}
    if isinstance(f, bt2._OptionFieldConst):
        return None if f.field is None else conv(f.field)
    raise TypeError(type(f))


def main():
    it = bt2.TraceCollectionMessageIterator(sys.argv[1:])
    out = sys.stdout
    for msg in it:
        if type(msg) is bt2._EventMessageConst:
            ev = msg.event
            rec = {
                "t": "e",
                "name": ev.name,
                "cs": str(msg.default_clock_snapshot.value),
                "ns": str(msg.default_clock_snapshot.ns_from_origin),
                "sid": ev.stream.cls.id,
                "inst": ev.stream.id,
                "cpu": None,
                "sctx": conv(ev.common_context_field) if ev.common_context_field is not None else None,
                "ectx": conv(ev.specific_context_field) if ev.specific_context_field is not None else None,
                "payload": conv(ev.payload_field) if ev.payload_field is not None else None,
            }
            pctx = ev.packet.context_field if ev.packet is not None else None
            if pctx is not None and "cpu_id" in pctx:
                rec["cpu"] = int(pctx["cpu_id"])
            out.write(json.dumps(rec) + "\n")
        elif type(msg) is bt2._DiscardedEventsMessageConst:
            out.write(json.dumps({
                "t": "d",
                "sid": msg.stream.cls.id,
                "count": msg.count,
                "begin": str(msg.beginning_default_clock_snapshot.value),
                "end": str(msg.end_default_clock_snapshot.value),
            }) + "\n")
        elif type(msg) is bt2._DiscardedPacketsMessageConst:
            out.write(json.dumps({"t": "dp", "sid": msg.stream.cls.id, "count": msg.count}) + "\n")
        elif type(msg) is bt2._PacketBeginningMessageConst:
            out.write(json.dumps({"t": "pb", "sid": msg.packet.stream.cls.id,
                                  "cs": str(msg.default_clock_snapshot.value)}) + "\n")
        elif type(msg) is bt2._PacketEndMessageConst:
            out.write(json.dumps({"t": "pe", "sid": msg.packet.stream.cls.id,
                                  "cs": str(msg.default_clock_snapshot.value)}) + "\n")


main()
