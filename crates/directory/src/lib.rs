//! `portico-directory`: the people Portico knows. It owns users (Members now;
//! Guests, invitations, groups and collaboration settings come here too), their
//! passwords (argon2id) and the [`UserRepo`] trait that storage implements.
//!
//! It must not know about OAuth, HTTP or how users are stored.

mod password;
mod users;

pub use password::{hash_password, verify_password};
pub use users::{Directory, DirectoryError, NewUser, User, UserPatch, UserRepo, UserType};
