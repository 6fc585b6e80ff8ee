/**
 * `@palisade/nft-ir`: the intermediate nftables ruleset that `@palisade/fw-compile` produces
 * and `@palisade/nft-netlink` lowers to nf_tables messages, so that the codec needs the model
 * and not the compiler. Types, the fingerprints the netlink planner compares chains by, and the
 * ICMP run rule both sides share. Pure: no I/O, no clock, no logging, no dependencies.
 */
export {
  isVerdict,
  PORT_PROTO_NUMBERS,
  type AddrInterval,
  type AddrMatch,
  type AddrType,
  type AddrValue,
  type BaseChainSpec,
  type Chain,
  type CtHelper,
  type CtState,
  type CtStateMatch,
  type EtherMatch,
  type FibTypeMatch,
  type Hook,
  type IcmpMatch,
  type IfnameMatch,
  type IpFamily,
  type L4protoMatch,
  type MarkMatch,
  type Match,
  type MatchOp,
  type NamedSet,
  type NfprotoMatch,
  type PortMatch,
  type PortProto,
  type QueueStmt,
  type RejectWith,
  type Rule,
  type RuleOrigin,
  type Ruleset,
  type Stmt,
  type Table,
  type TableFamily,
  type TcpFlag,
  type TcpFlagsMatch,
  type ValueSet,
  type VerdictStmt,
} from './ir.js';
export { chainFingerprint, ruleFingerprint } from './fingerprint.js';
export { icmpRun } from './icmp-run.js';
export type { SetElementChange } from './set-element-change.js';
