/**
 * Writing posting lists (layout in `index-keys.ts`): a batch's entries grouped by index value
 * and time bucket into one LMDB value each, and the removal of deleted entries from postings.
 */
import { addressBytes, type LogEntry } from '@palisade/log-model';
import { ITEM_HEAD_BYTES, BUCKET_US, TAG, addressKeyBytes, bucketOf, numberValue, portValue, postingKey, readU32, residualBytesOf, stringValue, valuePrefix, writeU32, type IndexTag } from './index-keys.js';

interface Group {
  readonly prefix: Buffer;
  readonly bucket: number;
  readonly residualBytes: number;
  readonly times: number[];
  readonly seqs: number[];
  /** Residual bytes, `residualBytes` per item (only when the field has residuals). */
  readonly residuals: number[];
}

/** A field value as JavaScript holds it (a string, a number, an address's key part as text). */
type Natural = string | number;

/** Whether `s` is the canonical decimal text of a byte (what a valid IPv4 octet is). */
function octet(s: string): number | undefined {
  const n = Number(s);
  return Number.isInteger(n) && n >= 0 && n <= 255 && String(n) === s ? n : undefined;
}

/**
 * The key bytes of a natural value: strings UTF-8 + NUL, vmid 4 bytes, ports 2 bytes, a source
 * port's high byte, an IPv4 /24 from its text, an IPv6 /64 from its latin1 bytes; `undefined`
 * for the value-less tags and for an address that does not parse (then it is not indexed).
 */
function valueOf(tag: IndexTag, natural: Natural): Uint8Array | undefined {
  switch (tag) {
    case TAG.time:
    case TAG.loss:
      return undefined;
    case TAG.vmid:
      return numberValue(natural as number);
    case TAG.dport:
      return portValue(natural as number);
    case TAG.sport:
      return Uint8Array.of(natural as number);
    case TAG.src:
    case TAG.dst: {
      const text = natural as string;
      if (text.charCodeAt(0) === 6 || text.charCodeAt(0) === 4) return Buffer.from(text, 'latin1');
      return addressBytes(text + '.0')?.subarray(0, addressKeyBytes(4));
    }
    default:
      return stringValue(natural as string);
  }
}

/**
 * Collects one write batch's postings. Every entry of the batch must have a seq in
 * `[baseSeq, baseSeq + 2^32)`; `postings()` then yields one `(key, value)` per group.
 * Grouping looks values up by their JavaScript form (no bytes per entry): a value's bytes are
 * made once, when its group is created.
 */
export class PostingBuilder {
  /** Per tag: natural value → group of the value's first bucket in this batch. */
  readonly #byTag: Map<Natural, Group>[] = [];
  /** Groups of further buckets (a batch spanning a minute boundary), by `tag/value/bucket`. */
  readonly #more = new Map<string, Group>();
  readonly #all: Group[] = [];
  readonly #baseSeq: number;

  constructor(baseSeq: number) {
    this.#baseSeq = baseSeq;
  }

  #group(tag: IndexTag, natural: Natural, bucket: number): Group | undefined {
    const m = (this.#byTag[tag] ??= new Map());
    const first = m.get(natural);
    if (first !== undefined && first.bucket === bucket) return first;
    const k = first === undefined ? undefined : `${tag}/${natural}/${bucket}`;
    if (k !== undefined) {
      const g = this.#more.get(k);
      if (g) return g;
    }
    const v = valueOf(tag, natural);
    if (v === undefined && tag !== TAG.time && tag !== TAG.loss) {
      // An address that does not parse is not indexed (as before the posting lists).
      return undefined;
    }
    const prefix = valuePrefix(tag, v);
    const g: Group = { prefix, bucket, residualBytes: residualBytesOf(prefix), times: [], seqs: [], residuals: [] };
    if (k === undefined) m.set(natural, g);
    else this.#more.set(k, g);
    this.#all.push(g);
    return g;
  }

