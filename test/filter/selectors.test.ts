import { describe, expect, it } from 'vitest';
import {
  compileContainerSelector,
  containerMatches,
  type ContainerInfo,
  type ContainerLookup,
} from '../../src/filter/containers.js';
import { EventNameSelector, splitNameList } from '../../src/filter/names.js';
import { UsageError } from '../../src/util/errors.js';
import * as C from './classes.js';

describe('event-name selection', () => {
  it('splits comma lists with \\, escapes', () => {
    expect(splitNameList('a,b')).toEqual(['a', 'b']);
    expect(splitNameList('a\\,b,c')).toEqual(['a,b', 'c']);
    expect(splitNameList('a\\*,b')).toEqual(['a\\*', 'b']);
    expect(splitNameList(',a,,')).toEqual(['a']);
  });

  it('selects like lttng enable-event -e/--exclude', () => {
    const names = ['sched_switch', 'sched_wakeup', 'sys_read', 'nsfilt:text', 'nsfilt:mixed', 'a*b', 'a,b'];
    const pick = (inc: string[], exc: string[] = []): string[] => {
      const s = new EventNameSelector(inc, exc);
      return names.filter((n) => s.matches(n));
    };
    expect(pick([])).toEqual(names);
    expect(pick(['sched_*'])).toEqual(['sched_switch', 'sched_wakeup']);
    expect(pick(['sched_*', 'sys_read'])).toEqual(['sched_switch', 'sched_wakeup', 'sys_read']);
    expect(pick(['sched_switch,sys_*'])).toEqual(['sched_switch', 'sys_read']);
    expect(pick(['*'], ['nsfilt:text,nsfilt:m*'])).toEqual([
      'sched_switch',
      'sched_wakeup',
      'sys_read',
      'a*b',
      'a,b',
    ]);
    expect(pick(['*ts'])).toEqual([]);
    expect(pick(['*t'])).toEqual(['nsfilt:text']);
    expect(pick(['a\\*b'])).toEqual(['a*b']);
    expect(pick(['a\\,b'])).toEqual(['a,b']);
    expect(pick([], ['sched_*'])).toEqual(['sys_read', 'nsfilt:text', 'nsfilt:mixed', 'a*b', 'a,b']);
    expect(() => new EventNameSelector([','])).toThrow(UsageError);
  });
});

describe('container selection', () => {
  const web: ContainerInfo = {
    id: '0aab0696a8ce205c0f16',
    name: 'web-1',
    type: 'docker',
    image: 'nginx',
    pidNs: 4026532252,
  };
  const db: ContainerInfo = { id: 'db', name: 'db', type: 'Podman', pidNs: 4026532300n };
  const ec = C.eventClass('e', { _x: C.s32 });
  const sc = C.streamClass([ec]);
  const st = C.streamInstance(sc);
  const recs = [C.record(ec, st, [0]), C.record(ec, st, [1]), C.record(ec, st, [2])];
  const lookup: ContainerLookup = { at: (r) => [undefined, web, db][r.payload![0] as number] };
  const pick = (containers?: string[], types?: string[], host?: boolean): number[] => {
    const p = compileContainerSelector({ containers, types, host }, lookup);
    return recs.map((r, i) => (p(r) ? i : -1)).filter((i) => i >= 0);
  };

  it('matches names, ids, id prefixes and pid namespaces', () => {
    expect(containerMatches('web-1', web)).toBe(true);
    expect(containerMatches('web*', web)).toBe(true);
    expect(containerMatches('0aab0696a8ce', web)).toBe(true);
    expect(containerMatches('0aa', web)).toBe(false);
    expect(containerMatches('4026532252', web)).toBe(true);
    expect(containerMatches('40265322*', web)).toBe(true);
    expect(containerMatches('db', web)).toBe(false);
  });

  it('combines --container, --container-type and --host', () => {
    expect(pick(['web*'])).toEqual([1]);
    expect(pick(['web*', 'db'])).toEqual([1, 2]);
    expect(pick(['web*,db'])).toEqual([1, 2]);
    expect(pick(undefined, ['podman'])).toEqual([2]);
    expect(pick(['*'], ['docker'])).toEqual([1]);
    expect(pick(undefined, undefined, true)).toEqual([0]);
    expect(pick(['db'], undefined, true)).toEqual([0, 2]);
    expect(pick(undefined, ['dock*', 'lxc'], true)).toEqual([0, 1]);
    expect(pick(['nothing'])).toEqual([]);
  });
});
