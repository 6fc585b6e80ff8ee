#!/usr/bin/perl
# The netlink reader of @palisade/nft-netlink: `[ip netns exec NS] perl netlink-reader.pl PROTOCOL RCVBUF GROUPS HEXMSG...`.
# Everything is NetlinkReader.pm's (see there); this file gives the process its name in `ps`.
use strict;
use warnings;
use FindBin;
use lib $FindBin::RealBin;
use NetlinkReader;

NetlinkReader::main(@ARGV);
