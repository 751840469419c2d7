//! The `groups` claim: the ids of the groups the user is a direct member of,
//! for applications that ask for it (`groupMembershipClaims`: `SecurityGroup`
//! or `All`, as in Entra). Bounded as Entra bounds it: a JWT names at most
//! [`GROUPS_CLAIM_LIMIT`] groups; past that the claim is left out and an
//! overage indicator (OIDC Core §5.6.2 aggregated/distributed claims:
//! `_claim_names` and `_claim_sources`) points at the user's `memberOf` in
//! the admin API, where an app with `Group.Read.All` reads the full list.
//! UserInfo follows the same rule, so both answers agree.

use crate::Provider;
use crate::model::{Client, GroupMembershipClaims};
use crate::store::StoreResult;
use serde_json::{Map, Value, json};
use uuid::Uuid;

/// The most group ids a token or UserInfo answer carries (Entra's JWT limit).
pub const GROUPS_CLAIM_LIMIT: usize = 200;

/// The claims for `ids` (already filtered for the app): `groups`, or the
/// overage indicator past [`GROUPS_CLAIM_LIMIT`].
pub fn groups_claims(issuer: &str, user_id: Uuid, ids: &[Uuid]) -> Map<String, Value> {
    let mut out = Map::new();
    if ids.len() > GROUPS_CLAIM_LIMIT {
        out.insert("_claim_names".into(), json!({"groups": "src1"}));
        out.insert(
            "_claim_sources".into(),
            json!({"src1": {"endpoint": format!("{issuer}/api/v1/users/{user_id}/memberOf")}}),
        );
    } else {
        let ids: Vec<String> = ids.iter().map(Uuid::to_string).collect();
        out.insert("groups".into(), json!(ids));
    }
    out
}

impl Provider {
    /// What `client` receives about `user_id`'s groups (nothing unless it asked).
    pub(crate) async fn groups_claim_for(
        &self,
        client: &Client,
        user_id: Uuid,
    ) -> StoreResult<Map<String, Value>> {
        let security_only = match client.group_membership_claims {
            GroupMembershipClaims::None => return Ok(Map::new()),
            GroupMembershipClaims::SecurityGroup => true,
            GroupMembershipClaims::All => false,
        };
        let ids = self.store.user_group_ids(user_id, security_only).await?;
        Ok(groups_claims(&self.config.issuer, user_id, &ids))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_with_entra_overage() {
        let user = Uuid::nil();
        let ids: Vec<Uuid> = (0..GROUPS_CLAIM_LIMIT).map(|_| Uuid::new_v4()).collect();
        let c = groups_claims("https://id.example", user, &ids);
        assert_eq!(
            c["groups"].as_array().map(Vec::len),
            Some(GROUPS_CLAIM_LIMIT)
        );
        assert!(!c.contains_key("_claim_names"));
        let more: Vec<Uuid> = (0..=GROUPS_CLAIM_LIMIT).map(|_| Uuid::new_v4()).collect();
        let c = groups_claims("https://id.example", user, &more);
        assert!(!c.contains_key("groups"));
        assert_eq!(c["_claim_names"]["groups"], "src1");
        assert_eq!(
            c["_claim_sources"]["src1"]["endpoint"],
            format!("https://id.example/api/v1/users/{user}/memberOf")
        );
        // No groups: an empty list, so the app knows it asked and got none.
        assert_eq!(
            groups_claims("https://id.example", user, &[])["groups"],
            json!([])
        );
    }
}
