//! Backend-agnostic HTTP cases; `rest_sqlite.rs` and `rest_postgres.rs` run each
//! against their own database, in-process through `tower::ServiceExt::oneshot`.

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use serde_json::{Value as Json, json};
use tower::ServiceExt as _;

use super::models::*;
use fw::Model;

pub(crate) struct Reply {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Json,
}

impl Reply {
    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
    }

    fn pointers(&self) -> Vec<(String, String)> {
        self.body["errors"]
            .as_array()
            .map(|errors| {
                errors
                    .iter()
                    .map(|error| {
                        (
                            error["pointer"].as_str().unwrap_or_default().to_owned(),
                            error["code"].as_str().unwrap_or_default().to_owned(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    fn assert_problem(&self, status: StatusCode) {
        assert_eq!(self.status, status, "{}", self.body);
        assert_eq!(self.header("content-type"), "application/problem+json");
        assert_eq!(self.body["status"], json!(status.as_u16()));
        let text = self.body.to_string().to_lowercase();
        assert!(
            !text.contains("select") && !text.contains("insert into"),
            "no SQL in bodies: {text}"
        );
    }
}

/// Sends a request as a superuser: most cases test what the API does, not
/// who may do it (for that, [`send_as`]).
pub(crate) async fn send(
    app: &Router,
    method: &str,
    uri: &str,
    headers: &[(&str, &str)],
    body: Option<Json>,
) -> Reply {
    send_as(app, fw::testing::superuser(), method, uri, headers, body).await
}

/// Sends a request as `caller`, the way authentication hands it to the API:
/// as a request extension.
pub(crate) async fn send_as(
    app: &Router,
    caller: fw::Caller,
    method: &str,
    uri: &str,
    headers: &[(&str, &str)],
    body: Option<Json>,
) -> Reply {
    let mut request = Request::builder().method(method).uri(uri).extension(caller);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    dispatch(app, request, body).await
}

/// Sends `request` with `body` (as JSON, when there is one) through `app`.
async fn dispatch(
    app: &Router,
    mut request: axum::http::request::Builder,
    body: Option<Json>,
) -> Reply {
    let body = match body {
        Some(body) => {
            request = request.header("content-type", "application/json");
            Body::from(body.to_string())
        }
        None => Body::empty(),
    };
    let response = app
        .clone()
        .oneshot(request.body(body).expect("request"))
        .await
        .expect("infallible");
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("body");
    let body = if bytes.is_empty() {
        Json::Null
    } else {
        serde_json::from_slice(&bytes)
            .unwrap_or(Json::String(String::from_utf8_lossy(&bytes).into()))
    };
    Reply {
        status,
        headers,
        body,
    }
}

async fn create_security(app: &Router, symbol: &str) -> Json {
    let reply = send(
        app,
        "POST",
        "/securities",
        &[],
        Some(json!({"symbol": symbol, "issuer": format!("{symbol} Corp")})),
    )
    .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    reply.body
}

async fn create_dividend(
    app: &Router,
    security: &Json,
    ex_date: &str,
    rate: &str,
    record_date: Option<&str>,
) -> Json {
    let reply = send(app, "POST", "/dividends", &[], Some(json!({
        "security": security["id"], "ex_date": ex_date, "pay_date": ex_date, "record_date": record_date,
        "rate": rate, "status": "announced",
    }))).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    reply.body
}

fn ids(reply: &Reply) -> Vec<i64> {
    reply.body["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|row| row["id"].as_i64().expect("id"))
        .collect()
}

pub(crate) async fn create_answers_201_with_location_and_etag(app: Router, _db: fw::Db) {
    let reply = send(
        &app,
        "POST",
        "/securities",
        &[],
        Some(json!({"symbol": "ACME", "issuer": " Acme Corp "})),
    )
    .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let id = reply.body["id"].as_i64().expect("id");
    assert_eq!(reply.header("location"), format!("/securities/{id}"));
    assert_eq!(reply.header("etag"), "\"1\"");
    assert_eq!(
        reply.body["issuer"],
        json!("Acme Corp"),
        "renamed field, trimmed by the hook"
    );
    assert_eq!(reply.body["note"], Json::Null);
    assert!(
        reply.body["created_at"]
            .as_str()
            .expect("timestamp")
            .ends_with('Z'),
        "RFC 3339 UTC"
    );
    let security = create_security(&app, "BETA").await;
    let dividend = create_dividend(&app, &security, "2026-03-15", "0.25000000", None).await;
    let rate = dividend["rate"].as_str().expect("decimals are strings");
    assert_eq!(
        rate.parse::<rust_decimal::Decimal>().ok(),
        "0.25".parse().ok()
    );
    assert_eq!(dividend["ex_date"], json!("2026-03-15"));
    assert_eq!(dividend["status"], json!("announced"));
}

pub(crate) async fn retrieve_sends_etag_and_honours_if_none_match(app: Router, _db: fw::Db) {
    let security = create_security(&app, "ACME").await;
    let uri = format!("/securities/{}", security["id"]);
    let reply = send(&app, "GET", &uri, &[], None).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body, security);
    assert_eq!(reply.header("etag"), "\"1\"");
    let cached = send(&app, "GET", &uri, &[("if-none-match", "\"1\"")], None).await;
    assert_eq!(cached.status, StatusCode::NOT_MODIFIED);
    let stale = send(&app, "GET", &uri, &[("if-none-match", "W/\"0\"")], None).await;
    assert_eq!(stale.status, StatusCode::OK);
    send(&app, "GET", "/securities/999", &[], None)
        .await
        .assert_problem(StatusCode::NOT_FOUND);
    send(&app, "GET", "/securities/not-a-number", &[], None)
        .await
        .assert_problem(StatusCode::NOT_FOUND);
}

/// RFC 9110 forbids a 304 whose `Content-Length` differs from the 200's: it
/// sends the 200's length, or none, to GET and HEAD alike, also for `*`.
pub(crate) async fn not_modified_carries_the_length_of_the_200(app: Router, _db: fw::Db) {
    let security = create_security(&app, "ACME").await;
    let uri = format!("/securities/{}", security["id"]);
    let ok = send(&app, "GET", &uri, &[], None).await;
    assert_eq!(ok.status, StatusCode::OK);
    let length = ok.header("content-length").to_owned();
    assert_eq!(length, ok.body.to_string().len().to_string());
    for method in ["GET", "HEAD"] {
        let head = send(&app, method, &uri, &[], None).await;
        assert_eq!(head.header("content-length"), length, "{method}");
        for tag in ["*", "\"1\""] {
            let cached = send(&app, method, &uri, &[("if-none-match", tag)], None).await;
            assert_eq!(cached.status, StatusCode::NOT_MODIFIED, "{method} {tag}");
            assert_eq!(cached.body, Json::Null, "{method} {tag}: no content");
            assert_eq!(cached.header("etag"), "\"1\"", "{method} {tag}");
            assert_eq!(
                cached.header("content-length"),
                length,
                "{method} {tag}: the 200's length"
            );
        }
    }
}

/// A path id that is not UTF-8 once percent-decoded names no row: a 404
/// problem, not the router's plain-text 400.
pub(crate) async fn a_path_id_that_is_not_utf8_is_a_404_problem(app: Router, _db: fw::Db) {
    for uri in [
        "/securities/%ff",
        "/securities/%C3%28/history",
        "/dividends/%80",
    ] {
        for method in ["GET", "PATCH", "DELETE"] {
            send(&app, method, uri, &[], None)
                .await
                .assert_problem(StatusCode::NOT_FOUND);
        }
    }
}

pub(crate) async fn list_pages_forward_and_back(app: Router, _db: fw::Db) {
    for symbol in ["A", "B", "C", "D", "E"] {
        create_security(&app, symbol).await;
    }
    let symbols = |reply: &Reply| -> Vec<String> {
        reply.body["results"]
            .as_array()
            .expect("results")
            .iter()
            .map(|row| row["symbol"].as_str().expect("symbol").to_owned())
            .collect()
    };
    let first = send(&app, "GET", "/securities", &[], None).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    assert_eq!(symbols(&first), ["A", "B"]);
    assert_eq!(first.body["previous"], Json::Null);
    let next = first.body["next"].as_str().expect("next").to_owned();
    assert!(next.starts_with("/securities?cursor="), "{next}");
    // A row inserted before the cursor does not shift later pages.
    create_security(&app, "AA").await;
    let second = send(&app, "GET", &next, &[], None).await;
    assert_eq!(symbols(&second), ["C", "D"]);
    let third = send(
        &app,
        "GET",
        second.body["next"].as_str().expect("next"),
        &[],
        None,
    )
    .await;
    assert_eq!(symbols(&third), ["E"]);
    assert_eq!(third.body["next"], Json::Null);
    let back = send(
        &app,
        "GET",
        third.body["previous"].as_str().expect("previous"),
        &[],
        None,
    )
    .await;
    assert_eq!(symbols(&back), ["C", "D"]);
    let front = send(
        &app,
        "GET",
        back.body["previous"].as_str().expect("previous"),
        &[],
        None,
    )
    .await;
    assert_eq!(symbols(&front), ["AA", "B"]);
    let start = send(
        &app,
        "GET",
        front.body["previous"].as_str().expect("previous"),
        &[],
        None,
    )
    .await;
    assert_eq!(symbols(&start), ["A"]);
    assert_eq!(start.body["previous"], Json::Null);
    let sized = send(
        &app,
        "GET",
        "/securities?page_size=3&ordering=-symbol",
        &[],
        None,
    )
    .await;
    assert_eq!(symbols(&sized), ["E", "D", "C"]);
    let next = sized.body["next"].as_str().expect("next");
    assert!(
        next.contains("page_size=3") && next.contains("ordering=-symbol"),
        "links keep the parameters: {next}"
    );
    assert_eq!(
        symbols(&send(&app, "GET", next, &[], None).await),
        ["B", "AA", "A"]
    );
    send(&app, "GET", "/securities?page_size=4", &[], None)
        .await
        .assert_problem(StatusCode::BAD_REQUEST);
    send(&app, "GET", "/securities?page_size=0", &[], None)
        .await
        .assert_problem(StatusCode::BAD_REQUEST);
    send(&app, "GET", "/securities?cursor=garbage", &[], None)
        .await
        .assert_problem(StatusCode::BAD_REQUEST);
    let other_order = format!("{next}&ordering=name");
    send(&app, "GET", &other_order, &[], None)
        .await
        .assert_problem(StatusCode::BAD_REQUEST);
}

pub(crate) async fn every_lookup_filters(app: Router, _db: fw::Db) {
    let acme = create_security(&app, "ACME").await;
    let beta = create_security(&app, "BETA").await;
    send(
        &app,
        "PATCH",
        &format!("/securities/{}", beta["id"]),
        &[],
        Some(json!({"note": "watch", "issuer": "Beta Holdings"})),
    )
    .await;
    let d1 = create_dividend(&app, &acme, "2026-01-10", "0.10", None).await;
    let d2 = create_dividend(&app, &acme, "2026-02-10", "0.20", Some("2026-02-11")).await;
    let d3 = create_dividend(&app, &beta, "2026-03-10", "1.5", Some("2026-03-11")).await;
    let (i1, i2, i3) = (
        d1["id"].as_i64().unwrap_or_default(),
        d2["id"].as_i64().unwrap_or_default(),
        d3["id"].as_i64().unwrap_or_default(),
    );
    let cases: Vec<(String, Vec<i64>)> = vec![
        (format!("security={}", acme["id"]), vec![i2, i1]),
        (
            format!("security__in={},{}", acme["id"], beta["id"]),
            vec![i3, i2, i1],
        ),
        ("ex_date=2026-02-10".into(), vec![i2]),
        ("ex_date__gt=2026-02-10".into(), vec![i3]),
        ("ex_date__gte=2026-02-10".into(), vec![i3, i2]),
        ("ex_date__lt=2026-02-10".into(), vec![i1]),
        ("ex_date__lte=2026-02-10".into(), vec![i2, i1]),
        ("record_date__isnull=true".into(), vec![i1]),
        ("record_date__isnull=false".into(), vec![i3, i2]),
        ("record_date__gte=2026-03-01".into(), vec![i3]),
        ("rate__gte=0.2&rate__lte=1".into(), vec![i2]),
        ("rate__gte=1.25".into(), vec![i3]),
        ("status=announced".into(), vec![i3, i2, i1]),
        ("status__in=changed,cancelled".into(), vec![]),
        ("ordering=rate".into(), vec![i1, i2, i3]),
        (
            "ordering=ex_date&ex_date__gte=2026-02-01".into(),
            vec![i2, i3],
        ),
    ];
    for (query, expected) in cases {
        let reply = send(
            &app,
            "GET",
            &format!("/dividends?page_size=10&{query}"),
            &[],
            None,
        )
        .await;
        assert_eq!(reply.status, StatusCode::OK, "{query}: {}", reply.body);
        assert_eq!(ids(&reply), expected, "{query}");
    }
    let symbols = |reply: Reply| -> Vec<String> {
        reply.body["results"]
            .as_array()
            .expect("results")
            .iter()
            .map(|row| row["symbol"].as_str().unwrap_or_default().to_owned())
            .collect()
    };
    let text_cases = [
        ("symbol=ACME", vec!["ACME"]),
        ("symbol__in=ACME,BETA", vec!["ACME", "BETA"]),
        ("symbol__startswith=BE", vec!["BETA"]),
        ("symbol__startswith=be", vec![]),
        ("issuer__contains=Hold", vec!["BETA"]),
        ("issuer__contains=hold", vec![]),
        ("issuer__icontains=HOLD", vec!["BETA"]),
        ("note__isnull=true", vec!["ACME"]),
        ("search=acme", vec!["ACME"]),
        ("search=corp", vec!["ACME"]),
        ("ordering=-issuer", vec!["BETA", "ACME"]),
    ];
    for (query, expected) in text_cases {
        let reply = send(&app, "GET", &format!("/securities?{query}"), &[], None).await;
        assert_eq!(reply.status, StatusCode::OK, "{query}: {}", reply.body);
        assert_eq!(symbols(reply), expected, "{query}");
    }
}

/// `symbol = security.symbol(...)` filters dividends by a field of the security
/// they refer to, alone, with other filters, across pages; `security_note =
/// security.note(isnull)` by a nullable one.
pub(crate) async fn related_filters_follow_the_reference(app: Router, _db: fw::Db) {
    let acme = create_security(&app, "ACME").await;
    let beta = create_security(&app, "BETA").await;
    send(
        &app,
        "PATCH",
        &format!("/securities/{}", beta["id"]),
        &[],
        Some(json!({"note": "watch"})),
    )
    .await;
    let d1 = create_dividend(&app, &acme, "2026-01-10", "0.10", None).await;
    let d2 = create_dividend(&app, &acme, "2026-02-10", "0.20", None).await;
    let d3 = create_dividend(&app, &beta, "2026-03-10", "1.5", None).await;
    let (i1, i2, i3) = (
        d1["id"].as_i64().unwrap_or_default(),
        d2["id"].as_i64().unwrap_or_default(),
        d3["id"].as_i64().unwrap_or_default(),
    );
    let cases: Vec<(String, Vec<i64>)> = vec![
        ("symbol=ACME".into(), vec![i2, i1]),
        ("symbol__exact=BETA".into(), vec![i3]),
        ("symbol__in=ACME,BETA".into(), vec![i3, i2, i1]),
        ("symbol__in=BETA,NONE".into(), vec![i3]),
        ("symbol=NONE".into(), vec![]),
        ("symbol__startswith=AC".into(), vec![i2, i1]),
        ("symbol__startswith=ac".into(), vec![]),
        ("symbol=ACME&ex_date__gte=2026-02-01".into(), vec![i2]),
        (
            "symbol__in=ACME,BETA&status=announced&ordering=ex_date".into(),
            vec![i1, i2, i3],
        ),
        (format!("symbol=ACME&security={}", beta["id"]), vec![]),
        ("security_note__isnull=false".into(), vec![i3]),
        ("security_note__isnull=true".into(), vec![i2, i1]),
    ];
    for (query, expected) in cases {
        let reply = send(
            &app,
            "GET",
            &format!("/dividends?page_size=10&{query}"),
            &[],
            None,
        )
        .await;
        assert_eq!(reply.status, StatusCode::OK, "{query}: {}", reply.body);
        assert_eq!(ids(&reply), expected, "{query}");
    }
    let first = send(&app, "GET", "/dividends?page_size=1&symbol=ACME", &[], None).await;
    assert_eq!(ids(&first), [i2]);
    let next = first.body["next"].as_str().expect("next");
    assert!(
        next.contains("symbol=ACME"),
        "links keep the filter: {next}"
    );
    let second = send(&app, "GET", next, &[], None).await;
    assert_eq!(ids(&second), [i1]);
    assert_eq!(second.body["next"], Json::Null);

    for (query, named) in [
        ("symbol__gte=A", "`symbol__gte`"),
        ("symbol__icontains=a", "`symbol__icontains`"),
        ("security__symbol=ACME", "`security__symbol`"),
        ("security_note=watch", "`security_note`"),
        ("security_note__isnull=maybe", "`security_note__isnull`"),
    ] {
        let reply = send(&app, "GET", &format!("/dividends?{query}"), &[], None).await;
        reply.assert_problem(StatusCode::BAD_REQUEST);
        assert!(
            reply.body["detail"]
                .as_str()
                .unwrap_or_default()
                .contains(named),
            "{query}: {}",
            reply.body
        );
    }
}

/// A create body may leave out a field whose model field declares a default
/// (`status` here), and the row takes the default; PUT still requires it,
/// and the spec says both.
pub(crate) async fn create_takes_model_defaults_for_absent_fields(app: Router, _db: fw::Db) {
    let security = create_security(&app, "ACME").await;
    let body = |status: Option<Json>| {
        let mut body = json!({
            "security": security["id"], "ex_date": "2026-02-03", "pay_date": "2026-02-03", "rate": "0.5",
        });
        if let Some(status) = status {
            body["status"] = status;
        }
        body
    };
    let defaulted = send(&app, "POST", "/dividends", &[], Some(body(None))).await;
    assert_eq!(defaulted.status, StatusCode::CREATED, "{}", defaulted.body);
    assert_eq!(defaulted.body["status"], json!("announced"));
    let sent = send(
        &app,
        "POST",
        "/dividends",
        &[],
        Some(body(Some(json!("changed")))),
    )
    .await;
    assert_eq!(sent.status, StatusCode::CREATED, "{}", sent.body);
    assert_eq!(sent.body["status"], json!("changed"), "a value sent wins");
    let null = send(
        &app,
        "POST",
        "/dividends",
        &[],
        Some(body(Some(Json::Null))),
    )
    .await;
    null.assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(null.pointers(), [("/status".to_owned(), "null".to_owned())]);
    let put = send(
        &app,
        "PUT",
        &format!("/dividends/{}", sent.body["id"]),
        &[],
        Some(body(None)),
    )
    .await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.body);
    assert_eq!(
        put.body["status"],
        json!("changed"),
        "a full update leaves a field with a default unchanged when it is left out"
    );

    let spec = send(&app, "GET", "/openapi.json", &[], None).await.body;
    let schemas = &spec["components"]["schemas"];
    let required = |schema: &str| -> Vec<String> {
        schemas[schema]["required"]
            .as_array()
            .expect("required")
            .iter()
            .filter_map(|name| name.as_str().map(str::to_owned))
            .collect()
    };
    assert_eq!(
        required("DividendCreate"),
        ["security", "ex_date", "pay_date", "rate"]
    );
    assert_eq!(
        schemas["DividendCreate"]["properties"]["status"]["default"],
        json!("announced")
    );
    assert_eq!(
        required("DividendUpdate"),
        ["security", "ex_date", "pay_date", "rate"]
    );
    assert_eq!(
        schemas["DividendUpdate"]["properties"]["status"].get("default"),
        None,
        "left out of a full update, a field keeps its value, not the default"
    );
    assert_eq!(
        schemas["DividendPatch"]["properties"]["status"].get("default"),
        None,
        "an absent field leaves a patched row unchanged"
    );
}

pub(crate) async fn bad_query_parameters_are_400_naming_them(app: Router, _db: fw::Db) {
    for (query, named) in [
        ("colour=red", "`colour`"),
        ("ex_date__contains=2026", "`ex_date__contains`"),
        ("pay_date=2026-01-01", "`pay_date`"),
        ("ex_date=yesterday", "`ex_date`"),
        ("status=paid", "`status`"),
        ("ordering=status", "`status`"),
        ("rate__gte=1e3x", "`rate__gte`"),
        ("security=+1", "`security`"),
        ("page_size=+1", "`page_size`"),
    ] {
        let reply = send(&app, "GET", &format!("/dividends?{query}"), &[], None).await;
        reply.assert_problem(StatusCode::BAD_REQUEST);
        assert!(
            reply.body["detail"]
                .as_str()
                .unwrap_or_default()
                .contains(named),
            "{query}: {}",
            reply.body
        );
    }
    // An exact filter's value must match the field's pattern, as documented;
    // a text lookup takes any text.
    let reply = send(&app, "GET", "/securities?symbol=acme", &[], None).await;
    reply.assert_problem(StatusCode::BAD_REQUEST);
    let detail = reply.body["detail"].as_str().unwrap_or_default();
    assert!(
        detail.contains("`symbol`") && detail.contains("must match"),
        "{detail}"
    );
    let reply = send(&app, "GET", "/securities?symbol__startswith=ac", &[], None).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
}

pub(crate) async fn put_and_patch_update(app: Router, _db: fw::Db) {
    let security = create_security(&app, "ACME").await;
    let uri = format!("/securities/{}", security["id"]);
    let patched = send(&app, "PATCH", &uri, &[], Some(json!({"note": "hello"}))).await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.body);
    assert_eq!(patched.body["note"], json!("hello"));
    assert_eq!(
        patched.body["issuer"],
        json!("ACME Corp"),
        "absent fields are unchanged"
    );
    assert_eq!(patched.header("etag"), "\"2\"");
    let cleared = send(&app, "PATCH", &uri, &[], Some(json!({"note": null}))).await;
    assert_eq!(
        cleared.body["note"],
        Json::Null,
        "an explicit null clears the field"
    );
    let put = send(
        &app,
        "PUT",
        &uri,
        &[],
        Some(json!({"symbol": "ACM", "issuer": "Acme"})),
    )
    .await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.body);
    assert_eq!(put.body["symbol"], json!("ACM"));
    assert_eq!(put.body["version"], json!(4));
    let incomplete = send(&app, "PUT", &uri, &[], Some(json!({"symbol": "ACM"}))).await;
    incomplete.assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        incomplete.pointers(),
        [("/issuer".to_owned(), "required".to_owned())]
    );
    send(
        &app,
        "PATCH",
        "/securities/999",
        &[],
        Some(json!({"note": "x"})),
    )
    .await
    .assert_problem(StatusCode::NOT_FOUND);
}

pub(crate) async fn if_match_refuses_stale_writes(app: Router, _db: fw::Db) {
    let security = create_security(&app, "ACME").await;
    let uri = format!("/securities/{}", security["id"]);
    let ok = send(
        &app,
        "PATCH",
        &uri,
        &[("if-match", "\"1\"")],
        Some(json!({"note": "a"})),
    )
    .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    let stale = send(
        &app,
        "PATCH",
        &uri,
        &[("if-match", "\"1\"")],
        Some(json!({"note": "b"})),
    )
    .await;
    stale.assert_problem(StatusCode::PRECONDITION_FAILED);
    let weak = send(
        &app,
        "PATCH",
        &uri,
        &[("if-match", "W/\"2\"")],
        Some(json!({"note": "b"})),
    )
    .await;
    weak.assert_problem(StatusCode::PRECONDITION_FAILED);
    send(&app, "DELETE", &uri, &[("if-match", "\"1\"")], None)
        .await
        .assert_problem(StatusCode::PRECONDITION_FAILED);
    let deleted = send(&app, "DELETE", &uri, &[("if-match", "\"2\"")], None).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
}

/// `send` with one header given as raw bytes (not necessarily text).
async fn send_with_header(
    app: &Router,
    method: &str,
    uri: &str,
    header: (&str, &[u8]),
    body: Option<Json>,
) -> Reply {
    let value = axum::http::HeaderValue::from_bytes(header.1).expect("a header value");
    let request = Request::builder()
        .method(method)
        .uri(uri)
        .extension(fw::testing::superuser())
        .header(header.0, value);
    dispatch(app, request, body).await
}

/// A precondition is read as RFC 9110 writes it, and one that cannot be read
/// is a 400, never a write made as if it were absent (a non-ASCII `If-Match`
/// used to be ignored: `DELETE` answered 204).
pub(crate) async fn preconditions_are_parsed_never_ignored(app: Router, _db: fw::Db) {
    let security = create_security(&app, "ACME").await;
    let uri = format!("/securities/{}", security["id"]);
    let patch = || Some(json!({"note": "x"}));
    for malformed in [
        &b"caf\xc3\xa9"[..],
        b"\xff",
        b"1",
        b"\"1\" \"1\"",
        b"*, \"1\"",
    ] {
        send_with_header(&app, "DELETE", &uri, ("if-match", malformed), None)
            .await
            .assert_problem(StatusCode::BAD_REQUEST);
        send_with_header(&app, "PATCH", &uri, ("if-match", malformed), patch())
            .await
            .assert_problem(StatusCode::BAD_REQUEST);
        send_with_header(&app, "GET", &uri, ("if-none-match", malformed), None)
            .await
            .assert_problem(StatusCode::BAD_REQUEST);
        send_with_header(
            &app,
            "POST",
            "/dividends/999/cancel",
            ("if-match", malformed),
            None,
        )
        .await
        .assert_problem(StatusCode::BAD_REQUEST);
    }
    // Well-formed tags that name no version, an empty list among them, fail
    // the precondition.
    for unmatched in [&b"\"caf\xc3\xa9\""[..], b"", b"W/\"1\"", b"\"2\", \"3\""] {
        send_with_header(&app, "DELETE", &uri, ("if-match", unmatched), None)
            .await
            .assert_problem(StatusCode::PRECONDITION_FAILED);
    }
    let row = send(&app, "GET", &uri, &[], None).await;
    assert_eq!(row.status, StatusCode::OK, "nothing was deleted");
    assert_eq!(row.header("etag"), "\"1\"");
    // A list naming the current version, or `*`, lets the write through.
    let listed = send(
        &app,
        "PATCH",
        &uri,
        &[("if-match", "\"7\", \"1\"")],
        patch(),
    )
    .await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
    let any = send(&app, "PATCH", &uri, &[("if-match", "*")], patch()).await;
    assert_eq!(any.status, StatusCode::OK, "{}", any.body);
    // If-None-Match compares weakly, over the whole list.
    let not_modified = send(
        &app,
        "GET",
        &uri,
        &[("if-none-match", "\"1\", W/\"3\"")],
        None,
    )
    .await;
    assert_eq!(not_modified.status, StatusCode::NOT_MODIFIED);
    let modified = send(
        &app,
        "GET",
        &uri,
        &[("if-none-match", "\"1\", \"2\"")],
        None,
    )
    .await;
    assert_eq!(modified.status, StatusCode::OK);
    // A custom action checks If-Match too.
    let dividend = create_dividend(&app, &security, "2026-01-10", "0.10", None).await;
    let cancel = format!("/dividends/{}/cancel", dividend["id"]);
    send(&app, "POST", &cancel, &[("if-match", "\"2\"")], None)
        .await
        .assert_problem(StatusCode::PRECONDITION_FAILED);
    let cancelled = send(&app, "POST", &cancel, &[("if-match", "\"1\"")], None).await;
    assert_eq!(cancelled.status, StatusCode::OK, "{}", cancelled.body);
}

/// A write sent again with its `Idempotency-Key` is answered from the first
/// time, not made twice: creates, updates, deletes and custom actions alike,
/// client errors included.
pub(crate) async fn idempotency_keys_replay_the_first_answer(app: Router, db: fw::Db) {
    let create = |key: &'static str, symbol: &'static str| {
        let app = app.clone();
        async move {
            send(
                &app,
                "POST",
                "/securities",
                &[("idempotency-key", key)],
                Some(json!({"symbol": symbol, "issuer": "Acme"})),
            )
            .await
        }
    };
    let first = create("create-1", "ACME").await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    assert_eq!(first.header("idempotent-replayed"), "");
    let again = create("create-1", "ACME").await;
    assert_eq!(again.status, StatusCode::CREATED, "{}", again.body);
    assert_eq!(again.body, first.body);
    assert_eq!(again.header("idempotent-replayed"), "true");
    for name in ["location", "etag", "content-type"] {
        assert_eq!(again.header(name), first.header(name), "{name}");
    }
    assert_eq!(Security::query().count(&db).await.expect("count"), 1);
    // The key belongs to its first request: another body, or another path, is a 422.
    create("create-1", "OTHER")
        .await
        .assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
    send(
        &app,
        "POST",
        "/notes",
        &[("idempotency-key", "create-1"), ("x-owner", "ada")],
        Some(json!({"owner": "ada", "text": "x"})),
    )
    .await
    .assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
    // A client error is kept as the answer too (Stripe's rule): the same
    // request is not run again.
    let taken = create("create-2", "ACME").await;
    taken.assert_problem(StatusCode::CONFLICT);
    let taken_again = create("create-2", "ACME").await;
    taken_again.assert_problem(StatusCode::CONFLICT);
    assert_eq!(taken_again.header("idempotent-replayed"), "true");
    assert_eq!(taken_again.body, taken.body);

    let uri = format!("/securities/{}", first.body["id"]);
    for _ in 0..2 {
        let patched = send(
            &app,
            "PATCH",
            &uri,
            &[("idempotency-key", "patch-1")],
            Some(json!({"note": "once"})),
        )
        .await;
        assert_eq!(patched.status, StatusCode::OK, "{}", patched.body);
        assert_eq!(patched.body["version"], json!(2), "patched once");
    }
    let row = send(&app, "GET", &uri, &[], None).await;
    assert_eq!(row.header("etag"), "\"2\"");

    let dividend = create_dividend(&app, &first.body, "2026-01-10", "0.10", None).await;
    let cancel = format!("/dividends/{}/cancel", dividend["id"]);
    for _ in 0..2 {
        let cancelled = send(
            &app,
            "POST",
            &cancel,
            &[("idempotency-key", "cancel-1")],
            None,
        )
        .await;
        assert_eq!(cancelled.status, StatusCode::OK, "{}", cancelled.body);
        assert_eq!(cancelled.body["status"], json!("cancelled"));
    }
    let dividend_uri = format!("/dividends/{}", dividend["id"]);
    for _ in 0..2 {
        let deleted = send(
            &app,
            "DELETE",
            &dividend_uri,
            &[("idempotency-key", "delete-1")],
            None,
        )
        .await;
        assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.body);
    }
    // A server error keeps nothing: the write rolled back with its answer, and
    // the same request with the key runs again.
    for _ in 0..2 {
        let failed = send(
            &app,
            "PATCH",
            &uri,
            &[("idempotency-key", "patch-2")],
            Some(json!({"note": "fault"})),
        )
        .await;
        failed.assert_problem(StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(failed.header("idempotent-replayed"), "");
    }
    let row = send(&app, "GET", &uri, &[], None).await;
    assert_eq!(
        row.body["note"],
        json!("once"),
        "the faulty write rolled back"
    );
    // Safe methods ignore the header.
    let read = send(&app, "GET", &uri, &[("idempotency-key", "delete-1")], None).await;
    assert_eq!(read.status, StatusCode::OK);
}

/// Many clients sending one create with one key at once make one row: each
/// gets the answer (first or replayed) or a 409 while the first runs.
pub(crate) async fn concurrent_retries_with_one_key_write_once(app: Router, db: fw::Db) {
    let retries: Vec<_> = (0..12)
        .map(|_| {
            let app = app.clone();
            tokio::spawn(async move {
                send(
                    &app,
                    "POST",
                    "/securities",
                    &[("idempotency-key", "one-create")],
                    Some(json!({"symbol": "ACME", "issuer": "Acme"})),
                )
                .await
            })
        })
        .collect();
    let mut created = 0;
    for retry in retries {
        let reply = retry.await.expect("a client");
        match reply.status {
            StatusCode::CREATED => created += 1,
            StatusCode::CONFLICT => assert!(
                reply.body["detail"]
                    .as_str()
                    .is_some_and(|detail| detail.contains("Idempotency-Key")),
                "a 409 for the running key, not the unique symbol: {}",
                reply.body
            ),
            status => panic!("{status}: {}", reply.body),
        }
    }
    assert!(created >= 1);
    assert_eq!(Security::query().count(&db).await.expect("count"), 1);
}

/// A key is 1 to 255 visible ASCII characters; anything else is a 400 and
/// nothing is written.
pub(crate) async fn idempotency_keys_are_bounded(app: Router, db: fw::Db) {
    let longest = "k".repeat(255);
    let too_long = "k".repeat(256);
    for key in [&b""[..], too_long.as_bytes(), b"with space", b"caf\xc3\xa9"] {
        send_with_header(
            &app,
            "POST",
            "/securities",
            ("idempotency-key", key),
            Some(json!({"symbol": "ACME", "issuer": "Acme"})),
        )
        .await
        .assert_problem(StatusCode::BAD_REQUEST);
    }
    assert_eq!(Security::query().count(&db).await.expect("count"), 0);
    let created = send(
        &app,
        "POST",
        "/securities",
        &[("idempotency-key", &longest)],
        Some(json!({"symbol": "ACME", "issuer": "Acme"})),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
}

/// While a request with a key runs (here: one another server holds), the key
/// answers 409; a key whose server stopped mid-request is taken over after a
/// while; and an expired key is new again.
pub(crate) async fn idempotency_keys_in_flight_conflict(app: Router, db: fw::Db) {
    let request = |key: &'static str| {
        let app = app.clone();
        async move {
            send(
                &app,
                "POST",
                "/securities",
                &[("idempotency-key", key)],
                Some(json!({"symbol": "ACME", "issuer": "Acme"})),
            )
            .await
        }
    };
    let first = request("running").await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    // As another server would leave it mid-request: claimed, no answer yet.
    let claimed_now = "UPDATE fw_idempotency_keys SET status = NULL, claim = 'elsewhere', \
                       claimed_at = CURRENT_TIMESTAMP";
    db.execute_raw(claimed_now).await.expect("claim");
    let running = request("running").await;
    running.assert_problem(StatusCode::CONFLICT);
    assert!(
        running.body["detail"]
            .as_str()
            .is_some_and(|detail| detail.contains("Idempotency-Key")),
        "{}",
        running.body
    );
    // Abandoned long ago: the next request takes the key over and runs (and
    // meets the row the first one made).
    db.execute_raw("UPDATE fw_idempotency_keys SET claimed_at = '2000-01-01T00:00:00Z'")
        .await
        .expect("abandon");
    let taken_over = request("running").await;
    taken_over.assert_problem(StatusCode::CONFLICT);
    assert_eq!(taken_over.header("idempotent-replayed"), "");
    let kept = request("running").await;
    assert_eq!(kept.header("idempotent-replayed"), "true");
    // Expired: the key is new again.
    db.execute_raw("UPDATE fw_idempotency_keys SET expires_at = '2000-01-01T00:00:00Z'")
        .await
        .expect("expire");
    let fresh = request("running").await;
    fresh.assert_problem(StatusCode::CONFLICT);
    assert_eq!(fresh.header("idempotent-replayed"), "");
}

/// Writes without `If-Match` never fail on a version they did not ask for:
/// many clients patching one row at once all succeed, and the version counts
/// every write (the row is locked while a write reads and changes it; before,
/// PostgreSQL answered 412 to most of them). Through an unscoped resource and a
/// scoped one, whose rows are read through a query.
pub(crate) async fn unconditional_writes_succeed_under_contention(app: Router, _db: fw::Db) {
    const CLIENTS: usize = 16;
    const WRITES_EACH: usize = 8;
    let security = create_security(&app, "ACME").await;
    let note = send(
        &app,
        "POST",
        "/notes",
        &[("x-owner", "ada")],
        Some(json!({"owner": "ada", "text": "first"})),
    )
    .await;
    assert_eq!(note.status, StatusCode::CREATED, "{}", note.body);
    for uri in [
        format!("/securities/{}", security["id"]),
        format!("/notes/{}", note.body["id"]),
    ] {
        let clients: Vec<_> = (0..CLIENTS)
            .map(|client| {
                let (app, uri) = (app.clone(), uri.clone());
                tokio::spawn(async move {
                    let mut statuses = Vec::new();
                    for write in 0..WRITES_EACH {
                        let body = if uri.starts_with("/notes") {
                            json!({"text": format!("{client}.{write}")})
                        } else {
                            json!({"note": format!("{client}.{write}")})
                        };
                        let reply =
                            send(&app, "PATCH", &uri, &[("x-owner", "ada")], Some(body)).await;
                        statuses.push((reply.status, reply.body));
                    }
                    statuses
                })
            })
            .collect();
        for client in clients {
            for (status, body) in client.await.expect("a client") {
                assert_eq!(status, StatusCode::OK, "{uri}: {body}");
            }
        }
        let row = send(&app, "GET", &uri, &[("x-owner", "ada")], None).await;
        assert_eq!(
            row.body["version"],
            json!(1 + CLIENTS * WRITES_EACH),
            "{uri}: every write counted"
        );
    }
    // Concurrent deletes of one row: one deletes it, the others find it gone.
    let uri = format!("/securities/{}", security["id"]);
    let deletes: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let (app, uri) = (app.clone(), uri.clone());
            tokio::spawn(async move { send(&app, "DELETE", &uri, &[], None).await.status })
        })
        .collect();
    let mut statuses = Vec::new();
    for delete in deletes {
        statuses.push(delete.await.expect("a client"));
    }
    statuses.sort();
    let mut expected = vec![StatusCode::NOT_FOUND; CLIENTS - 1];
    expected.insert(0, StatusCode::NO_CONTENT);
    assert_eq!(statuses, expected);
}

