import { describe, expect, it } from 'vitest';
import { LttngSandbox, buildUstApp, run } from './lttng.js';

describe('LTTng sandbox harness', () => {
  it('records a UST trace in an isolated session daemon that babeltrace2 reads', async () => {
    const sb = await LttngSandbox.create();
    try {
      const exe = await buildUstApp(
        `${sb.dir}/app`,
        'hello',
        'hello_tp',
        `LTTNG_UST_TRACEPOINT_EVENT(hello_tp, ev,
  LTTNG_UST_TP_ARGS(int, i, const char *, s),
  LTTNG_UST_TP_FIELDS(lttng_ust_field_integer(int, i, i) lttng_ust_field_string(s, s)))`,
        `int main(void){ for(int i=0;i<5;i++) lttng_ust_tracepoint(hello_tp, ev, i, "hi"); return 0; }`,
      );
      await sb.lttng('create', 's', '-o', `${sb.dir}/trace`);
      await sb.lttng('enable-event', '-u', 'hello_tp:*');
      await sb.lttng('add-context', '-u', '-t', 'vpid', '-t', 'pid_ns');
      await sb.lttng('start');
      const app = await sb.exec([exe]);
      expect(app.code).toBe(0);
      await sb.lttng('stop');
      await sb.lttng('destroy');
      const bt = await run('babeltrace2', [`${sb.dir}/trace`]);
      expect(bt.code).toBe(0);
      const lines = bt.stdout.trim().split('\n');
      expect(lines).toHaveLength(5);
      expect(lines[4]).toMatch(
        /hello_tp:ev: \{ cpu_id = \d+ \}, \{ vpid = \d+, pid_ns = \d+ \}, \{ i = 4, s = "hi" \}$/,
      );
    } finally {
      await sb.destroy();
    }
  });
});
