//! The askama views of redemption, the block link and the guest code sign-in.

use askama::Template;
use askama_web::WebTemplate;

/// The hidden fields every redemption form posts back: the link (`i`, `t`),
/// so each step re-checks it, and the CSRF token from the browser binding.
pub struct LinkFields {
    pub i: String,
    pub t: String,
    pub csrf: String,
    /// The home-IdP flow this redemption continues, if any.
    pub flow: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "redeem_landing.html")]
pub struct LandingPage {
    pub link: LinkFields,
    pub inviter: String,
    pub organization: String,
    pub email: String,
    pub expires: String,
    /// The home IdP serving the invited address, if any: the guest signs in there.
    pub idp_name: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "redeem_code.html")]
pub struct CodePage {
    pub link: LinkFields,
    pub organization: String,
    pub email: String,
    pub code_id: String,
    pub minutes: i64,
    pub error: Option<String>,
    /// Why a code is needed although the guest signed in at a home IdP.
    pub note: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "redeem_consent.html")]
pub struct ConsentPage {
    pub link: LinkFields,
    pub code_id: String,
    pub organization: String,
    pub privacy_url: Option<String>,
    pub display_name: String,
    pub email: String,
    /// The home IdP the guest signed in with, when redeeming through one.
    pub idp_name: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "redeem_declined.html")]
pub struct DeclinedPage {
    pub organization: String,
    pub expires: String,
    /// The same redeem link, relative: the invitation stays open.
    pub redeem_href: String,
}

/// Any page that ends a step: bad link, expired, too many codes, …
#[derive(Template, WebTemplate)]
#[template(path = "redeem_problem.html")]
pub struct ProblemPage {
    /// A stable reference for support, like the error page's code.
    pub code: &'static str,
    pub title: String,
    pub message: String,
    /// Offer a "send a new code" button for this link.
    pub resend: Option<LinkFields>,
    /// A link onwards: (href, label).
    pub action: Option<(String, String)>,
}

#[derive(Template, WebTemplate)]
#[template(path = "block_confirm.html")]
pub struct BlockConfirmPage {
    pub link: LinkFields,
    pub organization: String,
    pub email: String,
    pub is_pending: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "block_done.html")]
pub struct BlockDonePage {
    pub organization: String,
    pub email: String,
}
