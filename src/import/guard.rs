//! Which addresses a shop link may lead the server to. Reading a page on
//! someone's behalf must not become a way into the server's own network
//! (server-side request forgery): every address a name resolves to, and
//! every address a redirect names, is checked before a connection is
//! made, and the client connects only to the addresses checked here (the
//! resolver below is the client's only resolver), so a DNS answer that
//! changes between check and connect cannot slip through.
//!
//! The list of refused networks is Giftlist's own policy, so it is written
//! here rather than taken from a crate.

use std::{
    net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr},
    sync::Arc,
};

use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// Why a link was not followed: it leads to an address that is not on
/// the public internet. Carried through the client's errors so the caller
/// can say so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrivateAddress;

impl std::fmt::Display for PrivateAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the link leads to a private network address")
    }
}

impl std::error::Error for PrivateAddress {}

/// Networks that are not the public internet, IPv4.
const V4_REFUSED: &[(Ipv4Addr, u8)] = &[
    (Ipv4Addr::new(0, 0, 0, 0), 8),       // "this network", unspecified
    (Ipv4Addr::new(10, 0, 0, 0), 8),      // private
    (Ipv4Addr::new(100, 64, 0, 0), 10),   // carrier-grade NAT
    (Ipv4Addr::new(127, 0, 0, 0), 8),     // loopback
    (Ipv4Addr::new(169, 254, 0, 0), 16),  // link-local (cloud metadata)
    (Ipv4Addr::new(172, 16, 0, 0), 12),   // private
    (Ipv4Addr::new(192, 0, 0, 0), 24),    // protocol assignments
    (Ipv4Addr::new(192, 0, 2, 0), 24),    // documentation
    (Ipv4Addr::new(192, 168, 0, 0), 16),  // private
    (Ipv4Addr::new(198, 18, 0, 0), 15),   // benchmarking
    (Ipv4Addr::new(198, 51, 100, 0), 24), // documentation
    (Ipv4Addr::new(203, 0, 113, 0), 24),  // documentation
    (Ipv4Addr::new(224, 0, 0, 0), 4),     // multicast
    (Ipv4Addr::new(240, 0, 0, 0), 4),     // reserved, broadcast
];

/// Networks that are not the public internet, IPv6 (IPv4-mapped and
/// -compatible forms are checked as the IPv4 address they carry).
const V6_REFUSED: &[(Ipv6Addr, u8)] = &[
    (Ipv6Addr::UNSPECIFIED, 128),
    (Ipv6Addr::LOCALHOST, 128),
    (Ipv6Addr::new(0x64, 0xff9b, 1, 0, 0, 0, 0, 0), 48), // local NAT64
    (Ipv6Addr::new(0x100, 0, 0, 0, 0, 0, 0, 0), 64),     // discard
    (Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0), 32), // documentation
    (Ipv6Addr::new(0xfc00, 0, 0, 0, 0, 0, 0, 0), 7),     // unique local
    (Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0), 10),    // link-local
    (Ipv6Addr::new(0xfec0, 0, 0, 0, 0, 0, 0, 0), 10),    // site-local (old)
    (Ipv6Addr::new(0xff00, 0, 0, 0, 0, 0, 0, 0), 8),     // multicast
];

/// Whether `ip` is on the public internet.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            !V4_REFUSED
                .iter()
                .any(|&(net, len)| contains(IpNet::V4(Ipv4Net::new_assert(net, len)), ip))
                && v4 != Ipv4Addr::BROADCAST
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            // IPv4-compatible (::a.b.c.d, deprecated) and NAT64 (64:ff9b::/96)
            // addresses carry an IPv4 address in their last 32 bits.
            let segments = v6.segments();
            let carries_v4 = segments[..6] == [0; 6] || segments[..6] == [0x64, 0xff9b, 0, 0, 0, 0];
            if carries_v4 && !v6.is_loopback() && !v6.is_unspecified() {
                let [.., a, b] = segments;
                let v4 = Ipv4Addr::from((u32::from(a) << 16) | u32::from(b));
                return is_public(IpAddr::V4(v4));
            }
            !V6_REFUSED
                .iter()
                .any(|&(net, len)| contains(IpNet::V6(Ipv6Net::new_assert(net, len)), ip))
        }
    }
}

fn contains(net: IpNet, ip: IpAddr) -> bool {
    net.contains(&ip)
}