  #push(g: Group | undefined, timeUs: number, seq: number): Group | undefined {
    if (g) {
      g.times.push(timeUs);
      g.seqs.push(seq);
    }
    return g;
  }

  #address(tag: typeof TAG.src | typeof TAG.dst, text: string, bucket: number, timeUs: number, seq: number): void {
    const dot = text.lastIndexOf('.');
    const last = dot > 0 && !text.includes(':') ? octet(text.slice(dot + 1)) : undefined;
    if (last !== undefined) {
      // IPv4: the text before the last dot names the /24 (log-model's addresses are canonical).
      this.#push(this.#group(tag, text.slice(0, dot), bucket), timeUs, seq)?.residuals.push(last);
      return;
    }
    const a = addressBytes(text);
    if (!a) return;
    const n = addressKeyBytes(a[0] === 4 ? 4 : 6);
    let natural = '';
    for (let i = 0; i < n; i++) natural += String.fromCharCode(a[i]!);
    const g = this.#push(this.#group(tag, natural, bucket), timeUs, seq);
    if (g) for (let i = n; i < a.length; i++) g.residuals.push(a[i]!);
  }

  /** Adds entry `e`, stored as `seq`, to the postings of each of its index values. */
  add(e: LogEntry, seq: number): void {
    const t = e.timeUs;
    const bucket = bucketOf(t);
    this.#push(this.#group(TAG.time, 0, bucket), t, seq);
    this.#push(this.#group(TAG.node, e.node, bucket), t, seq);
    if (e.kind === 'loss') {
      this.#push(this.#group(TAG.loss, 0, bucket), t, seq);
      return;
    }
    this.#push(this.#group(TAG.vmid, e.vmid, bucket), t, seq);
    this.#push(this.#group(TAG.chain, e.chain, bucket), t, seq);
    this.#push(this.#group(TAG.direction, e.direction, bucket), t, seq);
    this.#push(this.#group(TAG.action, e.action, bucket), t, seq);
    if (e.src !== undefined) this.#address(TAG.src, e.src, bucket, t, seq);
    if (e.dst !== undefined) this.#address(TAG.dst, e.dst, bucket, t, seq);
    if (e.sport !== undefined) this.#push(this.#group(TAG.sport, e.sport >> 8, bucket), t, seq)?.residuals.push(e.sport & 0xff);
    if (e.dport !== undefined) this.#push(this.#group(TAG.dport, e.dport, bucket), t, seq);
    if (e.proto !== undefined) this.#push(this.#group(TAG.proto, e.proto, bucket), t, seq);
    if (e.ruleId !== undefined) this.#push(this.#group(TAG.rule, e.ruleId, bucket), t, seq);
  }

  /** Distinct postings collected. */
  get size(): number {
    return this.#all.length;
  }

  /** The postings: keys `[tag][value][bucket][baseSeq]`, items sorted by (time, seq). */
  *postings(): Generator<[Buffer, Buffer]> {
    // Two natural values with the same bytes (not expected, but a key written twice would lose
    // the first posting) are merged into one.
    const byKey = new Map<string, Group>();
    for (const g of this.#all) {
      const k = g.prefix.toString('latin1') + '/' + g.bucket;
      const same = byKey.get(k);
      if (!same) byKey.set(k, g);
      else {
        same.times.push(...g.times);
        same.seqs.push(...g.seqs);
        same.residuals.push(...g.residuals);
      }
    }
    for (const g of byKey.values()) yield [postingKey(g.prefix, g.bucket, this.#baseSeq), this.#encode(g)];
  }

  #encode(g: Group): Buffer {
    const n = g.times.length;
    const width = ITEM_HEAD_BYTES + g.residualBytes;
    const out = Buffer.allocUnsafe(n * width);
    const startUs = g.bucket * BUCKET_US;
    // Seqs grow in arrival order, so the items are usually sorted already.
    let sorted = true;
    for (let i = 1; i < n && sorted; i++) if (g.times[i]! < g.times[i - 1]! || (g.times[i] === g.times[i - 1] && g.seqs[i]! < g.seqs[i - 1]!)) sorted = false;
    const order = sorted ? undefined : Array.from({ length: n }, (_, i) => i).sort((a, b) => g.times[a]! - g.times[b]! || g.seqs[a]! - g.seqs[b]!);
    for (let k = 0; k < n; k++) {
      const i = order ? order[k]! : k;
      const at = k * width;
      writeU32(out, at, g.times[i]! - startUs);
      writeU32(out, at + 4, g.seqs[i]! - this.#baseSeq);
      for (let r = 0; r < g.residualBytes; r++) out[at + ITEM_HEAD_BYTES + r] = g.residuals[i * g.residualBytes + r]!;
    }
    return out;
  }
}

/**
 * A posting without the items whose seq is in `victims`: `undefined` when none is, `null` when
 * all are (the posting is to be removed), else the remaining items.
 */
export function withoutSeqs(items: Uint8Array, baseSeq: number, width: number, victims: ReadonlySet<number>): Buffer | null | undefined {
  const n = items.length / width;
  const keep: number[] = [];
  for (let k = 0; k < n; k++) if (!victims.has(baseSeq + readU32(items, k * width + 4))) keep.push(k);
  if (keep.length === n) return undefined;
  if (keep.length === 0) return null;
  const out = Buffer.allocUnsafe(keep.length * width);
  keep.forEach((k, j) => out.set(items.subarray(k * width, (k + 1) * width), j * width));
  return out;
}
