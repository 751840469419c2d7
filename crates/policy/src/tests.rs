//! Decision tables: every step, denial and reason.

use crate::*;
use chrono::{DateTime, Duration, Utc};

fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_000_000, 0).unwrap_or_default()
}

fn member() -> UserFacts {
    UserFacts {
        user_type: UserType::Member,
        enabled: true,
        has_totp: false,
        has_passkey: false,
        domain_blocked: false,
    }
}

fn guest() -> UserFacts {
    UserFacts {
        user_type: UserType::Guest,
        ..member()
    }
}

fn step(method: Method, age_secs: i64) -> DoneStep {
    DoneStep {
        method,
        at: now() - Duration::seconds(age_secs),
    }
}

/// A session `age_secs` old, signed in with `first`.
fn authn(user: UserFacts, first: Method, age_secs: i64, fresh: bool) -> Authn {
    Authn {
        user,
        auth_time: now() - Duration::seconds(age_secs),
        steps: vec![step(first, age_secs)],
        fresh,
        upstream: None,
        hint_mismatch: false,
    }
}

fn facts(a: Option<Authn>) -> Facts {
    Facts {
        now: now(),
        authn: a,
        app: AppFacts::default(),
        request: RequestFacts::default(),
        tenant: TenantSettings::default(),
        hinted_idp: None,
        mfa_required_by: vec![],
        consent_covers_request: true,
        passkeys: true,
    }
}

fn identify() -> Step {
    Step::Identify { passkey: false }
}

fn sso() -> Facts {
    facts(Some(authn(member(), Method::Password, 60, false)))
}

fn check(f: Facts, expected: Outcome, reasons: &[&str]) {
    let d = decide(&f);
    assert_eq!(d.outcome, expected, "{f:#?}\n{d:#?}");
    let codes: Vec<&str> = d.reasons.iter().map(|r| r.code()).collect();
    assert_eq!(codes, reasons, "{f:#?}");
}

fn go(s: Step) -> Outcome {
    Outcome::Continue(s)
}

fn challenge(methods: &[Method]) -> Outcome {
    go(Step::MfaChallenge {
        methods: methods.to_vec(),
    })
}

fn denied(error: &str) -> Outcome {
    match error {
        "login_required" => Outcome::Deny(Denial {
            error: "login_required",
            code: "login_required",
            explained: false,
            message: "The user must sign in.",
        }),
        "interaction_required" => Outcome::Deny(Denial {
            error: "interaction_required",
            code: "interaction_required",
            explained: false,
            message: "The user must complete multi-factor authentication.",
        }),
        _ => Outcome::Deny(Denial {
            error: "consent_required",
            code: "consent_required",
            explained: false,
            message: "The user must consent.",
        }),
    }
}

#[test]
fn who_signs_in() {
    check(facts(None), go(identify()), &["no_session"]);
    check(sso(), Outcome::Complete, &[]);
    let mut f = sso();
    f.request.prompt_login = true;
    check(f, go(identify()), &["prompt_login"]);
    // max_age: just inside and just past.
    let mut f = sso();
    f.request.max_age = Some(60);
    check(f, Outcome::Complete, &[]);
    let mut f = sso();
    f.request.max_age = Some(59);
    check(f, go(identify()), &["max_age_exceeded"]);
    let mut f = sso();
    f.request.max_age = Some(0);
    check(f, go(identify()), &["max_age_exceeded"]);
    // max_age=0 equals prompt=login: a session from this very second is not enough.
    let mut f = facts(Some(authn(member(), Method::Password, 0, false)));
    f.request.max_age = Some(0);
    check(f, go(identify()), &["max_age_exceeded"]);
    let mut f = sso();
    if let Some(a) = f.authn.as_mut() {
        a.hint_mismatch = true;
    }
    check(f, go(identify()), &["id_token_hint_mismatch"]);
    let mut f = sso();
    if let Some(a) = f.authn.as_mut() {
        a.user.enabled = false;
    }
    check(f, go(identify()), &["session_account_disabled"]);
    // A fresh sign-in of a disabled account is refused, not asked again.
    let mut f = facts(Some(authn(member(), Method::Password, 0, true)));
    if let Some(a) = f.authn.as_mut() {
        a.user.enabled = false;
    }
    let d = decide(&f);
    assert!(
        matches!(
            d.outcome,
            Outcome::Deny(Denial {
                code: "account_disabled",
                error: "access_denied",
                ..
            })
        ),
        "{d:?}"
    );
    // A fresh sign-in satisfies prompt=login and max_age=0.
    let mut f = facts(Some(authn(member(), Method::Password, 0, true)));
    f.request.max_age = Some(0);
    check(f, Outcome::Complete, &[]);
}

