//! The live channel. `protocol` is the wire format both targets share; the
//! rest is the server side: the hub and its fan-out, the bus between
//! instances, the `/ws` socket and the `/events` stream.

pub mod client;
pub mod protocol;

#[cfg(feature = "ssr")]
pub mod bus;
#[cfg(feature = "ssr")]
pub mod hub;
#[cfg(feature = "ssr")]
pub mod mailbox;
#[cfg(feature = "ssr")]
pub mod pending;
#[cfg(feature = "ssr")]
pub mod socket;
#[cfg(feature = "ssr")]
pub mod sse;
#[cfg(feature = "ssr")]
pub mod validate;

/// When a token expiring at `expires_at` (unix seconds) runs out, as a
/// timer deadline; now if it already has.
#[cfg(feature = "ssr")]
pub(crate) fn token_deadline(expires_at: i64) -> tokio::time::Instant {
    let left = (expires_at - chrono::Utc::now().timestamp()).max(0) as u64;
    tokio::time::Instant::now() + std::time::Duration::from_secs(left)
}

/// The `token` query parameter of `/ws?token=` and `/events?token=`.
#[cfg(feature = "ssr")]
pub(crate) fn query_token(query: Option<&str>) -> Option<String> {
    query_param(query, "token")
}

/// The query parameter `wanted`, decoded.
#[cfg(feature = "ssr")]
pub(crate) fn query_param(query: Option<&str>, wanted: &str) -> Option<String> {
    url::form_urlencoded::parse(query?.as_bytes())
        .find(|(name, _)| name == wanted)
        .map(|(_, value)| value.into_owned())
}

/// The live channel's limits and intervals, from the settings.
#[cfg(feature = "ssr")]
#[derive(Clone, Debug)]
pub struct LiveLimits {
    /// The client pings this often; twice this in silence closes with 4408.
    pub heartbeat: std::time::Duration,
    /// Bytes of frames a connection may have waiting; beyond, 4429.
    pub queue_bytes: usize,
    /// Largest client frame; beyond, 1009.
    pub max_frame_bytes: usize,
    pub max_sockets_per_user: usize,
    pub max_topics: usize,
    pub frames_per_minute: u32,
    pub frame_burst: u32,
    /// Keep-alive comment interval on `/events`.
    pub sse_keepalive: std::time::Duration,
    /// An SSE stream whose records wait unwritten this long is ended.
    pub sse_stall: std::time::Duration,
}
