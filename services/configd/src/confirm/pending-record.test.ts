import { describe, expect, it } from 'vitest';
import { decodePending, encodePending, requireConfirmWindow, rollbackMessage, type PendingConfirmation } from './pending-record.js';

const armed: PendingConfirmation = {
  path: 'nodes/pve1/host.fw',
  changeRevision: 42,
  restoreRevision: 41,
  restoreDigest: 'ab',
  windowMs: 60_000,
  deadlineMs: 1_000_000,
  author: 'ops',
  writerNode: 'pve1',
  state: 'armed',
};

describe('pending confirmation records', () => {
  it('round-trip, and an unreadable record is undefined rather than a throw', () => {
    expect(decodePending(encodePending(armed))).toEqual(armed);
    expect(decodePending(Buffer.from('not json'))).toBeUndefined();
    expect(decodePending(Buffer.from(JSON.stringify({ ...armed, state: 'confirmed' })))).toBeUndefined();
  });

  it('windows between 1 s and 24 h only, naming the bounds', () => {
    expect(requireConfirmWindow(60_000)).toBe(60_000);
    expect(() => requireConfirmWindow(500)).toThrow(/1 s to 24 h, got 500 ms/);
    expect(() => requireConfirmWindow(25 * 3600 * 1000)).toThrow(/24 h/);
  });

  it('the rollback message names the change, the window and what comes back', () => {
    expect(rollbackMessage(armed)).toBe('revision 42 by ops not confirmed within 60 s: content of revision 41 restored');
    expect(rollbackMessage({ ...armed, restoreRevision: 0 })).toContain('did not exist before: deleted');
  });
});
