/**
 * A firewall API write parses the new document once: the editor's parse stands for the store's
 * validation while the context it was parsed against is current; a stale context is validated
 * again, and a direct put (no editor) always is.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNats, type NatsClusterHandle } from '@palisade/testkit';
import { FwLangValidator, type ValidationInput } from '../store/document-validator.js';
import type { DiagnosticInfo } from '../errors.js';
import { rejects, startTestConfigd, text, type TestConfigd } from '../test-harness.js';

/** fw-lang's validator, counting the documents it parses by path. */
class CountingValidator extends FwLangValidator {
  readonly parsed: string[] = [];
  override validate(input: ValidationInput): Promise<readonly DiagnosticInfo[]> {
    this.parsed.push(input.path);
    return super.validate(input);
  }
}

let nats: NatsClusterHandle;
let cd: TestConfigd;
const validator = new CountingValidator();
const cluster = { target: { $case: 'cluster' as const, value: true } };
const guest = { target: { $case: 'vmid' as const, value: 100 } };

beforeAll(async () => {
  nats = await startNats({ size: 1 });
  cd = await startTestConfigd({ natsServers: nats.urls, replicas: 1, bucket: 'fwparse', validator });
  await cd.call('put', { path: 'firewall/cluster.fw', content: text('[IPSET mgmt]\n\n10.1.2.3\n\n[RULES]\n\nIN ACCEPT -p tcp -dport 22\n') });
  await cd.call('put', { path: 'nodes/pve1/qemu-server/100.conf', content: text('net0: virtio=BC:24:11:00:00:01,bridge=vmbr0,firewall=1\n') });
  await cd.call('put', { path: 'firewall/100.fw', content: text('[RULES]\n\nIN ACCEPT -source +mgmt\n') });
}, 60_000);

afterAll(async () => {
  await cd?.close();
  await nats?.close();
});

describe('a firewall write and its validation', () => {
  it('a direct put is validated by the store', () => {
    expect(validator.parsed).toEqual(['firewall/cluster.fw', 'nodes/pve1/qemu-server/100.conf', 'firewall/100.fw']);
  });

  it("an edit through the firewall API is not parsed a second time for validation", async () => {
    validator.parsed.length = 0;
    await cd.client().fw('addIpSetEntry', { scope: cluster, name: 'mgmt', cidr: '10.1.3.0/24', comment: 'new' });
    await cd.client().fw('createRule', { scope: guest, rule: { type: 'in', action: 'ACCEPT', proto: 'tcp', dport: '443' } });
    expect(validator.parsed).toEqual([]);
    const doc = (await cd.call('get', { path: 'firewall/100.fw' })).document!.content.toString();
    expect(doc).toContain('IN ACCEPT -p tcp -dport 443');
  });

  it('a parse against a cluster document that has changed since is not trusted: the store parses again', async () => {
    validator.parsed.length = 0;
    const content = text('[RULES]\n\nIN ACCEPT -source +mgmt\nIN DROP\n');
    // the writer claims no diagnostics against a cluster revision that is not the current one
    await cd.configd.store.put({ path: 'firewall/100.fw', content, parsed: { diagnostics: [], clusterRevision: 1_000_000 } }, { author: 'test' });
    expect(validator.parsed).toEqual(['firewall/100.fw']);
    // and a stale claim of "no errors" does not let an invalid document in
    const bad = text('[RULES]\n\nIN ACCEPT -source +nosuchset\n');
    await expect(cd.configd.store.put({ path: 'firewall/100.fw', content: bad, parsed: { diagnostics: [], clusterRevision: 1_000_000 } }, { author: 'test' })).rejects.toThrow(/nosuchset/);
  });

  it("an edit that adds an error is still refused, naming the line", async () => {
    const err = await rejects(cd.client().fw('createRule', { scope: guest, rule: { type: 'in', action: 'ACCEPT', source: '+nosuchset' } }));
    expect(err.message).toMatch(/nosuchset/);
  });
});
