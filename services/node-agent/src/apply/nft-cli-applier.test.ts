import { describe, expect, it } from 'vitest';
import { ownTablesListing } from './nft-cli-applier.js';

describe('ownTablesListing', () => {
  it("extracts Palisade's tables only, with counter values zeroed", () => {
    const listing = [
      'table inet other {',
      '\tchain c {',
      '\t}',
      '}',
      'table inet palisade {',
      '\tchain PVEFW-INPUT {',
      '\t\tcounter packets 12 bytes 3400 accept',
      '\t}',
      '}',
      'table bridge palisade {',
      '}',
      '',
    ].join('\n');
    const own = [
      { family: 'inet', name: 'palisade' },
      { family: 'bridge', name: 'palisade' },
    ];
    expect(ownTablesListing(listing, own)).toBe(
      ['table inet palisade {', '\tchain PVEFW-INPUT {', '\t\tcounter packets 0 bytes 0 accept', '\t}', '}', 'table bridge palisade {', '}', ''].join('\n'),
    );
    expect(ownTablesListing('table inet other {\n}\n', own)).toBe('');
  });
});
