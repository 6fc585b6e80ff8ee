import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { isEntryPoint } from './entry-point.js';

describe('isEntryPoint', () => {
  it('is true only for the script node was started with', () => {
    const self = new URL(import.meta.url).pathname;
    expect(isEntryPoint(pathToFileURL(self).href, self)).toBe(true);
    expect(isEntryPoint('file:///elsewhere/main.js', self)).toBe(false);
    expect(isEntryPoint(pathToFileURL(self).href, undefined)).toBe(false);
    expect(isEntryPoint(pathToFileURL(self).href, '/no/such/file.js')).toBe(false);
  });
});
