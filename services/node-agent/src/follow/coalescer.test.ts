import { ManualClock } from '@palisade/service-kit';
import { describe, expect, it } from 'vitest';
import { createCoalescer } from './coalescer.js';

const flush = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await Promise.resolve();
};

function setup(runMs = 0) {
  const clock = new ManualClock(1000);
  const runsAt: number[] = [];
  let release: (() => void) | undefined;
  const c = createCoalescer({
    clock,
    quietMs: 5,
    maxDelayMs: 100,
    run: () => {
      runsAt.push(clock.now());
      return runMs === 0 ? Promise.resolve() : new Promise<void>((r) => (release = r));
    },
  });
  return { clock, runsAt, c, release: () => release?.() };
}

describe('coalescer', () => {
  it('runs a change that finds it idle on the next turn, without the quiet time', async () => {
    const { clock, runsAt, c } = setup();
    c.poke();
    c.poke(); // delivered in the same read: joins the run
    expect(runsAt).toEqual([]);
    clock.advance(0);
    await flush();
    expect(runsAt).toEqual([1000]);
    clock.advance(20);
    c.poke(); // idle again for more than quietMs
    clock.advance(0);
    await flush();
    expect(runsAt).toEqual([1000, 1020]);
    clock.advance(1000);
    expect(runsAt).toEqual([1000, 1020]);
  });

  it('coalesces a burst: quietMs after the last change once one ran or changed within quietMs', async () => {
    const { clock, runsAt, c } = setup();
    c.poke();
    clock.advance(0);
    await flush();
    clock.advance(2);
    c.poke();
    clock.advance(2);
    c.poke();
    clock.advance(4);
    expect(runsAt).toEqual([1000]);
    clock.advance(1);
    await flush();
    expect(runsAt).toEqual([1000, 1009]);
    clock.advance(1000);
    expect(runsAt).toEqual([1000, 1009]);
  });

  it('runs at least every maxDelayMs during a continuous stream', async () => {
    const { clock, runsAt, c } = setup();
    for (let t = 0; t < 250; t++) {
      c.poke();
      clock.advance(1);
      await flush();
    }
    clock.advance(10);
    await flush();
    // The first change at once, then every 100 ms while changes keep coming, then 5 ms after the last one (at 1249).
    expect(runsAt).toEqual([1000, 1101, 1201, 1254]);
  });

  it('never overlaps runs; a change during a run schedules one more', async () => {
    const { clock, runsAt, c, release } = setup(1);
    c.poke();
    clock.advance(5);
    expect(runsAt).toEqual([1000]);
    c.poke();
    clock.advance(50);
    expect(runsAt).toEqual([1000]);
    release();
    await flush();
    clock.advance(0);
    expect(runsAt).toEqual([1000, 1055]);
  });

  it('pokeAfter delays a retry; close cancels what is scheduled', async () => {
    const { clock, runsAt, c } = setup();
    c.pokeAfter(200);
    clock.advance(199);
    expect(runsAt).toEqual([]);
    clock.advance(1);
    await flush();
    expect(runsAt).toEqual([1200]);
    c.pokeAfter(100);
    await c.close();
    clock.advance(1000);
    c.poke();
    clock.advance(1000);
    expect(runsAt).toEqual([1200]);
  });
  it('schedules a run that finds it idle with nextTurn (setImmediate in production), not a clock timer', async () => {
    const clock = new ManualClock(1000);
    const turns: (() => void)[] = [];
    let runs = 0;
    const c = createCoalescer({ clock, run: () => Promise.resolve(void runs++), nextTurn: (fn) => (turns.push(fn), () => undefined) });
    c.poke();
    c.poke();
    clock.advance(0);
    expect(runs).toBe(0);
    expect(turns).toHaveLength(1);
    turns[0]!();
    await flush();
    expect(runs).toBe(1);
    await c.close();
  });
});
