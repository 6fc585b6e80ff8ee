/**
 * The built-in macros of the reference (spec §5): 86 macros, 119 template lines.
 *
 * A macro rule `DIR NAME(ACTION)` expands to one rule per template, in template order, with the
 * rule's own action substituted (every template's action is `PARAM` in the reference, so it is
 * not stored here). Names are matched case-insensitively and canonicalised to the spelling below.
 */

/** One template line of a macro: protocol plus optional port lists (spec §3.3.2 syntax). */
export interface MacroTemplate {
  /** Protocol name or number as in the reference table (`tcp`, `udp`, `icmp`, `47`…). */
  readonly proto: string;
  /** Destination port list, or an ICMP type name for the ICMP protocols. */
  readonly dport?: string;
  /** Source port list. */
  readonly sport?: string;
}

/** A macro definition. */
export interface MacroDef {
  /** Canonical spelling (e.g. `SSH`, `BitTorrent32`). */
  readonly name: string;
  /** Description as given by the reference code. */
  readonly description: string;
  /** Templates used for the IPv4 rule set and, unless `ipv6Templates` is set, for IPv6. */
  readonly templates: readonly MacroTemplate[];
  /** Replacement templates for the IPv6 rule set (Ping, Trcrt, NeighborDiscovery, DHCPv6). */
  readonly ipv6Templates?: readonly MacroTemplate[];
  /** True when the macro expands to nothing in the IPv4 rule set (NeighborDiscovery, DHCPv6). */
  readonly ipv6Only?: boolean;
}

function macro(
  name: string,
  description: string,
  templates: readonly MacroTemplate[],
  extra?: { ipv6Templates: readonly MacroTemplate[]; ipv6Only?: boolean },
): MacroDef {
  return { name, description, templates, ...extra };
}

