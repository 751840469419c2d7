//! Bulk invitations from CSV.

mod model;

pub use model::*;
