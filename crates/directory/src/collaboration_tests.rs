use super::*;

fn policy(allow: AllowInvitesFrom) -> CollaborationPolicy {
    CollaborationPolicy {
        allow_invites_from: allow,
        ..Default::default()
    }
}

#[test]
fn allow_invites_from_admits_exactly_the_named_callers() {
    use AllowInvitesFrom as A;
    use InviterKind as K;
    // (setting, [admin, guest inviter, member, guest])
    let table = [
        (A::None, [false, false, false, false]),
        (A::AdminsAndGuestInviters, [true, true, false, false]),
        (
            A::AdminsGuestInvitersAndAllMembers,
            [true, true, true, false],
        ),
        (A::Everyone, [true, true, true, true]),
    ];
    for (setting, expected) in table {
        let p = policy(setting);
        let got = [K::Admin, K::GuestInviter, K::Member, K::Guest].map(|k| p.may_invite(k));
        assert_eq!(got, expected, "{}", setting.as_str());
        assert_eq!(AllowInvitesFrom::parse(setting.as_str()), Some(setting));
    }
}

fn domains(allowed: &[&str], blocked: &[&str]) -> CollaborationPolicy {
    let patch = InvitationDomainsPatch {
        allowed_domains: Some(allowed.iter().map(|s| s.to_string()).collect()),
        blocked_domains: Some(blocked.iter().map(|s| s.to_string()).collect()),
    };
    patch
        .apply(CollaborationPolicy::default())
        .unwrap_or_default()
}

#[test]
fn deny_wins_over_allow_and_wildcards_match_subdomains_only() {
    let p = domains(&["fabrikam.com", "*.partner.org"], &["bad.partner.org"]);
    let table = [
        ("a@fabrikam.com", true),
        ("a@FABRIKAM.com", true),
        ("a@eu.fabrikam.com", false),
        ("a@eu.partner.org", true),
        ("a@x.eu.partner.org", true),
        ("a@partner.org", false),
        ("a@evilpartner.org", false),
        ("a@bad.partner.org", false),
        ("a@gmail.com", false),
    ];
    for (email, ok) in table {
        assert_eq!(p.domain_refusal(email).is_none(), ok, "{email}");
    }
    let deny_only = domains(&[], &["*.gmail.com", "gmail.com"]);
    assert!(deny_only.domain_refusal("a@gmail.com").is_some());
    assert!(deny_only.domain_refusal("a@mail.gmail.com").is_some());
    assert!(deny_only.domain_refusal("a@fabrikam.com").is_none());
    assert!(
        CollaborationPolicy::default()
            .domain_refusal("a@x.io")
            .is_none()
    );
}

#[test]
fn patches_name_the_field_that_is_wrong() {
    let base = CollaborationPolicy::default();
    for bad in [
        "*",
        "com",
        "a..b",
        "-a.com",
        "a b.com",
        "*.*.com",
        "http://a.com",
    ] {
        let p = InvitationDomainsPatch {
            blocked_domains: Some(vec![bad.into()]),
            ..Default::default()
        };
        let e = p.apply(base.clone()).unwrap_err();
        assert!(e.contains("blockedDomains"), "{bad}: {e}");
    }
    let p = AuthorizationPolicyPatch {
        allow_invites_from: Some("admins".into()),
        ..Default::default()
    };
    assert!(
        p.apply(base.clone())
            .unwrap_err()
            .contains("allowInvitesFrom")
    );
    let p = AuthorizationPolicyPatch {
        guest_user_role_id: Some("00000000-0000-0000-0000-000000000000".into()),
        ..Default::default()
    };
    assert!(
        p.apply(base.clone())
            .unwrap_err()
            .contains("guestUserRoleId")
    );
    let p = AuthorizationPolicyPatch {
        guest_user_role_id: Some(GUEST_ROLE_RESTRICTED.to_uppercase()),
        ..Default::default()
    };
    let got = p.apply(base).unwrap_or_default();
    assert_eq!(got.guest_access(), GuestAccess::Restricted);
}
