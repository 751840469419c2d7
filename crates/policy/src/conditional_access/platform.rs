//! The device platform a client claims: the `Sec-CH-UA-Platform` client hint
//! when the browser sends one (Chromium-based browsers do), else the
//! User-Agent. Both are written by the client, so a platform condition sorts
//! honest clients; it is not proof (Entra documents the same).

use super::model::Platform;

/// The platform from the request's client hint and User-Agent; `Unknown`
/// when neither names one Portico recognises.
pub fn platform_from_headers(user_agent: Option<&str>, ch_ua_platform: Option<&str>) -> Platform {
    if let Some(p) = ch_ua_platform.and_then(from_client_hint) {
        return p;
    }
    user_agent.map(from_user_agent).unwrap_or(Platform::Unknown)
}

/// `Sec-CH-UA-Platform` is a structured-field string: `"Android"`.
fn from_client_hint(v: &str) -> Option<Platform> {
    match v.trim().trim_matches('"') {
        "Android" => Some(Platform::Android),
        "iOS" => Some(Platform::Ios),
        "Windows" => Some(Platform::Windows),
        "macOS" => Some(Platform::MacOs),
        "Linux" => Some(Platform::Linux),
        _ => None,
    }
}

/// Order matters: Android and Windows Phone user agents also say `Linux`
/// or `Windows`; iPadOS's desktop mode says `Macintosh` (it is macOS then,
/// as in Entra).
fn from_user_agent(ua: &str) -> Platform {
    let has = |s: &str| ua.contains(s);
    if has("Windows Phone") {
        Platform::WindowsPhone
    } else if has("Android") {
        Platform::Android
    } else if has("iPhone") || has("iPad") || has("iPod") {
        Platform::Ios
    } else if has("Windows") {
        Platform::Windows
    } else if has("Macintosh") || has("Mac OS X") {
        Platform::MacOs
    } else if has("Linux") || has("X11") {
        Platform::Linux
    } else {
        Platform::Unknown
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platforms_from_user_agents_and_client_hints() {
        let cases = [
            (
                "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Mobile Safari/537.36",
                None,
                Platform::Android,
            ),
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
                None,
                Platform::Ios,
            ),
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36",
                None,
                Platform::Windows,
            ),
            (
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
                None,
                Platform::MacOs,
            ),
            (
                "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
                None,
                Platform::Linux,
            ),
            (
                "Mozilla/5.0 (Windows Phone 10.0; Android 6.0.1) Edge/40.15254",
                None,
                Platform::WindowsPhone,
            ),
            ("curl/8.11.0", None, Platform::Unknown),
            // The client hint wins over a reduced or spoofed User-Agent.
            (
                "Mozilla/5.0 (Linux; Android 10; K) Chrome/131.0 Mobile",
                Some("\"Windows\""),
                Platform::Windows,
            ),
            (
                "Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0",
                Some("\"Android\""),
                Platform::Android,
            ),
            // An unknown hint falls back to the User-Agent.
            (
                "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) Chrome/131.0",
                Some("\"Chrome OS\""),
                Platform::Linux,
            ),
        ];
        for (ua, hint, want) in cases {
            assert_eq!(platform_from_headers(Some(ua), hint), want, "{ua}");
        }
        assert_eq!(platform_from_headers(None, None), Platform::Unknown);
    }
}
