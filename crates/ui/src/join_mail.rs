//! The join request emails (to a group's managing owners when someone asks;
//! to the requester when an owner decides), rendered from
//! `templates/email/join_*`. Names are reduced to one line of printable text
//! like every other email's (see `mail.rs`).

use crate::mail::{UiMailComposer, one_line, render, text_as_html};
use askama::Template;
use portico_directory::invitations::RenderedMail;
use portico_directory::join_requests::{
    JoinDecidedMessage, JoinMailComposer, JoinRequestedMessage,
};

struct RequestedFacts {
    organization: String,
    owner_name: String,
    requester_name: String,
    requester_email: String,
    group_name: String,
    app_name: String,
    myapps_url: String,
}

#[derive(Template)]
#[template(path = "email/join_requested.html")]
struct RequestedHtml<'a> {
    f: &'a RequestedFacts,
}

#[derive(Template)]
#[template(path = "email/join_requested.txt")]
struct RequestedText<'a> {
    f: &'a RequestedFacts,
}

struct DecidedFacts {
    organization: String,
    requester_name: String,
    group_name: String,
    app_name: String,
    approved: bool,
    myapps_url: String,
}

#[derive(Template)]
#[template(path = "email/join_decided.html")]
struct DecidedHtml<'a> {
    f: &'a DecidedFacts,
}

#[derive(Template)]
#[template(path = "email/join_decided.txt")]
struct DecidedText<'a> {
    f: &'a DecidedFacts,
}

impl JoinMailComposer for UiMailComposer {
    fn join_requested(&self, m: &JoinRequestedMessage) -> RenderedMail {
        let f = RequestedFacts {
            organization: one_line(&m.organization),
            owner_name: one_line(&m.owner_name),
            requester_name: one_line(&m.requester_name),
            requester_email: one_line(&m.requester_email),
            group_name: one_line(&m.group_name),
            app_name: one_line(&m.app_name),
            myapps_url: m.myapps_url.clone(),
        };
        let subject = one_line(&format!(
            "{} asks to join {}",
            f.requester_name, f.group_name
        ));
        let text = render(&RequestedText { f: &f }, || {
            format!(
                "A request to join {} waits in My Apps: {}",
                f.group_name, f.myapps_url
            )
        });
        let html = render(&RequestedHtml { f: &f }, || text_as_html(&text));
        RenderedMail {
            subject,
            text,
            html,
        }
    }

    fn join_decided(&self, m: &JoinDecidedMessage) -> RenderedMail {
        let f = DecidedFacts {
            organization: one_line(&m.organization),
            requester_name: one_line(&m.requester_name),
            group_name: one_line(&m.group_name),
            app_name: one_line(&m.app_name),
            approved: m.approved,
            myapps_url: m.myapps_url.clone(),
        };
        let verb = if f.approved { "approved" } else { "declined" };
        let subject = one_line(&format!("Your request to join {} was {verb}", f.group_name));
        let text = render(&DecidedText { f: &f }, || {
            format!("Your request to join {} was {verb}.", f.group_name)
        });
        let html = render(&DecidedHtml { f: &f }, || text_as_html(&text));
        RenderedMail {
            subject,
            text,
            html,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_and_decision_emails_name_the_people_group_and_link() {
        let m = UiMailComposer.join_requested(&JoinRequestedMessage {
            organization: "Contoso".into(),
            owner_name: "Olivia".into(),
            requester_name: "Ann\r\nBcc: x@y.example <b>".into(),
            requester_email: "ann@contoso.example".into(),
            group_name: "Trials users".into(),
            app_name: "Trials".into(),
            myapps_url: "https://id.contoso.example/myapps".into(),
        });
        assert_eq!(
            m.subject,
            "Ann Bcc: x@y.example <b> asks to join Trials users"
        );
        for part in [&m.text, &m.html] {
            assert!(part.contains("ann@contoso.example"));
            assert!(part.contains("Trials users"));
            assert!(part.contains("https://id.contoso.example/myapps"));
        }
        assert!(m.html.contains("&#60;b&#62;"), "{}", m.html);
        for approved in [true, false] {
            let d = UiMailComposer.join_decided(&JoinDecidedMessage {
                organization: "Contoso".into(),
                requester_name: "Ann".into(),
                group_name: "Trials users".into(),
                app_name: "Trials".into(),
                approved,
                myapps_url: "https://id.contoso.example/myapps".into(),
            });
            let verb = if approved { "approved" } else { "declined" };
            assert_eq!(
                d.subject,
                format!("Your request to join Trials users was {verb}")
            );
            assert!(d.text.contains(verb) && d.html.contains(verb));
            assert_eq!(d.text.contains("you can now use Trials"), approved);
        }
    }
}
