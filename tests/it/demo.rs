//! `portico demo` (issue 14): the printed guest journey works as printed,
//! over real HTTP on the demo's three ports: an invitation from Contoso's
//! portal that adds Alice to the sample app's group, the email read from the
//! demo's mailbox page, redemption through Fabrikam's Portico, the
//! authenticator enrolment Contoso requires of guests, My Apps with the
//! sample app's tile and why, then the tile's launch link: the sample app
//! (the `openidconnect` crate) signs Alice in as Contoso's guest, and out.

use crate::redeem_steps::step;
use portico::demo::{Demo, DemoConfig, MARKER, TRIALS_APP, TRIALS_GROUP};
use portico_tests::{Browser, Hop, find_hidden, form_action};
use std::path::PathBuf;
use std::time::Duration;

fn fresh_dir() -> PathBuf {
    std::env::temp_dir().join(format!("portico-demo-test-{}", uuid::Uuid::new_v4()))
}

/// Follows redirects across the demo's hosts until a page, or until the
/// next address starts with `until`.
async fn follow(b: &Browser, mut hop: Hop, mut here: String, until: Option<&str>) -> (Hop, String) {
    for _ in 0..15 {
        let Some(loc) = hop.location.clone().filter(|_| hop.status.is_redirection()) else {
            return (hop, here);
        };
        let next = url::Url::parse(&here)
            .unwrap()
            .join(&loc)
            .unwrap()
            .to_string();
        if until.is_some_and(|u| next.starts_with(u)) {
            return (hop, next);
        }
        hop = b.get(&next).await;
        here = next;
    }
    panic!("too many redirects");
}

/// Posts the page's form (`csrf` plus `fields`) and follows on.
async fn submit(b: &Browser, page: &Hop, here: &str, fields: &[(&str, &str)]) -> (Hop, String) {
    let action = url::Url::parse(here)
        .unwrap()
        .join(&form_action(&page.body))
        .unwrap()
        .to_string();
    let csrf = find_hidden(&page.body, "csrf").expect("csrf");
    let mut form = vec![("csrf", csrf.as_str())];
    form.extend_from_slice(fields);
    let posted = b.post_form(&action, &form).await;
    follow(b, posted, action, None).await
}

/// Steps 1 and 2 as printed: the admin signs in to the portal and invites.
async fn invite_in_the_portal(demo: &Demo) -> Browser {
    let c = &demo.credentials;
    let b = Browser::new(&demo.contoso_url);
    let hop = b
        .sign_in(
            b.get("/admin/signin").await,
            &c.admin_email,
            &c.admin_password,
        )
        .await;
    let portal = b.follow(hop).await;
    assert!(portal.body.contains("/admin/signout"), "{}", portal.body);
    let form = b.get("/admin/invite").await;
    let csrf = find_hidden(&form.body, "csrf").expect("csrf");
    // The form's defaults: Contoso's own address (My Apps after redemption).
    let redirect = format!("{}/", demo.contoso_url);
    assert!(
        form.body.contains(&format!("value=\"{redirect}\"")),
        "{}",
        form.body
    );
    let group = option_value(&form.body, TRIALS_GROUP);
    let sent = b
        .post_form(
            "/admin/invite",
            &[
                ("csrf", &csrf),
                ("email", &c.guest_email),
                ("display_name", "Alice Fabrikam"),
                ("redirect_url", &redirect),
                ("group", &group),
                ("send", "on"),
            ],
        )
        .await;
    let sent = b.follow(sent).await;
    assert!(sent.status.is_success(), "{} {}", sent.status, sent.body);
    b
}

/// The value of the `<option>` labelled `label`.
fn option_value(html: &str, label: &str) -> String {
    let end = html
        .find(&format!("\">{label}</option>"))
        .unwrap_or_else(|| panic!("no option {label}: {html}"));
    let start = html[..end].rfind("value=\"").unwrap() + "value=\"".len();
    html[start..end].split('"').next().unwrap().to_string()
}

/// The `href` of the link whose text is `label`.
fn href_of(html: &str, label: &str) -> String {
    let end = html
        .find(&format!("\">{label}</a>"))
        .unwrap_or_else(|| panic!("no link {label}: {html}"));
    let start = html[..end].rfind("href=\"").unwrap() + "href=\"".len();
    html[start..end].replace("&#38;", "&").replace("&amp;", "&")
}

