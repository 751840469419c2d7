//! portico
