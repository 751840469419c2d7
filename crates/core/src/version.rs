//! Versions of editable records for optimistic concurrency (RFC 9110 §8.8.3,
//! §13.1.1): an entity tag derived from the record's content, so any write
//! that changes what an admin sees changes the tag, with no version column
//! every writer must remember to bump.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

/// A strong entity tag (quoted, as sent in `ETag`) over `content`.
pub fn entity_tag(content: &[u8]) -> String {
    let digest = Sha256::digest(content);
    format!("\"{}\"", URL_SAFE_NO_PAD.encode(&digest[..18]))
}

/// Whether an `If-Match` value names `tag` (`*` matches anything; a list
/// matches when one of its tags does; weak tags never match, §13.1.1).
pub fn if_match(header: &str, tag: &str) -> bool {
    header
        .split(',')
        .map(str::trim)
        .any(|t| t == "*" || t == tag)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_follow_content_and_if_match_lists() {
        let a = entity_tag(b"one");
        assert_eq!(a, entity_tag(b"one"));
        assert_ne!(a, entity_tag(b"two"));
        assert!(a.starts_with('"') && a.ends_with('"'));
        assert!(if_match(&a, &a));
        assert!(if_match("*", &a));
        assert!(if_match(&format!("\"x\", {a}"), &a));
        assert!(!if_match("\"x\"", &a));
        assert!(!if_match(&format!("W/{a}"), &a));
    }
}
