//! Row conversions for grants, authorization codes and tokens.

use super::{list_from_json, list_to_json};
use crate::entity::{auth_codes, grants, refresh_tokens};
use portico_oidc::model::{AuthCode, Grant, RefreshToken};
use portico_oidc::store::StoreResult;
use sea_orm::ActiveValue::Set;

pub(crate) fn grant_to_row(g: &Grant) -> grants::ActiveModel {
    grants::ActiveModel {
        id: Set(g.id),
        client_id: Set(g.client_id.clone()),
        user_id: Set(g.user_id),
        scope: Set(g.scope.clone()),
        auth_time: Set(g.auth_time),
        amr: Set(list_to_json(&g.amr)),
        idp: Set(g.idp.clone()),
        acr: Set(g.acr.clone()),
        sid: Set(g.sid.clone()),
        claims: Set(g.claims.clone()),
        created_at: Set(g.created_at),
        revoked_at: Set(g.revoked_at),
    }
}

pub(crate) fn grant_from_row(m: grants::Model) -> StoreResult<Grant> {
    Ok(Grant {
        id: m.id,
        client_id: m.client_id,
        user_id: m.user_id,
        scope: m.scope,
        auth_time: m.auth_time,
        amr: list_from_json(m.amr)?,
        idp: m.idp,
        acr: m.acr,
        sid: m.sid,
        // A JSON null is stored for "no claims" by some drivers; treat it as absent.
        claims: m.claims.filter(|c| !c.is_null()),
        created_at: m.created_at,
        revoked_at: m.revoked_at,
    })
}

pub(crate) fn code_to_row(c: &AuthCode) -> auth_codes::ActiveModel {
    auth_codes::ActiveModel {
        code_hash: Set(c.code_hash.clone()),
        grant_id: Set(c.grant_id),
        client_id: Set(c.client_id.clone()),
        redirect_uri: Set(c.redirect_uri.clone()),
        nonce: Set(c.nonce.clone()),
        code_challenge: Set(c.code_challenge.clone()),
        created_at: Set(c.created_at),
        expires_at: Set(c.expires_at),
        consumed_at: Set(c.consumed_at),
    }
}

pub(crate) fn code_from_row(m: auth_codes::Model) -> AuthCode {
    AuthCode {
        code_hash: m.code_hash,
        grant_id: m.grant_id,
        client_id: m.client_id,
        redirect_uri: m.redirect_uri,
        nonce: m.nonce,
        code_challenge: m.code_challenge,
        created_at: m.created_at,
        expires_at: m.expires_at,
        consumed_at: m.consumed_at,
    }
}

pub(crate) fn refresh_to_row(r: &RefreshToken) -> refresh_tokens::ActiveModel {
    refresh_tokens::ActiveModel {
        token_hash: Set(r.token_hash.clone()),
        grant_id: Set(r.grant_id),
        client_id: Set(r.client_id.clone()),
        created_at: Set(r.created_at),
        expires_at: Set(r.expires_at),
        consumed_at: Set(r.consumed_at),
    }
}

pub(crate) fn refresh_from_row(m: refresh_tokens::Model) -> RefreshToken {
    RefreshToken {
        token_hash: m.token_hash,
        grant_id: m.grant_id,
        client_id: m.client_id,
        created_at: m.created_at,
        expires_at: m.expires_at,
        consumed_at: m.consumed_at,
    }
}
