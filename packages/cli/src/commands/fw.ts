/**
 * `palisade fw ...`: the Proxmox firewall API of configd (rules, groups, IP sets, aliases,
 * options, refs, macros) for the cluster (default), a node (--node), a guest (--vm) or a vnet
 * (--vnet).
 */
import { Option, type Command } from 'commander';
import type { Rule, RuleFields, Scope } from '@palisade/api';
import { RULE_FIELDS, formatRule, pickRuleFields, type RuleFieldDef, type RuleSpec } from '@palisade/fw-lang';
import type { RegisterCommand } from '../command.js';
import { CliExit, EXIT } from '../exit.js';
import { withClient, withServerOptions, type ServerOptions } from '../configd-client.js';
import { confirmField, confirmHint, withConfirmOption } from '../confirm-window.js';

type Opts = ServerOptions & {
  readonly cluster?: boolean;
  readonly node?: string;
  readonly vm?: string;
  readonly vnet?: string;
  readonly json?: boolean;
  readonly digest?: string;
  readonly expectRevision?: string;
  readonly confirm?: string;
  readonly group?: string;
  readonly comment?: string;
  readonly delete?: string;
  readonly rename?: string;
  readonly type?: string;
  readonly pos?: string;
  readonly force?: boolean;
  readonly nomatch?: boolean;
  readonly enable?: boolean;
  readonly disable?: boolean;
};

const out = (s: string): void => void process.stdout.write(s);

function scopeOf(o: Opts): Scope {
  const given = [o.cluster, o.node, o.vm, o.vnet].filter((x) => x !== undefined && x !== false);
  if (given.length > 1) throw new CliExit(EXIT.usage, 'give only one of --cluster, --node, --vm, --vnet');
  if (o.node) return { target: { $case: 'node', value: o.node } };
  if (o.vm) {
    if (!/^\d+$/.test(o.vm)) throw new CliExit(EXIT.usage, `--vm expects a VMID, got '${o.vm}'`);
    return { target: { $case: 'vmid', value: Number(o.vm) } };
  }
  if (o.vnet) return { target: { $case: 'vnet', value: o.vnet } };
  return { target: { $case: 'cluster', value: true } };
}

function leaf(parent: Command, name: string, description: string, scoped = true): Command {
  let c = withServerOptions(parent.command(name).description(description)).option('--json', 'print JSON');
  if (scoped) {
    c = c
      .option('--cluster', 'the cluster scope (firewall/cluster.fw; the default)')
      .option('--node <node>', 'a node (nodes/<node>/host.fw)')
      .option('--vm <vmid>', 'a guest (firewall/<vmid>.fw)')
      .option('--vnet <vnet>', 'an SDN vnet (sdn/firewall/<vnet>.fw)');
  }
  return c;
}

function pre(o: Opts): { digest: string; expectedRevision?: number; confirmWindowMs?: number } {
  return {
    digest: o.digest ?? '',
    ...(o.expectRevision !== undefined ? { expectedRevision: Number(o.expectRevision) } : {}),
    ...confirmField(o),
  };
}

function withPre(c: Command): Command {
  return withConfirmOption(
    c.option('--digest <sha1>', 'refuse if the list changed since the read that returned this digest').option('--expect-revision <n>', 'refuse unless the document is at revision N'),
  );
}

function ruleRef(s: string): { by: { $case: 'id'; value: string } | { $case: 'pos'; value: number } } {
  return /^\d+$/.test(s) ? { by: { $case: 'pos', value: Number(s) } } : { by: { $case: 'id', value: s } };
}

/** The rule fields with a `--<name> <value>` flag (all but `enable`: `--enable`/`--disable`). */
const TEXT_FIELDS = (RULE_FIELDS as readonly RuleFieldDef[]).filter((d) => d.kind !== 'enable');

function withRuleFields(c: Command): Command {
  for (const d of TEXT_FIELDS) c.option(`--${d.api} <value>`, d.description);
  return c.option('--enable', 'enable the rule').option('--disable', 'disable the rule (written with a leading |)');
}

function ruleFields(o: Opts): RuleFields {
  const f: Record<string, unknown> = {};
  for (const d of TEXT_FIELDS) {
    // commander names the option after the flag in camel case: --icmp-type → icmpType.
    const camel = d.api.replace(/-([a-z])/g, (_, ch: string) => ch.toUpperCase());
    const value = (o as Readonly<Record<string, unknown>>)[camel];
    if (typeof value === 'string') f[d.key] = value;
  }
  if (o.enable && o.disable) throw new CliExit(EXIT.usage, '--enable and --disable exclude each other');
  if (o.enable) f.enable = true;
  if (o.disable) f.enable = false;
  return f;
}

