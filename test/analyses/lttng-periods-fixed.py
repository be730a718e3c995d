"""
Runs an lttng-analyses 0.6.1 period command (`runlog`, `runstats_mi`, ...) with one fix: with
the pyparsing of this machine (3.x), its parser fails on every child period definition
(`child(parent):...`: KeyError 'id'), so the peer could not compare nested periods at all. The
fix reads the parent's name at its position in the parse results; nothing else changes.

Usage: python3 lttng-periods-fixed.py ENTRY [lttng-analyses arguments...]
       python3 lttng-periods-fixed.py --parse-lines < definitions
       python3 lttng-periods-fixed.py --parse-captures-lines < captures
"""
import sys

from lttnganalyses.cli import period_parsing as pp


def parse_period_def_arg(arg):
    try:
        res = pp._period_def.parseString(arg.split('/')[-1], parseAll=True)
    except Exception:
        raise pp.MalformedExpression(arg)
    name = parent = None
    if 'period-info' in res:
        info = res['period-info']
        name = info['name']
        if 'parent-name' in info:
            parent = info['parent-name'][1]
    begin = pp._expr_results_to_expression(res['begin-expr'])
    end = pp._expr_results_to_expression(res['end-expr']) if 'end-expr' in res else begin
    return pp.PeriodDefArgParseResults(parent, name, begin, end)


pp.parse_period_def_arg = parse_period_def_arg


def answer_lines(parse):
    """
    The parser alone, for a differential test of nstrace's: one argument per line of standard
    input, one answer per line (`ok` and what `parse` returns, or `err` and the exception's
    class). Packrat parsing memoizes (same language, same results), else deep expressions take
    seconds.
    """
    pp.pp.ParserElement.enablePackrat()
    for line in sys.stdin:
        try:
            print('ok' + parse(line.rstrip('\n')))
        except Exception as e:
            print('err ' + type(e).__name__)
    sys.exit(0)


def definition(arg):
    """`--period`: accepted, nothing more to say."""
    parse_period_def_arg(arg)
    return ''


def captures_names(arg):
    """`--period-captures`: the period name and the capture names, begin then end, as JSON."""
    import json

    r = pp.parse_period_captures_arg(arg)
    names = [r.name, list(r.begin_captures_exprs), list(r.end_captures_exprs)]
    return ' ' + json.dumps(names, separators=(',', ':'))


if sys.argv[1] == '--parse-lines':
    answer_lines(definition)
if sys.argv[1] == '--parse-captures-lines':
    answer_lines(captures_names)

from lttnganalyses.cli import periods  # noqa: E402

entry = sys.argv.pop(1)
sys.exit(getattr(periods, entry)())
