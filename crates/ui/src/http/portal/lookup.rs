//! Finding what an admin names in a form: a user by email address, a group
//! by its name. The API takes ids; the portal asks for what an admin knows,
//! resolves it here, then calls the same service as the API. A name that
//! matches nothing (or several groups) is a message, never a guess.

use crate::http::UiState;
use portico_directory::groups::Group;
use portico_directory::{DirectoryError, User};
use uuid::Uuid;

/// The user whose address is `email` (compared lower-cased, as stored).
pub async fn user_by_email(s: &UiState, email: &str) -> Result<User, DirectoryError> {
    let m = email.trim().to_lowercase();
    if m.is_empty() {
        return Err(DirectoryError::Invalid(
            "Enter the user's email address.".into(),
        ));
    }
    s.directory
        .repo()
        .find_user_by_mail(&m)
        .await?
        .ok_or_else(|| DirectoryError::Invalid(format!("No user has the email address {m}.")))
}

/// The one group named `name` (case-insensitive), if any; several groups of
/// that name are refused, since the portal cannot tell which one was meant.
pub async fn group_by_name(s: &UiState, name: &str) -> Result<Option<Group>, DirectoryError> {
    let name = name.trim();
    let mut found: Vec<Group> = s
        .groups
        .repo()
        .list_groups(None, 0)
        .await?
        .into_iter()
        .filter(|g| g.display_name.to_lowercase() == name.to_lowercase())
        .collect();
    match found.len() {
        0 => Ok(None),
        1 => Ok(found.pop()),
        _ => Err(DirectoryError::Invalid(format!(
            "Several groups are named {name}; rename one of them first."
        ))),
    }
}

/// An assignment's principal: a user named by email address, else a group
/// named by its name.
pub async fn principal(s: &UiState, text: &str) -> Result<Uuid, DirectoryError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(DirectoryError::Invalid(
            "Enter a user's email address or a group's name.".into(),
        ));
    }
    if text.contains('@') {
        match user_by_email(s, text).await {
            Ok(u) => return Ok(u.id),
            // No such user: perhaps a group's name has an @ in it.
            Err(DirectoryError::Invalid(_)) => {}
            Err(e) => return Err(e),
        }
    }
    match group_by_name(s, text).await? {
        Some(g) => Ok(g.id),
        None => Err(DirectoryError::Invalid(format!(
            "No user has the email address {text} and no group is named {text}."
        ))),
    }
}
