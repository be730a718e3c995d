import { describe, expect, it } from 'vitest';
import { listenSpec } from './relayd.js';

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
