//! Rules: the request names a registered client with `client_id`, exactly once.
//! An unknown client gets an error page, never a redirect (RFC 6749 §4.1.2.1).

use super::params::RawParams;
use crate::Provider;
use crate::error::PageError;
use crate::model::Client;

pub async fn load_client(p: &Provider, raw: &RawParams) -> Result<Client, PageError> {
    if raw.is_repeated("client_id") {
        return Err(PageError::new(
            "invalid_client",
            "The request repeats client_id.",
        ));
    }
    let id = raw
        .get("client_id")
        .ok_or_else(|| PageError::new("invalid_client", "The request has no client_id."))?;
    p.store
        .find_client(id)
        .await?
        .ok_or_else(|| PageError::new("invalid_client", "This application is not registered here."))
}
