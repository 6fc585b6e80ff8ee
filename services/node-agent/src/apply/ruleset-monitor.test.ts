import { describe, expect, it } from 'vitest';
import { ManualClock, SILENT_LOGGER } from '@palisade/service-kit';
import { createRulesetMonitor } from './ruleset-monitor.js';

/** Lets the monitor's awaited generation read finish. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A kernel whose generation the test moves; `fail` makes the next reads throw. */
function fakeKernel() {
  const k = { generation: 7, fail: false, opened: 0, closed: 0 };
  const openSession = () => {
    k.opened++;
    return Promise.resolve({
      generation: () => (k.fail ? Promise.reject(new Error('socket lost')) : Promise.resolve(k.generation)),
      close: () => {
        k.closed++;
        return Promise.resolve();
      },
    });
  };
  return { k, openSession };
}

describe('the ruleset monitor (generation reads)', () => {
  it('reports each change of the generation once, and nothing while it stays', async () => {
    const clock = new ManualClock();
    const { k, openSession } = fakeKernel();
    let changes = 0;
    const m = createRulesetMonitor({ clock, logger: SILENT_LOGGER, intervalMs: 1000, openSession, onChange: () => changes++ });
    m.start();
    await settle();
    for (let i = 0; i < 3; i++) {
      clock.advance(1000);
      await settle();
    }
    expect(changes).toBe(0);
    k.generation += 2; // two commits between reads: one report
    clock.advance(1000);
    await settle();
    expect(changes).toBe(1);
    clock.advance(1000);
    await settle();
    expect(changes).toBe(1);
    await m.close();
    expect(k.closed).toBe(1);
    expect(clock.pendingTimers).toBe(0);
  });

  it('opens the session again after a failed read and keeps checking', async () => {
    const clock = new ManualClock();
    const { k, openSession } = fakeKernel();
    let changes = 0;
    const m = createRulesetMonitor({ clock, logger: SILENT_LOGGER, intervalMs: 500, openSession, onChange: () => changes++ });
    m.start();
    await settle();
    k.fail = true;
    clock.advance(500);
    await settle();
    expect(k.opened).toBe(1);
    k.fail = false;
    k.generation++;
    clock.advance(500);
    await settle();
    expect(k.opened).toBe(2);
    expect(changes).toBe(1);
    await m.close();
  });
});
