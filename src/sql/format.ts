/**
 * Query results as text: an aligned table, CSV (RFC 4180) or JSON (an array of objects; BIGINT
 * and wider integers are strings, exact, as DuckDB's JSON conversion gives them).
 */
import type { QueryResult } from './duck.js';

export type OutputFormat = 'table' | 'csv' | 'json';

function cellText(v: unknown): string {
  if (v === null || v === undefined) return 'NULL';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  return JSON.stringify(v);
}

function csvCell(v: unknown): string {
  if (v === null || v === undefined) return '';
  const s = cellText(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

const numeric = (v: unknown): boolean =>
  typeof v === 'number' || typeof v === 'bigint' || (typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v));

export function formatResult(r: QueryResult, format: OutputFormat): string {
  if (format === 'json') {
    const objs = r.rows.map((row) => Object.fromEntries(r.columns.map((c, i) => [c, row[i] ?? null])));
    return JSON.stringify(objs, null, 1) + '\n';
  }
  if (format === 'csv') {
    const lines = [r.columns.map(csvCell).join(',')];
    for (const row of r.rows) lines.push(row.map(csvCell).join(','));
    return lines.join('\n') + '\n';
  }
  const cells = r.rows.map((row) => row.map(cellText));
  const widths = r.columns.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i]!.length)));
  const right = r.columns.map(
    (_, i) => r.rows.length > 0 && r.rows.every((row) => row[i] === null || numeric(row[i])),
  );
  const line = (vals: string[]): string =>
    vals
      .map((v, i) => (right[i] ? v.padStart(widths[i]!) : v.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  const out = [line(r.columns), widths.map((w) => '-'.repeat(w)).join('  ')];
  for (const row of cells) out.push(line(row));
  out.push(`(${r.rows.length} row${r.rows.length === 1 ? '' : 's'})`);
  return out.join('\n') + '\n';
}
