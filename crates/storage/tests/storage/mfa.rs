//! MFA on both backends, through the directory's `Mfa` service: enrolment,
//! single use of TOTP steps (also across two connection pools, as two nodes
//! would have), the lockout per user and per address, recovery codes and
//! their email, regeneration, removal and the admin reset.

use crate::common::*;
use chrono::Duration;
use portico_core::{Clock, MailKind, ManualClock, Sealer, SecretHasher};
use portico_directory::invitations::{CodeMessage, InvitationMessage, MailComposer, RenderedMail};
use portico_directory::mfa::{
    Mfa, MfaConfig, MfaError, MfaRepo, RecoveryCodeUsedMessage, TotpEnrolment, totp_code_at,
};
use portico_directory::{Actor, User, UserRepo};
use portico_mail::MailQueue;
use portico_storage::Storage;
use std::net::IpAddr;
use std::sync::Arc;

const SERVER_KEY: &[u8] = b"test-server-key";

/// Renders the facts as plain lines, so tests can read them back.
struct PlainComposer;

impl MailComposer for PlainComposer {
    fn invitation(&self, _: &InvitationMessage) -> RenderedMail {
        unreachable!("MFA sends no invitations")
    }
    fn one_time_code(&self, _: &CodeMessage) -> RenderedMail {
        unreachable!("MFA sends no one-time codes")
    }
    fn recovery_code_used(&self, m: &RecoveryCodeUsedMessage) -> RenderedMail {
        RenderedMail {
            subject: format!(
                "A recovery code was used for your {} account",
                m.organization
            ),
            text: format!("codes left: {}", m.codes_left),
            html: format!("<p>codes left: {}</p>", m.codes_left),
        }
    }
}

/// A clock just after a step boundary (t0 is 10:00:00.123456).
fn clock() -> ManualClock {
    ManualClock::new(t0())
}

