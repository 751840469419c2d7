//! Invitations: the model, the repository trait, the service and redemption.

mod mail;
mod model;
mod redeem;
mod request;
mod service;
mod settings;

pub use mail::{CodeMessage, InvitationMessage, MailComposer, RenderedMail};
pub use model::*;
pub use redeem::{
    CODE_MAX_ATTEMPTS, CODE_TTL_MINUTES, CODES_PER_HOUR, FederatedProof, RedeemError, RedeemProblem,
};
pub use request::{
    GrantedGroup, GraphInvitation, InviteRequest, MAX_MESSAGE_CHARS, MAX_NAME_CHARS, MessageInfo,
    check_redirect_url, origin_of,
};
pub use service::{CATEGORY_INVITATIONS, InvitationConfig, Invitations, InviteOutcome};
