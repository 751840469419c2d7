//! Invitations: the model, the repository trait and the service.

mod model;

pub use model::*;
