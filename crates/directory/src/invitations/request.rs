//! The invitation request as Microsoft Graph shapes it (`POST /invitations`),
//! and its validation into an [`InviteRequest`].

use crate::DirectoryError;
use crate::users::{UserType, normalize_mail};
use serde::Deserialize;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GraphInvitation {
    pub invited_user_email_address: Option<String>,
    pub invite_redirect_url: Option<String>,
    pub invited_user_display_name: Option<String>,
    pub send_invitation_message: Option<bool>,
    pub invited_user_message_info: Option<MessageInfo>,
    pub invited_user_type: Option<String>,
    pub reset_redemption: Option<bool>,
    /// Graph names the user to reset with `invitedUser.id`.
    pub invited_user: Option<InvitedUserRef>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MessageInfo {
    pub customized_message_body: Option<String>,
    pub message_language: Option<String>,
    #[serde(default)]
    pub cc_recipients: Vec<Recipient>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Recipient {
    pub email_address: EmailAddress,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EmailAddress {
    pub address: String,
    pub name: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InvitedUserRef {
    pub id: Option<String>,
}

/// A checked invitation request.
#[derive(Debug, Clone, PartialEq)]
pub struct InviteRequest {
    pub email: String,
    pub redirect_url: String,
    pub display_name: Option<String>,
    pub send_message: bool,
    pub message: Option<String>,
    pub message_language: Option<String>,
    pub cc_recipients: Vec<String>,
    pub user_type: UserType,
    pub reset_redemption: bool,
    /// The group the invitation adds the guest to (an app owner's
    /// invitation from My Apps, or the portal form's group); recorded on the
    /// invitation and joined in the invitation's transaction.
    pub granted_group: Option<GrantedGroup>,
}

/// A group an invitation adds the guest to: its id, and its name for the audit.
#[derive(Debug, Clone, PartialEq)]
pub struct GrantedGroup {
    pub id: uuid::Uuid,
    pub display_name: String,
}

pub const MAX_MESSAGE_CHARS: usize = 2000;
pub const MAX_NAME_CHARS: usize = 256;
const MAX_CC: usize = 5;

/// An absolute http(s) URL, as Graph requires for `inviteRedirectUrl`.
/// `inviteRedirectUrl` by itself: an absolute https URL, or http on a
/// loopback host (a developer's machine). Whether its origin is one the
/// organization owns is checked by the service ([`super::Invitations`]).
pub fn check_redirect_url(u: &str) -> Result<String, DirectoryError> {
    let u = u.trim();
    let bad = || {
        DirectoryError::Invalid(format!(
            "inviteRedirectUrl '{u}' must be an absolute https URL (http only on localhost or 127.0.0.1)."
        ))
    };
    let p = url::Url::parse(u).map_err(|_| bad())?;
    let loopback = matches!(
        p.host_str(),
        Some("localhost") | Some("127.0.0.1") | Some("[::1]")
    );
    match p.scheme() {
        "https" if p.host().is_some() => Ok(u.to_string()),
        "http" if loopback => Ok(u.to_string()),
        _ => Err(bad()),
    }
}

/// The origin (`scheme://host[:port]`) of a URL, as browsers compare them.
pub fn origin_of(u: &str) -> Option<String> {
    let p = url::Url::parse(u).ok()?;
    let o = p.origin();
    o.is_tuple().then(|| o.ascii_serialization())
}

fn non_empty(s: Option<String>) -> Option<String> {
    s.map(|x| x.trim().to_string()).filter(|x| !x.is_empty())
}

impl GraphInvitation {
    pub fn validate(self) -> Result<InviteRequest, DirectoryError> {
        let email = self.invited_user_email_address.ok_or_else(|| {
            DirectoryError::Invalid("invitedUserEmailAddress is required.".into())
        })?;
        let email = normalize_mail(&email)?;
        let redirect = self
            .invite_redirect_url
            .ok_or_else(|| DirectoryError::Invalid("inviteRedirectUrl is required.".into()))?;
        let redirect_url = check_redirect_url(&redirect)?;
        let display_name = non_empty(self.invited_user_display_name);
        if display_name
            .as_ref()
            .is_some_and(|n| n.chars().count() > MAX_NAME_CHARS)
        {
            return Err(DirectoryError::Invalid(format!(
                "invitedUserDisplayName must have at most {MAX_NAME_CHARS} characters."
            )));
        }
        let info = self.invited_user_message_info.unwrap_or_default();
        let message = non_empty(info.customized_message_body);
        if message
            .as_ref()
            .is_some_and(|m| m.chars().count() > MAX_MESSAGE_CHARS)
        {
            return Err(DirectoryError::Invalid(format!(
                "customizedMessageBody must have at most {MAX_MESSAGE_CHARS} characters."
            )));
        }
        let message_language = non_empty(info.message_language);
        if let Some(l) = &message_language {
            let ok = l.len() <= 35 && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
            if !ok {
                return Err(DirectoryError::Invalid(
                    "messageLanguage must be a language tag such as en-US.".into(),
                ));
            }
        }
        if info.cc_recipients.len() > MAX_CC {
            return Err(DirectoryError::Invalid(format!(
                "ccRecipients may name at most {MAX_CC} addresses."
            )));
        }
        let cc_recipients = info
            .cc_recipients
            .iter()
            .map(|r| normalize_mail(&r.email_address.address))
            .collect::<Result<Vec<_>, _>>()?;
        let user_type = match self.invited_user_type.as_deref() {
            None | Some("Guest") => UserType::Guest,
            Some("Member") => UserType::Member,
            Some(other) => {
                return Err(DirectoryError::Invalid(format!(
                    "invitedUserType must be \"Guest\" or \"Member\", not \"{other}\"."
                )));
            }
        };
        Ok(InviteRequest {
            email,
            redirect_url,
            display_name,
            send_message: self.send_invitation_message.unwrap_or(false),
            message,
            message_language,
            cc_recipients,
            user_type,
            reset_redemption: self.reset_redemption.unwrap_or(false),
            granted_group: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> GraphInvitation {
        GraphInvitation {
            invited_user_email_address: Some("Alice@Fabrikam.example".into()),
            invite_redirect_url: Some("https://app.contoso.example/".into()),
            ..Default::default()
        }
    }

    #[test]
    fn valid_request_is_normalized() {
        let r = base().validate().unwrap();
        assert_eq!(r.email, "alice@fabrikam.example");
        assert!(!r.send_message, "Graph's default is not to send");
        assert_eq!(r.user_type, UserType::Guest);
    }

    #[test]
    fn invalid_requests_name_the_field() {
        let cases: Vec<(GraphInvitation, &str)> = vec![
            (
                GraphInvitation {
                    invited_user_email_address: None,
                    ..base()
                },
                "invitedUserEmailAddress",
            ),
            (
                GraphInvitation {
                    invited_user_email_address: Some("nope".into()),
                    ..base()
                },
                "valid email",
            ),
            (
                GraphInvitation {
                    invite_redirect_url: None,
                    ..base()
                },
                "inviteRedirectUrl",
            ),
            (
                GraphInvitation {
                    invite_redirect_url: Some("javascript:alert(1)".into()),
                    ..base()
                },
                "inviteRedirectUrl",
            ),
            (
                GraphInvitation {
                    invite_redirect_url: Some("/relative".into()),
                    ..base()
                },
                "inviteRedirectUrl",
            ),
            (
                GraphInvitation {
                    invited_user_type: Some("Admin".into()),
                    ..base()
                },
                "invitedUserType",
            ),
            (
                GraphInvitation {
                    invited_user_display_name: Some("x".repeat(300)),
                    ..base()
                },
                "invitedUserDisplayName",
            ),
            (
                GraphInvitation {
                    invited_user_message_info: Some(MessageInfo {
                        customized_message_body: Some("x".repeat(2001)),
                        ..Default::default()
                    }),
                    ..base()
                },
                "customizedMessageBody",
            ),
            (
                GraphInvitation {
                    invited_user_message_info: Some(MessageInfo {
                        message_language: Some("en US<script>".into()),
                        ..Default::default()
                    }),
                    ..base()
                },
                "messageLanguage",
            ),
        ];
        for (req, needle) in cases {
            match req.validate() {
                Err(DirectoryError::Invalid(m)) => assert!(m.contains(needle), "{m} / {needle}"),
                other => panic!("expected Invalid containing {needle}, got {other:?}"),
            }
        }
    }
}
