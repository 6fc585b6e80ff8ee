/**
 * Validation of documents before they are written, behind a small interface so tests can plug
 * their own; configd's is fw-lang's parser, the one the agents compile with.
 */
import { parseDocument, parseFwDocument, type Diagnostic, type FwDocument } from '@palisade/fw-lang';
import type { DiagnosticInfo } from '../errors.js';

/**
 * What a `DocumentValidator` checks: the new content of `path` and the context it is parsed against
 * (the cluster document, the guest's type), which the store supplies.
 */
export interface ValidationInput {
  readonly path: string;
  readonly content: Uint8Array;
  /** The cluster document (`firewall/cluster.fw`) as context for guest and host documents. */
  readonly cluster?: Uint8Array;
  /** For `firewall/<vmid>.fw`: where the guest config sits, when known. */
  readonly guestType?: 'qemu' | 'lxc';
}

/** Checks a document; a result with severity `error` refuses the write. */
export interface DocumentValidator {
  validate(input: ValidationInput): Promise<readonly DiagnosticInfo[]>;
}

/** Accepts everything (used when validation is explicitly disabled). */
export const NO_VALIDATION: DocumentValidator = {
  validate: () => Promise.resolve([]),
};

/** A fw-lang diagnostic as configd reports it. */
export function toDiagnosticInfo(d: Diagnostic): DiagnosticInfo {
  return { path: d.path, line: d.line, column: d.column ?? 0, severity: d.severity, code: d.code, message: d.message };
}

/** Validates with the same parser the agents use (`@palisade/fw-lang`). */
export class FwLangValidator implements DocumentValidator {
  /** The last cluster document parsed: the caller's bytes (by identity), a copy, the parse. */
  #clusterCache: { source: Uint8Array; copy: Uint8Array; doc: FwDocument } | undefined;

  validate(input: ValidationInput): Promise<readonly DiagnosticInfo[]> {
    let cluster: FwDocument | undefined;
    if (input.cluster && input.path !== 'firewall/cluster.fw') {
      const cached = this.#clusterCache;
      if (cached && (cached.source === input.cluster || bytesEqual(cached.copy, input.cluster))) cluster = cached.doc;
      else {
        cluster = parseFwDocument(input.cluster, { path: 'firewall/cluster.fw', kind: 'cluster' });
        this.#clusterCache = { source: input.cluster, copy: Uint8Array.from(input.cluster), doc: cluster };
      }
    }
    const doc = parseDocument(input.path, input.content, {
      ...(cluster ? { cluster } : {}),
      ...(input.guestType ? { guestType: input.guestType } : {}),
    });
    if (!doc) return Promise.resolve([]);
    return Promise.resolve(doc.diagnostics.map(toDiagnosticInfo));
  }
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);
}
