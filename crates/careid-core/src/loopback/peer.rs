//! Who owns the other end of a loopback connection. On a shared machine (terminal servers,
//! Citrix, RDP) any user can connect to any port on `127.0.0.1`, so the listener takes the
//! callback only from a socket that belongs to the user running careid.
//!
//! - Linux: the kernel's socket tables (`/proc/net/tcp`, and `/proc/net/tcp6` for a client that
//!   connected from an IPv6 socket with a v4-mapped address) list each socket with its owner's
//!   uid. The peer's socket is the entry whose local address is the connection's remote one and
//!   whose remote address is the listener's.
//! - Windows and macOS: the TCP table with each socket's owning process (`netstat2`: Windows'
//!   `GetExtendedTcpTable`, macOS' `libproc`), then each such process's user (`sysinfo`: the
//!   process token's SID on Windows, the uid on macOS). Every process holding the peer socket
//!   must be this user's; one whose user cannot be read (Windows does not open another user's
//!   process token for an ordinary user) counts as another user's. The FFI lives in those
//!   crates, so careid keeps its `unsafe_code` ban. This path is compiled for Windows here
//!   (`x86_64-pc-windows-gnu`) but has not run on Windows or macOS. Under Wine 8 it finds the
//!   connection in the TCP table, but Wine names no owning process (pid 0), so it refuses.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};

/// What the operating system says about the peer of a connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PeerOwner {
    /// The peer socket belongs to this user.
    SameUser,
    /// The peer socket belongs to another user (said for the log: a uid or a SID).
    OtherUser(String),
    /// The socket tables were read but hold no entry for the peer: refused, since a
    /// connection this machine made always has one while it is open.
    NotFound,
    /// This platform cannot tell (see the module notes), or the tables cannot be read.
    Unchecked,
}

/// The owner of the socket at the other end of the connection from `peer` to `local`.
pub(crate) fn peer_owner(local: SocketAddr, peer: SocketAddr) -> PeerOwner {
    #[cfg(target_os = "linux")]
    {
        linux::peer_owner(local, peer)
    }
    #[cfg(any(windows, target_os = "macos"))]
    {
        by_process::peer_owner(local, peer)
    }
    #[cfg(not(any(target_os = "linux", windows, target_os = "macos")))]
    {
        let _ = (local, peer);
        PeerOwner::Unchecked
    }
}

#[cfg(any(windows, target_os = "macos"))]
mod by_process {
    use super::*;
    use netstat2::{get_sockets_info, AddressFamilyFlags, ProtocolFlags, ProtocolSocketInfo};
    use sysinfo::{Pid, ProcessRefreshKind, ProcessesToUpdate, System, UpdateKind};

    pub(super) fn peer_owner(local: SocketAddr, peer: SocketAddr) -> PeerOwner {
        let Ok(sockets) = get_sockets_info(
            AddressFamilyFlags::IPV4 | AddressFamilyFlags::IPV6,
            ProtocolFlags::TCP,
        ) else {
            return PeerOwner::Unchecked;
        };
        // The peer's end of the connection: its local address is our peer, its remote ours.
        let mut pids: Vec<u32> = sockets
            .iter()
            .filter(|socket| match &socket.protocol_socket_info {
                ProtocolSocketInfo::Tcp(tcp) => {
                    same_endpoint(SocketAddr::new(tcp.local_addr, tcp.local_port), peer)
                        && same_endpoint(SocketAddr::new(tcp.remote_addr, tcp.remote_port), local)
                }
                ProtocolSocketInfo::Udp(_) => false,
            })
            .flat_map(|socket| socket.associated_pids.iter().copied())
            .collect();
        pids.sort_unstable();
        pids.dedup();
        if pids.is_empty() {
            return PeerOwner::NotFound;
        }
        let Ok(me) = sysinfo::get_current_pid() else {
            return PeerOwner::Unchecked;
        };
        let mut wanted: Vec<Pid> = pids.iter().map(|&pid| Pid::from_u32(pid)).collect();
        wanted.push(me);
        let mut system = System::new();
        system.refresh_processes_specifics(
            ProcessesToUpdate::Some(&wanted),
            true,
            ProcessRefreshKind::nothing().with_user(UpdateKind::Always),
        );
        let Some(my_user) = system
            .process(me)
            .and_then(|process| process.user_id())
            .cloned()
        else {
            return PeerOwner::Unchecked;
        };
        for pid in pids {
            match system
                .process(Pid::from_u32(pid))
                .and_then(|process| process.user_id())
            {
                Some(user) if *user == my_user => {}
                Some(user) => return PeerOwner::OtherUser(format!("{user:?}")),
                None => {
                    return PeerOwner::OtherUser(format!("process {pid}, whose user is unreadable"))
                }
            }
        }
        PeerOwner::SameUser
    }
}

