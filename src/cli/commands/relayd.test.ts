import { describe, expect, it } from 'vitest';
import { byteSize, listenSpec, parseLimits } from './relayd.js';

describe('relayd listen addresses (lttng-relayd -C/-D/-L forms)', () => {
  it('takes PORT, HOST:PORT, tcp://HOST:PORT and tcp6://[ADDR]:PORT', () => {
    expect(listenSpec('5342', '0.0.0.0', 'control port')).toEqual({ host: '0.0.0.0', port: 5342 });
    expect(listenSpec('127.0.0.1:5343', '0.0.0.0', 'data port')).toEqual({ host: '127.0.0.1', port: 5343 });
    expect(listenSpec('tcp://localhost:5344', '0.0.0.0', 'live port')).toEqual({
      host: 'localhost',
      port: 5344,
    });
    expect(listenSpec('tcp6://[::1]:5342', '0.0.0.0', 'control port')).toEqual({ host: '::1', port: 5342 });
    expect(listenSpec('[::]:5343', '0.0.0.0', 'data port')).toEqual({ host: '::', port: 5343 });
  });
  it('refuses what is not an address', () => {
    expect(() => listenSpec('udp://x:1', '0.0.0.0', 'control port')).toThrow(/bad control port/);
    expect(() => listenSpec('70000', '0.0.0.0', 'data port')).toThrow(/out of range/);
    expect(() => listenSpec('host:', '0.0.0.0', 'live port')).toThrow(/bad live port/);
  });
});

describe('relayd limit options', () => {
  it('takes seconds, counts and sizes', () => {
    expect(
      parseLimits({ commandTimeout: '1.5', idleTimeout: '60', memoryBudget: '1G', maxConnections: '4096' }),
    ).toEqual({
      commandTimeoutMs: 1500,
      idleTimeoutMs: 60_000,
      memoryBudget: 1024 ** 3,
      maxConnections: 4096,
    });
    expect(parseLimits({ commandTimeout: '30', idleTimeout: '0.5', memoryBudget: '192M' })).toEqual({
      commandTimeoutMs: 30_000,
      idleTimeoutMs: 500,
      memoryBudget: 192 * 1024 * 1024,
    });
    expect(byteSize('512k', '--memory-budget')).toBe(512 * 1024);
    expect(byteSize('2MiB', '--memory-budget')).toBe(2 * 1024 * 1024);
    expect(byteSize('1048576', '--memory-budget')).toBe(1048576);
  });
  it('refuses what is not one, in one line naming the option', () => {
    const base = { commandTimeout: '30', idleTimeout: '60', memoryBudget: '192M' };
    expect(() => parseLimits({ ...base, commandTimeout: '0' })).toThrow(/bad --command-timeout "0"/);
    expect(() => parseLimits({ ...base, idleTimeout: '-1' })).toThrow(/bad --idle-timeout "-1"/);
    expect(() => parseLimits({ ...base, idleTimeout: '1m' })).toThrow(/bad --idle-timeout "1m"/);
    expect(() => parseLimits({ ...base, memoryBudget: 'lots' })).toThrow(/bad --memory-budget "lots"/);
    expect(() => parseLimits({ ...base, memoryBudget: '100k' })).toThrow(/too small \(at least 1M\)/);
    expect(() => parseLimits({ ...base, maxConnections: '0' })).toThrow(/bad --max-connections "0"/);
    expect(() => parseLimits({ ...base, maxConnections: '1e3' })).toThrow(/bad --max-connections/);
  });
});