pub(crate) async fn delete_answers_204_404_and_409(app: Router, db: fw::Db) {
    let security = create_security(&app, "ACME").await;
    let uri = format!("/securities/{}", security["id"]);
    create_dividend(&app, &security, "2026-01-10", "0.10", None).await;
    let referenced = send(&app, "DELETE", &uri, &[], None).await;
    referenced.assert_problem(StatusCode::CONFLICT);
    let dividends = Dividend::query().all(&db).await.expect("dividends");
    let dividend_uri = format!("/dividends/{}", dividends[0].id);
    assert_eq!(
        send(&app, "DELETE", &dividend_uri, &[], None).await.status,
        StatusCode::NO_CONTENT
    );
    send(&app, "DELETE", &dividend_uri, &[], None)
        .await
        .assert_problem(StatusCode::NOT_FOUND);
    assert_eq!(
        send(&app, "DELETE", &uri, &[], None).await.status,
        StatusCode::NO_CONTENT
    );
    send(&app, "GET", &uri, &[], None)
        .await
        .assert_problem(StatusCode::NOT_FOUND);
}

pub(crate) async fn invalid_fields_are_422_with_pointers(app: Router, _db: fw::Db) {
    let reply = send(&app, "POST", "/securities", &[], Some(json!({
        "symbol": "lowercase-and-far-too-long", "issuer": 5, "note": "ok", "id": 7, "colour": "red",
    }))).await;
    reply.assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
    let mut pointers = reply.pointers();
    pointers.sort();
    assert_eq!(
        pointers,
        [
            ("/colour".to_owned(), "unknown_field".to_owned()),
            ("/id".to_owned(), "read_only".to_owned()),
            ("/issuer".to_owned(), "invalid".to_owned()),
            ("/symbol".to_owned(), "max_length".to_owned()),
            ("/symbol".to_owned(), "pattern".to_owned()),
        ]
    );
    let security = create_security(&app, "ACME").await;
    let reply = send(
        &app,
        "POST",
        "/dividends",
        &[],
        Some(json!({
            "security": security["id"], "ex_date": "2026-02-30", "pay_date": null,
            "rate": "-0.123456789", "status": "paid",
        })),
    )
    .await;
    reply.assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
    let mut pointers = reply.pointers();
    pointers.sort();
    assert_eq!(
        pointers,
        [
            ("/ex_date".to_owned(), "invalid".to_owned()),
            ("/pay_date".to_owned(), "null".to_owned()),
            ("/rate".to_owned(), "decimal_places".to_owned()),
            ("/rate".to_owned(), "min_value".to_owned()),
            ("/status".to_owned(), "invalid_choice".to_owned()),
        ]
    );
    let number_rate = send(&app, "POST", "/dividends", &[], Some(json!({
        "security": security["id"], "ex_date": "2026-02-03", "pay_date": "2026-02-03", "rate": 0.5, "status": "announced",
    }))).await;
    assert_eq!(
        number_rate.pointers(),
        [("/rate".to_owned(), "invalid".to_owned())],
        "decimals must be strings"
    );
    // JSON Schema's integer, which the document promises, is any number
    // without a fraction: `3.0` is one, `3.5` is not.
    let id = security["id"].as_i64().expect("an id");
    let whole = send(&app, "POST", "/dividends", &[], Some(json!({
        "security": id as f64, "ex_date": "2026-02-03", "pay_date": "2026-02-03", "rate": "0.5", "status": "announced",
    }))).await;
    assert_eq!(whole.status, StatusCode::CREATED, "{}", whole.body);
    assert_eq!(whole.body["security"], id);
    let fraction = send(&app, "POST", "/dividends", &[], Some(json!({
        "security": 1.5, "ex_date": "2026-02-03", "pay_date": "2026-02-03", "rate": "0.5", "status": "announced",
    }))).await;
    assert_eq!(
        fraction.pointers(),
        [("/security".to_owned(), "invalid".to_owned())]
    );
    let missing = send(&app, "POST", "/dividends", &[], Some(json!({}))).await;
    assert_eq!(
        missing.pointers().len(),
        4,
        "every required field; record_date is nullable, status has a default: {}",
        missing.body
    );
    let hook = send(
        &app,
        "POST",
        "/securities",
        &[],
        Some(json!({"symbol": "SAME", "issuer": "SAME"})),
    )
    .await;
    hook.assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        hook.pointers(),
        [("/issuer".to_owned(), "same_as_symbol".to_owned())],
        "cross-field rules answer in the same format"
    );
}

