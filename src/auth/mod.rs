//! Authentication: the token-signing secret (passwords, tokens and sessions
//! come with the accounts).

pub mod secret;