/// The client's resolver: the system's, with every non-public address
/// taken out (all of them refused: [`PrivateAddress`]), unless private
/// addresses are allowed.
#[derive(Debug, Clone)]
pub struct GuardedResolver {
    pub allow_private: bool,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private = self.allow_private;
        Box::pin(async move {
            // Port 0: the client puts the URL's port in.
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((name.as_str(), 0)).await?.collect();
            let kept: Vec<SocketAddr> = found
                .into_iter()
                .filter(|addr| allow_private || is_public(addr.ip()))
                .collect();
            if kept.is_empty() {
                return Err(Box::new(PrivateAddress) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(kept.into_iter()) as Addrs)
        })
    }
}

impl GuardedResolver {
    /// The resolver, shared with the client.
    pub fn shared(allow_private: bool) -> Arc<GuardedResolver> {
        Arc::new(GuardedResolver { allow_private })
    }
}

/// Checks what a URL names before any request: `http` or `https`, and a
/// host that, when it is an address rather than a name, is public (names
/// are checked by [`GuardedResolver`] when they are resolved).
pub fn check_url(url: &url::Url, allow_private: bool) -> Result<(), UrlProblem> {
    if !matches!(url.scheme(), "http" | "https") {
        return Err(UrlProblem::Scheme);
    }
    let ip = match url.host() {
        None => return Err(UrlProblem::NoHost),
        Some(url::Host::Domain(_)) => return Ok(()),
        Some(url::Host::Ipv4(v4)) => IpAddr::V4(v4),
        Some(url::Host::Ipv6(v6)) => IpAddr::V6(v6),
    };
    if allow_private || is_public(ip) {
        Ok(())
    } else {
        Err(UrlProblem::Private)
    }
}

/// What is wrong with a URL itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UrlProblem {
    Scheme,
    NoHost,
    Private,
}

/// Whether `err` (from the client) was a refusal of a private address,
/// by the resolver or by the redirect policy.
pub fn is_private_refusal(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(err) = cause {
        if err.is::<PrivateAddress>() {
            return true;
        }
        cause = err.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn public(text: &str) -> bool {
        is_public(text.parse().unwrap())
    }

    #[test]
    fn private_and_special_addresses_are_refused() {
        for refused in [
            "127.0.0.1",
            "127.1.2.3",
            "10.0.0.1",
            "172.16.5.4",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "100.127.255.254",
            "0.0.0.0",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "::",
            "fe80::1",
            "fc00::1",
            "fd12:3456::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:10.1.2.3",
            "::127.0.0.1",
            "64:ff9b::a00:1",
            "2001:db8::1",
        ] {
            assert!(!public(refused), "{refused} must be refused");
        }
        for allowed in [
            "93.184.216.34",
            "8.8.8.8",
            "172.32.0.1",
            "100.128.0.1",
            "2606:4700::1111",
            "::ffff:93.184.216.34",
            "64:ff9b::808:808",
        ] {
            assert!(public(allowed), "{allowed} is public");
        }
    }

    #[test]
    fn urls_are_checked_for_scheme_and_literal_addresses() {
        let check = |text: &str| check_url(&url::Url::parse(text).unwrap(), false);
        assert_eq!(check("https://shop.example/p/1"), Ok(()));
        assert_eq!(check("http://93.184.216.34/"), Ok(()));
        assert_eq!(check("javascript:alert(1)"), Err(UrlProblem::Scheme));
        assert_eq!(check("file:///etc/passwd"), Err(UrlProblem::Scheme));
        assert_eq!(check("ftp://shop.example/"), Err(UrlProblem::Scheme));
        assert_eq!(check("http://127.0.0.1:8080/"), Err(UrlProblem::Private));
        assert_eq!(check("http://[::1]/"), Err(UrlProblem::Private));
        assert_eq!(check("http://[::ffff:7f00:1]/"), Err(UrlProblem::Private));
        // Decimal and hex spellings are parsed to the address they mean.
        assert_eq!(check("http://2130706433/"), Err(UrlProblem::Private));
        assert_eq!(check("http://0x7f.1/"), Err(UrlProblem::Private));
        assert_eq!(
            check_url(&url::Url::parse("http://127.0.0.1/").unwrap(), true),
            Ok(())
        );
    }
}
