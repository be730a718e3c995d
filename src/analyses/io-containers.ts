/**
 * The per-container I/O tables (ours, after lttng-analyses' ones): usage (system call bytes,
 * block bytes, calls and errors), system call latency by kind, block requests by disk, and bytes
 * by file. The usage commands (`iousagetop`) show usage, disks and files; the latency and log
 * commands show latency and disks.
 */
import { durationCells, us3 } from './family-report.js';
import type { ReportOptions } from './format/common.js';
import { containerCell, containerLabel, limited } from './format/common.js';
import type { Cell, ResultTable, TableClass } from './format/lami.js';
import { cell, col, tableClass } from './format/lami.js';
import { formatFixed, formatSize, padLeftAlign, padRightAlign } from './format/pyfmt.js';
import type { IoPeriodResult } from './io.js';
import { IO_KINDS } from './io.js';
import { IO_CLASSES, size } from './io-classes.js';
import { bytesCols, CONTAINER_COL, countCol, DISK_COL, PATH_COL } from './table-columns.js';

const C = CONTAINER_COL;

export const IO_CONTAINER_CLASSES = {
  usage: tableClass('per-container-usage', 'Per-container I/O usage', [
    C,
    ...bytesCols('', 'System call bytes'),
    ...bytesCols('block_', 'Block bytes'),
    col('calls', 'I/O system calls', 'number', 'calls'),
    col('errors', 'I/O system calls that failed', 'number', 'calls'),
  ]),
  latency: tableClass('per-container-latency', 'Per-container system call latency statistics', [
    C,
    ...IO_CLASSES.syscallStats.columns,
  ]),
  disk: tableClass('per-container-disk', 'Per-container block I/O by disk', [
    C,
    DISK_COL,
    countCol('Request count', 'I/O requests'),
    col('sectors', 'Sector count', 'number', 'sectors'),
    ...bytesCols(),
    col('avg_latency', 'Average request latency', 'duration'),
    col('max_latency', 'Maximum request latency', 'duration'),
  ]),
  file: tableClass('per-container-file', 'Per-container I/O by file', [C, PATH_COL, ...bytesCols()]),
};

export function containerIoTables(
  r: IoPeriodResult,
  usage: boolean,
  t: (cls: TableClass, rows: Cell[][], subtitle?: string) => ResultTable,
): ResultTable[] {
  const out: ResultTable[] = [];
  if (usage) {
    out.push(
      t(
        IO_CONTAINER_CLASSES.usage,
        r.containers.map((c) => [
          containerCell(c.container),
          size(c.read),
          size(c.write),
          size(c.blockRead),
          size(c.blockWrite),
          cell.number(c.calls),
          cell.number(c.errors),
        ]),
      ),
    );
  } else {
    out.push(
      t(
        IO_CONTAINER_CLASSES.latency,
        r.containers.flatMap((c) =>
          IO_KINDS.map((k) => [containerCell(c.container), cell.string(k), ...durationCells(c.latency[k])]),
        ),
      ),
    );
  }
  out.push(
    t(
      IO_CONTAINER_CLASSES.disk,
      r.containerDisks.map((d) => [
        containerCell(d.container),
        { class: 'disk', name: d.disk },
        cell.number(d.requests),
        cell.number(d.sectors),
        size(d.read),
        size(d.write),
        d.latency.count > 0 ? cell.duration(d.latency.mean, true) : cell.unknown(),
        d.latency.count > 0 ? cell.duration(d.latency.max, false) : cell.unknown(),
      ]),
    ),
  );
  if (usage) {
    out.push(
      t(
        IO_CONTAINER_CLASSES.file,
        r.containerFiles.map((f) => [
          containerCell(f.container),
          { class: 'path', path: f.file },
          size(f.read),
          size(f.write),
        ]),
      ),
    );
  }
  return out;
}

export function containerIoLines(r: IoPeriodResult, o: ReportOptions, usage: boolean): string[] {
  if (r.containers.length === 0 && r.containerDisks.length === 0) return [];
  const lines: string[] = [];
  const L = (x: string): string => padLeftAlign(x, 45);
  if (usage) {
    lines.push('', 'Per-Container I/O Usage');
    lines.push(
      `${L('Container')} ${padLeftAlign('Type', 10)} ${['Read', 'Written', 'Block read', 'Block written', 'Calls', 'Errors'].map((h) => padRightAlign(h, 13)).join(' ')}`,
    );
    for (const c of limited(r.containers, o.limit)) {
      lines.push(
        `${L(containerLabel(c.container))} ${padLeftAlign(c.container.type, 10)} ` +
          [
            formatSize(c.read),
            formatSize(c.write),
            formatSize(c.blockRead),
            formatSize(c.blockWrite),
            String(c.calls),
            String(c.errors),
          ]
            .map((v) => padRightAlign(v, 13))
            .join(' '),
      );
    }
  } else {
    lines.push('', 'Per-Container System Call Latency (usec)');
    lines.push(
      `${L('Container')} ${padLeftAlign('Type', 10)} ${padLeftAlign('Kind', 6)} ${['Count', 'Min', 'Average', 'Max', 'Stdev'].map((h) => padRightAlign(h, 14)).join(' ')}`,
    );
    for (const c of limited(r.containers, o.limit)) {
      for (const k of IO_KINDS) {
        const d = c.latency[k];
        if (d.count === 0) continue;
        lines.push(
          `${L(containerLabel(c.container))} ${padLeftAlign(c.container.type, 10)} ${padLeftAlign(k, 6)} ` +
            [String(d.count), us3(d.min), us3(d.mean), us3(d.max), d.count < 2 ? '?' : us3(d.stdev)]
              .map((v) => padRightAlign(v, 14))
              .join(' '),
        );
      }
    }
  }
  if (r.containerDisks.length > 0) {
    lines.push('', 'Per-Container Block I/O by Disk');
    lines.push(
      `${L('Container')} ${padLeftAlign('Disk', 12)} ${['Requests', 'Sectors', 'Read', 'Written', 'Avg (ms)', 'Max (ms)'].map((h) => padRightAlign(h, 12)).join(' ')}`,
    );
    for (const d of limited(r.containerDisks, o.limit)) {
      const n = d.latency.count;
      lines.push(
        `${L(containerLabel(d.container))} ${padLeftAlign(d.disk, 12)} ` +
          [
            String(d.requests),
            String(d.sectors),
            formatSize(d.read),
            formatSize(d.write),
            n > 0 ? formatFixed(d.latency.mean / 1e6, 3) : '-',
            n > 0 ? formatFixed(d.latency.max / 1e6, 3) : '-',
          ]
            .map((v) => padRightAlign(v, 12))
            .join(' '),
      );
    }
  }
  if (usage && r.containerFiles.length > 0) {
    lines.push('', 'Per-Container I/O by File');
    lines.push(`${L('Container')} ${padRightAlign('Read', 12)} ${padRightAlign('Written', 12)}  Path`);
    for (const f of limited(r.containerFiles, o.limit)) {
      lines.push(
        `${L(containerLabel(f.container))} ${padRightAlign(formatSize(f.read), 12)} ${padRightAlign(formatSize(f.write), 12)}  ${f.file}`,
      );
    }
  }
  return lines;
}