#[cfg(target_os = "linux")]
mod linux {
    use super::*;
    use std::os::unix::fs::MetadataExt as _;

    pub(super) fn peer_owner(local: SocketAddr, peer: SocketAddr) -> PeerOwner {
        // `/proc/self` belongs to the process's effective uid, the owner of the sockets it makes.
        let Ok(me) = std::fs::metadata("/proc/self").map(|meta| meta.uid()) else {
            return PeerOwner::Unchecked;
        };
        let mut read_any = false;
        for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
            let Ok(text) = std::fs::read_to_string(table) else {
                continue;
            };
            read_any = true;
            if let Some(uid) = owner_in_table(&text, local, peer) {
                return if uid == me {
                    PeerOwner::SameUser
                } else {
                    PeerOwner::OtherUser(format!("uid {uid}"))
                };
            }
        }
        if read_any {
            PeerOwner::NotFound
        } else {
            PeerOwner::Unchecked
        }
    }
}

/// The uid of the entry in a `/proc/net/tcp` or `/proc/net/tcp6` table whose local address is
/// `peer` and whose remote address is `local`: the peer's end of the connection.
// Linux's tables; parsed (and tested, fuzzed) on every platform.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
pub(crate) fn owner_in_table(table: &str, local: SocketAddr, peer: SocketAddr) -> Option<u32> {
    table.lines().skip(1).find_map(|line| {
        // sl, local_address, rem_address, st, tx:rx, tr:when, retrnsmt, uid, ...
        let fields: Vec<&str> = line.split_whitespace().collect();
        let (entry_local, entry_remote, uid) = (
            parse_address(fields.get(1)?)?,
            parse_address(fields.get(2)?)?,
            fields.get(7)?.parse().ok()?,
        );
        (same_endpoint(entry_local, peer) && same_endpoint(entry_remote, local)).then_some(uid)
    })
}

/// Equal addresses and ports, an IPv4 address matching its v4-mapped IPv6 form.
fn same_endpoint(a: SocketAddr, b: SocketAddr) -> bool {
    let canonical = |ip: IpAddr| match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    };
    a.port() == b.port() && canonical(a.ip()) == canonical(b.ip())
}

