//! Authentication: passwords, tokens, browser sessions, who is calling,
//! the cross-site check on cookie-authenticated writes, and the limits on
//! guessing passwords.

pub mod client_ip;
pub mod extract;
pub mod jwt;
pub mod limits;
pub mod links;
pub mod origin;
pub mod password;
pub mod secret;
pub mod session;
