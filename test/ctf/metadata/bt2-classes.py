#!/usr/bin/python3
"""Dumps the trace class babeltrace2 builds for a CTF trace, as JSON on stdout.

Usage: bt2-classes.py TRACE_DIR

Reads only up to the first message (the trace class is complete by then), so it is fast on
any trace with at least one data stream. Used by the metadata parser's differential tests.
Field classes are dumped as babeltrace2 sees them: names without the CTF leading underscore,
text arrays/sequences as strings, and without the fields it consumes itself (event header,
packet context meanings).
"""
import json
import sys

import bt2


def fc(c):
    if c is None:
        return None
    if isinstance(c, bt2._StructureFieldClassConst):
        return {'kind': 'struct', 'members': [[m.name, fc(m.field_class)] for m in c.values()]}
    if isinstance(c, (bt2._UnsignedEnumerationFieldClassConst, bt2._SignedEnumerationFieldClassConst)):
        return {
            'kind': 'enum',
            'signed': isinstance(c, bt2._SignedEnumerationFieldClassConst),
            'size': c.field_value_range,
            'labels': sorted(m.label for m in c.values()),
        }
    if isinstance(c, (bt2._UnsignedIntegerFieldClassConst, bt2._SignedIntegerFieldClassConst)):
        return {
            'kind': 'int',
            'signed': isinstance(c, bt2._SignedIntegerFieldClassConst),
            'size': c.field_value_range,
            'base': int(c.preferred_display_base),
        }
    if isinstance(c, bt2._RealFieldClassConst):
        return {'kind': 'float', 'single': 'Single' in type(c).__name__}
    if isinstance(c, bt2._StringFieldClassConst):
        return {'kind': 'string'}
    if isinstance(c, bt2._StaticArrayFieldClassConst):
        return {'kind': 'array', 'length': c.length, 'element': fc(c.element_field_class)}
    if isinstance(c, bt2._DynamicArrayFieldClassConst):
        return {'kind': 'sequence', 'element': fc(c.element_field_class)}
    if isinstance(c, bt2._VariantFieldClassConst):
        return {'kind': 'variant', 'options': [[o.name, fc(o.field_class)] for o in c.values()]}
    return {'kind': type(c).__name__}


def main():
    it = bt2.TraceCollectionMessageIterator(sys.argv[1])
    for msg in it:
        if not hasattr(msg, 'stream'):
            continue
        tc = msg.stream.cls.trace_class
        out = {'streams': []}
        for sc in tc.values():
            s = {
                'id': sc.id,
                'packet_context': fc(sc.packet_context_field_class),
                'event_common_context': fc(sc.event_common_context_field_class),
                'events': [],
            }
            for ec in sc.values():
                s['events'].append(
                    {
                        'id': ec.id,
                        'name': ec.name,
                        'context': fc(ec.specific_context_field_class),
                        'payload': fc(ec.payload_field_class),
                    }
                )
            out['streams'].append(s)
        json.dump(out, sys.stdout)
        return
    json.dump({'streams': []}, sys.stdout)


main()