/// `0100007F:1F90` (IPv4) or 32 hex digits and a port (IPv6). The kernel prints each 32-bit word
/// of the address as a number in the machine's byte order, and the port in host order.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
fn parse_address(text: &str) -> Option<SocketAddr> {
    let (address, port) = text.split_once(':')?;
    let port = u16::from_str_radix(port, 16).ok()?;
    let words = address
        .as_bytes()
        .chunks(8)
        .map(|chunk| {
            let chunk = std::str::from_utf8(chunk).ok()?;
            (chunk.len() == 8)
                .then(|| u32::from_str_radix(chunk, 16).ok())
                .flatten()
        })
        .collect::<Option<Vec<u32>>>()?;
    let ip = match words.as_slice() {
        [word] => IpAddr::from(word.to_ne_bytes()),
        [_, _, _, _] => {
            let mut bytes = [0u8; 16];
            for (slot, word) in bytes.chunks_mut(4).zip(&words) {
                slot.copy_from_slice(&word.to_ne_bytes());
            }
            IpAddr::V6(Ipv6Addr::from(bytes))
        }
        _ => return None,
    };
    Some(SocketAddr::new(ip, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The words as a little-endian machine prints them; on a big-endian one the kernel prints
    /// the other order, and the parser reads it back the same way.
    fn hex_v4(ip: [u8; 4]) -> String {
        format!("{:08X}", u32::from_ne_bytes(ip))
    }

    fn hex_v6(ip: Ipv6Addr) -> String {
        ip.octets()
            .chunks(4)
            .map(|word| format!("{:08X}", u32::from_ne_bytes(word.try_into().unwrap())))
            .collect()
    }

    const HEADER: &str = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n";

    fn line(local: &str, remote: &str, uid: u32) -> String {
        format!("   3: {local} {remote} 01 00000000:00000000 00:00000000 00000000  {uid:>4}        0 52144 1 0000000000000000 20 4 30 10 -1\n")
    }

    #[test]
    fn finds_the_peers_entry_in_ipv4_and_ipv6_tables() {
        let listener: SocketAddr = "127.0.0.1:43210".parse().unwrap();
        let peer: SocketAddr = "127.0.0.1:51000".parse().unwrap();
        let lo = hex_v4([127, 0, 0, 1]);
        let v4_table = [
            HEADER.to_owned(),
            // The listening socket, then our own end of the connection (uid 1000), then the
            // peer's end (uid 65534), then an unrelated connection by another user.
            line(&format!("{lo}:A8CA"), "00000000:0000", 1000),
            line(&format!("{lo}:A8CA"), &format!("{lo}:C738"), 1000),
            line(&format!("{lo}:C738"), &format!("{lo}:A8CA"), 65534),
            line(&format!("{lo}:C739"), &format!("{lo}:0050"), 0),
        ]
        .concat();
        assert_eq!(owner_in_table(&v4_table, listener, peer), Some(65534));
        let other_peer: SocketAddr = "127.0.0.1:51002".parse().unwrap();
        assert_eq!(owner_in_table(&v4_table, listener, other_peer), None);

        // A client on an IPv6 socket reaching 127.0.0.1 appears in tcp6 with mapped addresses.
        let mapped = hex_v6("::ffff:127.0.0.1".parse().unwrap());
        let v6_table = [
            HEADER.to_owned(),
            line(
                &format!("{}:C738", hex_v6(Ipv6Addr::LOCALHOST)),
                &format!("{mapped}:A8CA"),
                7,
            ),
            line(&format!("{mapped}:C738"), &format!("{mapped}:A8CA"), 1000),
        ]
        .concat();
        assert_eq!(owner_in_table(&v6_table, listener, peer), Some(1000));
    }

    #[test]
    fn damaged_lines_are_skipped() {
        let listener: SocketAddr = "127.0.0.1:43210".parse().unwrap();
        let peer: SocketAddr = "127.0.0.1:51000".parse().unwrap();
        let lo = hex_v4([127, 0, 0, 1]);
        let table = [
            HEADER.to_owned(),
            "   0: garbage\n".to_owned(),
            format!("   1: {lo}:C738 {lo}:A8CA 01 00000000:00000000 00:00000000 00000000  uid\n"),
            line("0100007:C738", &format!("{lo}:A8CA"), 5),
            line(&format!("{lo}:C738"), &format!("{lo}:A8CA"), 42),
        ]
        .concat();
        assert_eq!(owner_in_table(&table, listener, peer), Some(42));
    }

    /// Run on Linux by `cargo xtask test`; built for Windows and macOS too, where it checks the
    /// TCP-table path (docs/security.md says how it was run under Wine).
    #[cfg(any(target_os = "linux", windows, target_os = "macos"))]
    #[test]
    fn a_connection_of_this_process_is_the_same_user() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (server, peer) = listener.accept().unwrap();
        assert_eq!(peer, client.local_addr().unwrap());
        assert_eq!(
            peer_owner(server.local_addr().unwrap(), peer),
            PeerOwner::SameUser
        );
    }
}
