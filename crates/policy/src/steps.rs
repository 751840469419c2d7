//! Which interaction steps a sign-in still needs.

use chrono::{DateTime, Utc};

/// An interaction step the UI performs before the authorization server resumes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// The user must authenticate (OIDC Core §3.1.2.3).
    Login,
    /// The user must approve what the client will receive (OIDC Core §3.1.2.4).
    Consent,
}

/// The signed-in user as the provider knows them at this point.
#[derive(Debug, Clone, Copy)]
pub struct SessionFacts {
    pub auth_time: DateTime<Utc>,
    pub account_enabled: bool,
    /// True when the authentication happened within this very interaction.
    pub fresh: bool,
    /// `id_token_hint` names another subject than this user.
    pub hint_mismatch: bool,
}

#[derive(Debug, Clone)]
pub struct SignInFacts {
    pub now: DateTime<Utc>,
    pub session: Option<SessionFacts>,
    /// `prompt=login` or `prompt=select_account`, not yet satisfied.
    pub prompt_login: bool,
    /// `prompt=consent`, not yet satisfied.
    pub prompt_consent: bool,
    /// `max_age` in seconds (OIDC Core §3.1.2.1).
    pub max_age: Option<i64>,
    /// The user's stored consent covers every requested scope (unknown without a user).
    pub consent_covers_request: bool,
}

/// The steps still needed, in the order the UI must walk them.
pub fn required_steps(f: &SignInFacts) -> Vec<Step> {
    let mut steps = Vec::new();
    let needs_login = match f.session {
        None => true,
        Some(s) if s.fresh => !s.account_enabled,
        Some(s) => {
            let too_old = f
                .max_age
                .is_some_and(|max| (f.now - s.auth_time).num_seconds() > max);
            !s.account_enabled || s.hint_mismatch || f.prompt_login || too_old
        }
    };
    if needs_login {
        steps.push(Step::Login);
    }
    if needs_login || f.prompt_consent || !f.consent_covers_request {
        steps.push(Step::Consent);
    }
    steps
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    fn facts() -> SignInFacts {
        SignInFacts {
            now: DateTime::from_timestamp(1_000_000, 0).unwrap_or_default(),
            session: None,
            prompt_login: false,
            prompt_consent: false,
            max_age: None,
            consent_covers_request: true,
        }
    }

    fn session(f: &SignInFacts, age_secs: i64, fresh: bool) -> SessionFacts {
        SessionFacts {
            auth_time: f.now - Duration::seconds(age_secs),
            account_enabled: true,
            fresh,
            hint_mismatch: false,
        }
    }

    fn check(f: SignInFacts, expected: &[Step]) {
        assert_eq!(required_steps(&f), expected, "{f:?}");
    }

    #[test]
    fn table() {
        use Step::*;
        // No session: sign in, then consent (the user is not known yet).
        check(facts(), &[Login, Consent]);
        let base = facts();
        // A session and a covering consent: nothing to do (SSO).
        check(
            SignInFacts {
                session: Some(session(&base, 10, false)),
                ..facts()
            },
            &[],
        );
        // prompt=login forces a new sign-in even with a session.
        check(
            SignInFacts {
                session: Some(session(&base, 10, false)),
                prompt_login: true,
                ..facts()
            },
            &[Login, Consent],
        );
        // ... but not again once the user signed in within this interaction.
        check(
            SignInFacts {
                session: Some(session(&base, 0, true)),
                prompt_login: true,
                ..facts()
            },
            &[],
        );
        // max_age exceeded.
        check(
            SignInFacts {
                session: Some(session(&base, 601, false)),
                max_age: Some(600),
                ..facts()
            },
            &[Login, Consent],
        );
        check(
            SignInFacts {
                session: Some(session(&base, 599, false)),
                max_age: Some(600),
                ..facts()
            },
            &[],
        );
        // max_age=0 behaves like prompt=login for an older session.
        check(
            SignInFacts {
                session: Some(session(&base, 1, false)),
                max_age: Some(0),
                ..facts()
            },
            &[Login, Consent],
        );
        // A disabled account never rides on its session.
        let disabled = SessionFacts {
            account_enabled: false,
            ..session(&base, 1, false)
        };
        check(
            SignInFacts {
                session: Some(disabled),
                ..facts()
            },
            &[Login, Consent],
        );
        // id_token_hint for another subject.
        let other = SessionFacts {
            hint_mismatch: true,
            ..session(&base, 1, false)
        };
        check(
            SignInFacts {
                session: Some(other),
                ..facts()
            },
            &[Login, Consent],
        );
        // Consent missing or forced.
        check(
            SignInFacts {
                session: Some(session(&base, 1, false)),
                consent_covers_request: false,
                ..facts()
            },
            &[Consent],
        );
        check(
            SignInFacts {
                session: Some(session(&base, 1, false)),
                prompt_consent: true,
                ..facts()
            },
            &[Consent],
        );
    }
}
