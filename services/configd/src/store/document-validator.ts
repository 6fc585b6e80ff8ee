/**
 * Validation of documents before they are written, behind a small interface so the store does
 * not depend on how the language library is loaded (and tests can plug their own).
 */
import { ConfigdError, type DiagnosticInfo } from '../errors.js';

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

/** The subset of `@palisade/fw-lang` the validator uses (see docs/fw-lang-api.md). */
interface LanguageApi {
  parseDocument(
    path: string,
    input: Uint8Array,
    context?: { cluster?: unknown; guestType?: 'qemu' | 'lxc' },
  ): { readonly diagnostics: readonly LangDiagnostic[]; readonly kind: string } | undefined;
}
interface LangDiagnostic {
  readonly code: string;
  readonly severity: 'error' | 'warning' | 'info';
  readonly path: string;
  readonly line: number;
  readonly column?: number;
  readonly message: string;
}

/** The package providing `parseDocument`. */
const LANGUAGE_PACKAGE = '@palisade/fw-lang';

/** Validates with the same parser the agents use (`@palisade/fw-lang`). */
export class FwLangValidator implements DocumentValidator {
  #api: Promise<LanguageApi> | undefined;
  /** The last cluster document parsed: the caller's bytes (by identity), a copy, the parse. */
  #clusterCache: { source: Uint8Array; copy: Uint8Array; doc: unknown } | undefined;

  #load(): Promise<LanguageApi> {
    // Loaded lazily through a variable specifier: configd depends only on the documented
    // contract above, and starts even when validation is never needed.
    const specifier: string = LANGUAGE_PACKAGE;
    this.#api ??= import(specifier).then(
      (m) => m as LanguageApi,
      (err: unknown) => {
        this.#api = undefined;
        throw new ConfigdError('unavailable', `document validation is unavailable: ${err instanceof Error ? err.message : String(err)}`, {}, { cause: err });
      },
    );
    return this.#api;
  }

  async validate(input: ValidationInput): Promise<readonly DiagnosticInfo[]> {
    const api = await this.#load();
    let cluster: unknown;
    if (input.cluster && input.path !== 'firewall/cluster.fw') {
      const cached = this.#clusterCache;
      if (cached && (cached.source === input.cluster || bytesEqual(cached.copy, input.cluster))) cluster = cached.doc;
      else {
        cluster = api.parseDocument('firewall/cluster.fw', input.cluster);
        this.#clusterCache = { source: input.cluster, copy: Uint8Array.from(input.cluster), doc: cluster };
      }
    }
    const doc = api.parseDocument(input.path, input.content, {
      ...(cluster ? { cluster } : {}),
      ...(input.guestType ? { guestType: input.guestType } : {}),
    });
    if (!doc) return [];
    return doc.diagnostics.map((d) => ({
      path: d.path,
      line: d.line,
      column: d.column ?? 0,
      severity: d.severity,
      code: d.code,
      message: d.message,
    }));
  }
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);
}