#[test]
fn home_realm_discovery_by_hint() {
    let mut f = facts(None);
    f.hinted_idp = Some("idp-1".into());
    check(
        f,
        go(Step::UpstreamIdp {
            idp: "idp-1".into(),
        }),
        &["no_session", "home_realm_hint"],
    );
    // With a session, the hint changes nothing.
    let mut f = sso();
    f.hinted_idp = Some("idp-1".into());
    check(f, Outcome::Complete, &[]);
}

#[test]
fn consent() {
    let mut f = sso();
    f.consent_covers_request = false;
    check(f, go(Step::Consent), &["consent_missing"]);
    let mut f = sso();
    f.request.prompt_consent = true;
    check(f, go(Step::Consent), &["prompt_consent"]);
    let mut f = sso();
    f.consent_covers_request = false;
    f.app.first_party = true;
    check(f, Outcome::Complete, &["first_party"]);
}

#[test]
fn when_mfa_applies() {
    // Tenant: guests only.
    let mut f = sso();
    f.tenant.require_mfa_for = MfaScope::Guests;
    check(f, Outcome::Complete, &[]);
    let mut f = facts(Some(authn(guest(), Method::EmailCode, 10, true)));
    f.tenant.require_mfa_for = MfaScope::Guests;
    check(
        f,
        go(Step::MfaEnroll),
        &["mfa_required_by_tenant", "mfa_not_enrolled"],
    );
    let mut f = sso();
    f.tenant.require_mfa_for = MfaScope::Everyone;
    check(
        f,
        go(Step::MfaEnroll),
        &["mfa_required_by_tenant", "mfa_not_enrolled"],
    );
    // The app.
    let mut f = sso();
    f.app.require_mfa = true;
    check(
        f,
        go(Step::MfaEnroll),
        &["mfa_required_by_app", "mfa_not_enrolled"],
    );
    // acr_values: only the MFA profile asks for it.
    let mut f = sso();
    f.request.acr_values = vec![ACR_SFA.into()];
    check(f, Outcome::Complete, &[]);
    let mut f = sso();
    f.request.acr_values = vec![ACR_SFA.into(), ACR_MFA.into()];
    check(
        f,
        go(Step::MfaEnroll),
        &["mfa_required_by_acr_values", "mfa_not_enrolled"],
    );
    // Another policy (conditional access), by name.
    let mut f = sso();
    f.mfa_required_by = vec!["Guests outside the office".into()];
    let d = decide(&f);
    assert_eq!(d.outcome, go(Step::MfaEnroll));
    assert_eq!(
        d.reasons[0],
        Reason::MfaRequiredByPolicy("Guests outside the office".into())
    );
    assert_eq!(
        d.reasons[0].to_string(),
        "mfa_required_by_policy: Guests outside the office"
    );
}

#[test]
fn which_second_factor() {
    let enrolled = UserFacts {
        has_totp: true,
        ..member()
    };
    let mut f = facts(Some(authn(enrolled, Method::Password, 0, true)));
    f.app.require_mfa = true;
    check(
        f.clone(),
        challenge(&[Method::Totp, Method::RecoveryCode]),
        &["mfa_required_by_app"],
    );
    if let Some(a) = f.authn.as_mut() {
        a.user.has_passkey = true;
    }
    check(
        f,
        challenge(&[Method::Totp, Method::RecoveryCode, Method::Passkey]),
        &["mfa_required_by_app"],
    );
    // Email as second factor: allowed for a password user with nothing else…
    let mut f = facts(Some(authn(member(), Method::Password, 0, true)));
    f.app.require_mfa = true;
    f.tenant.email_otp_as_second_factor = true;
    check(
        f,
        challenge(&[Method::EmailOtp]),
        &["mfa_required_by_app", "email_otp_as_second_factor"],
    );
    // …never when the first factor was that same mailbox.
    let mut f = facts(Some(authn(guest(), Method::EmailCode, 0, true)));
    f.app.require_mfa = true;
    f.tenant.email_otp_as_second_factor = true;
    check(
        f,
        go(Step::MfaEnroll),
        &["mfa_required_by_app", "mfa_not_enrolled"],
    );
    // …and not when an authenticator exists.
    let mut f = facts(Some(authn(
        UserFacts {
            has_totp: true,
            ..member()
        },
        Method::Password,
        0,
        true,
    )));
    f.app.require_mfa = true;
    f.tenant.email_otp_as_second_factor = true;
    check(
        f,
        challenge(&[Method::Totp, Method::RecoveryCode]),
        &["mfa_required_by_app"],
    );
}

