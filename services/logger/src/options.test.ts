import { describe, expect, it } from 'vitest';
import { SILENT_LOGGER } from '@palisade/service-kit';
import { LoggerError } from './errors.js';
import { LOGGER_DEFAULTS, parseBytes, parseDuration, resolveLoggerOptions, type LoggerOptions } from './options.js';

const base: LoggerOptions = { natsServers: ['nats://127.0.0.1:4222'], listen: '127.0.0.1:7402', dataDir: '/tmp/x', consumer: 'logger-a', logger: SILENT_LOGGER };
const refused = (o: Partial<LoggerOptions>): string => {
  try {
    resolveLoggerOptions({ ...base, ...o });
  } catch (err) {
    expect(err).toBeInstanceOf(LoggerError);
    return (err as Error).message;
  }
  throw new Error('expected a refusal');
};

describe('logger options', () => {
  it('fills the exported defaults', () => {
    const r = resolveLoggerOptions(base);
    expect(r.retentionMs).toBe(LOGGER_DEFAULTS.retentionMs);
    expect(r.maxBytes).toBe(0);
    expect(r.sweepIntervalMs).toBe(10_000);
  });

  it('refuses contradictions and bad values, naming the field', () => {
    expect(refused({ listen: '0.0.0.0:7402' })).toContain('loopback');
    expect(refused({ natsServers: [] })).toContain('nats');
    expect(refused({ consumer: 'a.b' })).toContain('consumer');
    expect(refused({ maxBytes: 1000 })).toContain('maxBytes');
    expect(refused({ timeZone: 'Mars/Base' })).toContain('time zone');
    expect(refused({ replicas: 7 })).toContain('replicas');
    expect(refused({ metricsListen: 'nope' })).toContain('metrics');
  });

  it('parses durations and sizes', () => {
    expect(parseDuration('7d')).toBe(7 * 86_400_000);
    expect(parseDuration('90m')).toBe(5_400_000);
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('0')).toBe(0);
    expect(() => parseDuration('10')).toThrow(LoggerError);
    expect(() => parseDuration('1y')).toThrow(LoggerError);
    expect(parseBytes('20G')).toBe(20 * 1024 ** 3);
    expect(parseBytes('512MiB')).toBe(512 * 1024 ** 2);
    expect(parseBytes('1048576')).toBe(1048576);
    expect(() => parseBytes('ten')).toThrow(LoggerError);
  });
});
