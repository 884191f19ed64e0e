//! Authentication: passwords, tokens, browser sessions, who is calling,
//! and the cross-site check on cookie-authenticated writes.

pub mod extract;
pub mod jwt;
pub mod origin;
pub mod password;
pub mod secret;
pub mod session;
