//! The client's address, for per-address limits. It is the TCP peer,
//! unless the peer is one of the configured trusted proxies: then it is the
//! nearest address in `X-Forwarded-For` that is not itself a trusted proxy.
//! An untrusted peer's `X-Forwarded-For` is ignored, since anyone can send
//! one to dodge a limit.

use std::net::{IpAddr, SocketAddr};

use axum::{extract::ConnectInfo, http::request::Parts};
use ipnet::IpNet;

use crate::error::StartError;

/// The proxies whose `X-Forwarded-For` is believed.
#[derive(Clone, Debug, Default)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// Reads addresses (`10.0.0.1`) and ranges (`10.0.0.0/8`).
    pub fn parse(entries: &[String]) -> Result<TrustedProxies, StartError> {
        let mut nets = Vec::new();
        for entry in entries.iter().map(|e| e.trim()).filter(|e| !e.is_empty()) {
            let net = entry
                .parse::<IpNet>()
                .or_else(|_| entry.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| {
                    StartError::Config(format!(
                        "GIFTLIST_TRUSTED_PROXIES: {entry:?} is not an address or a CIDR range"
                    ))
                })?;
            nets.push(net);
        }
        Ok(TrustedProxies(nets))
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.0.iter().any(|net| net.contains(&ip))
    }

    /// The client behind `peer`, given the request's headers.
    pub fn client(&self, peer: IpAddr, headers: &axum::http::HeaderMap) -> IpAddr {
        let peer = canonical(peer);
        if !self.trusts(peer) {
            return peer;
        }
        // Each proxy appends the address it got the request from: walk from
        // the right, past our own proxies, to the first one we did not run.
        let forwarded = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .map(str::trim)
            .collect::<Vec<_>>();
        let mut client = peer;
        for hop in forwarded.iter().rev() {
            let Ok(ip) = hop.parse::<IpAddr>() else {
                break;
            };
            client = canonical(ip);
            if !self.trusts(client) {
                break;
            }
        }
        client
    }

    /// The client of a request; the loopback address when the request
    /// carries no peer (a test calling the router directly).
    pub fn client_of(&self, parts: &Parts) -> IpAddr {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::from([127, 0, 0, 1]), |info| info.0.ip());
        self.client(peer, &parts.headers)
    }
}

/// IPv4-mapped IPv6 addresses as the IPv4 address they are.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use axum::http::{HeaderMap, HeaderValue};

    use super::*;

    fn forwarded(value: &'static str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", HeaderValue::from_static(value));
        headers
    }

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let none = TrustedProxies::default();
        let peer: IpAddr = "127.0.0.1".parse().unwrap();
        assert_eq!(none.client(peer, &forwarded("203.0.113.9")), peer);

        let trusted =
            TrustedProxies::parse(&["127.0.0.1".into(), " 10.0.0.0/8 ".into(), "".into()]).unwrap();
        assert_eq!(
            trusted.client(peer, &forwarded("203.0.113.9")),
            "203.0.113.9".parse::<IpAddr>().unwrap()
        );
        // A spoofed left part is skipped: the nearest untrusted hop wins.
        assert_eq!(
            trusted.client(peer, &forwarded("1.2.3.4, 198.51.100.2, 10.1.2.3")),
            "198.51.100.2".parse::<IpAddr>().unwrap()
        );
        // Garbage stops the walk at the last good hop.
        assert_eq!(
            trusted.client(peer, &forwarded("nonsense, 10.1.2.3")),
            "10.1.2.3".parse::<IpAddr>().unwrap()
        );
        assert_eq!(trusted.client(peer, &HeaderMap::new()), peer);
        // IPv4-mapped peers count as their IPv4 address.
        let mapped: IpAddr = "::ffff:127.0.0.1".parse().unwrap();
        assert_eq!(
            trusted.client(mapped, &forwarded("203.0.113.9")),
            "203.0.113.9".parse::<IpAddr>().unwrap()
        );
        assert!(TrustedProxies::parse(&["not-an-ip".into()]).is_err());
    }
}
