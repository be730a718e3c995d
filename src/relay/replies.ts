/**
 * What the relay answers on the control connection, read by `RelayClient` off its reply queue:
 * each parser returns undefined until the whole answer is there, then takes it from the queue.
 */
import { RelayError } from '../util/errors.js';
import type { ByteQueue } from './bytequeue.js';
import { CreateSessionReply211, GenericReply, LttngErr } from './codec.js';

/** A reply of fixed size, decoded as `s`. */
export function fixedReply<T>(s: {
  size: number;
  decode(b: Uint8Array): T;
}): (q: ByteQueue) => T | undefined {
  return (q) => (q.length < s.size ? undefined : s.decode(q.take(s.size)));
}

/** A generic reply that must say OK (`what`: the command, for the error). */
export function okReply(what: string): (q: ByteQueue) => true | undefined {
  return (q) => {
    if (q.length < GenericReply.size) return undefined;
    const r = GenericReply.decode(q.take(GenericReply.size));
    if (r.ret_code !== LttngErr.OK)
      throw new RelayError(`relay answered ${what} with error code ${r.ret_code}`);
    return true;
  };
}

/** The generic reply of DATA_PENDING and END_DATA_PENDING: whether data is still pending. */
export function pendingReply(q: ByteQueue): boolean | undefined {
  if (q.length < GenericReply.size) return undefined;
  return GenericReply.decode(q.take(GenericReply.size)).ret_code !== 0;
}

/** CREATE_SESSION's reply and the output path after it. */
export function sessionReply(q: ByteQueue) {
  if (q.length < CreateSessionReply211.size) return undefined;
  const h = CreateSessionReply211.decode(q.peek(CreateSessionReply211.size));
  if (h.output_path_length > 4096)
    throw new RelayError(`CREATE_SESSION reply path of ${h.output_path_length} bytes`);
  if (q.length < CreateSessionReply211.size + h.output_path_length) return undefined;
  q.skip(CreateSessionReply211.size);
  const path = q.take(h.output_path_length);
  const nul = path.indexOf(0);
  return { ...h, path: path.subarray(0, nul < 0 ? path.length : nul).toString('utf8') };
}
