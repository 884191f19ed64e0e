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
pub mod socket;
#[cfg(feature = "ssr")]
pub mod sse;

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
}
