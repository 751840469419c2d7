//! Just enough HTML to drive a sign-in: the forms of a page, each with its
//! action and its `input`/`button` fields, attributes in any order and quoted
//! either way, values unescaped. Both OPs under test (Portico's templates and
//! oidc-provider's devInteractions) write plain forms; nothing here runs
//! scripts or knows either page by heart.

pub struct Form {
    pub action: String,
    pub post: bool,
    /// The form carries the `hidden` attribute (a passkey form until its script runs).
    pub hidden: bool,
    pub fields: Vec<Field>,
}

pub struct Field {
    /// `input` or `button`.
    pub tag: &'static str,
    /// The `type` attribute, lower-cased (`text` for an input without one, `submit` for a button).
    pub kind: String,
    pub name: Option<String>,
    pub value: String,
}

impl Form {
    pub fn has_password(&self) -> bool {
        self.fields
            .iter()
            .any(|f| f.tag == "input" && f.kind == "password")
    }

    /// What a person submitting the form with its first (default) button
    /// sends: hidden fields as they are, `login` in the text/email field,
    /// `password` in the password field.
    pub fn fill(&self, login: &str, password: &str) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let mut button_done = false;
        for f in &self.fields {
            let Some(name) = &f.name else { continue };
            let value = match (f.tag, f.kind.as_str()) {
                ("input", "hidden") => f.value.clone(),
                ("input", "password") => password.to_string(),
                ("input", "text" | "email") => login.to_string(),
                ("input", "submit") | ("button", "submit") if !button_done => {
                    button_done = true;
                    f.value.clone()
                }
                _ => continue,
            };
            out.push((name.clone(), value));
        }
        out
    }
}

/// The forms in `html`, in document order.
pub fn forms(html: &str) -> Vec<Form> {
    let lower = html.to_ascii_lowercase();
    let mut out = Vec::new();
    let mut pos = 0;
    while let Some(start) = find_tag(&lower, pos, "form") {
        let (attrs, after) = attributes(html, start + "<form".len());
        let end = lower[after..]
            .find("</form")
            .map_or(html.len(), |e| after + e);
        let inner = &html[after..end];
        let inner_lower = &lower[after..end];
        let mut fields = Vec::new();
        for tag in ["input", "button"] {
            let mut p = 0;
            while let Some(s) = find_tag(inner_lower, p, tag) {
                let (a, next) = attributes(inner, s + 1 + tag.len());
                let kind = attr(&a, "type")
                    .map(str::to_ascii_lowercase)
                    .unwrap_or_else(|| if tag == "input" { "text" } else { "submit" }.into());
                fields.push((
                    s,
                    Field {
                        tag,
                        kind,
                        name: attr(&a, "name").map(str::to_string),
                        value: attr(&a, "value").unwrap_or_default().to_string(),
                    },
                ));
                p = next;
            }
        }
        // Document order across both tags: the first submit button is the default.
        fields.sort_by_key(|(s, _)| *s);
        out.push(Form {
            action: attr(&attrs, "action").unwrap_or_default().to_string(),
            post: attr(&attrs, "method").is_some_and(|m| m.eq_ignore_ascii_case("post")),
            hidden: attrs.iter().any(|(k, _)| k == "hidden"),
            fields: fields.into_iter().map(|(_, f)| f).collect(),
        });
        pos = end;
    }
    out
}

/// The index of the next `<TAG` (followed by a space, `/` or `>`) at or after `from`.
fn find_tag(lower: &str, mut from: usize, tag: &str) -> Option<usize> {
    let open = format!("<{tag}");
    while let Some(i) = lower[from..].find(&open) {
        let at = from + i;
        match lower.as_bytes().get(at + open.len()) {
            Some(b' ' | b'\t' | b'\n' | b'\r' | b'/' | b'>') => return Some(at),
            _ => from = at + open.len(),
        }
    }
    None
}

fn attr<'a>(attrs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    attrs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// Parses attributes from `i` (just after the tag name) to the closing `>`;
/// returns them (names lower-cased, values unescaped) and the index after `>`.
fn attributes(s: &str, mut i: usize) -> (Vec<(String, String)>, usize) {
    let b = s.as_bytes();
    let mut out = Vec::new();
    loop {
        while i < b.len() && (b[i].is_ascii_whitespace() || b[i] == b'/') {
            i += 1;
        }
        if i >= b.len() {
            return (out, b.len());
        }
        if b[i] == b'>' {
            return (out, i + 1);
        }
        let name_start = i;
        while i < b.len() && !b[i].is_ascii_whitespace() && !matches!(b[i], b'=' | b'>' | b'/') {
            i += 1;
        }
        let name = s[name_start..i].to_ascii_lowercase();
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        let mut value = String::new();
        if i < b.len() && b[i] == b'=' {
            i += 1;
            while i < b.len() && b[i].is_ascii_whitespace() {
                i += 1;
            }
            if i < b.len() && (b[i] == b'"' || b[i] == b'\'') {
                let q = b[i];
                let v_start = i + 1;
                i = v_start;
                while i < b.len() && b[i] != q {
                    i += 1;
                }
                value = unescape(&s[v_start..i.min(b.len())]);
                i += 1;
            } else {
                let v_start = i;
                while i < b.len() && !b[i].is_ascii_whitespace() && b[i] != b'>' {
                    i += 1;
                }
                value = unescape(&s[v_start..i]);
            }
        }
        out.push((name, value));
    }
}

