//! Home-realm discovery: which trusted IdP serves a person, from their email
//! address or a `domain_hint`.

use crate::model::{IdentityProvider, validate_domain};

/// The lowercase domain of an email address, if it has one that could be served.
pub fn email_domain(email: &str) -> Option<String> {
    let (local, domain) = email.trim().rsplit_once('@')?;
    if local.is_empty() {
        return None;
    }
    validate_domain(domain).ok()
}

impl crate::Federation {
    /// The enabled IdP serving this domain (exact match), if any.
    pub async fn idp_for_domain(
        &self,
        domain: &str,
    ) -> Result<Option<IdentityProvider>, crate::FederationError> {
        let Ok(domain) = validate_domain(domain) else {
            return Ok(None);
        };
        Ok(self
            .idps
            .find_idp_by_domain(&domain)
            .await?
            .filter(|i| i.enabled))
    }

    /// The enabled IdP serving this email address's domain, if any.
    pub async fn idp_for_email(
        &self,
        email: &str,
    ) -> Result<Option<IdentityProvider>, crate::FederationError> {
        match email_domain(email) {
            Some(d) => self.idp_for_domain(&d).await,
            None => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::email_domain;

    fn check(email: &str, expected: Option<&str>) {
        assert_eq!(email_domain(email).as_deref(), expected, "{email}");
    }

    #[test]
    fn domains_of_addresses() {
        check("alice@Fabrikam.Example", Some("fabrikam.example"));
        check(" bob@sub.fabrikam.example ", Some("sub.fabrikam.example"));
        check("\"odd@local\"@fabrikam.example", Some("fabrikam.example"));
        check("@fabrikam.example", None);
        check("alice", None);
        check("alice@localhost", None);
        check("alice@fabrikam.example@evil", None);
    }
}
