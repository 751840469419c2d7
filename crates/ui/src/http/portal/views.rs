//! What every portal page shares: the navigation bar (whose sign-out form
//! needs the CSRF token) and the page it marks as current; and the row views
//! the list templates print. Views hold display strings only, so the
//! templates stay free of formatting logic; askama escapes every value.

use super::auth::Admin;
use super::parse::show_time;
use portico_directory::User;

/// The navigation bar's sections.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Users,
    Invite,
    Imports,
    Groups,
    Applications,
    Idps,
    Audit,
    SignIns,
    Authentication,
    Collaboration,
    ConditionalAccess,
}

/// The frame around every signed-in page (`admin_layout.html`).
pub struct Chrome {
    pub csrf: String,
    pub admin_name: String,
    pub section: Section,
}

impl Chrome {
    pub fn new(admin: &Admin, section: Section) -> Self {
        Chrome {
            csrf: admin.csrf.clone(),
            admin_name: admin.user.display_name.clone(),
            section,
        }
    }

    /// `aria-current="page"` for the current section's link, read by screen
    /// readers and styled by the CSS.
    pub fn current(&self, s: &str) -> &'static str {
        let this = match s {
            "users" => Section::Users,
            "invite" => Section::Invite,
            "imports" => Section::Imports,
            "groups" => Section::Groups,
            "applications" => Section::Applications,
            "idps" => Section::Idps,
            "signins" => Section::SignIns,
            "authentication" => Section::Authentication,
            "collaboration" => Section::Collaboration,
            "conditional-access" => Section::ConditionalAccess,
            _ => Section::Audit,
        };
        if this == self.section {
            "page"
        } else {
            "false"
        }
    }
}

/// One row of the users table.
pub struct UserRow {
    pub id: String,
    pub name: String,
    pub mail: String,
    pub user_type: &'static str,
    pub state: &'static str,
    pub enabled: &'static str,
    pub created: String,
}

impl UserRow {
    pub fn new(u: &User) -> Self {
        UserRow {
            id: u.id.to_string(),
            name: u.display_name.clone(),
            mail: u.mail.clone(),
            user_type: u.user_type.as_str(),
            state: u.external_user_state.map(|s| s.as_str()).unwrap_or("—"),
            enabled: yes_no(u.account_enabled),
            created: show_time(u.created_at),
        }
    }
}

pub fn yes_no(b: bool) -> &'static str {
    if b { "Yes" } else { "No" }
}

/// The step before a delete: what goes with it, the one button that deletes
/// (`action`, with the CSRF token) and the way back (`cancel`).
#[derive(askama::Template, askama_web::WebTemplate)]
#[template(path = "admin_confirm.html")]
pub struct ConfirmPage {
    pub chrome: Chrome,
    pub title: String,
    pub consequence: String,
    pub action: String,
    pub cancel: String,
}

/// People with a relation to an object, as `admin_people.html` shows them:
/// a table with a remove button each (POST `{action}/{id}/remove`) and an
/// add-by-email form (POST `action`) that keeps what was typed.
pub struct PeopleSection {
    pub title: &'static str,
    /// The element ids' prefix.
    pub which: &'static str,
    pub note: Option<&'static str>,
    pub action: String,
    pub rows: Vec<PersonRow>,
    pub typed: String,
}

pub struct PersonRow {
    pub id: uuid::Uuid,
    pub name: String,
    pub mail: String,
}

impl PersonRow {
    pub fn of(u: User) -> Self {
        PersonRow {
            id: u.id,
            name: u.display_name,
            mail: u.mail,
        }
    }
}
