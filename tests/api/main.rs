//! The JSON API of PROTOCOL.md section 9, row by row, on SQLite and
//! PostgreSQL, through a real server and HTTP clients. One file per area;
//! the server, clients and request helpers are in `common`.
#![cfg(feature = "ssr")]

#[path = "../common/mod.rs"]
mod common;

mod accounts;
mod addresses;
mod digests;
mod edges;
mod events;
mod families;
mod group;
mod imports;
mod members;
mod occasions;
mod passwords;
mod pictures;
mod privacy;
mod races;
mod shares;