#[test]
fn mfa_is_remembered_for_the_configured_time() {
    let user = UserFacts {
        has_totp: true,
        ..member()
    };
    let with_totp = |age: i64| {
        let mut a = authn(user, Method::Password, age + 5, false);
        a.steps.push(step(Method::Totp, age));
        let mut f = facts(Some(a));
        f.app.require_mfa = true;
        f.tenant.remember_mfa_minutes = 60;
        f
    };
    check(
        with_totp(3600),
        Outcome::Complete,
        &["mfa_required_by_app", "mfa_remembered"],
    );
    check(
        with_totp(3601),
        challenge(&[Method::Totp, Method::RecoveryCode]),
        &["mfa_required_by_app"],
    );
    // prompt=login: a new sign-in, whose own steps start empty.
    let mut f = with_totp(10);
    f.request.prompt_login = true;
    check(f, go(identify()), &["prompt_login"]);
    // max_age: the same.
    let mut f = with_totp(10);
    f.request.max_age = Some(5);
    check(f, go(identify()), &["max_age_exceeded"]);
}

fn upstream(amr: &[&str], acr: Option<&str>, age_secs: i64, trusted: bool) -> UpstreamFacts {
    UpstreamFacts {
        amr: amr.iter().map(|s| s.to_string()).collect(),
        acr: acr.map(str::to_string),
        auth_time: Some(now() - Duration::seconds(age_secs)),
        trust: trusted.then(|| MfaTrust {
            amr_values: vec!["mfa".into(), "hwk".into()],
            acr_values: vec![ACR_MFA.into()],
            max_age_minutes: 10,
        }),
    }
}

fn federated(up: UpstreamFacts) -> Facts {
    let mut a = authn(guest(), Method::Upstream, 0, true);
    a.upstream = Some(up);
    let mut f = facts(Some(a));
    f.tenant.require_mfa_for = MfaScope::Guests;
    f
}

#[test]
fn upstream_mfa_trust() {
    // Trusted by amr, and by acr.
    check(
        federated(upstream(&["pwd", "mfa"], None, 60, true)),
        Outcome::Complete,
        &["mfa_required_by_tenant", "mfa_by_upstream"],
    );
    check(
        federated(upstream(&["pwd"], Some(ACR_MFA), 60, true)),
        Outcome::Complete,
        &["mfa_required_by_tenant", "mfa_by_upstream"],
    );
    // Not matched: step up locally.
    check(
        federated(upstream(&["pwd"], None, 60, true)),
        go(Step::MfaEnroll),
        &[
            "mfa_required_by_tenant",
            "upstream_mfa_not_trusted",
            "mfa_not_enrolled",
        ],
    );
    // No trust configured: the same.
    check(
        federated(upstream(&["mfa"], Some(ACR_MFA), 60, false)),
        go(Step::MfaEnroll),
        &[
            "mfa_required_by_tenant",
            "upstream_mfa_not_trusted",
            "mfa_not_enrolled",
        ],
    );
    // Stale: older than the freshness window, or no auth_time at all.
    check(
        federated(upstream(&["mfa"], None, 601, true)),
        go(Step::MfaEnroll),
        &[
            "mfa_required_by_tenant",
            "upstream_mfa_stale",
            "mfa_not_enrolled",
        ],
    );
    let mut up = upstream(&["mfa"], None, 0, true);
    up.auth_time = None;
    check(
        federated(up),
        go(Step::MfaEnroll),
        &[
            "mfa_required_by_tenant",
            "upstream_mfa_stale",
            "mfa_not_enrolled",
        ],
    );
}

#[test]
fn prompt_none_never_shows_a_page() {
    let none = RequestFacts {
        prompt_none: true,
        ..Default::default()
    };
    let mut f = facts(None);
    f.request = none.clone();
    check(f, denied("login_required"), &["no_session", "prompt_none"]);
    let mut f = sso();
    f.request = none.clone();
    f.app.require_mfa = true;
    check(
        f,
        denied("interaction_required"),
        &["mfa_required_by_app", "mfa_not_enrolled", "prompt_none"],
    );
    let mut f = sso();
    f.request = none.clone();
    f.consent_covers_request = false;
    check(
        f,
        denied("consent_required"),
        &["consent_missing", "prompt_none"],
    );
    // prompt=none with max_age=0 can never be met silently.
    let mut f = facts(Some(authn(member(), Method::Password, 0, false)));
    f.request = none.clone();
    f.request.max_age = Some(0);
    check(
        f,
        denied("login_required"),
        &["max_age_exceeded", "prompt_none"],
    );
    let mut f = sso();
    f.request = none;
    check(f, Outcome::Complete, &[]);
}

