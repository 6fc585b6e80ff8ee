/**
 * The documents a node's ruleset depends on, held in memory as the store delivers them:
 * `firewall/cluster.fw`, everything under `nodes/<node>/` (host.fw, guest configs),
 * `firewall/<vmid>.fw` of the guests placed on this node, `corosync.conf` and
 * `sdn/firewall/*.fw`. Other guests' `.fw` documents are kept too (a guest migrating here needs
 * its rules at once) but a change to one of them causes no work.
 */

/** Watch prefixes for `node`. */
export function nodeWatchPrefixes(node: string): string[] {
  return ['firewall/', `nodes/${node}/`, 'corosync.conf', 'sdn/firewall/'];
}

const GUEST_FW = /^firewall\/(\d+)\.fw$/;

/** One stored document. */
export interface HeldDocument {
  readonly content: Uint8Array;
  readonly revision: number;
}

/** The in-memory set of documents and the rule deciding which changes matter to the node. */
export class NodeDocuments {
  readonly #node: string;
  readonly #docs = new Map<string, HeldDocument>();
  /** Bumped on every change that can change the node's ruleset. */
  #version = 0;

  constructor(node: string) {
    this.#node = node;
  }

  /** Changes that can change the ruleset so far (compare to know whether to recompile). */
  get version(): number {
    return this.#version;
  }

  get size(): number {
    return this.#docs.size;
  }

  /** Whether `path` is an input of this node's ruleset given the documents held now. */
  isInput(path: string): boolean {
    if (path === 'firewall/cluster.fw' || path === 'corosync.conf' || path.startsWith('sdn/firewall/')) return true;
    if (path.startsWith(`nodes/${this.#node}/`)) return true;
    const fw = GUEST_FW.exec(path);
    if (fw) return this.#guestHere(fw[1]!);
    return false;
  }

  #guestHere(vmid: string): boolean {
    return this.#docs.has(`nodes/${this.#node}/qemu-server/${vmid}.conf`) || this.#docs.has(`nodes/${this.#node}/lxc/${vmid}.conf`);
  }

  /** Replaces everything (a snapshot). Always counts as a change. */
  reset(docs: Iterable<{ path: string; content: Uint8Array; revision: number }>): void {
    this.#docs.clear();
    for (const d of docs) this.#docs.set(d.path, { content: d.content, revision: d.revision });
    this.#version++;
  }

  /** Stores a write; returns whether it is an input of the node's ruleset. */
  put(path: string, content: Uint8Array, revision: number): boolean {
    // Guest configs of this node are under nodes/<node>/, so a guest arriving here counts.
    const input = this.isInput(path);
    const previous = this.#docs.get(path);
    this.#docs.set(path, { content, revision });
    if (previous && Buffer.from(previous.content).equals(Buffer.from(content))) return false;
    if (input) this.#version++;
    return input;
  }

  /** Removes a document; returns whether it was an input of the node's ruleset. */
  delete(path: string): boolean {
    const input = this.isInput(path);
    const had = this.#docs.delete(path);
    if (input && had) this.#version++;
    return input && had;
  }

  /** The documents that are inputs of the node's ruleset, by path (what the compiler reads). */
  inputs(): Map<string, Uint8Array> {
    const out = new Map<string, Uint8Array>();
    for (const [path, d] of this.#docs) if (this.isInput(path)) out.set(path, d.content);
    return out;
  }
}