fn service(s: &Storage, clock: &ManualClock) -> Mfa {
    let store = Arc::new(s.clone());
    Mfa::new(
        store.clone(),
        store,
        Arc::new(clock.clone()),
        SecretHasher::new(SERVER_KEY),
        Sealer::new(SERVER_KEY),
        Arc::new(PlainComposer),
        MfaConfig::new("Contoso"),
    )
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// Where the user enrols from; the attacks come from elsewhere.
fn home() -> IpAddr {
    ip("198.51.100.1")
}

fn me(u: &User) -> Actor {
    Actor {
        kind: portico_directory::ActorKind::User,
        id: u.id.to_string(),
        display_name: u.display_name.clone(),
    }
}

async fn new_user(s: &Storage, mail: &str) -> User {
    let u = user(mail);
    s.create_user(&u, &audit("Add user", u.id)).await.unwrap();
    u
}

fn code_now(e: &TotpEnrolment, clock: &ManualClock) -> String {
    totp_code_at(&e.secret_base32, clock.now()).unwrap()
}

/// A user with a confirmed app; returns its enrolment and recovery codes.
/// The clock is moved to the next step, so the confirming step is past.
async fn enrolled(
    s: &Storage,
    m: &Mfa,
    clock: &ManualClock,
    mail: &str,
) -> (User, TotpEnrolment, Vec<String>) {
    let u = new_user(s, mail).await;
    let e = m.start_totp_enrolment(u.id, &u.mail).await.unwrap();
    let codes = m
        .confirm_totp(u.id, &code_now(&e, clock), home(), &me(&u))
        .await
        .unwrap();
    clock.advance(Duration::seconds(30));
    (u, e, codes)
}

fn wrong(code: &str) -> String {
    // Any other six digits.
    let n: u32 = code.parse().unwrap();
    format!("{:06}", (n + 1) % 1_000_000)
}

async fn enrolment_is_confirmed_by_a_code_from_the_returned_secret(s: &Storage) {
    let clock = clock();
    let m = service(s, &clock);
    let u = new_user(s, "ada@contoso.example").await;
    let e = m.start_totp_enrolment(u.id, &u.mail).await.unwrap();
    assert!(
        e.otpauth_uri
            .starts_with("otpauth://totp/Contoso:ada%40contoso.example?secret="),
        "{}",
        e.otpauth_uri
    );
    assert!(
        e.otpauth_uri
            .contains(&format!("secret={}", e.secret_base32))
    );
    assert!(e.otpauth_uri.contains("issuer=Contoso"));
    assert!(e.qr_svg.contains("<svg"));
    assert!(!format!("{e:?}").contains(&e.secret_base32));
    // Pending is not a method yet.
    assert!(!m.has_strong_method(u.id).await.unwrap());
    assert_eq!(m.methods(u.id).await.unwrap().totp, None);
    assert!(matches!(
        m.verify_totp(u.id, &code_now(&e, &clock), home()).await,
        Err(MfaError::NotEnrolled)
    ));

    let code = code_now(&e, &clock);
    let refused = m.confirm_totp(u.id, &wrong(&code), home(), &me(&u)).await;
    assert!(
        matches!(refused, Err(MfaError::WrongCode { attempts_left: 4 })),
        "{refused:?}"
    );
    let codes = m.confirm_totp(u.id, &code, home(), &me(&u)).await.unwrap();
    assert_eq!(codes.len(), 10);
    assert!(codes.iter().all(|c| c.len() == 11 && &c[5..6] == "-"));
    let methods = m.methods(u.id).await.unwrap();
    assert!(methods.totp.is_some());
    assert_eq!(methods.recovery_codes_left, 10);
    assert!(m.has_strong_method(u.id).await.unwrap());
    assert_eq!(audits_of(s, u.id).await[0], "Registered authenticator app");

    // The secret column holds the sealed secret, never the base32 one.
    let stored = s.find_totps(u.id).await.unwrap();
    assert_eq!(stored.len(), 1);
    assert!(stored[0].secret_sealed.starts_with("v1."));
    assert!(!stored[0].secret_sealed.contains(&e.secret_base32));
    assert!(!format!("{:?}", stored[0]).contains(&stored[0].secret_sealed));
}

async fn re_enrolment_keeps_the_old_app_until_the_new_one_is_confirmed(s: &Storage) {
    let clock = clock();
    let m = service(s, &clock);
    let (u, old, _) = enrolled(s, &m, &clock, "ada@contoso.example").await;
    let new = m.start_totp_enrolment(u.id, &u.mail).await.unwrap();
    assert_ne!(new.secret_base32, old.secret_base32);
    // A second start replaces the pending one, not the confirmed one.
    let new = m.start_totp_enrolment(u.id, &u.mail).await.unwrap();
    assert_eq!(s.find_totps(u.id).await.unwrap().len(), 2);
    m.verify_totp(u.id, &code_now(&old, &clock), home())
        .await
        .unwrap();
    clock.advance(Duration::seconds(30));
    m.confirm_totp(u.id, &code_now(&new, &clock), home(), &me(&u))
        .await
        .unwrap();
    assert_eq!(s.find_totps(u.id).await.unwrap().len(), 1);
    clock.advance(Duration::seconds(30));
    let by_old = m.verify_totp(u.id, &code_now(&old, &clock), home()).await;
    assert!(
        matches!(by_old, Err(MfaError::WrongCode { .. })),
        "{by_old:?}"
    );
    m.verify_totp(u.id, &code_now(&new, &clock), home())
        .await
        .unwrap();
}

async fn totp_step_is_accepted_once_also_through_a_second_node(db: &TestDb) {
    let s = &db.storage;
    let clock = clock();
    let m = service(s, &clock);
    let other_node = service(&db.connect_again().await, &clock);
    let (u, e, _) = enrolled(s, &m, &clock, "ada@contoso.example").await;

    // The step that confirmed the enrolment is used already.
    clock.advance(Duration::seconds(-30));
    let again = m.verify_totp(u.id, &code_now(&e, &clock), home()).await;
    assert!(matches!(again, Err(MfaError::Replayed)), "{again:?}");
    clock.advance(Duration::seconds(30));

    let code = code_now(&e, &clock);
    m.verify_totp(u.id, &code, home()).await.unwrap();
    let replay = other_node.verify_totp(u.id, &code, home()).await;
    assert!(matches!(replay, Err(MfaError::Replayed)), "{replay:?}");
    // Still within the skew window a step later: still the same step, still refused.
    clock.advance(Duration::seconds(30));
    let late = m.verify_totp(u.id, &code, home()).await;
    assert!(matches!(late, Err(MfaError::Replayed)), "{late:?}");

    // Racing nodes: exactly one acceptance of a fresh code.
    let code = code_now(&e, &clock);
    let (a, b) = tokio::join!(
        m.verify_totp(u.id, &code, home()),
        other_node.verify_totp(u.id, &code, home())
    );
    let accepted = [&a, &b].iter().filter(|r| r.is_ok()).count();
    assert_eq!(accepted, 1, "{a:?} {b:?}");
    assert!(matches!(a.err().or(b.err()), Some(MfaError::Replayed)));
}

async fn five_wrong_codes_lock_until_the_oldest_is_fifteen_minutes_old(s: &Storage) {
    let clock = clock();
    let m = service(s, &clock);
    let (u, e, _) = enrolled(s, &m, &clock, "ada@contoso.example").await;
    let attacker = ip("203.0.113.9");
    let first_failure = clock.now();
    for left in (0..5).rev() {
        let r = m
            .verify_totp(u.id, &wrong(&code_now(&e, &clock)), attacker)
            .await;
        assert!(
            matches!(r, Err(MfaError::WrongCode { attempts_left }) if attempts_left == left),
            "{r:?}"
        );
        clock.advance(Duration::minutes(1));
    }
    // Locked: even the right code is not looked at, from any address.
    let until = first_failure + Duration::minutes(15);
    for from in [attacker, home()] {
        let r = m.verify_totp(u.id, &code_now(&e, &clock), from).await;
        assert!(
            matches!(r, Err(MfaError::Locked { until: u }) if u == micros(until)),
            "{r:?}"
        );
    }
    let r = m.verify_recovery_code(u.id, "aaaaa-aaaaa", home()).await;
    assert!(matches!(r, Err(MfaError::Locked { .. })), "{r:?}");
    // Just before the end, still locked; at the end, the lock is gone.
    clock.advance(until - clock.now() - Duration::seconds(1));
    let r = m.verify_totp(u.id, &code_now(&e, &clock), home()).await;
    assert!(matches!(r, Err(MfaError::Locked { .. })), "{r:?}");
    clock.advance(Duration::seconds(31));
    m.verify_totp(u.id, &code_now(&e, &clock), home())
        .await
        .unwrap();
}

async fn five_wrong_codes_from_one_address_lock_it_for_every_user(s: &Storage) {
    let clock = clock();
    let m = service(s, &clock);
    let attacker = ip("2001:db8:7:7::1");
    for i in 0..5 {
        let (u, e, _) = enrolled(s, &m, &clock, &format!("user{i}@contoso.example")).await;
        let r = m
            .verify_totp(u.id, &wrong(&code_now(&e, &clock)), attacker)
            .await;
        assert!(matches!(r, Err(MfaError::WrongCode { .. })), "{r:?}");
    }
    let (victim, e, _) = enrolled(s, &m, &clock, "victim@contoso.example").await;
    // Another address in the same /64 is the same source.
    let neighbour = ip("2001:db8:7:7::beef");
    let r = m
        .verify_totp(victim.id, &code_now(&e, &clock), neighbour)
        .await;
    assert!(matches!(r, Err(MfaError::Locked { .. })), "{r:?}");
    // The user, from home, is not locked out by someone else's failures.
    m.verify_totp(victim.id, &code_now(&e, &clock), home())
        .await
        .unwrap();
}

async fn recovery_code_is_single_use_and_its_use_is_mailed(s: &Storage) {
    let clock = clock();
    let m = service(s, &clock);
    let (u, _, codes) = enrolled(s, &m, &clock, "ada@contoso.example").await;
    assert_eq!(pending_mail(s).await, 0);
    // Typed loosely: upper case, spaces instead of the dash.
    let typed = codes[3].to_uppercase().replace('-', " ");
    m.verify_recovery_code(u.id, &typed, home()).await.unwrap();
    let again = m.verify_recovery_code(u.id, &codes[3], home()).await;
    assert!(
        matches!(again, Err(MfaError::WrongCode { attempts_left: 4 })),
        "{again:?}"
    );
    assert_eq!(m.methods(u.id).await.unwrap().recovery_codes_left, 9);
    assert_eq!(audits_of(s, u.id).await[0], "Used recovery code");

    let mail = s
        .claim_due_mail(clock.now(), clock.now() + Duration::minutes(1), 10)
        .await
        .unwrap();
    assert_eq!(mail.len(), 1);
    let mail = &mail[0].mail;
    assert_eq!(mail.kind, MailKind::RecoveryCodeUsed);
    assert_eq!(mail.to, u.mail);
    assert_eq!(mail.text, "codes left: 9");

    // Another user's code is no code of this user.
    let (other, _, other_codes) = enrolled(s, &m, &clock, "bob@contoso.example").await;
    let r = m.verify_recovery_code(u.id, &other_codes[0], home()).await;
    assert!(matches!(r, Err(MfaError::WrongCode { .. })), "{r:?}");
    m.verify_recovery_code(other.id, &other_codes[0], home())
        .await
        .unwrap();
}

async fn recovery_code_races_have_one_winner(db: &TestDb) {
    let s = &db.storage;
    let clock = clock();
    let m = service(s, &clock);
    let other_node = service(&db.connect_again().await, &clock);
    let (u, _, codes) = enrolled(s, &m, &clock, "ada@contoso.example").await;
    let (a, b) = tokio::join!(
        m.verify_recovery_code(u.id, &codes[0], home()),
        other_node.verify_recovery_code(u.id, &codes[0], home())
    );
    assert_eq!(
        [&a, &b].iter().filter(|r| r.is_ok()).count(),
        1,
        "{a:?} {b:?}"
    );
    assert_eq!(pending_mail(s).await, 1);
    assert_eq!(m.methods(u.id).await.unwrap().recovery_codes_left, 9);
}

async fn regenerated_codes_replace_the_old_ones(s: &Storage) {
    let clock = clock();
    let m = service(s, &clock);
    let (u, _, old) = enrolled(s, &m, &clock, "ada@contoso.example").await;
    m.verify_recovery_code(u.id, &old[0], home()).await.unwrap();
    let new = m.regenerate_recovery_codes(u.id, &me(&u)).await.unwrap();
    assert_eq!(new.len(), 10);
    assert!(new.iter().all(|c| !old.contains(c)));
    assert_eq!(m.methods(u.id).await.unwrap().recovery_codes_left, 10);
    assert_eq!(audits_of(s, u.id).await[0], "Regenerated recovery codes");
    let r = m.verify_recovery_code(u.id, &old[1], home()).await;
    assert!(matches!(r, Err(MfaError::WrongCode { .. })), "{r:?}");
    m.verify_recovery_code(u.id, &new[1], home()).await.unwrap();

    // Without an app there is nothing to back up.
    let lone = new_user(s, "lone@contoso.example").await;
    let r = m.regenerate_recovery_codes(lone.id, &me(&lone)).await;
    assert!(matches!(r, Err(MfaError::NotEnrolled)), "{r:?}");
}

async fn reset_and_removal_delete_every_method(s: &Storage) {
    let clock = clock();
    let m = service(s, &clock);
    let admin = admin();
    let (u, e, codes) = enrolled(s, &m, &clock, "ada@contoso.example").await;
    m.start_totp_enrolment(u.id, &u.mail).await.unwrap();
    m.reset_methods(u.id, &admin).await.unwrap();
    assert!(s.find_totps(u.id).await.unwrap().is_empty());
    let methods = m.methods(u.id).await.unwrap();
    assert_eq!((methods.totp, methods.recovery_codes_left), (None, 0));
    assert!(!m.has_strong_method(u.id).await.unwrap());
    assert_eq!(audits_of(s, u.id).await[0], "Required MFA re-registration");
    let r = m.verify_totp(u.id, &code_now(&e, &clock), home()).await;
    assert!(matches!(r, Err(MfaError::NotEnrolled)), "{r:?}");
    let r = m.verify_recovery_code(u.id, &codes[0], home()).await;
    assert!(matches!(r, Err(MfaError::NotEnrolled)), "{r:?}");

    let (b, _, _) = enrolled(s, &m, &clock, "bob@contoso.example").await;
    m.remove_totp(b.id, &me(&b)).await.unwrap();
    assert_eq!(m.methods(b.id).await.unwrap().recovery_codes_left, 0);
    assert_eq!(audits_of(s, b.id).await[0], "Removed authenticator app");
    let r = m.remove_totp(b.id, &me(&b)).await;
    assert!(matches!(r, Err(MfaError::NotEnrolled)), "{r:?}");

    // Deleting the user takes its methods with it.
    let (c, _, _) = enrolled(s, &m, &clock, "carol@contoso.example").await;
    s.delete_user(c.id, &audit("Delete user", c.id))
        .await
        .unwrap();
    assert!(s.find_totps(c.id).await.unwrap().is_empty());
    assert_eq!(s.count_recovery_codes_left(c.id).await.unwrap(), 0);
}

/// `AccountStore::find_account` reads a user and both method flags in one
/// query; each flag is that user's own (a correlated subquery), and a pending
/// enrolment is not a method.
async fn an_account_read_shows_its_own_confirmed_methods(s: &Storage) {
    use portico_directory::mfa::{NewPasskey, StoredPasskey};
    use portico_oidc::store::AccountStore;
    let clock = clock();
    let m = service(s, &clock);
    let flags = |a: portico_oidc::model::Account| (a.has_totp, a.has_passkey);
    let u = new_user(s, "ada@contoso.example").await;
    let other = new_user(s, "bob@contoso.example").await;
    let read = |id| async move { flags(s.find_account(id).await.unwrap().unwrap()) };
    assert_eq!(read(u.id).await, (false, false));
    let e = m.start_totp_enrolment(u.id, &u.mail).await.unwrap();
    assert_eq!(read(u.id).await, (false, false), "pending");
    m.confirm_totp(u.id, &code_now(&e, &clock), home(), &me(&u))
        .await
        .unwrap();
    assert_eq!(read(u.id).await, (true, false));
    let passkey = StoredPasskey {
        id: uuid::Uuid::now_v7(),
        user_id: u.id,
        credential_id: "Y3JlZA".into(),
        name: "Laptop".into(),
        credential: "v1.sealed".into(),
        counter: 0,
        aaguid: None,
        created_at: clock.now(),
        last_used_at: None,
    };
    let added = s
        .add_passkey(&NewPasskey {
            passkey,
            recovery_codes: None,
            audit: audit("Registered passkey", u.id),
        })
        .await
        .unwrap();
    assert!(added);
    assert_eq!(read(u.id).await, (true, true));
    assert_eq!(
        read(other.id).await,
        (false, false),
        "another user's methods"
    );
    assert!(
        s.find_account(uuid::Uuid::now_v7())
            .await
            .unwrap()
            .is_none()
    );
}

both_backends!(
    an_account_read_shows_its_own_confirmed_methods,
    enrolment_is_confirmed_by_a_code_from_the_returned_secret,
    re_enrolment_keeps_the_old_app_until_the_new_one_is_confirmed,
    five_wrong_codes_lock_until_the_oldest_is_fifteen_minutes_old,
    five_wrong_codes_from_one_address_lock_it_for_every_user,
    recovery_code_is_single_use_and_its_use_is_mailed,
    regenerated_codes_replace_the_old_ones,
    reset_and_removal_delete_every_method,
);

mod two_nodes {
    use super::*;
    both_backends_db!(
        totp_step_is_accepted_once_also_through_a_second_node,
        recovery_code_races_have_one_winner,
    );
}