/** One rule as `palisade fw rules list` prints it: position, id, the canonical line, errors. */
function ruleLine(r: Rule): string {
  // The wire has '' for an absent field.
  const spec = { ...pickRuleFields(r, (v) => v !== ''), enable: r.enable } as RuleSpec;
  const errs = r.errors.length ? `  !! ${r.errors.map((e) => `${e.code} ${e.message}`).join('; ')}` : '';
  return `${String(r.pos).padStart(3)}  ${r.id.padEnd(14)}  ${formatRule(spec)}${errs}`;
}

function print(o: Opts, value: unknown, text: () => string): void {
  out(o.json ? `${JSON.stringify(value, null, 2)}\n` : text());
  const meta = (value as { meta?: { revision: number; timeMs: number } }).meta;
  const windowMs = confirmField(o).confirmWindowMs;
  if (windowMs !== undefined && meta) process.stderr.write(confirmHint(meta.revision, meta.timeMs + windowMs));
}

function written(r: { meta?: { path: string; revision: number } | undefined; digest: string; rule?: Rule | undefined }): string {
  return `${r.meta?.path} revision ${r.meta?.revision}${r.rule ? `\n${ruleLine(r.rule)}` : ''}\ndigest ${r.digest}\n`;
}

/**
 * Registers `palisade fw` and its subcommands for rules, groups, IP sets, aliases, options, refs
 * and macros. Writes accept `--digest` and `--expect-revision`, so configd refuses a change made
 * against a stale read instead of overwriting someone else's.
 */
