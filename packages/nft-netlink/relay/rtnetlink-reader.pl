#!/usr/bin/perl
# The rtnetlink reader (src/adapter/route-listener.ts) of @palisade/nft-netlink: `[ip netns exec NS] perl rtnetlink-reader.pl PROTOCOL RCVBUF GROUPS HEXMSG...`.
# Everything is NetlinkReader.pm's (see there); this file gives the process its name in `ps`.
use strict;
use warnings;
# perl-base only (FindBin is in perl-modules, absent from minimal images): the module beside this file
use File::Basename qw(dirname);
use Cwd qw(abs_path);
use lib dirname(abs_path(__FILE__));
use NetlinkReader;

NetlinkReader::main(@ARGV);