#[test]
fn steps_accept_only_their_methods() {
    assert!(identify().accepts(Method::Password));
    assert!(identify().accepts(Method::EmailCode));
    assert!(!identify().accepts(Method::Totp));
    assert!(!Step::Consent.accepts(Method::Password));
    assert!(Step::MfaEnroll.accepts(Method::Totp));
    assert!(!Step::MfaEnroll.accepts(Method::RecoveryCode));
    let c = Step::MfaChallenge {
        methods: vec![Method::EmailOtp],
    };
    assert!(c.accepts(Method::EmailOtp));
    assert!(!c.accepts(Method::Totp));
    assert!(!c.accepts(Method::Password));
}

#[test]
fn tokens_claim_only_what_was_performed() {
    let a = assurance(&[step(Method::Password, 5)], None, now());
    assert_eq!(
        (a.amr, a.acr, a.mfa),
        (vec!["pwd".to_string()], ACR_SFA, false)
    );
    let a = assurance(
        &[step(Method::Password, 5), step(Method::Totp, 1)],
        None,
        now(),
    );
    assert_eq!(a.amr, ["pwd", "otp", "mfa"]);
    assert_eq!(a.acr, ACR_MFA);
    let a = assurance(
        &[step(Method::EmailCode, 5), step(Method::Passkey, 1)],
        None,
        now(),
    );
    assert_eq!(a.amr, ["otp", "hwk", "mfa"]);
    // Upstream: trusted MFA carries its amr; untrusted is one factor.
    let trusted = upstream(&["pwd", "mfa"], None, 60, true);
    let a = assurance(&[step(Method::Upstream, 5)], Some(&trusted), now());
    assert_eq!(a.amr, ["fed", "pwd", "mfa"]);
    assert_eq!(a.acr, ACR_MFA);
    let untrusted = upstream(&["pwd", "mfa"], None, 60, false);
    let a = assurance(&[step(Method::Upstream, 5)], Some(&untrusted), now());
    assert_eq!(a.amr, ["fed"]);
    assert_eq!(a.acr, ACR_SFA);
    // Stepped up locally after an untrusted upstream sign-in.
    let a = assurance(
        &[step(Method::Upstream, 5), step(Method::Totp, 1)],
        Some(&untrusted),
        now(),
    );
    assert_eq!(a.amr, ["fed", "otp", "mfa"]);
    assert_eq!(a.acr, ACR_MFA);
}

fn with_passkey(user: UserFacts) -> UserFacts {
    UserFacts {
        has_passkey: true,
        ..user
    }
}

/// A sign-in by a passkey alone, just performed.
fn passkey_alone(user: UserFacts) -> Facts {
    let mut f = facts(Some(authn(user, Method::Passkey, 0, true)));
    f.tenant.passkey_only_sign_in = true;
    f
}

#[test]
fn passkey_only_sign_in() {
    // The sign-in page offers a passkey alone only when the tenant allows it
    // and WebAuthn works at this issuer.
    let mut f = facts(None);
    f.tenant.passkey_only_sign_in = true;
    check(
        f.clone(),
        go(Step::Identify { passkey: true }),
        &["no_session"],
    );
    assert!(Step::Identify { passkey: true }.accepts(Method::Passkey));
    assert!(!identify().accepts(Method::Passkey));
    f.passkeys = false;
    check(f, go(identify()), &["no_session"]);
    // A member's passkey alone is the whole sign-in, MFA included.
    let mut f = passkey_alone(with_passkey(member()));
    f.tenant.require_mfa_for = MfaScope::Everyone;
    check(
        f.clone(),
        Outcome::Complete,
        &["mfa_required_by_tenant", "mfa_remembered"],
    );
    f.app.require_mfa = true;
    f.request.acr_values = vec![ACR_MFA.to_string()];
    check(
        f,
        Outcome::Complete,
        &[
            "mfa_required_by_tenant",
            "mfa_required_by_app",
            "mfa_required_by_acr_values",
            "mfa_remembered",
        ],
    );
    let denied = |f: Facts| {
        let d = decide(&f);
        assert!(
            matches!(
                d.outcome,
                Outcome::Deny(Denial {
                    code: "passkey_only_not_allowed",
                    error: "access_denied",
                    ..
                })
            ),
            "{d:?}"
        );
        assert_eq!(d.reasons, [Reason::PasskeyOnlyNotAllowed]);
    };
    // Guests never: their first factor is their home identity or mailbox.
    denied(passkey_alone(with_passkey(guest())));
    // Not when the tenant does not allow it, nor where WebAuthn is off.
    let mut f = passkey_alone(with_passkey(member()));
    f.tenant.passkey_only_sign_in = false;
    denied(f);
    let mut f = passkey_alone(with_passkey(member()));
    f.passkeys = false;
    denied(f);
    // As a second factor a passkey stays what it was, for guests too.
    let mut f = facts(Some(authn(
        with_passkey(guest()),
        Method::EmailCode,
        0,
        true,
    )));
    f.tenant.require_mfa_for = MfaScope::Guests;
    check(
        f.clone(),
        challenge(&[Method::Passkey]),
        &["mfa_required_by_tenant"],
    );
    // Without WebAuthn at this issuer the passkey is not offered: enrol another way.
    f.passkeys = false;
    check(
        f,
        go(Step::MfaEnroll),
        &["mfa_required_by_tenant", "mfa_not_enrolled"],
    );
}