/** All macros, in the order of spec §5 (ASCII order of the names, as the reference lists them). */
export const MACROS: readonly MacroDef[] = [
  macro('Amanda', 'Amanda Backup', [
    { proto: 'udp', dport: '10080' },
    { proto: 'tcp', dport: '10080' },
  ]),
  macro('Auth', 'Auth (identd) traffic', [
    { proto: 'tcp', dport: '113' },
  ]),
  macro('BGP', 'Border Gateway Protocol traffic', [
    { proto: 'tcp', dport: '179' },
  ]),
  macro('BitTorrent', 'BitTorrent traffic for BitTorrent 3.1 and earlier', [
    { proto: 'tcp', dport: '6881:6889' },
    { proto: 'udp', dport: '6881' },
  ]),
  macro('BitTorrent32', 'BitTorrent traffic for BitTorrent 3.2 and later', [
    { proto: 'tcp', dport: '6881:6999' },
    { proto: 'udp', dport: '6881' },
  ]),
  macro('CVS', 'Concurrent Versions System pserver traffic', [
    { proto: 'tcp', dport: '2401' },
  ]),
  macro('Ceph', 'Ceph Storage Cluster traffic (Ceph Monitors, OSD & MDS Daemons)', [
    { proto: 'tcp', dport: '6789' },
    { proto: 'tcp', dport: '3300' },
    { proto: 'tcp', dport: '6800:7300' },
  ]),
  macro('Citrix', 'Citrix/ICA traffic (ICA, ICA Browser, CGP)', [
    { proto: 'tcp', dport: '1494' },
    { proto: 'udp', dport: '1604' },
    { proto: 'tcp', dport: '2598' },
  ]),
  macro('DAAP', 'Digital Audio Access Protocol traffic (iTunes, Rythmbox daemons)', [
    { proto: 'tcp', dport: '3689' },
    { proto: 'udp', dport: '3689' },
  ]),
  macro('DCC', 'Distributed Checksum Clearinghouse spam filtering mechanism', [
    { proto: 'tcp', dport: '6277' },
  ]),
  macro('DHCPfwd', 'Forwarded DHCP traffic', [
    { proto: 'udp', dport: '67:68', sport: '67:68' },
  ]),
  macro('DHCPv6', 'DHCPv6 traffic', [
    { proto: 'udp', dport: '546:547', sport: '546:547' },
  ], {
    ipv6Templates: [
      { proto: 'udp', dport: '546:547', sport: '546:547' },
    ],
    ipv6Only: true,
  }),
  macro('DNS', 'Domain Name System traffic (upd and tcp)', [
    { proto: 'udp', dport: '53' },
    { proto: 'tcp', dport: '53' },
  ]),
  macro('Distcc', 'Distributed Compiler service', [
    { proto: 'tcp', dport: '3632' },
  ]),
  macro('FTP', 'File Transfer Protocol', [
    { proto: 'tcp', dport: '21' },
  ]),
  macro('Finger', 'Finger protocol (RFC 742)', [
    { proto: 'tcp', dport: '79' },
  ]),
  macro('GNUnet', 'GNUnet secure peer-to-peer networking traffic', [
    { proto: 'tcp', dport: '2086' },
    { proto: 'udp', dport: '2086' },
    { proto: 'tcp', dport: '1080' },
    { proto: 'udp', dport: '1080' },
  ]),
  macro('GRE', 'Generic Routing Encapsulation tunneling protocol', [
    { proto: '47' },
  ]),
  macro('Git', 'Git distributed revision control traffic', [
    { proto: 'tcp', dport: '9418' },
  ]),
  macro('HKP', 'OpenPGP HTTP key server protocol traffic', [
    { proto: 'tcp', dport: '11371' },
  ]),
  macro('HTTP', 'Hypertext Transfer Protocol (WWW)', [
    { proto: 'tcp', dport: '80' },
  ]),
  macro('HTTPS', 'Hypertext Transfer Protocol (WWW) over SSL', [
    { proto: 'tcp', dport: '443' },
  ]),
  macro('ICPV2', 'Internet Cache Protocol V2 (Squid) traffic', [
    { proto: 'udp', dport: '3130' },
  ]),
  macro('ICQ', 'AOL Instant Messenger traffic', [
    { proto: 'tcp', dport: '5190' },
  ]),
  macro('IMAP', 'Internet Message Access Protocol', [
    { proto: 'tcp', dport: '143' },
  ]),
  macro('IMAPS', 'Internet Message Access Protocol over SSL', [
    { proto: 'tcp', dport: '993' },
  ]),
  macro('IPIP', 'IPIP capsulation traffic', [
    { proto: '94' },
  ]),
  macro('IPsec', 'IPsec traffic', [
    { proto: 'udp', dport: '500', sport: '500' },
    { proto: '50' },
  ]),
  macro('IPsecah', 'IPsec authentication (AH) traffic', [
    { proto: 'udp', dport: '500', sport: '500' },
    { proto: '51' },
  ]),
  macro('IPsecnat', 'IPsec traffic and Nat-Traversal', [
    { proto: 'udp', dport: '500' },
    { proto: 'udp', dport: '4500' },
    { proto: '50' },
  ]),
  macro('IRC', 'Internet Relay Chat traffic', [
    { proto: 'tcp', dport: '6667' },
  ]),
  macro('Jetdirect', 'HP Jetdirect printing', [
    { proto: 'tcp', dport: '9100' },
  ]),
  macro('L2TP', 'Layer 2 Tunneling Protocol traffic', [
    { proto: 'udp', dport: '1701' },
  ]),
  macro('LDAP', 'Lightweight Directory Access Protocol traffic', [
    { proto: 'tcp', dport: '389' },
  ]),
  macro('LDAPS', 'Secure Lightweight Directory Access Protocol traffic', [
    { proto: 'tcp', dport: '636' },
  ]),
  macro('MDNS', 'Multicast DNS', [
    { proto: 'udp', dport: '5353' },
  ]),
  macro('MSNP', 'Microsoft Notification Protocol', [
    { proto: 'tcp', dport: '1863' },
  ]),
  macro('MSSQL', 'Microsoft SQL Server', [
    { proto: 'tcp', dport: '1433' },
  ]),
  macro('Mail', 'Mail traffic (SMTP, SMTPS, Submission)', [
    { proto: 'tcp', dport: '25' },
    { proto: 'tcp', dport: '465' },
    { proto: 'tcp', dport: '587' },
  ]),
  macro('Munin', 'Munin networked resource monitoring traffic', [
    { proto: 'tcp', dport: '4949' },
  ]),
  macro('MySQL', 'MySQL server', [
    { proto: 'tcp', dport: '3306' },
  ]),
  macro('NNTP', 'NNTP traffic (Usenet).', [
    { proto: 'tcp', dport: '119' },
  ]),
  macro('NNTPS', 'Encrypted NNTP traffic (Usenet)', [
    { proto: 'tcp', dport: '563' },
  ]),
  macro('NTP', 'Network Time Protocol (ntpd)', [
    { proto: 'udp', dport: '123' },
  ]),
  macro('NeighborDiscovery', 'IPv6 neighbor solicitation, neighbor and router advertisement', [
    { proto: 'icmpv6', dport: 'router-solicitation' },
    { proto: 'icmpv6', dport: 'router-advertisement' },
    { proto: 'icmpv6', dport: 'neighbor-solicitation' },
    { proto: 'icmpv6', dport: 'neighbor-advertisement' },
  ], {
    ipv6Templates: [
      { proto: 'icmpv6', dport: 'router-solicitation' },
      { proto: 'icmpv6', dport: 'router-advertisement' },
      { proto: 'icmpv6', dport: 'neighbor-solicitation' },
      { proto: 'icmpv6', dport: 'neighbor-advertisement' },
    ],
    ipv6Only: true,
  }),
  macro('OSPF', 'OSPF multicast traffic', [
    { proto: '89' },
  ]),
  macro('OpenVPN', 'OpenVPN traffic', [
    { proto: 'udp', dport: '1194' },
  ]),
  macro('PCA', 'Symantec PCAnywere (tm)', [
    { proto: 'udp', dport: '5632' },
    { proto: 'tcp', dport: '5631' },
  ]),
  macro('PMG', 'Proxmox Mail Gateway web interface', [
    { proto: 'tcp', dport: '8006' },
  ]),
  macro('POP3', 'POP3 traffic', [
    { proto: 'tcp', dport: '110' },
  ]),
  macro('POP3S', 'Encrypted POP3 traffic', [
    { proto: 'tcp', dport: '995' },
  ]),
  macro('PPtP', 'Point-to-Point Tunneling Protocol', [
    { proto: '47' },
    { proto: 'tcp', dport: '1723' },
  ]),
  macro('Ping', 'ICMP echo request', [
    { proto: 'icmp', dport: 'echo-request' },
  ], {
    ipv6Templates: [
      { proto: 'icmpv6', dport: 'echo-request' },
    ],
  }),
  macro('PostgreSQL', 'PostgreSQL server', [
    { proto: 'tcp', dport: '5432' },
  ]),
  macro('Printer', 'Line Printer protocol printing', [
    { proto: 'tcp', dport: '515' },
  ]),
  macro('RDP', 'Microsoft Remote Desktop Protocol traffic', [
    { proto: 'tcp', dport: '3389' },
  ]),
  macro('RIP', 'Routing Information Protocol (bidirectional)', [
    { proto: 'udp', dport: '520' },
  ]),
  macro('RNDC', 'BIND remote management protocol', [
    { proto: 'tcp', dport: '953' },
  ]),
  macro('Razor', 'Razor Antispam System', [
    { proto: 'tcp', dport: '2703' },
  ]),
  macro('Rdate', 'Remote time retrieval (rdate)', [
    { proto: 'tcp', dport: '37' },
  ]),
  macro('Rsync', 'Rsync server', [
    { proto: 'tcp', dport: '873' },
  ]),
  macro('SANE', 'SANE network scanning', [
    { proto: 'tcp', dport: '6566' },
  ]),
  macro('SMB', 'Microsoft SMB traffic', [
    { proto: 'udp', dport: '135,445' },
    { proto: 'udp', dport: '137:139' },
    { proto: 'udp', dport: '1024:65535', sport: '137' },
    { proto: 'tcp', dport: '135,139,445' },
  ]),
  macro('SMBswat', 'Samba Web Administration Tool', [
    { proto: 'tcp', dport: '901' },
  ]),
  macro('SMTP', 'Simple Mail Transfer Protocol', [
    { proto: 'tcp', dport: '25' },
  ]),
  macro('SMTPS', 'Encrypted Simple Mail Transfer Protocol', [
    { proto: 'tcp', dport: '465' },
  ]),
  macro('SNMP', 'Simple Network Management Protocol', [
    { proto: 'udp', dport: '161:162' },
    { proto: 'tcp', dport: '161' },
  ]),
  macro('SPAMD', 'Spam Assassin SPAMD traffic', [
    { proto: 'tcp', dport: '783' },
  ]),
  macro('SPICEproxy', 'Proxmox VE SPICE display proxy traffic', [
    { proto: 'tcp', dport: '3128' },
  ]),
  macro('SSH', 'Secure shell traffic', [
    { proto: 'tcp', dport: '22' },
  ]),
  macro('SVN', 'Subversion server (svnserve)', [
    { proto: 'tcp', dport: '3690' },
  ]),
  macro('SixXS', 'SixXS IPv6 Deployment and Tunnel Broker', [
    { proto: 'tcp', dport: '3874' },
    { proto: 'udp', dport: '3740' },
    { proto: '41' },
    { proto: 'udp', dport: '5072,8374' },
  ]),
  macro('Squid', 'Squid web proxy traffic', [
    { proto: 'tcp', dport: '3128' },
  ]),
  macro('Submission', 'Mail message submission traffic', [
    { proto: 'tcp', dport: '587' },
  ]),
  macro('Syslog', 'Syslog protocol (RFC 5424) traffic', [
    { proto: 'udp', dport: '514' },
    { proto: 'tcp', dport: '514' },
  ]),
  macro('TFTP', 'Trivial File Transfer Protocol traffic', [
    { proto: 'udp', dport: '69' },
  ]),
  macro('Telnet', 'Telnet traffic', [
    { proto: 'tcp', dport: '23' },
  ]),
  macro('Telnets', 'Telnet over SSL', [
    { proto: 'tcp', dport: '992' },
  ]),
  macro('Time', 'RFC 868 Time protocol', [
    { proto: 'tcp', dport: '37' },
  ]),
  macro('Trcrt', 'Traceroute (for up to 30 hops) traffic', [
    { proto: 'udp', dport: '33434:33524' },
    { proto: 'icmp', dport: 'echo-request' },
  ], {
    ipv6Templates: [
      { proto: 'udp', dport: '33434:33524' },
      { proto: 'icmpv6', dport: 'echo-request' },
    ],
  }),
  macro('VNC', 'VNC traffic for VNC display\'s 0 - 99', [
    { proto: 'tcp', dport: '5900:5999' },
  ]),
  macro('VNCL', 'VNC traffic from Vncservers to Vncviewers in listen mode', [
    { proto: 'tcp', dport: '5500' },
  ]),
  macro('Web', 'WWW traffic (HTTP and HTTPS)', [
    { proto: 'tcp', dport: '80' },
    { proto: 'tcp', dport: '443' },
  ]),
  macro('Webcache', 'Web Cache/Proxy traffic (port 8080)', [
    { proto: 'tcp', dport: '8080' },
  ]),
  macro('Webmin', 'Webmin traffic', [
    { proto: 'tcp', dport: '10000' },
  ]),
  macro('Whois', 'Whois (nicname, RFC 3912) traffic', [
    { proto: 'tcp', dport: '43' },
  ]),
];

const BY_LOWER_NAME: ReadonlyMap<string, MacroDef> = new Map(MACROS.map((m) => [m.name.toLowerCase(), m]));

/**
 * Finds a macro by name, case-insensitively (`ssh`, `SSH` and `Ssh` all give `SSH`).
 * Returns `undefined` for unknown names.
 */
export function findMacro(name: string): MacroDef | undefined {
  return BY_LOWER_NAME.get(name.toLowerCase());
}

/**
 * The templates a macro expands to for one IP version: the IPv6 replacements when compiling
 * IPv6 and the macro has them, nothing for an IPv6-only macro in IPv4, the base templates otherwise.
 */
export function macroTemplatesFor(macroDef: MacroDef, version: 4 | 6): readonly MacroTemplate[] {
  if (version === 6) return macroDef.ipv6Templates ?? macroDef.templates;
  return macroDef.ipv6Only === true ? [] : macroDef.templates;
}
