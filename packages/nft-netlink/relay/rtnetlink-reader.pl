#!/usr/bin/perl
# The rtnetlink reader of @palisade/nft-netlink (see src/adapter/route-listener.ts). Started as
# `[ip netns exec NS] perl rtnetlink-reader.pl RCVBUF GROUPS`: opens a NETLINK_ROUTE socket (in
# NS when `ip netns exec` entered it) bound to the multicast GROUPS (RTMGRP_* bits), sets its
# receive buffer (SO_RCVBUFFORCE as root), then sends every request the parent writes to stdin
# (frames: length u32 little-endian, bytes: dump requests) and forwards every datagram to stdout
# as frames: type u8 (1 datagram, 2 ENOBUFS overrun, 3 error text, 4 ready), length u32 LE,
# bytes. It exits when stdin closes (the parent went away) or stdout breaks.
#
# Why Perl and not the `netlink` npm addon: after an overrun the kernel flags the socket, epoll
# reports POLLERR and the addon aborts the process (see nflog-reader.pl); an overrun here must
# only lead to a fresh dump. perl-base is Essential on Debian; its core has sockets and select.
use strict;
use warnings;
use Socket qw(SOL_SOCKET SOCK_RAW SO_RCVBUF);
use IO::Select;
use Errno qw(ENOBUFS EINTR EAGAIN);

my $AF_NETLINK = 16;
my $NETLINK_ROUTE = 0;
my $SO_RCVBUFFORCE = 33;
my ($rcvbuf, $groups) = @ARGV;
$SIG{PIPE} = 'IGNORE';
binmode STDOUT;
binmode STDIN;

sub frame {
    my ($type, $bytes) = @_;
    my $out = pack('C V', $type, length $bytes) . $bytes;
    while (length $out) {
        my $n = syswrite(STDOUT, $out);
        if (!defined $n) { next if $! == EINTR; exit 0; }
        substr($out, 0, $n) = '';
    }
}

my $sock;
socket($sock, $AF_NETLINK, SOCK_RAW, $NETLINK_ROUTE) or do { frame(3, "socket: $!"); exit 1 };
if ($rcvbuf) {
    setsockopt($sock, SOL_SOCKET, $SO_RCVBUFFORCE, pack('i', $rcvbuf))
      or setsockopt($sock, SOL_SOCKET, SO_RCVBUF, pack('i', $rcvbuf));
}
bind($sock, pack('S x2 L L', $AF_NETLINK, 0, $groups || 0)) or do { frame(3, "bind: $!"); exit 1 };
my $kernel = pack('S x2 L L', $AF_NETLINK, 0, 0);
frame(4, '');    # ready: bound and subscribed
my $sel = IO::Select->new($sock, \*STDIN);
my $in = '';
while (1) {
    my @ready = $sel->can_read();
    for my $fh (@ready) {
        if ($fh == \*STDIN) {
            my $buf;
            my $n = sysread(STDIN, $buf, 65536);
            next if !defined $n && ($! == EINTR || $! == EAGAIN);
            exit 0 if !defined $n || $n == 0;
            $in .= $buf;
            while (length($in) >= 4) {
                my $len = unpack('V', $in);
                last if length($in) < 4 + $len;
                my $req = substr($in, 4, $len);
                substr($in, 0, 4 + $len) = '';
                defined(send($sock, $req, 0, $kernel)) or frame(3, "send: $!");
            }
            next;
        }
        my $dgram;
        my $from = recv($sock, $dgram, 1 << 20, 0);
        if (!defined $from) {
            if ($! == ENOBUFS) { frame(2, ''); next; }
            next if $! == EINTR || $! == EAGAIN;
            frame(3, "recv: $!");
            exit 1;
        }
        frame(1, $dgram);
    }
}