#[test]
fn a_guest_of_a_refused_domain_is_denied_with_a_session_or_without() {
    let blocked = UserFacts {
        domain_blocked: true,
        ..guest()
    };
    for (fresh, age) in [(true, 0), (false, 600)] {
        let d = decide(&facts(Some(authn(blocked, Method::Upstream, age, fresh))));
        assert!(
            matches!(
                d.outcome,
                Outcome::Deny(Denial {
                    code: "guest_domain_blocked",
                    error: "access_denied",
                    ..
                })
            ),
            "{d:?}"
        );
        assert_eq!(d.reasons, [Reason::GuestDomainBlocked]);
    }
    // The same guest, domain allowed, goes on as before.
    let d = decide(&facts(Some(authn(guest(), Method::Upstream, 0, true))));
    assert!(!matches!(d.outcome, Outcome::Deny(_)), "{d:?}");
}

#[test]
fn a_passkey_alone_claims_two_factors() {
    let a = assurance(&[step(Method::Passkey, 1)], None, now());
    assert_eq!(a.amr, ["hwk", "mfa"]);
    assert_eq!(a.acr, ACR_MFA);
    assert!(a.mfa);
    // A passkey after a password: three tokens, still one MFA.
    let a = assurance(
        &[step(Method::Password, 5), step(Method::Passkey, 1)],
        None,
        now(),
    );
    assert_eq!(a.amr, ["pwd", "hwk", "mfa"]);
    // A password alone is still one factor.
    let a = assurance(&[step(Method::Password, 5)], None, now());
    assert_eq!(a.amr, ["pwd"]);
}

fn not_assigned() -> Outcome {
    Outcome::Deny(Denial {
        error: "access_denied",
        code: "not_assigned",
        explained: true,
        message: "You are signed in, but you have not been given access to this application. Ask its owner or your administrator to assign it to you.",
    })
}

#[test]
fn assignment_required() {
    // An app that does not require assignment admits anyone.
    check(sso(), Outcome::Complete, &[]);
    // Assigned (directly or through a group: the caller counts both).
    let mut f = sso();
    f.app.assignment_required = true;
    f.app.assigned = true;
    check(f, Outcome::Complete, &[]);
    // Not assigned: refused with access_denied, whatever else applies
    // (no MFA asked first, no consent).
    let mut f = sso();
    f.app.assignment_required = true;
    f.app.require_mfa = true;
    f.consent_covers_request = false;
    check(f, not_assigned(), &["not_assigned"]);
    // prompt=none: the same access_denied, never login_required.
    let mut f = sso();
    f.app.assignment_required = true;
    f.request.prompt_none = true;
    check(f, not_assigned(), &["not_assigned"]);
    // A fresh sign-in is refused too, once the user is known.
    let mut f = facts(Some(authn(guest(), Method::EmailCode, 10, true)));
    f.app.assignment_required = true;
    check(f, not_assigned(), &["not_assigned"]);
    // Nobody signed in yet: identify first (who it is decides).
    let mut f = facts(None);
    f.app.assignment_required = true;
    check(f, go(identify()), &["no_session"]);
    // Portico's own clients are never gated.
    let mut f = sso();
    f.app.first_party = true;
    f.app.assignment_required = true;
    check(f, Outcome::Complete, &["first_party"]);
}