export const registerFw: RegisterCommand = (program) => {
  const fw = program.command('fw').description('Proxmox firewall API of configd: rules, groups, ipset, alias, options, refs, macros');

  const rules = fw.command('rules').description('Firewall rules of a scope (or of a security group with --group)');
  const grp = (c: Command): Command => c.option('--group <name>', 'rules of this security group (cluster scope)');
  grp(leaf(rules, 'list', 'List rules with id, position and digest')).action(async (o: Opts) => {
    await withClient(o, async (c) => {
      const r = await c.fw('listRules', { scope: scopeOf(o), group: o.group ?? '' });
      print(o, r, () => `${r.rules.map(ruleLine).join('\n')}${r.rules.length ? '\n' : ''}# digest ${r.digest} revision ${r.revision}\n`);
    });
  });
  grp(leaf(rules, 'get', 'Show one rule').argument('<rule>', 'rule id or position')).action(async (rule: string, o: Opts) => {
    await withClient(o, async (c) => {
      const r = await c.fw('getRule', { scope: scopeOf(o), group: o.group ?? '', rule: ruleRef(rule) });
      print(o, r, () => `${ruleLine(r.rule!)}\n`);
    });
  });
  withPre(withRuleFields(grp(leaf(rules, 'add', 'Create a rule (at the top unless --pos)'))))
    .option('--pos <n>', 'position of the new rule (default 0)')
    .action(async (o: Opts) => {
      await withClient(o, async (c) => {
        const f = ruleFields(o);
        if (!f.type || !f.action) throw new CliExit(EXIT.usage, '--type and --action are required');
        const r = await c.fw('createRule', {
          scope: scopeOf(o),
          group: o.group ?? '',
          rule: f,
          ...(o.pos !== undefined ? { pos: Number(o.pos) } : {}),
          precondition: pre(o),
        });
        print(o, r, () => written(r));
      });
    });
  withPre(withRuleFields(grp(leaf(rules, 'update', 'Change fields of a rule').argument('<rule>', 'rule id or position'))))
    .option('--delete <fields>', 'comma-separated optional fields to remove (e.g. comment,log)')
    .action(async (rule: string, o: Opts) => {
      await withClient(o, async (c) => {
        const r = await c.fw('updateRule', {
          scope: scopeOf(o),
          group: o.group ?? '',
          rule: ruleRef(rule),
          set: ruleFields(o),
          delete: o.delete ? o.delete.split(',').map((s) => s.trim()).filter(Boolean) : [],
          precondition: pre(o),
        });
        print(o, r, () => written(r));
      });
    });
  withPre(grp(leaf(rules, 'delete', 'Delete a rule').argument('<rule>', 'rule id or position'))).action(async (rule: string, o: Opts) => {
    await withClient(o, async (c) => {
      const r = await c.fw('deleteRule', { scope: scopeOf(o), group: o.group ?? '', rule: ruleRef(rule), precondition: pre(o) });
      print(o, r, () => written(r));
    });
  });
  withPre(grp(leaf(rules, 'move', 'Move a rule so that it ends at position TO').argument('<rule>', 'rule id or position').argument('<to>', 'final position')))
    .action(async (rule: string, to: string, o: Opts) => {
      if (!/^\d+$/.test(to)) throw new CliExit(EXIT.usage, `TO must be a position, got '${to}'`);
      await withClient(o, async (c) => {
        const r = await c.fw('moveRule', { scope: scopeOf(o), group: o.group ?? '', rule: ruleRef(rule), to: Number(to), precondition: pre(o) });
        print(o, r, () => written(r));
      });
    });

  const groups = fw.command('groups').description('Security groups (cluster.fw)');
  leaf(groups, 'list', 'List security groups', false).action(async (o: Opts) => {
    await withClient(o, async (c) => {
      const r = await c.fw('listGroups', {});
      print(o, r, () => `${r.groups.map((g) => `${g.group.padEnd(20)} ${String(g.rules).padStart(4)} rule(s)${g.comment ? `  # ${g.comment}` : ''}\n`).join('')}# digest ${r.digest}\n`);
    });
  });
  withPre(leaf(groups, 'create', 'Create a security group', false).argument('<name>', 'group name').option('--comment <text>', 'comment')).action(
    async (name: string, o: Opts) => {
      await withClient(o, async (c) => {
        const r = await c.fw('createGroup', { group: name, ...(o.comment !== undefined ? { comment: o.comment } : {}), precondition: pre(o) });
        print(o, r, () => written(r));
      });
    },
  );
  withPre(leaf(groups, 'rename', 'Rename a group and rewrite references in host and guest documents', false).argument('<old>').argument('<new>')).action(
    async (old: string, name: string, o: Opts) => {
      await withClient(o, async (c) => {
        const r = await c.fw('createGroup', { group: name, rename: old, precondition: pre(o) });
        print(o, r, () => written(r));
      });
    },
  );
  withPre(leaf(groups, 'delete', 'Delete an empty security group', false).argument('<name>')).action(async (name: string, o: Opts) => {
    await withClient(o, async (c) => {
      const r = await c.fw('deleteGroup', { group: name, precondition: pre(o) });
      print(o, r, () => written(r));
    });
  });

  const ipset = fw.command('ipset').description('IP sets and their entries');
  leaf(ipset, 'list', 'List IP sets').action(async (o: Opts) => {
    await withClient(o, async (c) => {
      const r = await c.fw('listIpSets', { scope: scopeOf(o) });
      print(o, r, () => `${r.ipsets.map((s) => `${s.name.padEnd(24)} ${String(s.entries).padStart(4)} entr${s.entries === 1 ? 'y' : 'ies'}${s.comment ? `  # ${s.comment}` : ''}\n`).join('')}# digest ${r.digest}\n`);
    });
  });
  withPre(leaf(ipset, 'create', 'Create an IP set').argument('<name>').option('--comment <text>', 'comment')).action(async (name: string, o: Opts) => {
    await withClient(o, async (c) => {
      const r = await c.fw('createIpSet', { scope: scopeOf(o), name, comment: o.comment ?? '', precondition: pre(o) });
      print(o, r, () => written(r));
    });
  });
  withPre(leaf(ipset, 'delete', 'Delete an IP set').argument('<name>').option('--force', 'delete even when it has entries')).action(
    async (name: string, o: Opts) => {
      await withClient(o, async (c) => {
        const r = await c.fw('deleteIpSet', { scope: scopeOf(o), name, force: Boolean(o.force), precondition: pre(o) });
        print(o, r, () => written(r));
      });
    },
  );
  leaf(ipset, 'entries', 'List the entries of an IP set').argument('<name>').action(async (name: string, o: Opts) => {
    await withClient(o, async (c) => {
      const r = await c.fw('listIpSetEntries', { scope: scopeOf(o), name });
      print(o, r, () => `${r.entries.map((e) => `${e.nomatch ? '!' : ''}${e.cidr}${e.comment ? `  # ${e.comment}` : ''}${e.error ? `  !! ${e.error}` : ''}\n`).join('')}# digest ${r.digest}\n`);
    });
  });
  for (const [name, method, help] of [
    ['add', 'addIpSetEntry', 'Add an entry'],
    ['update', 'updateIpSetEntry', 'Replace the flags and comment of an entry'],
  ] as const) {
    withPre(leaf(ipset, name, help).argument('<set>').argument('<cidr>').option('--nomatch', 'exclude this address').option('--comment <text>', 'comment')).action(
      async (set: string, cidr: string, o: Opts) => {
        await withClient(o, async (c) => {
          const r = await c.fw(method, { scope: scopeOf(o), name: set, cidr, nomatch: Boolean(o.nomatch), comment: o.comment ?? '', precondition: pre(o) });
          print(o, r, () => written(r));
        });
      },
    );
  }
  withPre(leaf(ipset, 'remove', 'Remove an entry').argument('<set>').argument('<cidr>')).action(async (set: string, cidr: string, o: Opts) => {
    await withClient(o, async (c) => {
      const r = await c.fw('deleteIpSetEntry', { scope: scopeOf(o), name: set, cidr, precondition: pre(o) });
      print(o, r, () => written(r));
    });
  });

  const alias = fw.command('alias').description('Aliases');
  leaf(alias, 'list', 'List aliases').action(async (o: Opts) => {
    await withClient(o, async (c) => {
      const r = await c.fw('listAliases', { scope: scopeOf(o) });
      print(o, r, () => `${r.aliases.map((a) => `${a.name.padEnd(24)} ${a.cidr}${a.comment ? `  # ${a.comment}` : ''}\n`).join('')}# digest ${r.digest}\n`);
    });
  });
  withPre(leaf(alias, 'add', 'Create an alias').argument('<name>').argument('<cidr>').option('--comment <text>', 'comment')).action(
    async (name: string, cidr: string, o: Opts) => {
      await withClient(o, async (c) => {
        const r = await c.fw('createAlias', { scope: scopeOf(o), name, cidr, comment: o.comment ?? '', precondition: pre(o) });
        print(o, r, () => written(r));
      });
    },
  );
  withPre(leaf(alias, 'update', 'Replace an alias (address and comment), optionally renaming it').argument('<name>').argument('<cidr>').option('--comment <text>', 'comment').option('--rename <new>', 'new name')).action(
    async (name: string, cidr: string, o: Opts) => {
      await withClient(o, async (c) => {
        const r = await c.fw('updateAlias', { scope: scopeOf(o), name, cidr, comment: o.comment ?? '', rename: o.rename ?? '', precondition: pre(o) });
        print(o, r, () => written(r));
      });
    },
  );
  withPre(leaf(alias, 'delete', 'Delete an alias').argument('<name>')).action(async (name: string, o: Opts) => {
    await withClient(o, async (c) => {
      const r = await c.fw('deleteAlias', { scope: scopeOf(o), name, precondition: pre(o) });
      print(o, r, () => written(r));
    });
  });

  const options = fw.command('options').description('Firewall options of a scope');
  leaf(options, 'get', 'Show options and their digest').action(async (o: Opts) => {
    await withClient(o, async (c) => {
      const r = await c.fw('getOptions', { scope: scopeOf(o) });
      print(o, r, () => `${Object.entries(r.options).map(([k, v]) => `${k}: ${v}\n`).join('')}# digest ${r.digest} revision ${r.revision}\n`);
    });
  });
  withPre(leaf(options, 'set', 'Set options (KEY=VALUE ...) and delete others (--delete)').argument('[assignments...]', 'KEY=VALUE'))
    .addOption(new Option('--delete <names>', 'comma-separated options to remove'))
    .action(async (assignments: string[], o: Opts) => {
      const set: Record<string, string> = {};
      for (const a of assignments) {
        const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(a);
        if (!m) throw new CliExit(EXIT.usage, `expected KEY=VALUE, got '${a}'`);
        set[m[1]!] = m[2]!;
      }
      const del = o.delete ? o.delete.split(',').map((s) => s.trim()).filter(Boolean) : [];
      if (assignments.length === 0 && del.length === 0) throw new CliExit(EXIT.usage, 'nothing to set or delete');
      await withClient(o, async (c) => {
        const r = await c.fw('setOptions', { scope: scopeOf(o), set, delete: del, precondition: pre(o) });
        print(o, r, () => written(r));
      });
    });

  leaf(fw, 'refs', 'Aliases and IP sets a rule of this scope can refer to')
    .option('--type <type>', 'alias or ipset')
    .action(async (o: Opts) => {
      await withClient(o, async (c) => {
        const r = await c.fw('listRefs', { scope: scopeOf(o), type: o.type ?? '' });
        print(o, r, () => r.refs.map((x) => `${x.type.padEnd(6)} ${x.scope.padEnd(6)} ${x.ref.padEnd(24)}${x.comment ? `  # ${x.comment}` : ''}\n`).join(''));
      });
    });
  leaf(fw, 'macros', 'Firewall macros', false).action(async (o: Opts) => {
    await withClient(o, async (c) => {
      const r = await c.fw('listMacros', {});
      print(o, r, () => r.macros.map((m) => `${m.macro.padEnd(20)} ${m.descr}\n`).join(''));
    });
  });
};