/// The redeem link, read off the mailbox page once the mail worker wrote it.
async fn redeem_link_from_the_mailbox(demo: &Demo) -> String {
    let prefix = format!("{}/redeem?i=", demo.contoso_url);
    for _ in 0..100 {
        let page = reqwest::get(format!("{}/mail", demo.app_url))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        if let Some(start) = page.find(&format!("href=\"{prefix}")) {
            let start = start + "href=\"".len();
            let end = page[start..].find('"').unwrap() + start;
            return page[start..end].replace("&#38;", "&").replace("&amp;", "&");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("no invitation in the demo's mailbox");
}

#[tokio::test]
async fn the_printed_guest_journey_works_end_to_end() {
    let dir = fresh_dir();
    let demo = Demo::start(DemoConfig {
        dir: dir.clone(),
        base_port: None,
    })
    .await
    .expect("the demo starts");
    let c = demo.credentials.clone();
    let steps = demo.instructions();
    for needle in [
        &demo.contoso_url,
        &demo.app_url,
        &c.admin_password,
        &c.guest_email,
    ] {
        assert!(steps.contains(needle.as_str()), "{steps}");
    }

    // One browser throughout, as a person trying the demo uses: the admin's
    // portal session is still in it when Alice redeems.
    let b = invite_in_the_portal(&demo).await;
    let link = redeem_link_from_the_mailbox(&demo).await;

    // Redeem: home-realm discovery sends Alice to Fabrikam's Portico.
    let landing = b.get(&link).await;
    assert!(
        landing.body.contains("Continue to Fabrikam"),
        "{}",
        landing.body
    );
    let leave = step(&b, "/redeem/federation", &landing, &[]).await;
    let authorize = leave.location.clone().expect("to Fabrikam");
    assert!(authorize.starts_with(&demo.fabrikam_url), "{authorize}");
    let (signin, here) = follow(&b, b.get(&authorize).await, authorize, None).await;
    let (fab_consent, here) = submit(
        &b,
        &signin,
        &here,
        &[("email", &c.guest_email), ("password", &c.guest_password)],
    )
    .await;
    assert!(fab_consent.body.contains("Contoso"), "{}", fab_consent.body);
    let (consent, _) = submit(&b, &fab_consent, &here, &[("decision", "accept")]).await;
    assert!(
        consent.body.contains("Review permissions"),
        "{}",
        consent.body
    );
    let done = step(&b, "/redeem/consent", &consent, &[("decision", "accept")]).await;
    let (enrol, here) = follow(&b, done, demo.contoso_url.clone(), None).await;

    // Contoso requires MFA of guests: an authenticator app, with a real code.
    assert!(
        enrol.body.contains("Set up an authenticator app"),
        "{}",
        enrol.body
    );
    let key = crate::support::shown_secret(&enrol);
    let code = portico_directory::mfa::totp_code_at(
        &key,
        portico_core::Clock::now(&portico_core::SystemClock),
    )
    .unwrap();
    let (codes, here) = submit(&b, &enrol, &here, &[("kind", "totp"), ("code", &code)]).await;
    assert!(
        codes.body.contains("Save your recovery codes"),
        "{}",
        codes.body
    );
    let cont = url::Url::parse(&here)
        .unwrap()
        .join(&crate::support::find_link(&codes.body, "/resume"))
        .unwrap()
        .to_string();
    let (myapps, _) = follow(&b, b.get(&cont).await, cont, None).await;

    // My Apps: the sample app's tile, why Alice has it, and its launch link.
    assert!(myapps.body.contains("My Apps"), "{}", myapps.body);
    let tile = myapps
        .body
        .split("<li class=\"tile\">")
        .find(|t| t.contains(TRIALS_APP))
        .unwrap_or_else(|| panic!("no {TRIALS_APP} tile: {}", myapps.body));
    assert!(
        tile.contains(&format!("Through the group {TRIALS_GROUP}")),
        "{tile}"
    );
    let launch = href_of(tile, TRIALS_APP);
    assert_eq!(launch, format!("{}/signin", demo.app_url));

    // The launch: Contoso already knows Alice (single sign-on).
    let start = b.get(&launch).await;
    let (page, here) = follow(&b, start, launch.clone(), None).await;
    let (page, _) = if page.body.contains("name=\"decision\"") {
        assert!(page.body.contains(TRIALS_APP), "{}", page.body);
        submit(&b, &page, &here, &[("decision", "accept")]).await
    } else {
        (page, here)
    };
    assert!(
        page.body.contains("Welcome, Alice Fabrikam"),
        "{}",
        page.body
    );
    assert!(page.body.contains(&c.guest_email), "{}", page.body);
    let guest = demo
        .contoso
        .directory
        .repo()
        .find_user_by_mail(&c.guest_email)
        .await
        .unwrap()
        .expect("Alice is Contoso's user now");
    assert!(
        page.body.contains(&guest.id.to_string()),
        "the ID token's subject is Contoso's guest: {}",
        page.body
    );

    // Signing out of the app ends the session at Contoso too.
    let out = b.get(&format!("{}/signout", demo.app_url)).await;
    let (home, _) = follow(&b, out, format!("{}/signout", demo.app_url), None).await;
    assert!(home.body.contains("href=\"/signin\""), "{}", home.body);
    let again = b.get(&format!("{}/signin", demo.app_url)).await;
    let (page, _) = follow(&b, again, format!("{}/signin", demo.app_url), None).await;
    assert!(
        page.body.contains("name=\"password\"") || page.body.contains("name=\"email\""),
        "after sign-out Contoso asks who is signing in: {}",
        page.body
    );

    drop(demo);
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn the_demo_refuses_a_folder_it_did_not_make() {
    let dir = fresh_dir();
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("precious.txt"), "keep me").unwrap();
    let err = Demo::start(DemoConfig {
        dir: dir.clone(),
        base_port: None,
    })
    .await
    .err()
    .expect("a foreign folder is refused");
    assert!(err.to_string().contains("--dir"), "{err}");
    assert_eq!(
        std::fs::read_to_string(dir.join("precious.txt")).unwrap(),
        "keep me"
    );
    assert!(!dir.join(MARKER).exists());
    let _ = std::fs::remove_dir_all(dir);
}

/// The same tour in headless Chromium (`tests/e2e/demo.mjs`), clicking what a
/// person would click, with Portico's CSP checked on both organizations'
/// pages: PRODUCT.md §1 journey 1 from the invitation form to the app launched
/// from My Apps, signed in with MFA. `PORTICO_TOUR_DIR=docs/tour` also saves
/// the README's screenshots.
#[tokio::test]
async fn the_printed_guest_journey_works_in_chromium() {
    let (e2e, chromium) = crate::e2e::browser_prerequisites();
    let dir = fresh_dir();
    let demo = Demo::start(DemoConfig {
        dir: dir.clone(),
        base_port: None,
    })
    .await
    .expect("the demo starts");
    let c = &demo.credentials;
    let mut node = tokio::process::Command::new("node");
    node.arg(e2e.join("demo.mjs"))
        .env("CONTOSO_URL", &demo.contoso_url)
        .env("FABRIKAM_URL", &demo.fabrikam_url)
        .env("APP_URL", &demo.app_url)
        .env("ADMIN_EMAIL", &c.admin_email)
        .env("ADMIN_PASSWORD", &c.admin_password)
        .env("GUEST_EMAIL", &c.guest_email)
        .env("GUEST_PASSWORD", &c.guest_password)
        .env("TRIALS_APP", TRIALS_APP)
        .env("TRIALS_GROUP", TRIALS_GROUP)
        .env("CHROMIUM_PATH", &chromium);
    if let Ok(tour) = std::env::var("PORTICO_TOUR_DIR") {
        node.env("TOUR_DIR", tour);
    }
    let out = node
        .output()
        .await
        .expect("node must be installed (./test)");
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "the demo tour failed in Chromium:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_str(stdout.trim()).expect("one JSON line");
    assert_eq!(v["cspViolations"], serde_json::json!([]), "{v}");
    assert!(
        v["welcome"].as_str().unwrap().contains("Alice Fabrikam"),
        "{v}"
    );
    drop(demo);
    let _ = std::fs::remove_dir_all(dir);
}
