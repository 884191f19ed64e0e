//! The live channel. `protocol` is the wire format both targets share.

pub mod protocol;
