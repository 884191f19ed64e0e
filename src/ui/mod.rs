//! Components and pages.

pub mod account;
pub mod auth;
pub mod families;
pub mod fetch;
pub mod form;
pub mod home;
pub mod incoming;
pub mod lang;
pub mod layout;
pub mod list;
pub mod money;
pub mod not_found;
#[cfg(feature = "ssr")]
pub mod server;
pub mod share;