pub(crate) async fn conflicts_and_dangling_references(app: Router, _db: fw::Db) {
    create_security(&app, "ACME").await;
    let duplicate = send(
        &app,
        "POST",
        "/securities",
        &[],
        Some(json!({"symbol": "ACME", "issuer": "Other"})),
    )
    .await;
    duplicate.assert_problem(StatusCode::CONFLICT);
    assert_eq!(
        duplicate.pointers(),
        [("/symbol".to_owned(), "unique".to_owned())]
    );
    let dangling = send(&app, "POST", "/dividends", &[], Some(json!({
        "security": 999, "ex_date": "2026-02-03", "pay_date": "2026-02-03", "rate": "0.5", "status": "announced",
    }))).await;
    dangling.assert_problem(StatusCode::CONFLICT);
    assert_eq!(
        dangling.pointers(),
        [("/security".to_owned(), "does_not_exist".to_owned())]
    );
}

pub(crate) async fn malformed_requests_are_4xx_problems(app: Router, _db: fw::Db) {
    let request = |content_type: &str, body: Vec<u8>| {
        Request::builder()
            .method("POST")
            .uri("/securities")
            .extension(fw::testing::superuser())
            .header("content-type", content_type)
            .body(Body::from(body))
            .expect("request")
    };
    let status = |request: Request<Body>| {
        let app = app.clone();
        async move { app.oneshot(request).await.expect("infallible").status() }
    };
    assert_eq!(
        status(request("text/plain", b"{}".to_vec())).await,
        StatusCode::UNSUPPORTED_MEDIA_TYPE
    );
    assert_eq!(
        status(request("application/json", b"{not json".to_vec())).await,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        status(request("application/json", b"[1, 2]".to_vec())).await,
        StatusCode::BAD_REQUEST
    );
    let huge = format!("{{\"symbol\": \"{}\"}}", "A".repeat(2 * 1024 * 1024));
    assert_eq!(
        status(request("application/json", huge.into_bytes())).await,
        StatusCode::PAYLOAD_TOO_LARGE
    );
    let not_allowed = send(&app, "DELETE", "/securities", &[], None).await;
    not_allowed.assert_problem(StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(not_allowed.header("allow"), "GET, HEAD, POST");
    let notes_put = send(
        &app,
        "PUT",
        "/notes/1",
        &[("x-owner", "ada")],
        Some(json!({})),
    )
    .await;
    notes_put.assert_problem(StatusCode::METHOD_NOT_ALLOWED);
    send(&app, "GET", "/securities", &[("accept", "text/html")], None)
        .await
        .assert_problem(StatusCode::NOT_ACCEPTABLE);
    let ok = send(
        &app,
        "GET",
        "/securities",
        &[("accept", "text/html, application/*;q=0.5")],
        None,
    )
    .await;
    assert_eq!(ok.status, StatusCode::OK);
    // `q=0` means "not acceptable", in any of its spellings.
    for refusal in [
        "application/json;q=0",
        "Application/JSON; Q = 0.000, text/html",
    ] {
        send(&app, "GET", "/securities", &[("accept", refusal)], None)
            .await
            .assert_problem(StatusCode::NOT_ACCEPTABLE);
    }
    let upper = send(
        &app,
        "GET",
        "/securities",
        &[("accept", "APPLICATION/JSON")],
        None,
    )
    .await;
    assert_eq!(upper.status, StatusCode::OK);
    send(&app, "GET", "/nowhere", &[], None)
        .await
        .assert_problem(StatusCode::NOT_FOUND);
}

pub(crate) async fn scope_restricts_every_query(app: Router, _db: fw::Db) {
    let ada = [("x-owner", "ada")];
    let bob = [("x-owner", "bob")];
    send(&app, "GET", "/notes", &[], None)
        .await
        .assert_problem(StatusCode::UNAUTHORIZED);
    let note = send(
        &app,
        "POST",
        "/notes",
        &ada,
        Some(json!({"owner": "ada", "text": "mine"})),
    )
    .await;
    assert_eq!(note.status, StatusCode::CREATED, "{}", note.body);
    send(
        &app,
        "POST",
        "/notes",
        &bob,
        Some(json!({"owner": "bob", "text": "his"})),
    )
    .await;
    let uri = format!("/notes/{}", note.body["id"]);
    assert_eq!(ids(&send(&app, "GET", "/notes", &ada, None).await).len(), 1);
    assert_eq!(
        send(&app, "GET", &uri, &ada, None).await.status,
        StatusCode::OK
    );
    send(&app, "GET", &uri, &bob, None)
        .await
        .assert_problem(StatusCode::NOT_FOUND);
    send(&app, "PATCH", &uri, &bob, Some(json!({"text": "stolen"})))
        .await
        .assert_problem(StatusCode::NOT_FOUND);
    send(&app, "DELETE", &uri, &bob, None)
        .await
        .assert_problem(StatusCode::NOT_FOUND);
    assert_eq!(
        send(&app, "DELETE", &uri, &ada, None).await.status,
        StatusCode::NO_CONTENT
    );
}

pub(crate) async fn hooks_run_in_the_write_transaction(app: Router, db: fw::Db) {
    let security = create_security(&app, "ACME").await;
    let locked = create_security(&app, "LOCKED").await;
    send(
        &app,
        "DELETE",
        &format!("/securities/{}", locked["id"]),
        &[],
        None,
    )
    .await
    .assert_problem(StatusCode::FORBIDDEN);
    assert_eq!(
        send(
            &app,
            "DELETE",
            &format!("/securities/{}", security["id"]),
            &[],
            None
        )
        .await
        .status,
        StatusCode::NO_CONTENT
    );
    let entries: Vec<String> = Audit::query()
        .all(&db)
        .await
        .expect("audit")
        .into_iter()
        .map(|audit| audit.entry)
        .collect();
    assert_eq!(entries, ["created ACME", "created LOCKED", "deleted ACME"]);
}

pub(crate) async fn custom_actions_and_plain_handlers(app: Router, _db: fw::Db) {
    let security = create_security(&app, "ACME").await;
    let dividend = create_dividend(&app, &security, "2026-01-10", "0.10", None).await;
    let uri = format!("/dividends/{}/cancel", dividend["id"]);
    let cancelled = send(&app, "POST", &uri, &[], None).await;
    assert_eq!(cancelled.status, StatusCode::OK, "{}", cancelled.body);
    assert_eq!(cancelled.body["status"], json!("cancelled"));
    assert_eq!(cancelled.header("etag"), "\"2\"");
    send(&app, "POST", &uri, &[], None)
        .await
        .assert_problem(StatusCode::CONFLICT);
    send(&app, "POST", "/dividends/999/cancel", &[], None)
        .await
        .assert_problem(StatusCode::NOT_FOUND);
    send(&app, "GET", &uri, &[], None)
        .await
        .assert_problem(StatusCode::METHOD_NOT_ALLOWED);
    let health = send(&app, "GET", "/health", &[], None).await;
    assert_eq!(health.body, json!({"status": "ok"}));
    // A plain handler's other methods are refused as the resources' are.
    let not_allowed = send(&app, "POST", "/health", &[], Some(json!({}))).await;
    not_allowed.assert_problem(StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(not_allowed.header("allow"), "GET,HEAD");
}

/// The codes of a 422's field errors, by pointer, in the order the server
/// gave them.
fn field_errors(reply: &Reply) -> Vec<(String, String)> {
    reply.assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
    reply.body["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|error| {
            (
                error["pointer"].as_str().expect("pointer").to_owned(),
                error["code"].as_str().expect("code").to_owned(),
            )
        })
        .collect()
}

/// A row action's body is checked against the bounds its schema documents,
/// then deserialized, then against its own rules, each failure a 422 naming
/// the field; the action runs in the write's transaction, so what it wrote
/// before failing is not kept; a status it does not declare is a 500.
pub(crate) async fn custom_actions_read_and_check_their_bodies(app: Router, db: fw::Db) {
    let security = create_security(&app, "ACME").await;
    let dividend = create_dividend(&app, &security, "2026-01-10", "0.10", None).await;
    let postpone = format!("/dividends/{}/postpone", dividend["id"]);
    let post = |body: Json| {
        let (app, postpone) = (app.clone(), postpone.clone());
        async move { send(&app, "POST", &postpone, &[], Some(body)).await }
    };
    let valid = json!({"pay_date": "2026-02-20", "reason": "issuer delay"});
    let with = |field: &str, value: Json| {
        let mut body = valid.clone();
        body[field] = value;
        body
    };
    let cases = [
        (
            json!({}),
            vec![("/pay_date", "required"), ("/reason", "required")],
        ),
        (with("reason", json!("")), vec![("/reason", "min_length")]),
        (
            with("reason", json!("x".repeat(41))),
            vec![("/reason", "max_length")],
        ),
        (
            with("reason", json!("<b>late</b>")),
            vec![("/reason", "pattern")],
        ),
        (
            with("labels", json!(["a", "b", "c", "d"])),
            vec![("/labels", "max_items")],
        ),
        (with("days", json!(0)), vec![("/days", "minimum")]),
        (with("days", json!(366)), vec![("/days", "maximum")]),
        (
            with("urgent", json!(true)),
            vec![("/urgent", "unknown_field")],
        ),
        (
            with("pay_date", json!("soon")),
            vec![("/pay_date", "invalid")],
        ),
        (with("labels", json!([1])), vec![("/labels/0", "invalid")]),
        (with("reason", json!("   ")), vec![("/reason", "blank")]),
        (
            with("pay_date", json!("2026-01-09")),
            vec![("/pay_date", "before_ex_date")],
        ),
    ];
    for (body, expected) in cases {
        let reply = post(body.clone()).await;
        let expected: Vec<(String, String)> = expected
            .into_iter()
            .map(|(pointer, code)| (pointer.to_owned(), code.to_owned()))
            .collect();
        assert_eq!(field_errors(&reply), expected, "{body}");
    }
    let not_json = send_with_header(
        &app,
        "POST",
        &postpone,
        ("content-type", b"text/plain"),
        None,
    )
    .await;
    not_json.assert_problem(StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let postponed = post(with("labels", json!(["issuer"]))).await;
    assert_eq!(postponed.status, StatusCode::OK, "{}", postponed.body);
    assert_eq!(postponed.body["pay_date"], json!("2026-02-20"));
    assert_eq!(postponed.body["status"], json!("changed"));
    assert_eq!(postponed.header("etag"), "\"2\"");
    // Written, then failed with a status it does not declare: a 500, and
    // the write rolled back with the transaction.
    let cancel = format!("/dividends/{}/cancel", dividend["id"]);
    send(&app, "POST", &cancel, &[], None).await;
    let misbehave = format!("/dividends/{}/misbehave", dividend["id"]);
    send(&app, "POST", &misbehave, &[], None)
        .await
        .assert_problem(StatusCode::INTERNAL_SERVER_ERROR);
    let row = Dividend::query()
        .filter(Dividend::ID.eq(dividend["id"].as_i64().expect("id")))
        .first(&db)
        .await
        .expect("read")
        .expect("the row");
    assert_eq!(
        row.status,
        DividendStatus::Cancelled,
        "nothing of the failed action is kept"
    );
    assert_eq!(row.version, 3);
}

/// A collection action reads its body, runs in one transaction, answers
/// its output, and refuses with the status it declares.
pub(crate) async fn collection_actions_answer_their_output(app: Router, _db: fw::Db) {
    let acme = create_security(&app, "ACME").await;
    let other = create_security(&app, "OTHER").await;
    for ex_date in ["2026-01-10", "2026-02-10"] {
        create_dividend(&app, &acme, ex_date, "0.10", None).await;
    }
    let kept = create_dividend(&app, &other, "2026-01-10", "0.10", None).await;
    let uri = "/dividends/cancel-security";
    let cancelled = send(
        &app,
        "POST",
        uri,
        &[],
        Some(json!({"security": acme["id"]})),
    )
    .await;
    assert_eq!(cancelled.status, StatusCode::OK, "{}", cancelled.body);
    assert_eq!(cancelled.body, json!({"changed": 2}));
    let listed = send(
        &app,
        "GET",
        &format!("/dividends?security={}", acme["id"]),
        &[],
        None,
    )
    .await;
    for row in listed.body["results"].as_array().expect("results") {
        assert_eq!(row["status"], json!("cancelled"));
    }
    let kept = send(
        &app,
        "GET",
        &format!("/dividends/{}", kept["id"]),
        &[],
        None,
    )
    .await;
    assert_eq!(kept.body["status"], json!("announced"));
    let again = send(
        &app,
        "POST",
        uri,
        &[],
        Some(json!({"security": acme["id"]})),
    )
    .await;
    again.assert_problem(StatusCode::GONE);
    assert_eq!(
        again.body["detail"],
        json!("the security has no announced dividends")
    );
    let invalid = send(&app, "POST", uri, &[], Some(json!({"security": 0}))).await;
    assert_eq!(
        field_errors(&invalid),
        vec![("/security".to_owned(), "minimum".to_owned())]
    );
    // Its path is its own: not a row's id.
    send(&app, "GET", uri, &[], None)
        .await
        .assert_problem(StatusCode::METHOD_NOT_ALLOWED);
}

/// A custom action's operation lists exactly what it can answer: the
/// refusals of its steps, of its access and of the server, and the statuses
/// it declares; its body's schema, bounds included, is in the document.
pub(crate) async fn the_document_lists_what_custom_actions_answer(_app: Router, _db: fw::Db) {
    let document = super::models::api().openapi_json();
    let statuses = |path: &str| -> Vec<String> {
        let mut statuses: Vec<String> = document["paths"][path]["post"]["responses"]
            .as_object()
            .unwrap_or_else(|| panic!("{path} has responses"))
            .keys()
            .cloned()
            .collect();
        statuses.sort();
        statuses
    };
    let row_action_with_body = [
        "200", "400", "401", "403", "404", "406", "408", "409", "412", "413", "414", "415", "422",
        "429", "431", "503",
    ];
    assert_eq!(statuses("/dividends/{id}/postpone"), row_action_with_body);
    assert_eq!(
        statuses("/dividends/{id}/cancel"),
        [
            "200", "400", "401", "403", "404", "406", "408", "409", "412", "413", "414", "422",
            "429", "431", "503"
        ]
    );
    assert_eq!(
        statuses("/dividends/cancel-security"),
        [
            "200", "400", "401", "403", "406", "408", "409", "410", "413", "414", "415", "422",
            "429", "431", "503"
        ]
    );
    let postpone = &document["paths"]["/dividends/{id}/postpone"]["post"];
    assert_eq!(
        postpone["requestBody"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/Postponement"
    );
    assert_eq!(postpone["x-fw-permission"], "change_dividend");
    let schema = &document["components"]["schemas"]["Postponement"];
    assert_eq!(schema["properties"]["reason"]["maxLength"], 40);
    assert_eq!(schema["properties"]["reason"]["pattern"], "^[^<>]*$");
    assert_eq!(schema["additionalProperties"], false);
    assert!(
        document["paths"]["/dividends/{id}/cancel"]["post"]
            .get("requestBody")
            .is_none()
    );
    let collection = &document["paths"]["/dividends/cancel-security"]["post"];
    assert!(
        collection["parameters"]
            .as_array()
            .expect("parameters")
            .iter()
            .all(|parameter| parameter["in"] != "path"),
        "no row to name"
    );
    assert_eq!(
        collection["responses"]["200"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/Changed"
    );
    assert_eq!(collection["responses"]["410"]["description"], "Gone");
}

/// Every resource action checks the caller's access before anything else: no
/// credentials is a 401 with `WWW-Authenticate`, a user without the permission
/// a 403, with it (or as a superuser) the action runs.
pub(crate) async fn each_action_requires_its_permission(app: Router, _db: fw::Db) {
    let security = create_security(&app, "ACME").await;
    let item = format!("/securities/{}", security["id"]);
    let viewer = fw::testing::user(1, &["view_security"]);
    let anonymous = send_as(&app, fw::Caller::Anonymous, "GET", "/securities", &[], None).await;
    anonymous.assert_problem(StatusCode::UNAUTHORIZED);
    assert_eq!(anonymous.header("www-authenticate"), "Bearer");
    for (method, uri, body) in [
        ("GET", "/securities", None),
        ("GET", item.as_str(), None),
        (
            "POST",
            "/securities",
            Some(json!({"symbol": "NEW", "issuer": "New Corp"})),
        ),
        ("PATCH", item.as_str(), Some(json!({"note": "x"}))),
        ("DELETE", item.as_str(), None),
    ] {
        let reply = send_as(&app, fw::Caller::Anonymous, method, uri, &[], body.clone()).await;
        reply.assert_problem(StatusCode::UNAUTHORIZED);
        let nobody = fw::testing::user(2, &[]);
        let reply = send_as(&app, nobody, method, uri, &[], body).await;
        reply.assert_problem(StatusCode::FORBIDDEN);
    }
    let listed = send_as(&app, viewer.clone(), "GET", "/securities", &[], None).await;
    assert_eq!(ids(&listed), [security["id"].as_i64().expect("id")]);
    let retrieved = send_as(&app, viewer.clone(), "GET", &item, &[], None).await;
    assert_eq!(retrieved.status, StatusCode::OK, "{}", retrieved.body);
    let refused = send_as(
        &app,
        viewer,
        "PATCH",
        &item,
        &[],
        Some(json!({"note": "x"})),
    )
    .await;
    refused.assert_problem(StatusCode::FORBIDDEN);
    assert!(
        refused.body["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("`change_security`"),
        "{}",
        refused.body
    );
    let changer = fw::testing::user(3, &["change_security"]);
    let changed = send_as(
        &app,
        changer,
        "PATCH",
        &item,
        &[],
        Some(json!({"note": "x"})),
    )
    .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
    // `destroy = "purge_dividends"` replaces the model's `delete_dividend`.
    let dividend = create_dividend(&app, &security, "2026-01-10", "0.10", None).await;
    let dividend = format!("/dividends/{}", dividend["id"]);
    let deleter = fw::testing::user(4, &["delete_dividend"]);
    send_as(&app, deleter, "DELETE", &dividend, &[], None)
        .await
        .assert_problem(StatusCode::FORBIDDEN);
    let purger = fw::testing::user(5, &["purge_dividends"]);
    let purged = send_as(&app, purger, "DELETE", &dividend, &[], None).await;
    assert_eq!(purged.status, StatusCode::NO_CONTENT, "{}", purged.body);
}

/// An `Idempotency-Key` replays a stored answer only to a caller who may make
/// the request: the access check comes first.
pub(crate) async fn idempotent_replays_are_checked_too(app: Router, _db: fw::Db) {
    let key = [("idempotency-key", "create-acme")];
    let body = || Some(json!({"symbol": "ACME", "issuer": "Acme Corp"}));
    let created = send(&app, "POST", "/securities", &key, body()).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    send_as(
        &app,
        fw::Caller::Anonymous,
        "POST",
        "/securities",
        &key,
        body(),
    )
    .await
    .assert_problem(StatusCode::UNAUTHORIZED);
    send_as(
        &app,
        fw::testing::user(2, &[]),
        "POST",
        "/securities",
        &key,
        body(),
    )
    .await
    .assert_problem(StatusCode::FORBIDDEN);
    // Another user's key is theirs alone: the same key and body runs again
    // for them (and meets the taken symbol), never replays the first answer.
    let other = fw::testing::user(3, &["add_security"]);
    send_as(&app, other, "POST", "/securities", &key, body())
        .await
        .assert_problem(StatusCode::CONFLICT);
}

/// Owner only: a scope on the caller's id makes every other user's rows a
/// 404, on reads and writes alike, never a 403 that would tell them the row
/// exists.
pub(crate) async fn rows_outside_the_scope_are_404(app: Router, _db: fw::Db) {
    let (ada, bob) = (fw::testing::user(1, &[]), fw::testing::user(2, &[]));
    let draft = send_as(
        &app,
        ada.clone(),
        "POST",
        "/drafts",
        &[],
        Some(json!({"text": "mine", "owner": 2})),
    )
    .await;
    assert_eq!(draft.status, StatusCode::CREATED, "{}", draft.body);
    assert_eq!(draft.body["owner"], json!(1), "the owner is the caller");
    let uri = format!("/drafts/{}", draft.body["id"]);
    let own = send_as(&app, ada.clone(), "GET", &uri, &[], None).await;
    assert_eq!(own.status, StatusCode::OK, "{}", own.body);
    assert_eq!(
        ids(&send_as(&app, ada, "GET", "/drafts", &[], None).await).len(),
        1
    );
    assert!(ids(&send_as(&app, bob.clone(), "GET", "/drafts", &[], None).await).is_empty());
    for (method, body) in [
        ("GET", None),
        ("PATCH", Some(json!({"text": "theirs"}))),
        ("DELETE", None),
    ] {
        send_as(&app, bob.clone(), method, &uri, &[], body)
            .await
            .assert_problem(StatusCode::NOT_FOUND);
    }
    send_as(&app, fw::Caller::Anonymous, "GET", &uri, &[], None)
        .await
        .assert_problem(StatusCode::UNAUTHORIZED);
}

/// `permissions(public)` reads need no credentials.
pub(crate) async fn public_resources_need_no_credentials(app: Router, _db: fw::Db) {
    let security = create_security(&app, "ACME").await;
    let listed = send_as(&app, fw::Caller::Anonymous, "GET", "/listings", &[], None).await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
    assert_eq!(
        listed.body["results"],
        json!([{"id": security["id"], "symbol": "ACME"}])
    );
    let uri = format!("/listings/{}", security["id"]);
    let retrieved = send_as(&app, fw::Caller::Anonymous, "GET", &uri, &[], None).await;
    assert_eq!(retrieved.status, StatusCode::OK, "{}", retrieved.body);
}

/// A custom action and a plain handler require the access they were
/// registered with; a public plain handler does not.
pub(crate) async fn custom_actions_and_plain_handlers_check_access(app: Router, _db: fw::Db) {
    let security = create_security(&app, "ACME").await;
    let dividend = create_dividend(&app, &security, "2026-01-10", "0.10", None).await;
    let uri = format!("/dividends/{}/cancel", dividend["id"]);
    send_as(&app, fw::Caller::Anonymous, "POST", &uri, &[], None)
        .await
        .assert_problem(StatusCode::UNAUTHORIZED);
    send_as(
        &app,
        fw::testing::user(1, &["change_dividend"]),
        "POST",
        &uri,
        &[],
        None,
    )
    .await
    .assert_problem(StatusCode::FORBIDDEN);
    let cancelled = send_as(
        &app,
        fw::testing::user(2, &["cancel_dividend"]),
        "POST",
        &uri,
        &[],
        None,
    )
    .await;
    assert_eq!(cancelled.status, StatusCode::OK, "{}", cancelled.body);
    let health = send_as(&app, fw::Caller::Anonymous, "GET", "/health", &[], None).await;
    assert_eq!(health.status, StatusCode::OK, "{}", health.body);
    let anonymous = send_as(&app, fw::Caller::Anonymous, "GET", "/audit", &[], None).await;
    anonymous.assert_problem(StatusCode::UNAUTHORIZED);
    assert_eq!(anonymous.header("www-authenticate"), "Bearer");
    send_as(&app, fw::testing::user(1, &[]), "GET", "/audit", &[], None)
        .await
        .assert_problem(StatusCode::FORBIDDEN);
    let audit = send_as(
        &app,
        fw::testing::user(3, &["view_audit"]),
        "GET",
        "/audit",
        &[],
        None,
    )
    .await;
    assert_eq!(audit.status, StatusCode::OK, "{}", audit.body);
}

/// The document says who may call each operation: public ones have
/// `security: []` and no 401; protected ones take either scheme, list the
/// 401 and, with a permission, name it and list the 403.
pub(crate) async fn the_document_states_each_operation_s_access(app: Router, _db: fw::Db) {
    let spec = send_as(
        &app,
        fw::Caller::Anonymous,
        "GET",
        "/openapi.json",
        &[],
        None,
    )
    .await;
    let document = &spec.body;
    let schemes = &document["components"]["securitySchemes"];
    assert_eq!(schemes["bearerAuth"]["scheme"], "bearer");
    assert_eq!(schemes["sessionCookie"]["in"], "cookie");
    assert_eq!(schemes["sessionCookie"]["name"], "fw_session");
    let both = json!([{"bearerAuth": []}, {"sessionCookie": []}]);
    let operation = |path: &str, method: &str| document["paths"][path][method].clone();
    let create = operation("/securities", "post");
    assert_eq!(create["security"], both);
    assert_eq!(create["x-fw-permission"], "add_security");
    assert!(
        create["description"]
            .as_str()
            .unwrap_or_default()
            .contains("`add_security`")
    );
    assert!(create["responses"]["401"].is_object() && create["responses"]["403"].is_object());
    let notes = operation("/notes", "get");
    assert_eq!(notes["security"], both);
    assert!(notes.get("x-fw-permission").is_none());
    assert!(notes["responses"]["401"].is_object() && notes["responses"].get("403").is_none());
    for (path, method) in [
        ("/listings", "get"),
        ("/listings/{id}", "get"),
        ("/health", "get"),
    ] {
        let public = operation(path, method);
        assert_eq!(public["security"], json!([]), "{path}");
        assert!(public["responses"].get("401").is_none(), "{path}");
        assert!(public["responses"].get("403").is_none(), "{path}");
    }
    assert_eq!(
        operation("/dividends/{id}", "delete")["x-fw-permission"],
        "purge_dividends"
    );
    assert_eq!(
        operation("/dividends/{id}/cancel", "post")["x-fw-permission"],
        "cancel_dividend"
    );
    assert_eq!(operation("/audit", "get")["x-fw-permission"], "view_audit");
    assert!(document["components"]["responses"]["401"]["headers"]["WWW-Authenticate"].is_object());
}

pub(crate) async fn openapi_and_docs_are_served(app: Router, _db: fw::Db) {
    let spec = send(&app, "GET", "/openapi.json", &[], None).await;
    assert_eq!(spec.status, StatusCode::OK);
    assert_eq!(spec.body["openapi"], json!("3.1.0"));
    for path in [
        "/securities",
        "/securities/{id}",
        "/dividends/{id}/cancel",
        "/health",
        "/notes",
    ] {
        assert!(spec.body["paths"][path].is_object(), "{path} is documented");
    }
    for path in ["/openapi.json", "/docs"] {
        let not_allowed = send(&app, "DELETE", path, &[], None).await;
        not_allowed.assert_problem(StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(not_allowed.header("allow"), "GET,HEAD", "{path}");
    }
    let docs = send(&app, "GET", "/docs", &[], None).await;
    assert_eq!(docs.status, StatusCode::OK);
    let html = docs.body.as_str().unwrap_or_default();
    assert!(!html.contains("https://"), "offline docs page");
    let initializer = send(&app, "GET", "/docs/swagger-initializer.js", &[], None).await;
    let script = initializer.body.as_str().unwrap_or_default();
    assert!(
        script.contains("/openapi.json"),
        "the page reads the API's document"
    );
}

/// Keyset pages stay stable while rows are inserted between (and during) page
/// requests: every row that existed before paging started is seen exactly once,
/// in order, whatever is inserted before or after the cursor meanwhile.
pub(crate) async fn pages_are_stable_under_concurrent_inserts(app: Router, _db: fw::Db) {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

    let existing: Vec<String> = (0..24).map(|n| format!("S{:02}", n * 2)).collect();
    for symbol in &existing {
        create_security(&app, symbol).await;
    }
    let inserted = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(AtomicBool::new(false));
    // Inserts rows that sort between, before and after the existing ones, over
    // HTTP, until the pager is done.
    let inserter = tokio::spawn({
        let (app, inserted, done) = (app.clone(), inserted.clone(), done.clone());
        async move {
            let mut n = 0;
            while !done.load(Ordering::SeqCst) {
                let symbol = match n % 3 {
                    0 => format!("S{:02}X{n}", (n * 7) % 48),
                    1 => format!("A{n}"),
                    _ => format!("Z{n}"),
                };
                create_security(&app, &symbol).await;
                n += 1;
                inserted.fetch_add(1, Ordering::SeqCst);
            }
        }
    });
    let symbols = |reply: &Reply| -> Vec<String> {
        reply.body["results"]
            .as_array()
            .expect("results")
            .iter()
            .map(|row| row["symbol"].as_str().expect("symbol").to_owned())
            .collect()
    };
    let mut seen: Vec<String> = Vec::new();
    let mut link = Some("/securities?page_size=3".to_owned());
    let mut last_page = None;
    while let Some(uri) = link {
        let page = send(&app, "GET", &uri, &[], None).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        seen.extend(symbols(&page));
        link = page.body["next"].as_str().map(str::to_owned);
        // Let at least one insert land before the next page is read.
        let before = inserted.load(Ordering::SeqCst);
        while inserted.load(Ordering::SeqCst) == before {
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
        last_page = Some(page);
    }
    done.store(true, Ordering::SeqCst);
    inserter.await.expect("the inserter");
    assert!(
        inserted.load(Ordering::SeqCst) >= 8,
        "inserts ran while paging"
    );

    let mut sorted = seen.clone();
    sorted.sort();
    assert_eq!(
        seen, sorted,
        "pages are in order with no row repeated: {seen:?}"
    );
    sorted.dedup();
    assert_eq!(sorted.len(), seen.len(), "no duplicates: {seen:?}");
    let pre_existing: Vec<&String> = seen.iter().filter(|s| existing.contains(s)).collect();
    assert_eq!(
        pre_existing,
        existing.iter().collect::<Vec<_>>(),
        "every pre-existing row exactly once"
    );

    // Walking back from the last page, with more inserts landing, also sees
    // every pre-existing row once, in reverse page order.
    let mut back: Vec<String> = Vec::new();
    let mut link = last_page
        .as_ref()
        .and_then(|page| page.body["previous"].as_str().map(str::to_owned));
    let mut n = 0;
    while let Some(uri) = link {
        create_security(&app, &format!("S{:02}Y{n}", (n * 5) % 48)).await;
        n += 1;
        let page = send(&app, "GET", &uri, &[], None).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        let mut rows = symbols(&page);
        rows.extend(back);
        back = rows;
        link = page.body["previous"].as_str().map(str::to_owned);
    }
    let last = last_page.map(|page| symbols(&page)).unwrap_or_default();
    back.extend(last);
    let mut sorted = back.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(
        back, sorted,
        "backward pages are in order, no repeats: {back:?}"
    );
    let pre_existing: Vec<&String> = back.iter().filter(|s| existing.contains(s)).collect();
    assert_eq!(pre_existing, existing.iter().collect::<Vec<_>>());
}

/// PostgreSQL cannot store U+0000 in text, so it is refused everywhere, on both
/// databases alike, before it reaches the database (schemathesis found the 500
/// it used to cause).
pub(crate) async fn the_nul_character_is_refused_not_a_500(app: Router, _db: fw::Db) {
    let reply = send(
        &app,
        "POST",
        "/securities",
        &[],
        Some(serde_json::json!({"symbol": "NUL", "issuer": "A\u{0}B"})),
    )
    .await;
    reply.assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        reply.body["errors"].as_array().is_some_and(|errors| errors
            .iter()
            .any(|error| error["pointer"] == "/issuer" && error["code"] == "null_character")),
        "{}",
        reply.body
    );
    for query in ["symbol=A%00", "name__contains=%00", "search=%00"] {
        let reply = send(&app, "GET", &format!("/securities?{query}"), &[], None).await;
        reply.assert_problem(StatusCode::BAD_REQUEST);
    }
    let reply = send(&app, "GET", "/securities/%00", &[], None).await;
    reply.assert_problem(StatusCode::NOT_FOUND);
}

fn detail(reply: &Reply) -> &str {
    reply.body["detail"].as_str().unwrap_or_default()
}

/// An ordering names declared fields, each once: repeated, unknown or empty
/// terms are a 400, so the ORDER BY and the cursor's keyset condition have at
/// most as many terms as the resource declares, and the `next` link of the
/// longest ordering works.
pub(crate) async fn ordering_names_declared_fields_once(app: Router, _db: fw::Db) {
    let repeated = vec!["pay_date"; 2100].join(",");
    for (ordering, named) in [
        ("ex_date,ex_date", "`ex_date` more than once"),
        ("ex_date,-ex_date", "`ex_date` more than once"),
        (repeated.as_str(), "`pay_date` more than once"),
        ("", "empty term"),
        ("ex_date,,rate", "empty term"),
        ("-", "empty term"),
        ("%20ex_date", "cannot use ` ex_date`"),
        ("id", "cannot use `id`"),
        ("status", "cannot use `status`"),
    ] {
        let reply = send(
            &app,
            "GET",
            &format!("/dividends?ordering={ordering}"),
            &[],
            None,
        )
        .await;
        reply.assert_problem(StatusCode::BAD_REQUEST);
        assert!(detail(&reply).contains(named), "{ordering}: {}", reply.body);
    }
    let acme = create_security(&app, "ACME").await;
    let beta = create_security(&app, "BETA").await;
    for (security, ex_date, rate) in [
        (&acme, "2026-01-05", "0.1"),
        (&acme, "2026-01-05", "0.2"),
        (&beta, "2026-01-05", "0.2"),
        (&beta, "2026-02-05", "0.1"),
        (&acme, "2026-03-05", "0.3"),
    ] {
        create_dividend(&app, security, ex_date, rate, None).await;
    }
    // Every declared field, in mixed directions: three terms plus the key
    // (descending, as the first term is).
    let mut uri = "/dividends?ordering=-ex_date,pay_date,rate&page_size=2".to_owned();
    let mut seen = Vec::new();
    let mut pages = 0;
    loop {
        let reply = send(&app, "GET", &uri, &[], None).await;
        assert_eq!(reply.status, StatusCode::OK, "{uri}: {}", reply.body);
        seen.extend(
            reply.body["results"]
                .as_array()
                .expect("results")
                .iter()
                .map(|row| {
                    (
                        row["ex_date"].clone(),
                        row["rate"].clone(),
                        row["id"].clone(),
                    )
                }),
        );
        pages += 1;
        match reply.body["next"].as_str() {
            Some(next) => uri = next.to_owned(),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    let mut expected = seen.clone();
    expected.sort_by(|a, b| {
        b.0.as_str()
            .cmp(&a.0.as_str())
            .then_with(|| a.1.as_str().cmp(&b.1.as_str()))
            .then_with(|| b.2.as_i64().cmp(&a.2.as_i64()))
    });
    assert_eq!(seen.len(), 5, "every row once: {seen:?}");
    assert_eq!(seen, expected, "in the requested order");
}

/// `__in` lists and searched text are bounded: past the bound a 400 names the
/// parameter and the bound, never a 500 (SQLite refused a `LIKE` pattern over
/// 50,000 bytes) and never a statement that grows with the list.
pub(crate) async fn in_lists_and_search_text_are_capped(app: Router, _db: fw::Db) {
    let acme = create_security(&app, "ACME").await;
    create_dividend(&app, &acme, "2026-01-05", "0.1", None).await;
    let symbols = |count: usize| {
        (0..count)
            .map(|n| format!("S{n}"))
            .chain(["ACME".to_owned()])
            .collect::<Vec<_>>()
            .join(",")
    };
    let reply = send(
        &app,
        "GET",
        &format!("/securities?symbol__in={}", symbols(99)),
        &[],
        None,
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(ids(&reply), [acme["id"].as_i64().expect("id")]);
    let ids_in = |count: i64| {
        (1..=count)
            .map(|id| id.to_string())
            .collect::<Vec<_>>()
            .join(",")
    };
    let reply = send(
        &app,
        "GET",
        &format!("/dividends?security__in={}", ids_in(100)),
        &[],
        None,
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(ids(&reply).len(), 1);
    for uri in [
        format!("/securities?symbol__in={}", symbols(100)),
        format!("/dividends?security__in={}", ids_in(101)),
        format!("/dividends?symbol__in={}", symbols(1000)),
    ] {
        let reply = send(&app, "GET", &uri, &[], None).await;
        reply.assert_problem(StatusCode::BAD_REQUEST);
        assert!(
            detail(&reply).contains("__in`") && detail(&reply).contains("at most 100"),
            "{}",
            reply.body
        );
    }
    // Each parameter once: a statement has at most one condition per
    // declared parameter, however long the query string.
    let repeated = vec!["status=announced"; 500].join("&");
    for query in [
        repeated.as_str(),
        "cursor=a&cursor=b",
        "page_size=1&page_size=2",
    ] {
        let reply = send(&app, "GET", &format!("/dividends?{query}"), &[], None).await;
        reply.assert_problem(StatusCode::BAD_REQUEST);
        assert!(detail(&reply).contains("more than once"), "{}", reply.body);
    }
    let longest = "%C3%A9".repeat(200);
    for parameter in [
        "search",
        "issuer__contains",
        "issuer__icontains",
        "symbol__startswith",
    ] {
        let reply = send(
            &app,
            "GET",
            &format!("/securities?{parameter}={longest}"),
            &[],
            None,
        )
        .await;
        assert_eq!(reply.status, StatusCode::OK, "{parameter}: {}", reply.body);
        for text in ["x".repeat(201), "_".repeat(50_001)] {
            let reply = send(
                &app,
                "GET",
                &format!("/securities?{parameter}={text}"),
                &[],
                None,
            )
            .await;
            reply.assert_problem(StatusCode::BAD_REQUEST);
            assert!(
                detail(&reply).contains(&format!("`{parameter}` is at most 200 characters")),
                "{}",
                reply.body
            );
        }
    }
}

/// Dates are RFC 3339 full-dates in years 0001 to 9999 and decimals are
/// written as the document's pattern says, with no more places than declared
/// (never rounded): in bodies (422), filters and cursors (400) alike.
pub(crate) async fn dates_and_decimals_are_parsed_exactly(app: Router, _db: fw::Db) {
    let acme = create_security(&app, "ACME").await;
    let dividend = |ex_date: &str, rate: &str| json!({"security": acme["id"], "ex_date": ex_date, "pay_date": "2026-02-03", "rate": rate});
    let thirty_places = format!("0.{}1", "0".repeat(29));
    for (ex_date, rate, pointer, code) in [
        ("2026-02-03", "1e5", "/rate", "invalid"),
        ("2026-02-03", ".5", "/rate", "invalid"),
        ("2026-02-03", "5.", "/rate", "invalid"),
        ("2026-02-03", "+1", "/rate", "invalid"),
        ("2026-02-03", "1_000", "/rate", "invalid"),
        ("2026-02-03", "01", "/rate", "invalid"),
        ("2026-02-03", " 1", "/rate", "invalid"),
        ("2026-02-03", "-0", "/rate", "min_value"),
        (
            "2026-02-03",
            thirty_places.as_str(),
            "/rate",
            "decimal_places",
        ),
        ("2026-02-03", "0.123456789", "/rate", "decimal_places"),
        ("2026-02-03", "0.100000000", "/rate", "decimal_places"),
        ("2026-02-03", "12345678901", "/rate", "max_digits"),
        ("2026-1-20", "1", "/ex_date", "invalid"),
        ("+10000-01-01", "1", "/ex_date", "invalid"),
        ("10000-01-01", "1", "/ex_date", "invalid"),
        ("0000-12-31", "1", "/ex_date", "invalid"),
        ("-4714-01-01", "1", "/ex_date", "invalid"),
        ("2026-02-03T00:00:00Z", "1", "/ex_date", "invalid"),
        ("2026-02-03 ", "1", "/ex_date", "invalid"),
    ] {
        let reply = send(
            &app,
            "POST",
            "/dividends",
            &[],
            Some(dividend(ex_date, rate)),
        )
        .await;
        reply.assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(
            reply.pointers(),
            [(pointer.to_owned(), code.to_owned())],
            "{ex_date} {rate}: {}",
            reply.body
        );
    }
    for (ex_date, rate) in [
        ("0001-01-01", "0.12345678"),
        ("9999-12-31", "1234567890.5"),
        ("2026-02-03", "0"),
    ] {
        let reply = send(
            &app,
            "POST",
            "/dividends",
            &[],
            Some(dividend(ex_date, rate)),
        )
        .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
        assert_eq!(reply.body["rate"], rate, "stored exactly");
    }
    let reply = send(&app, "GET", "/dividends?ordering=ex_date", &[], None).await;
    assert_eq!(reply.body["results"][0]["ex_date"], "0001-01-01");
    let reply = send(&app, "GET", "/dividends?ex_date__gte=9999-01-01", &[], None).await;
    assert_eq!(reply.body["results"].as_array().map(Vec::len), Some(1));
    assert_eq!(reply.body["results"][0]["ex_date"], "9999-12-31");
    for query in [
        "ex_date__gte=2026-1-20",
        "ex_date=10000-01-01",
        "ex_date__lt=0000-12-31",
        "rate__gte=1e5",
        "rate__gte=.5",
        "rate__lte=0.123456789",
        "rate__gte=-1",
    ] {
        let reply = send(&app, "GET", &format!("/dividends?{query}"), &[], None).await;
        reply.assert_problem(StatusCode::BAD_REQUEST);
        let name = query.split('=').next().unwrap_or_default();
        assert!(
            detail(&reply).contains(&format!("`{name}`")),
            "{query}: {}",
            reply.body
        );
    }
    use base64::Engine as _;
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    for (ordering, value) in [
        ("-ex_date", "+10000-01-01"),
        ("-ex_date", "2026-1-20"),
        ("-ex_date", "-4714-01-01"),
        ("rate", "1e5"),
        ("rate", "0.123456789"),
    ] {
        let token = engine.encode(json!({"o": ordering, "b": false, "v": [value, 1]}).to_string());
        let query = match ordering {
            "-ex_date" => format!("cursor={token}"),
            _ => format!("ordering={ordering}&cursor={token}"),
        };
        let reply = send(&app, "GET", &format!("/dividends?{query}"), &[], None).await;
        reply.assert_problem(StatusCode::BAD_REQUEST);
        assert!(
            detail(&reply).contains("`cursor`"),
            "{value}: {}",
            reply.body
        );
    }
}

/// What the document allows the server accepts, and what it refuses the
/// document forbids: text without NUL, non-empty cursors and lists, the
/// declared orderings, capped lists and searches.
pub(crate) async fn the_document_says_what_the_server_refuses(app: Router, _db: fw::Db) {
    let document = send(&app, "GET", "/openapi.json", &[], None).await.body;
    let parameters = |path: &str| -> Json {
        let parameters = document["paths"][path]["get"]["parameters"]
            .as_array()
            .expect("parameters")
            .iter()
            .map(|parameter| {
                (
                    parameter["name"].as_str().expect("name").to_owned(),
                    parameter.clone(),
                )
            })
            .collect::<serde_json::Map<_, _>>();
        Json::Object(parameters)
    };
    let securities = parameters("/securities");
    let dividends = parameters("/dividends");
    assert_eq!(securities["cursor"]["schema"]["minLength"], 1);
    assert_eq!(
        securities["cursor"]["schema"]["pattern"],
        "^[A-Za-z0-9_-]+$"
    );
    let in_list = &dividends["security__in"];
    assert_eq!(
        (
            &in_list["style"],
            &in_list["explode"],
            &in_list["schema"]["minItems"],
            &in_list["schema"]["maxItems"]
        ),
        (&json!("form"), &json!(false), &json!(1), &json!(100))
    );
    assert_eq!(in_list["schema"]["items"]["type"], "integer");
    assert_eq!(
        dividends["status__in"]["schema"]["items"]["enum"],
        json!(["announced", "changed", "cancelled"])
    );
    for parameter in [
        "search",
        "issuer__contains",
        "issuer__icontains",
        "symbol__startswith",
    ] {
        assert_eq!(
            securities[parameter]["schema"]["maxLength"], 200,
            "{parameter}"
        );
        assert_eq!(
            securities[parameter]["schema"]["pattern"], r"^[^\x00]*$",
            "{parameter}"
        );
    }
    let ordering = &securities["ordering"]["schema"];
    assert_eq!(
        ordering["items"]["enum"],
        json!(["symbol", "-symbol", "issuer", "-issuer"])
    );
    assert_eq!(
        (
            &ordering["minItems"],
            &ordering["maxItems"],
            &ordering["uniqueItems"]
        ),
        (&json!(1), &json!(2), &json!(true))
    );
    let body = &document["components"]["schemas"]["SecurityCreate"]["properties"];
    assert_eq!(body["issuer"]["pattern"], r"^[^\x00]*$");
    assert_eq!(body["note"]["pattern"], r"^[^\x00]*$");
    assert_eq!(body["symbol"]["allOf"], json!([{"pattern": r"^[^\x00]*$"}]));
    let rate = &document["components"]["schemas"]["DividendCreate"]["properties"]["rate"];
    assert_eq!(rate["pattern"], r"^(0|[1-9][0-9]{0,9})(\.[0-9]{1,8})?$");
    for uri in [
        "/securities?cursor=",
        "/dividends?security__in=",
        "/securities?ordering=",
        "/securities?ordering=symbol,-symbol",
        "/securities?symbol__in=A,b",
    ] {
        let reply = send(&app, "GET", uri, &[], None).await;
        reply.assert_problem(StatusCode::BAD_REQUEST);
    }
    let reply = send(
        &app,
        "GET",
        "/securities?ordering=-issuer,symbol&symbol__in=A,B.C",
        &[],
        None,
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
}

/// The clear values the sensitive-field cases write: none may appear where a
/// caller without the permission, a log or the change log could see it.
const HOLDER_NAME: &str = "Ada Sensitive-Lovelace";
const HOLDER_TAX_ID: &str = "123-45-6789";

/// Creates a holder as a caller holding both reveal permissions; its id.
async fn create_holder(app: &Router, tax_id: &str) -> i64 {
    let revealer = fw::testing::user(1, &["view_holder_name", "view_holder_tax_id"]);
    let body = json!({"branch": "north", "name": HOLDER_NAME, "tax_id": tax_id});
    let created = send_as(app, revealer, "POST", "/holders", &[], Some(body)).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    created.body["id"].as_i64().unwrap()
}

/// A caller without a field's reveal permission gets the field omitted from
/// every answer (create, retrieve, list, update), never masked; with it, the
/// value; writing needs only the action's access. Filtering on a sensitive
/// field without its permission is a 403, with it the row is found.
pub(crate) async fn sensitive_fields_are_shown_only_with_their_permission(
    app: Router,
    _db: fw::Db,
) {
    let support = || fw::testing::user(2, &[]);
    let name_only = || fw::testing::user(3, &["view_holder_name"]);
    let body = json!({"branch": "north", "name": HOLDER_NAME, "tax_id": HOLDER_TAX_ID});
    let created = send_as(&app, support(), "POST", "/holders", &[], Some(body)).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(
        created.body,
        json!({"id": created.body["id"], "branch": "north", "version": 1}),
        "written without reveal permissions, answered without the values"
    );
    let uri = format!("/holders/{}", created.body["id"]);
    let retrieved = send_as(&app, support(), "GET", &uri, &[], None).await;
    assert_eq!(retrieved.status, StatusCode::OK);
    assert!(retrieved.body.get("name").is_none() && retrieved.body.get("tax_id").is_none());
    let listed = send_as(&app, support(), "GET", "/holders", &[], None).await;
    assert_eq!(
        listed.body["results"][0].get("name"),
        None,
        "{}",
        listed.body
    );
    let patched = send_as(
        &app,
        support(),
        "PATCH",
        &uri,
        &[],
        Some(json!({"branch": "south"})),
    )
    .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.body);
    assert!(patched.body.get("tax_id").is_none(), "{}", patched.body);

    let partly = send_as(&app, name_only(), "GET", &uri, &[], None).await;
    assert_eq!(partly.body["name"], HOLDER_NAME);
    assert!(partly.body.get("tax_id").is_none(), "{}", partly.body);
    let fully = send(&app, "GET", &uri, &[], None).await;
    assert_eq!(fully.body["tax_id"], HOLDER_TAX_ID);

    let filter = format!("/holders?tax_id={HOLDER_TAX_ID}");
    send_as(&app, support(), "GET", &filter, &[], None)
        .await
        .assert_problem(StatusCode::FORBIDDEN);
    let in_filter = format!("/holders?tax_id__in={HOLDER_TAX_ID},000-00-0000");
    send_as(&app, name_only(), "GET", &in_filter, &[], None)
        .await
        .assert_problem(StatusCode::FORBIDDEN);
    let found = send(&app, "GET", &filter, &[], None).await;
    assert_eq!(found.status, StatusCode::OK, "{}", found.body);
    assert_eq!(found.body["results"][0]["id"], created.body["id"]);
}

/// Each response that reveals sensitive values appends one audit row (a
/// list page's keys together); responses that reveal nothing append none.
/// Compliance reads the audit at `/sensitive-reads`, filtered by table,
/// actor and row.
pub(crate) async fn revealing_reads_are_audited(app: Router, db: fw::Db) {
    let first = create_holder(&app, "111-11-1111").await;
    let second = create_holder(&app, "222-22-2222").await;
    let audited = || async {
        fw::sensitive::SensitiveRead::query()
            .order_by(fw::sensitive::SensitiveRead::ID.asc())
            .all(&db)
            .await
            .unwrap()
    };
    let after_creates = audited().await;
    assert_eq!(after_creates.len(), 2, "each create revealed its row");
    assert_eq!(after_creates[0].actor, "user:1/token:1");
    assert_eq!(after_creates[0].model_table, "holder");
    assert_eq!(after_creates[0].fields, r#"["name","tax_id"]"#);
    assert_eq!(after_creates[0].row_keys, format!(r#"["{first}"]"#));

    let support = fw::testing::user(2, &[]);
    send_as(&app, support.clone(), "GET", "/holders", &[], None).await;
    send_as(
        &app,
        support,
        "GET",
        &format!("/holders/{first}"),
        &[],
        None,
    )
    .await;
    assert_eq!(
        audited().await.len(),
        2,
        "nothing revealed, nothing recorded"
    );

    let reader = fw::testing::user(7, &["view_holder_tax_id"]);
    let page = send_as(&app, reader, "GET", "/holders", &[], None).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let rows = audited().await;
    assert_eq!(rows.len(), 3, "one row for the whole page");
    assert_eq!(rows[2].actor, "user:7/token:7");
    assert_eq!(rows[2].fields, r#"["tax_id"]"#);
    let keys: Vec<String> = serde_json::from_str(&rows[2].row_keys).unwrap();
    assert_eq!(keys.len(), 2);
    assert!(keys.contains(&first.to_string()) && keys.contains(&second.to_string()));

    let compliance = || fw::testing::user(9, &["view_sensitive_reads"]);
    send_as(
        &app,
        fw::testing::user(7, &[]),
        "GET",
        "/sensitive-reads",
        &[],
        None,
    )
    .await
    .assert_problem(StatusCode::FORBIDDEN);
    let by_actor = send_as(
        &app,
        compliance(),
        "GET",
        "/sensitive-reads?actor=user:7/token:7",
        &[],
        None,
    )
    .await;
    assert_eq!(by_actor.status, StatusCode::OK, "{}", by_actor.body);
    assert_eq!(by_actor.body["results"].as_array().unwrap().len(), 1);
    let row = format!("/sensitive-reads?model_table=holder&row_keys__contains=%22{second}%22");
    let by_row = send_as(&app, compliance(), "GET", &row, &[], None).await;
    assert_eq!(
        by_row.body["results"].as_array().unwrap().len(),
        2,
        "{}",
        by_row.body
    );
}

/// Failures never echo a sensitive value: a bad pattern, a value too long, a
/// duplicate and a wrong type each answer without the clear value; the logs
/// of those requests and of a successful write and read (every level) hold
/// none of the values, and the change log records the fields as changed
/// without their values.
pub(crate) async fn failures_never_echo_sensitive_values(app: Router, db: fw::Db) {
    let logs = CapturedLogs::default();
    // Every event at every level from every thread (SQLite's statements run
    // on a worker of their own), sqlx's statements included. Global: no
    // other case sets a subscriber.
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(logs.clone())
        .finish();
    tracing::subscriber::set_global_default(subscriber).expect("the only subscriber");
    let id = create_holder(&app, HOLDER_TAX_ID).await;
    let read = send(&app, "GET", &format!("/holders/{id}"), &[], None).await;
    assert_eq!(read.body["tax_id"], HOLDER_TAX_ID, "a value was revealed");
    let long_name = format!("{HOLDER_NAME}{}", "x".repeat(100));
    let bad_tax_id = format!("{HOLDER_TAX_ID}-0");
    let failures = [
        json!({"branch": "north", "name": HOLDER_NAME, "tax_id": bad_tax_id}),
        json!({"branch": "north", "name": long_name, "tax_id": null}),
        json!({"branch": "north", "name": HOLDER_NAME, "tax_id": HOLDER_TAX_ID}),
        json!({"branch": "north", "name": [HOLDER_NAME], "tax_id": 123456789}),
    ];
    for body in failures {
        let reply = send(&app, "POST", "/holders", &[], Some(body.clone())).await;
        assert!(reply.status.is_client_error(), "{body}: {}", reply.body);
        let text = reply.body.to_string();
        for secret in [HOLDER_NAME, HOLDER_TAX_ID, "123456789"] {
            assert!(!text.contains(secret), "{secret} echoed: {text}");
        }
    }
    let logged = logs.text();
    assert!(logged.contains("holder"), "the capture works: {logged}");
    for secret in [HOLDER_NAME, HOLDER_TAX_ID] {
        assert!(!logged.contains(secret), "{secret} logged: {logged}");
    }
    let changes = Holder::history(&db, id).await.unwrap();
    let changes = serde_json::to_string(&changes).unwrap();
    assert!(
        changes.contains("tax_id"),
        "the change is recorded: {changes}"
    );
    for secret in [HOLDER_NAME, HOLDER_TAX_ID] {
        assert!(
            !changes.contains(secret),
            "{secret} in the change log: {changes}"
        );
    }
}

/// Log output kept in memory, to search for values that must not be there.
#[derive(Clone, Default)]
struct CapturedLogs(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl CapturedLogs {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl std::io::Write for CapturedLogs {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for CapturedLogs {
    type Writer = CapturedLogs;

    fn make_writer(&'a self) -> CapturedLogs {
        self.clone()
    }
}

/// The document marks sensitive fields with the permission that reveals
/// them, leaves them out of `required` in responses (they may be omitted),
/// and documents the audit endpoint.
pub(crate) async fn the_document_marks_sensitive_fields(_app: Router, _db: fw::Db) {
    let document = super::models::api().openapi_json();
    let schema = &document["components"]["schemas"]["Holder"];
    assert_eq!(
        schema["properties"]["tax_id"]["x-sensitive"],
        json!({"permission": "view_holder_tax_id"})
    );
    assert_eq!(
        schema["properties"]["name"]["x-sensitive"],
        json!({"permission": "view_holder_name"})
    );
    assert!(schema["properties"]["branch"].get("x-sensitive").is_none());
    let required = schema["required"].as_array().unwrap();
    assert!(required.contains(&json!("branch")));
    assert!(!required.contains(&json!("name")) && !required.contains(&json!("tax_id")));
    let description = schema["properties"]["tax_id"]["description"]
        .as_str()
        .unwrap();
    assert!(
        description.contains("view_holder_tax_id") && description.contains("omitted"),
        "{description}"
    );
    let filters = document["paths"]["/holders"]["get"]["parameters"]
        .as_array()
        .unwrap();
    let tax_id = filters
        .iter()
        .find(|parameter| parameter["name"] == "tax_id")
        .unwrap();
    assert_eq!(
        tax_id["x-sensitive"],
        json!({"permission": "view_holder_tax_id"})
    );
    let audit = &document["paths"]["/sensitive-reads"]["get"];
    assert_eq!(audit["x-fw-permission"], "view_sensitive_reads");
}

/// A resource taking all its model's fields shows and takes each of them
/// (the ones fw fills read-only); one taking some gives a create's others
/// their defaults; a field with a default or nullable may be left out of a
/// create (which gives it its default) and of a PUT (which leaves it
/// unchanged); and the API's name of a field is not its column's.
pub(crate) async fn resources_take_their_model_s_fields(app: Router, _db: fw::Db) {
    let created = send(
        &app,
        "POST",
        "/watches",
        &[],
        Some(json!({"symbol": "ACME"})),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let id = created.body["id"].as_i64().expect("id");
    assert_eq!(
        created.body,
        json!({"id": id, "symbol": "ACME", "target": null, "active": true, "rank": 1, "version": 1})
    );
    let uri = format!("/watches/{id}");
    let generated = send(
        &app,
        "POST",
        "/watches",
        &[],
        Some(json!({"symbol": "A", "version": 7})),
    )
    .await;
    generated.assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        generated.pointers(),
        [("/version".to_owned(), "read_only".to_owned())]
    );

    let patched = send(
        &app,
        "PATCH",
        &uri,
        &[],
        Some(json!({"active": false, "rank": 3, "target": "12.5"})),
    )
    .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.body);
    let put = send(&app, "PUT", &uri, &[], Some(json!({"symbol": "ACME2"}))).await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.body);
    assert_eq!(
        (
            &put.body["symbol"],
            &put.body["target"],
            &put.body["active"],
            &put.body["rank"]
        ),
        (&json!("ACME2"), &json!("12.5"), &json!(false), &json!(3)),
        "a PUT leaves the fields it may leave out unchanged"
    );
    let cleared = send(
        &app,
        "PUT",
        &uri,
        &[],
        Some(json!({"symbol": "ACME2", "target": null})),
    )
    .await;
    assert_eq!(cleared.body["target"], Json::Null, "{}", cleared.body);
    let incomplete = send(&app, "PUT", &uri, &[], Some(json!({"active": true}))).await;
    incomplete.assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        incomplete.pointers(),
        [("/symbol".to_owned(), "required".to_owned())]
    );

    // The column is `alert_price`; filters and ordering use the API's name.
    send(&app, "PATCH", &uri, &[], Some(json!({"target": "20"}))).await;
    let other = send(
        &app,
        "POST",
        "/watches",
        &[],
        Some(json!({"symbol": "B", "target": "5"})),
    )
    .await;
    let listed = send(
        &app,
        "GET",
        "/watches?target__gte=10&ordering=-target",
        &[],
        None,
    )
    .await;
    assert_eq!(ids(&listed), [id], "{}", listed.body);
    let unset = send(
        &app,
        "GET",
        "/watches?target__isnull=false&ordering=target",
        &[],
        None,
    )
    .await;
    assert_eq!(ids(&unset), [other.body["id"].as_i64().expect("id"), id]);
    assert_eq!(Watch::TARGET.schema().column, "alert_price");

    let summary = send(
        &app,
        "POST",
        "/watch-summaries",
        &[],
        Some(json!({"ticker": "XYZ"})),
    )
    .await;
    assert_eq!(summary.status, StatusCode::CREATED, "{}", summary.body);
    let summary_id = summary.body["id"].as_i64().expect("id");
    assert_eq!(
        summary.body,
        json!({"id": summary_id, "ticker": "XYZ", "active": true})
    );
    let full = send(&app, "GET", &format!("/watches/{summary_id}"), &[], None).await;
    assert_eq!(
        (&full.body["target"], &full.body["rank"]),
        (&Json::Null, &json!(1)),
        "fields the resource does not take get their defaults"
    );
    let unknown = send(
        &app,
        "POST",
        "/watch-summaries",
        &[],
        Some(json!({"ticker": "Q", "rank": 2})),
    )
    .await;
    unknown.assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        unknown.pointers(),
        [("/rank".to_owned(), "unknown_field".to_owned())]
    );

    let spec = send(&app, "GET", "/openapi.json", &[], None).await.body;
    let schemas = &spec["components"]["schemas"];
    assert_eq!(schemas["WatchCreate"]["required"], json!(["symbol"]));
    assert_eq!(schemas["WatchUpdate"]["required"], json!(["symbol"]));
    assert_eq!(
        schemas["WatchCreate"]["properties"]["rank"]["default"],
        json!(1)
    );
    assert_eq!(
        schemas["Watch"]["properties"]["symbol"]["description"],
        json!("The watched ticker."),
        "a field taken from the model has the model field's doc comment"
    );
    let shown: Vec<&String> = schemas["WatchSummary"]["properties"]
        .as_object()
        .expect("properties")
        .keys()
        .collect();
    assert_eq!(shown, ["active", "id", "ticker"]);
}

/// A field of the resource's own type is shown converted from the stored
/// value and written back through `TryFrom`, whose error is a 422 on the
/// field; a computed field is in every response and refused in bodies.
pub(crate) async fn own_types_convert_and_computed_fields_are_shown(app: Router, db: fw::Db) {
    let created = send(
        &app,
        "POST",
        "/payments",
        &[],
        Some(json!({"amount": "120.50", "kind": "transfer", "instalmentCount": 3, "due_on": "2026-03-01"})),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let id = created.body["id"].as_i64().expect("id");
    assert_eq!(
        created.body,
        json!({
            "id": id, "amount": "120.5", "kind": "transfer", "instalmentCount": 3,
            "due_on": "2026-03-01", "paid_on": null, "version": 1,
            "days_late": null, "label": "120.5 due 2026-03-01",
        })
    );
    let stored = Payment::get(&db, id).await.expect("the row");
    assert_eq!(
        (stored.kind, stored.instalments),
        (2, 3),
        "stored in the model's types"
    );

    let paid = send(
        &app,
        "PATCH",
        &format!("/payments/{id}"),
        &[],
        Some(json!({"paid_on": "2026-03-11", "kind": "card"})),
    )
    .await;
    assert_eq!(paid.status, StatusCode::OK, "{}", paid.body);
    assert_eq!(
        (&paid.body["days_late"], &paid.body["kind"]),
        (&json!(10), &json!("card"))
    );
    assert_eq!(Payment::get(&db, id).await.expect("the row").kind, 1);

    // A code the API has no kind for is shown as `legacy`, in lists too,
    // which order by the stored code.
    let imported = Payment::insert(
        &db,
        NewPayment {
            amount: rust_decimal::Decimal::new(5, 0),
            kind: 7,
            instalments: 1,
            due_on: chrono::NaiveDate::from_ymd_opt(2026, 1, 1).expect("a date"),
            paid_on: None,
        },
    )
    .await
    .expect("insert");
    let listed = send(&app, "GET", "/payments?ordering=-kind", &[], None).await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
    assert_eq!(ids(&listed), [imported.id, id]);
    assert_eq!(listed.body["results"][0]["kind"], json!("legacy"));
    assert_eq!(listed.body["results"][1]["days_late"], json!(10));
    let dated = send(&app, "GET", &format!("/payment-dates/{id}"), &[], None).await;
    assert_eq!(
        dated.body,
        json!({"id": id, "due": "2026-03-01", "days_late": 10}),
        "a resource writing every field out computes too"
    );

    let defaulted = send(
        &app,
        "POST",
        "/payments",
        &[],
        Some(json!({"amount": "1", "kind": "card", "due_on": "2026-03-01"})),
    )
    .await;
    assert_eq!(defaulted.status, StatusCode::CREATED, "{}", defaulted.body);
    assert_eq!(
        defaulted.body["instalmentCount"],
        json!(1),
        "the model's default"
    );

    let refused = send(
        &app,
        "POST",
        "/payments",
        &[],
        Some(json!({
            "amount": "1", "kind": "legacy", "instalmentCount": 3_000_000_000_i64,
            "due_on": "2026-03-01", "days_late": 0, "label": "x",
        })),
    )
    .await;
    refused.assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        refused.pointers(),
        [
            ("/kind".to_owned(), "invalid".to_owned()),
            ("/instalmentCount".to_owned(), "invalid".to_owned()),
            ("/days_late".to_owned(), "read_only".to_owned()),
            ("/label".to_owned(), "read_only".to_owned()),
        ]
    );
    assert_eq!(
        refused.body["errors"][0]["detail"],
        json!("`legacy` payments come from the old system only"),
        "the conversion's error is the detail"
    );
    let unknown = send(
        &app,
        "PUT",
        &format!("/payments/{id}"),
        &[],
        Some(json!({"amount": "1", "kind": "cash", "due_on": "2026-03-01"})),
    )
    .await;
    unknown.assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        unknown.pointers(),
        [("/kind".to_owned(), "invalid_choice".to_owned())],
        "read as the resource's type first"
    );
    assert_eq!(
        Payment::get(&db, id).await.expect("the row").amount,
        rust_decimal::Decimal::new(12050, 2)
    );
}

/// The document describes a field of the resource's own type by its type,
/// and a computed one as read-only, with its doc comment, in responses only.
pub(crate) async fn the_document_shows_own_types_and_computed_fields(app: Router, _db: fw::Db) {
    let document = send(&app, "GET", "/openapi.json", &[], None).await.body;
    let schemas = &document["components"]["schemas"];
    let shown = &schemas["Payment"]["properties"];
    assert_eq!(
        shown["kind"],
        json!({"type": "string", "enum": ["card", "transfer", "legacy"], "description": "How it was paid."}),
        "the resource's type, not the model's integer"
    );
    let instalments = "How many instalments it is paid in: shown as `i64`, stored as `i32`.";
    assert_eq!(
        shown["instalmentCount"],
        json!({"type": "integer", "format": "int64", "description": instalments}),
        "the model field's doc comment, as the written-out field has none"
    );
    assert_eq!(
        shown["days_late"],
        json!({
            "type": ["integer", "null"], "format": "int64", "readOnly": true,
            "description": "Days between the due date and the payment; `null` while unpaid.",
        })
    );
    assert_eq!(
        shown["label"],
        json!({"type": "string", "pattern": shown["label"]["pattern"], "readOnly": true})
    );
    assert_eq!(
        shown["amount"]["pattern"], schemas["PaymentCreate"]["properties"]["amount"]["pattern"],
        "a field taken from the model keeps its constraints"
    );
    let required: Vec<&str> = schemas["Payment"]["required"]
        .as_array()
        .expect("required")
        .iter()
        .filter_map(Json::as_str)
        .collect();
    assert!(required.contains(&"days_late") && required.contains(&"label"));
    let create = &schemas["PaymentCreate"];
    let writable: Vec<&String> = create["properties"]
        .as_object()
        .expect("properties")
        .keys()
        .collect();
    assert_eq!(
        writable,
        ["amount", "due_on", "instalmentCount", "kind", "paid_on"]
    );
    assert_eq!(create["required"], json!(["amount", "kind", "due_on"]));
    assert_eq!(
        create["properties"]["instalmentCount"],
        json!({"type": "integer", "format": "int64", "description": instalments}),
        "optional, as the model field has a default, which is the model's type's"
    );
    assert_eq!(
        schemas["PaymentDate"]["properties"]["due"],
        json!({"type": "string", "format": "date"}),
        "a written-out field of the model's type is described as the model field"
    );
    let parameters: Vec<&str> = document["paths"]["/payments"]["get"]["parameters"]
        .as_array()
        .expect("parameters")
        .iter()
        .filter_map(|parameter| parameter["name"].as_str())
        .collect();
    assert!(
        !parameters.iter().any(|name| name.contains("days_late")),
        "{parameters:?}"
    );
}

/// Runs `case` on a fresh database with the test models' tables, and the API
/// over it.
async fn with_api(test_db: fw::testing::TestDb, case: impl AsyncFnOnce(Router, fw::Db)) {
    fw::testing::create_tables(test_db.db(), &super::models::all())
        .await
        .expect("create the test tables");
    let router = super::models::api().into_router(test_db.context());
    case(router, test_db.db().clone()).await;
}

fw::testing::database_suite! {
    database: crate::DATABASE,
    run: with_api,
    cases: [
        create_answers_201_with_location_and_etag,
        retrieve_sends_etag_and_honours_if_none_match,
        not_modified_carries_the_length_of_the_200,
        a_path_id_that_is_not_utf8_is_a_404_problem,
        list_pages_forward_and_back,
        every_lookup_filters,
        related_filters_follow_the_reference,
        bad_query_parameters_are_400_naming_them,
        the_nul_character_is_refused_not_a_500,
        put_and_patch_update,
        if_match_refuses_stale_writes,
        unconditional_writes_succeed_under_contention,
        preconditions_are_parsed_never_ignored,
        idempotency_keys_replay_the_first_answer,
        idempotency_keys_are_bounded,
        concurrent_retries_with_one_key_write_once,
        idempotency_keys_in_flight_conflict,
        delete_answers_204_404_and_409,
        invalid_fields_are_422_with_pointers,
        create_takes_model_defaults_for_absent_fields,
        conflicts_and_dangling_references,
        malformed_requests_are_4xx_problems,
        scope_restricts_every_query,
        hooks_run_in_the_write_transaction,
        custom_actions_and_plain_handlers,
        custom_actions_read_and_check_their_bodies,
        collection_actions_answer_their_output,
        the_document_lists_what_custom_actions_answer,
        each_action_requires_its_permission,
        idempotent_replays_are_checked_too,
        rows_outside_the_scope_are_404,
        public_resources_need_no_credentials,
        custom_actions_and_plain_handlers_check_access,
        the_document_states_each_operation_s_access,
        openapi_and_docs_are_served,
        pages_are_stable_under_concurrent_inserts,
        ordering_names_declared_fields_once,
        in_lists_and_search_text_are_capped,
        dates_and_decimals_are_parsed_exactly,
        the_document_says_what_the_server_refuses,
        sensitive_fields_are_shown_only_with_their_permission,
        revealing_reads_are_audited,
        failures_never_echo_sensitive_values,
        the_document_marks_sensitive_fields,
        resources_take_their_model_s_fields,
        own_types_convert_and_computed_fields_are_shown,
        the_document_shows_own_types_and_computed_fields,
    ],
}
