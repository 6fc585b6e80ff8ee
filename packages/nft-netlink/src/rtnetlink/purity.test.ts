import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The rtnetlink codec and table are pure (house style, "Protocol and binary code"): no platform modules, no I/O.
const here = dirname(fileURLToPath(import.meta.url));

describe('rtnetlink codec purity', () => {
  it('imports nothing from node:* or the adapter', () => {
    const files = readdirSync(here).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'));
    expect(files.length).toBeGreaterThanOrEqual(2);
    for (const f of files) {
      const imports = [...readFileSync(join(here, f), 'utf8').matchAll(/^import[^;]*?from '([^']+)'/gms)].map((m) => m[1] ?? '');
      expect({ f, bad: imports.filter((i) => i.startsWith('node:') || /^(fs|path|os|net|child_process|netlink)$/.test(i) || i.includes('adapter')) }).toEqual({ f, bad: [] });
    }
  });
});
