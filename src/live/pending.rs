//! The cap on sockets that are upgraded but not yet authenticated.

use std::{collections::HashMap, net::IpAddr, sync::Arc};

/// Sockets that have been upgraded but not yet authenticated hold a slot
/// here for at most the socket's auth window. Their number is bounded overall and
/// per client address, so opening thousands of silent sockets costs an
/// attacker more than it costs the server.
#[derive(Debug)]
pub struct PendingAuth {
    max: usize,
    per_ip: usize,
    counts: parking_lot::Mutex<(usize, HashMap<IpAddr, usize>)>,
}

/// A socket's place among those waiting for `auth`; freed when dropped.
#[derive(Debug)]
pub struct PendingSlot {
    owner: Arc<PendingAuth>,
    ip: IpAddr,
}

impl PendingAuth {
    pub fn new(max: usize, per_ip: usize) -> PendingAuth {
        PendingAuth {
            max,
            per_ip,
            counts: parking_lot::Mutex::new((0, HashMap::new())),
        }
    }

    /// A slot for a socket from `ip`, unless the limits are reached.
    pub fn enter(self: &Arc<Self>, ip: IpAddr) -> Option<PendingSlot> {
        let mut counts = self.counts.lock();
        let (total, by_ip) = &mut *counts;
        let mine = by_ip.entry(ip).or_default();
        if *total >= self.max || *mine >= self.per_ip {
            if *mine == 0 {
                by_ip.remove(&ip);
            }
            return None;
        }
        *total += 1;
        *mine += 1;
        Some(PendingSlot {
            owner: self.clone(),
            ip,
        })
    }
}

impl Drop for PendingSlot {
    fn drop(&mut self) {
        let mut counts = self.owner.counts.lock();
        let (total, by_ip) = &mut *counts;
        *total -= 1;
        if let Some(mine) = by_ip.get_mut(&self.ip) {
            *mine -= 1;
            if *mine == 0 {
                by_ip.remove(&self.ip);
            }
        }
    }
}
