use super::*;

#[test]
fn expiry_dates_parse_to_midnight_utc_and_empty_clears() {
    let check = |input: &str, expected: Result<Option<&str>, ()>| {
        let got = parse_expiry(input).map(|t| t.map(|t| t.to_rfc3339()));
        let want = expected.map(|t| t.map(str::to_string));
        assert_eq!(got.map_err(|_| ()), want, "{input:?}");
    };
    check("2030-01-31", Ok(Some("2030-01-31T00:00:00+00:00")));
    check(" 2030-01-31 ", Ok(Some("2030-01-31T00:00:00+00:00")));
    check("", Ok(None));
    check("   ", Ok(None));
    check("2030-02-30", Err(()));
    check("31/01/2030", Err(()));
    check("2030-01-31T10:00", Err(()));
    check("tomorrow", Err(()));
}

#[test]
fn expiry_field_round_trips() {
    let t = parse_expiry("2031-12-01").unwrap();
    assert_eq!(expiry_field(t), "2031-12-01");
    assert_eq!(expiry_field(None), "");
}

#[test]
fn user_query_reads_type_mail_and_cursor() {
    let id = "0190a4b2-0000-7000-8000-000000000001";
    let q = user_query(Some("Guest"), Some(" Bob@Fabrikam.Example "), Some(id)).unwrap();
    assert_eq!(q.user_type, Some(UserType::Guest));
    assert_eq!(q.mail.as_deref(), Some("bob@fabrikam.example"));
    assert_eq!(q.after.map(|x| x.to_string()).as_deref(), Some(id));
    assert_eq!(q.limit, PAGE_SIZE + 1);

    let all = user_query(Some(""), Some(""), None).unwrap();
    assert_eq!((all.user_type, all.mail, all.after), (None, None, None));
    assert_eq!(
        user_query(Some("Member"), None, None).unwrap().user_type,
        Some(UserType::Member)
    );

    assert!(user_query(Some("Admin"), None, None).is_err());
    assert!(user_query(None, None, Some("not-an-id")).is_err());
}

#[test]
fn page_links_keep_filters_and_encode_them() {
    let q = user_query(Some("Guest"), Some("a+b@x.example"), None).unwrap();
    let last = Some(Uuid::nil());
    assert_eq!(
        users_link(&q, last),
        "/admin/users?type=Guest&mail=a%2Bb%40x.example&after=00000000-0000-0000-0000-000000000000"
    );
    assert_eq!(
        users_link(&q, None),
        "/admin/users?type=Guest&mail=a%2Bb%40x.example"
    );
    let plain = user_query(None, None, None).unwrap();
    assert_eq!(
        users_link(&plain, last),
        "/admin/users?after=00000000-0000-0000-0000-000000000000"
    );
    assert_eq!(users_link(&plain, None), "/admin/users");
}

#[test]
fn upload_names_lose_client_paths_and_control_characters() {
    let check = |raw: Option<&str>, expected: &str| assert_eq!(upload_name(raw), expected);
    check(Some("guests.csv"), "guests.csv");
    check(Some("C:\\Users\\me\\guests.csv"), "guests.csv");
    check(Some("/home/me/guests.csv"), "guests.csv");
    check(Some("bad\nname.csv"), "badname.csv");
    check(Some(""), "upload.csv");
    check(None, "upload.csv");
    assert_eq!(upload_name(Some(&"x".repeat(500))).len(), 200);
}

#[test]
fn result_cells_that_would_be_formulas_are_neutralized() {
    let check = |input: &str, expected: &str| {
        assert_eq!(spreadsheet_safe(input.to_string()), expected);
    };
    check("=HYPERLINK(\"x\")", "'=HYPERLINK(\"x\")");
    check("+1", "'+1");
    check("-2", "'-2");
    check("@SUM(A1)", "'@SUM(A1)");
    check("alice@fabrikam.example", "alice@fabrikam.example");
    check("", "");
    check("17", "17");
}

#[test]
fn hex_is_lower_case() {
    assert_eq!(hex(&[0x00, 0xab, 0xff]), "00abff");
}

#[test]
fn cursor_and_field_helpers() {
    assert_eq!(field(Some("  ")), None);
    assert_eq!(field(Some(" x ")), Some("x"));
    assert_eq!(parse_cursor(None), Ok(None));
    assert!(parse_cursor(Some("zzz")).is_err());
    assert_eq!(parse_id("nope"), None);
}

#[test]
fn one_per_line_fields_keep_non_blank_trimmed_lines() {
    let check = |input: &str, want: &[&str]| assert_eq!(lines(input), want, "{input:?}");
    check("", &[]);
    check(" \n\r\n ", &[]);
    check("https://a.example/cb", &["https://a.example/cb"]);
    check(
        "https://a.example/cb\r\n\r\n  https://b.example/cb  \n",
        &["https://a.example/cb", "https://b.example/cb"],
    );
}
