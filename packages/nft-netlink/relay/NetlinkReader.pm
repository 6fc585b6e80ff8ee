# The netlink reader of @palisade/nft-netlink (see src/adapter/netlink-listener.ts), behind its
# entry scripts (netlink-reader.pl, and nflog-reader.pl and rtnetlink-reader.pl, which only give
# the process a name `ps` tells apart). Started as
# `[ip netns exec NS] perl ENTRY.pl PROTOCOL RCVBUF GROUPS HEXMSG...`, main() opens a
# netlink socket of one protocol (in NS when `ip netns exec NS` started the script), sets its
# receive buffer (SO_RCVBUFFORCE as root, so net.core.rmem_max does not cap it), binds it to the
# multicast groups (a bit mask), sends the setup messages, writes a ready frame, then sends every
# request the parent writes to stdin (frames: length u32 little-endian, bytes) and forwards every
# datagram to stdout as frames: type u8 (1 datagram, 2 ENOBUFS overrun, 3 error text, 4 ready),
# length u32 little-endian, bytes. It exits when stdin closes (the parent went away) or stdout
# breaks; the kernel releases the socket's groups with it.
#
# Why not the `netlink` npm addon used for nf_tables: after an overrun the kernel sets the
# socket error, epoll reports POLLERR, and the addon's poll handler then aborts the process
# (it builds its error with a NULL syscall name) and would close the socket anyway. Perl is
# part of every Debian system (perl-base is Essential) and its core has sockets and select.
package NetlinkReader;
use strict;
use warnings;
use Socket qw(SOL_SOCKET SOCK_RAW SO_RCVBUF);
use IO::Select;
use Errno qw(ENOBUFS EINTR EAGAIN);

my $AF_NETLINK = 16;
my $SO_RCVBUFFORCE = 33;
my $F_SETPIPE_SZ = 1031;

sub frame {
    my ($type, $bytes) = @_;
    my $out = pack('C V', $type, length $bytes) . $bytes;
    while (length $out) {
        my $n = syswrite(STDOUT, $out);
        if (!defined $n) { next if $! == EINTR; exit 0; }
        substr($out, 0, $n) = '';
    }
}

# main(PROTOCOL, RCVBUF, GROUPS, HEXMSG...); never returns.
sub main {
    my ($protocol, $rcvbuf, $groups, @setup) = @_;
    my %o = (protocol => $protocol, rcvbuf => $rcvbuf, groups => $groups, setup => [map { pack('H*', $_) } @setup]);
    $SIG{PIPE} = 'IGNORE';
    # A larger pipe to the parent (up to fs.pipe-max-size): while its event loop is busy the
    # datagrams wait here instead of filling the socket buffer, where the kernel would drop them.
    fcntl(STDOUT, $F_SETPIPE_SZ, 1 << 20) or fcntl(STDOUT, $F_SETPIPE_SZ, 1 << 16);
    binmode STDOUT;
    binmode STDIN;
    my $sock;
    socket($sock, $AF_NETLINK, SOCK_RAW, $o{protocol}) or do { frame(3, "socket: $!"); exit 1 };
    if ($o{rcvbuf}) {
        setsockopt($sock, SOL_SOCKET, $SO_RCVBUFFORCE, pack('i', $o{rcvbuf}))
          or setsockopt($sock, SOL_SOCKET, SO_RCVBUF, pack('i', $o{rcvbuf}));
    }
    bind($sock, pack('S x2 L L', $AF_NETLINK, 0, $o{groups} || 0)) or do { frame(3, "bind: $!"); exit 1 };
    my $kernel = pack('S x2 L L', $AF_NETLINK, 0, 0);
    for my $msg (@{ $o{setup} || [] }) {
        defined(send($sock, $msg, 0, $kernel)) or do { frame(3, "send: $!"); exit 1 };
    }
    frame(4, '');    # ready: bound, subscribed and the setup sent
    my $sel = IO::Select->new($sock, \*STDIN);
    my $in = '';
    while (1) {
        for my $fh ($sel->can_read()) {
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
}

1;
