//! Delegated access to the admin API: an application with
//! `delegatedPermissions` acts for the user who signed in to it (the code
//! flow, the permissions asked as scopes). What such a token may do is the
//! intersection of
//! 1. the scopes the token carries (asked at `/authorize`, consented),
//! 2. the application's delegated grant (`delegatedPermissions`, read now, so
//!    narrowing the grant takes effect at once), and
//! 3. what the user's role allows: administrators anything; members, guest
//!    inviters and guests "same as members" read users and groups;
//!    limited and restricted guests (`guestUserRoleId`) read neither; anyone
//!    may ask to invite (`User.Invite.All`), and `allowInvitesFrom` then
//!    decides for that user (the invitation's actor) like for every inviter.
//!    Only administrators write.

use super::ApiError;
use crate::app::App;
use portico_directory::collaboration::GuestAccess;
use portico_directory::{User, UserType};
use portico_oidc::access::ValidAccessToken;
use uuid::Uuid;

/// Reading the directory (users, groups, members).
const DIRECTORY_READS: &[&str] = &["User.Read.All", "Group.Read.All", "GroupMember.Read.All"];
const INVITE: &str = "User.Invite.All";

/// What the user's role allows of `permission`.
fn role_allows(user: &User, guest_access: GuestAccess, permission: &str) -> bool {
    if user.is_admin {
        return true;
    }
    if permission == INVITE {
        return true;
    }
    let reads_directory =
        user.user_type == UserType::Member || guest_access == GuestAccess::SameAsMembers;
    reads_directory && DIRECTORY_READS.contains(&permission)
}

/// The permissions a user's token carries on the admin API, and whether the
/// user is an administrator.
pub async fn rights(
    app: &App,
    valid: &ValidAccessToken,
    user_id: Uuid,
) -> Result<(Vec<String>, bool), ApiError> {
    let Some(client) = app
        .provider
        .store
        .find_client(&valid.record.client_id)
        .await
        .map_err(ApiError::internal)?
    else {
        return Ok((Vec::new(), false));
    };
    let granted: Vec<&str> = valid
        .scopes()
        .into_iter()
        .filter(|s| client.delegated_permissions.iter().any(|p| p == s))
        .collect();
    if granted.is_empty() {
        return Ok((Vec::new(), false));
    }
    let Some(user) = app
        .directory
        .repo()
        .find_user(user_id)
        .await
        .map_err(ApiError::from)?
        .filter(|u| u.account_enabled)
    else {
        return Ok((Vec::new(), false));
    };
    let guest_access = app
        .invitations
        .collaboration_policy()
        .await
        .map_err(ApiError::from)?
        .guest_access();
    let rights = granted
        .into_iter()
        .filter(|p| role_allows(&user, guest_access, p))
        .map(str::to_string)
        .collect();
    Ok((rights, user.is_admin))
}