/// Character references: the five named ones and numeric ones.
fn unescape(v: &str) -> String {
    if !v.contains('&') {
        return v.to_string();
    }
    let mut out = String::with_capacity(v.len());
    let mut rest = v;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let decoded = rest.find(';').and_then(|end| {
            let ent = &rest[1..end];
            let c = match ent {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                _ => ent
                    .strip_prefix("#x")
                    .or_else(|| ent.strip_prefix("#X"))
                    .map(|h| u32::from_str_radix(h, 16))
                    .or_else(|| ent.strip_prefix('#').map(str::parse::<u32>))
                    .and_then(Result::ok)
                    .and_then(char::from_u32),
            }?;
            Some((c, end + 1))
        });
        match decoded {
            Some((c, len)) => {
                out.push(c);
                rest = &rest[len..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
        v.iter()
            .map(|(k, val)| (k.to_string(), val.to_string()))
            .collect()
    }

    /// Portico's sign-in page (templates/signin.html, passkey_form.html):
    /// the password form is found among the others and filled like a person would.
    #[test]
    fn portico_sign_in_and_consent_forms() {
        let page = r#"<main><form method="post" action="/interaction/i-1/login">
  <input type="hidden" name="csrf" value="a&#43;b&amp;c">
  <label for="email">Email</label>
  <input id="email" name="email" type="email" autocomplete="username" required autofocus value="">
  <input id="password" name="password" type="password" autocomplete="current-password" required>
  <button type="submit">Sign in</button>
</form>
<form method="post" action="/interaction/i-1/passkey" data-passkey="get" class="passkey" hidden>
  <input type="hidden" name="csrf" value="x">
</form>
<form method="post" action="/interaction/i-1/cancel" class="cancel">
  <input type="hidden" name="csrf" value="x"><button type="submit" class="secondary">Cancel</button>
</form></main>"#;
        let page_forms = forms(page);
        assert_eq!(page_forms.len(), 3);
        assert!(page_forms[1].hidden && !page_forms[0].hidden);
        let sign_in = page_forms.iter().find(|f| f.has_password()).unwrap();
        assert!(sign_in.post);
        assert_eq!(sign_in.action, "/interaction/i-1/login");
        assert_eq!(
            sign_in.fill("a@b.example", "pw"),
            pairs(&[
                ("csrf", "a+b&c"),
                ("email", "a@b.example"),
                ("password", "pw")
            ])
        );

        let consent = r#"<form method="post" action="/interaction/i-1/consent">
  <input type="hidden" name="csrf" value="t">
  <button type="submit" name="decision" value="accept">Accept</button>
  <button type="submit" name="decision" value="cancel" class="secondary">Cancel</button>
</form>"#;
        let consent_forms = forms(consent);
        assert_eq!(
            consent_forms[0].fill("a@b.example", "pw"),
            pairs(&[("csrf", "t"), ("decision", "accept")])
        );
    }

    /// oidc-provider's devInteractions: self-closing tags, attributes in another order.
    #[test]
    fn oidc_provider_dev_interaction_forms() {
        let login = r#"<form autocomplete="off" action="/interaction/u1" method="post">
  <input type="hidden" name="prompt" value="login"/>
  <input required type="text" name="login" placeholder="Enter any login" autofocus="on">
  <input required type="password" name="password" placeholder="and password" >
  <button type="submit" class="login login-submit">Sign-in</button>
</form>"#;
        let f = &forms(login)[0];
        assert!(f.post && f.has_password());
        assert_eq!(f.action, "/interaction/u1");
        assert_eq!(
            f.fill("u@x", "p"),
            pairs(&[("prompt", "login"), ("login", "u@x"), ("password", "p")])
        );
        let consent = r#"<FORM autocomplete='off' action='/interaction/u2' method=POST>
  <input type="hidden" name="prompt" value="consent"/>
  <button autofocus type="submit" class="login login-submit">Continue</button>
</FORM>"#;
        let f = &forms(consent)[0];
        assert!(f.post && !f.has_password());
        assert_eq!(f.action, "/interaction/u2");
        assert_eq!(f.fill("u@x", "p"), pairs(&[("prompt", "consent")]));
    }
}
