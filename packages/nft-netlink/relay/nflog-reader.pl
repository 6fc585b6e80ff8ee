#!/usr/bin/perl
# The NFLOG reader of @palisade/nft-netlink (see nflog-listener.ts). Started as
# `[ip netns exec NS] perl nflog-reader.pl RCVBUF HEXMSG...`: opens a NETLINK_NETFILTER socket
# (in NS when `ip netns exec` entered it), sets its receive buffer (SO_RCVBUFFORCE as root, so
# net.core.rmem_max does not cap it), sends the given setup messages (hex) to the kernel and
# then forwards every datagram to stdout as frames: type u8 (1 datagram, 2 ENOBUFS overrun,
# 3 error text), length u32 little-endian, bytes. It exits when stdin closes (the parent went
# away) or stdout breaks; the kernel releases the NFLOG group with the socket.
#
# Why not the `netlink` npm addon used for nf_tables: after an overrun the kernel sets the
# socket error, epoll reports POLLERR, and the addon's poll handler then aborts the process
# (it builds its error with a NULL syscall name) and would close the socket anyway. Perl is
# part of every Debian system (perl-base is Essential) and its core has sockets and select.
use strict;
use warnings;
use Socket qw(SOL_SOCKET SOCK_RAW SO_RCVBUF);
use IO::Select;
use Errno qw(ENOBUFS EINTR EAGAIN);

my $AF_NETLINK = 16;
my $NETLINK_NETFILTER = 12;
my $SO_RCVBUFFORCE = 33;
my ($rcvbuf, @setup) = @ARGV;
$SIG{PIPE} = 'IGNORE';
# A larger pipe to the agent (F_SETPIPE_SZ, up to fs.pipe-max-size): while the agent's event
# loop is busy the datagrams wait here instead of filling the socket buffer, where the kernel
# would drop them.
fcntl(STDOUT, 1031, 1 << 20) or fcntl(STDOUT, 1031, 1 << 16);
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
socket($sock, $AF_NETLINK, SOCK_RAW, $NETLINK_NETFILTER) or do { frame(3, "socket: $!"); exit 1 };
if ($rcvbuf) {
    setsockopt($sock, SOL_SOCKET, $SO_RCVBUFFORCE, pack('i', $rcvbuf))
      or setsockopt($sock, SOL_SOCKET, SO_RCVBUF, pack('i', $rcvbuf));
}
bind($sock, pack('S x2 L L', $AF_NETLINK, 0, 0)) or do { frame(3, "bind: $!"); exit 1 };
my $kernel = pack('S x2 L L', $AF_NETLINK, 0, 0);
for my $hex (@setup) {
    defined(send($sock, pack('H*', $hex), 0, $kernel)) or do { frame(3, "send: $!"); exit 1 };
}
my $sel = IO::Select->new($sock, \*STDIN);
while (1) {
    my @ready = $sel->can_read();
    for my $fh (@ready) {
        if ($fh == \*STDIN) {
            my $buf;
            my $n = sysread(STDIN, $buf, 4096);
            exit 0 if defined $n && $n == 0;
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
