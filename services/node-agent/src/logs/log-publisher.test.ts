import { describe, expect, it } from 'vitest';
import { SILENT_LOGGER, SYSTEM_CLOCK } from '@palisade/service-kit';
import { AgentError } from '../errors.js';
import { LOG_PUBLISHER_DEFAULTS, resolveLogPublisherOptions } from './log-publisher.js';

const base = { node: 'pve1', servers: ['nats://127.0.0.1:4222'], clock: SYSTEM_CLOCK, logger: SILENT_LOGGER };

describe('log publisher options', () => {
  it('fills the defaults: batches of 256 entries, 16 messages in flight', () => {
    expect(resolveLogPublisherOptions(base)).toMatchObject({ ...LOG_PUBLISHER_DEFAULTS, maxEntriesPerMessage: 256, maxInFlight: 16 });
  });

  it.each([
    ['maxEntriesPerMessage', 0],
    ['maxEntriesPerMessage', 4097],
    ['maxMessageBytes', 1024 * 1024],
    ['maxInFlight', 1.5],
    ['spoolMaxEntries', -1],
  ] as const)('refuses %s = %s, naming the option', (field, value) => {
    let err: unknown;
    try {
      resolveLogPublisherOptions({ ...base, [field]: value });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(AgentError);
    expect((err as AgentError).code).toBe('invalid-argument');
    expect((err as AgentError).context.field).toBe(field);
    expect((err as AgentError).message).toContain(field);
  });
});
