/**
 * A refused fw-lang edit as the ConfigdError a client sees: the code, the document's
 * diagnostics, and for a rule edit the wrong fields (Proxmox names) with their messages.
 */
import type { Diagnostic, EditResult, FwDocument, FwEdit } from '@palisade/fw-lang';
import { ConfigdError, type DiagnosticInfo } from '../errors.js';

/** A diagnostic as configd passes it on. */
export function toDiagnosticInfo(d: Diagnostic): DiagnosticInfo {
  return { path: d.path, line: d.line, column: d.column ?? 0, severity: d.severity, code: d.code, message: d.message };
}

/** Where a rule edit puts the rule, to name its wrong fields when the edit is refused. */
interface RuleSlot {
  readonly group?: string;
  readonly pos: number;
}

/** The rule position an edit writes, if it writes one (not a move). */
function ruleSlotOf(edit: FwEdit, doc: FwDocument): RuleSlot | undefined {
  if (edit.op === 'rule.add') {
    const rules = edit.group ? doc.groups.get(edit.group)?.rules : doc.rules;
    return { ...(edit.group ? { group: edit.group } : {}), pos: Math.min(edit.pos ?? 0, rules?.length ?? 0) };
  }
  if (edit.op === 'rule.update' && edit.moveto === undefined) return { ...(edit.group ? { group: edit.group } : {}), pos: edit.pos };
  return undefined;
}

function ruleFields(r: Extract<EditResult, { ok: false }>, slot: RuleSlot | undefined): Record<string, string> | undefined {
  if (!slot || !r.document) return undefined;
  const rules = slot.group ? r.document.groups.get(slot.group)?.rules : r.document.rules;
  const errors = rules?.[slot.pos]?.errors ?? [];
  if (errors.length === 0) return undefined;
  return Object.fromEntries(errors.map((e) => [e.field, e.message]));
}

/** The error of `edit`, applied to `doc` (the document before it) and refused with `r`. */
export function editError(r: Extract<EditResult, { ok: false }>, path: string, edit: FwEdit, doc: FwDocument): ConfigdError {
  switch (r.code) {
    case 'not-found':
      return new ConfigdError('not-found', r.message, { path });
    case 'exists':
      return new ConfigdError('already-exists', r.message, { path });
    case 'not-empty':
      return new ConfigdError('failed-precondition', r.message, { path });
    case 'invalid': {
      const fields = ruleFields(r, ruleSlotOf(edit, doc));
      return new ConfigdError('invalid-document', `${path}: ${r.message}`, {
        path,
        diagnostics: (r.diagnostics ?? []).map(toDiagnosticInfo),
        ...(fields ? { fields } : {}),
      });
    }
    case 'not-allowed':
      return new ConfigdError('invalid-argument', r.message, { path });
  }
}
