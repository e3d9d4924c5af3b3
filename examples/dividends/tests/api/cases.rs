//! The dividends API over HTTP, in-process, on a database loaded with the sample
//! days and the demo account; `api_sqlite.rs` and `api_postgres.rs` run each case.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use chrono::NaiveDate;
use example_dividends::models::{Account, Dividend, DividendKind, DividendStatus, NewDividend};
use example_dividends::roles;
use example_dividends::sample_data::DEMO_ACCOUNT_NUMBER;
use futures_util::StreamExt as _;
use fw::Model;
use rust_decimal::Decimal;
use serde_json::Value;
use tower::ServiceExt;

pub(crate) struct Fixture {
    test_db: fw::testing::TestDb,
    router: axum::Router,
    pub(crate) account: Account,
}

impl Fixture {
    pub(crate) async fn new(test_db: fw::testing::TestDb) -> Fixture {
        let migrations = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
        fw::migrate::migrate(
            test_db.db(),
            &migrations,
            &fw::migrate::DataMigrations::new(),
            fw::migrate::MigrateOptions::default(),
        )
        .await
        .expect("apply the example's migrations");
        example_dividends::sample_data::load_if_empty(test_db.db())
            .await
            .expect("load the sample data");
        let account = Account::query()
            .filter(Account::NUMBER.eq(DEMO_ACCOUNT_NUMBER))
            .first(test_db.db())
            .await
            .expect("query")
            .expect("the demo account");
        let router = example_dividends::app().router(test_db.context());
        Fixture {
            test_db,
            router,
            account,
        }
    }

    /// `GET uri`: the status, the `Content-Type` and the body.
    pub(crate) async fn get(&self, uri: &str) -> (StatusCode, String, Value) {
        let request = Request::get(uri)
            .extension(fw::testing::superuser())
            .body(Body::empty())
            .expect("request");
        self.send(request, "content-type").await
    }

    /// `POST uri` with a JSON body, as `actor` when given (the [`fw::changes::Actor`]
    /// authentication would put in the request): the status, the `Location`
    /// header and the body.
    pub(crate) async fn post(
        &self,
        uri: &str,
        body: &Value,
        actor: Option<&str>,
    ) -> (StatusCode, String, Value) {
        let mut request = Request::post(uri)
            .extension(fw::testing::superuser())
            .header("content-type", "application/json");
        if let Some(actor) = actor {
            request = request.extension(fw::changes::Actor(actor.to_owned()));
        }
        let request = request.body(Body::from(body.to_string())).expect("request");
        self.send(request, "location").await
    }

    /// Sends `request`: the status, the response header `header` (empty when
    /// absent) and the body as JSON (`null` when it is not JSON).
    async fn send(&self, request: Request<Body>, header: &str) -> (StatusCode, String, Value) {
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("response");
        let status = response.status();
        let header = response
            .headers()
            .get(header)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let body = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .expect("body");
        (
            status,
            header,
            serde_json::from_slice(&body).unwrap_or(Value::Null),
        )
    }

    /// The id of the security with ticker `symbol`.
    async fn security_id(&self, symbol: &str) -> i64 {
        let (status, _, page) = self.get(&format!("/securities?symbol={symbol}")).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        page["results"][0]["id"]
            .as_i64()
            .unwrap_or_else(|| panic!("security {symbol}: {page}"))
    }

    /// `method uri` (with a JSON `body` when given) sent with `authorization`,
    /// as a client sends it (no caller handed to the router): the status, the
    /// `WWW-Authenticate` header and the body.
    pub(crate) async fn send_as(
        &self,
        authorization: Option<&str>,
        method: Method,
        uri: &str,
        body: Option<Value>,
    ) -> (StatusCode, String, Value) {
        let mut request = Request::builder().method(method).uri(uri);
        if let Some(authorization) = authorization {
            request = request.header("authorization", authorization);
        }
        let request = match body {
            Some(body) => request
                .header("content-type", "application/json")
                .body(Body::from(body.to_string())),
            None => request.body(Body::empty()),
        };
        self.send(request.expect("request"), "www-authenticate")
            .await
    }

    /// `method uri` (with a JSON `body` when given) by a superuser whose
    /// client speaks API version `version` (none: the newest): the status,
    /// the response's headers and its body.
    pub(crate) async fn send_in(
        &self,
        version: Option<&str>,
        method: Method,
        uri: &str,
        body: Option<Value>,
    ) -> (StatusCode, axum::http::HeaderMap, Value) {
        let mut request = Request::builder()
            .method(method)
            .uri(uri)
            .extension(fw::testing::superuser());
        if let Some(version) = version {
            request = request.header("api-version", version);
        }
        let request = match body {
            Some(body) => request
                .header("content-type", "application/json")
                .body(Body::from(body.to_string())),
            None => request.body(Body::empty()),
        };
        let response = self
            .router
            .clone()
            .oneshot(request.expect("request"))
            .await
            .expect("response");
        let (parts, body) = response.into_parts();
        let body = axum::body::to_bytes(body, 1 << 20).await.expect("body");
        (
            parts.status,
            parts.headers,
            serde_json::from_slice(&body).unwrap_or(Value::Null),
        )
    }

    /// The `Authorization` header of a new user `username` holding exactly
    /// the permissions of `role` (a list in `example_dividends::roles`).
    pub(crate) async fn token(&self, username: &str, role: &[&str]) -> String {
        fw::testing::bearer(self.test_db.db(), username, role).await
    }

    fn upcoming(&self, query: &str) -> String {
        format!("/accounts/{}/upcoming-dividends{query}", self.account.id)
    }
}

pub(crate) async fn upcoming_payments_are_exact_and_skip_cancellations(fixture: Fixture) {
    let (status, _, body) = fixture.get(&fixture.upcoming("?from=2026-03-17")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let payments = body["payments"].as_array().expect("payments");
    let by_symbol = |symbol: &str| {
        payments
            .iter()
            .find(|payment| payment["symbol"] == symbol)
            .unwrap_or_else(|| panic!("a payment for {symbol}: {body}"))
    };
    assert_eq!(
        by_symbol("AAPL")["amount"],
        "31.20",
        "120 shares × 0.26, exact"
    );
    assert_eq!(
        by_symbol("MSFT")["amount"],
        "32.305",
        "35.5 shares × 0.91, exact"
    );
    assert_eq!(
        by_symbol("KO")["status"],
        "changed",
        "the corrections day raised KO's rate"
    );
    assert_eq!(by_symbol("KO")["amount"], "106.00");
    assert!(
        payments
            .iter()
            .all(|payment| payment["status"] != "cancelled"),
        "{body}"
    );
    let pay_dates: Vec<&str> = payments
        .iter()
        .map(|payment| payment["pay_date"].as_str().expect("pay date"))
        .collect();
    let mut sorted = pay_dates.clone();
    sorted.sort_unstable();
    assert_eq!(pay_dates, sorted, "payments come by pay date");
    assert_eq!(body["totals"]["CAD"], "77.60", "80 ENB shares × 0.97 CAD");

    let (status, _, later) = fixture.get(&fixture.upcoming("?from=2026-05-01")).await;
    assert_eq!(status, StatusCode::OK);
    let later_count = later["payments"].as_array().map_or(0, Vec::len);
    assert!(
        later_count < payments.len(),
        "`from` leaves out earlier payments"
    );
}

pub(crate) async fn unknown_accounts_are_404_problems(fixture: Fixture) {
    for uri in [
        "/accounts/01a20149-854e-70b2-b6e6-fb9836f087c0/upcoming-dividends",
        "/accounts/not-a-uuid/upcoming-dividends",
    ] {
        let (status, content_type, body) = fixture.get(uri).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{uri}");
        assert_eq!(content_type, "application/problem+json", "{uri}");
        assert_eq!(body["status"], 404, "{body}");
    }
}

pub(crate) async fn bad_parameters_are_400_problems_naming_them(fixture: Fixture) {
    let (status, content_type, body) = fixture.get(&fixture.upcoming("?from=March")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(content_type, "application/problem+json");
    assert!(
        body["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("`from`"),
        "{body}"
    );

    let (status, _, body) = fixture.get(&fixture.upcoming("?frm=2026-03-17")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("`frm`"),
        "{body}"
    );
}

pub(crate) async fn the_spec_documents_the_custom_endpoint(fixture: Fixture) {
    let (status, _, spec) = fixture.get("/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    let operation = &spec["paths"]["/accounts/{id}/upcoming-dividends"]["get"];
    assert_eq!(
        operation["operationId"], "account_upcoming_dividends",
        "{spec}"
    );
    for status in ["200", "400", "404"] {
        assert!(
            operation["responses"][status].is_object(),
            "{status} documented"
        );
    }
    assert!(spec["paths"]["/dividends"]["get"].is_object());
}

pub(crate) async fn a_dividends_history_shows_the_import_and_the_correction(fixture: Fixture) {
    let (status, _, page) = fixture.get("/dividends?status=changed&page_size=50").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let corrected = page["results"]
        .as_array()
        .and_then(|results| {
            results
                .iter()
                .find(|dividend| dividend["announcement_id"] == "DV2026031600005")
        })
        .unwrap_or_else(|| panic!("KO's corrected dividend: {page}"));
    let uri = format!("/dividends/{}/history", corrected["id"]);
    let (status, _, history) = fixture.get(&uri).await;
    assert_eq!(status, StatusCode::OK, "{history}");
    let changes = history["results"].as_array().expect("results");
    let operations: Vec<&str> = changes
        .iter()
        .map(|change| change["operation"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(operations, ["insert", "update"], "{history}");
    let rate = changes[1]["fields"]
        .as_array()
        .and_then(|fields| fields.iter().find(|field| field["field"] == "rate"))
        .unwrap_or_else(|| panic!("the correction changed the rate: {history}"));
    assert_eq!(rate["old"], "0.51");
    assert_eq!(rate["new"], "0.53");
    assert_eq!(
        changes[1]["actor"],
        example_dividends::sample_data::ACTOR,
        "{history}"
    );

    let (status, content_type, _) = fixture.get("/dividends/999999/history").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(content_type, "application/problem+json");
}

/// The issue's filter: `/dividends?symbol=...` keeps the dividends of the
/// securities with those ticker symbols, alone or with the other filters.
pub(crate) async fn dividends_filter_by_the_securitys_symbol(fixture: Fixture) {
    let aapl = fixture.security_id("AAPL").await;
    let ko = fixture.security_id("KO").await;
    let securities = |page: &Value| -> Vec<i64> {
        page["results"]
            .as_array()
            .expect("results")
            .iter()
            .map(|dividend| dividend["security"].as_i64().expect("security"))
            .collect()
    };
    let (status, _, page) = fixture.get("/dividends?symbol=AAPL").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(securities(&page), [aapl], "{page}");
    let (_, _, page) = fixture
        .get("/dividends?symbol__in=AAPL,KO&ordering=ex_date")
        .await;
    let mut found = securities(&page);
    found.sort_unstable();
    let mut expected = vec![aapl, ko];
    expected.sort_unstable();
    assert_eq!(found, expected, "{page}");
    let (_, _, page) = fixture.get("/dividends?symbol=KO&status=changed").await;
    assert_eq!(
        page["results"][0]["announcement_id"], "DV2026031600005",
        "{page}"
    );
    let (_, _, page) = fixture.get("/dividends?symbol=AAPL&status=changed").await;
    assert_eq!(securities(&page), Vec::<i64>::new(), "{page}");
    let (status, _, page) = fixture.get("/dividends?symbol=NOPE").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page["results"], serde_json::json!([]));
    let (status, content_type, problem) = fixture.get("/dividends?symbol__gte=A").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(content_type, "application/problem+json");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("`symbol__gte`"),
        "{problem}"
    );
}

/// The body the benchmark helper sends, and operations staff's forms.
fn announcement(announcement_id: &str, security: i64) -> Value {
    serde_json::json!({
        "announcement_id": announcement_id,
        "security": security,
        "declaration_date": "2026-01-02",
        "ex_date": "2026-01-20",
        "record_date": "2026-01-21",
        "pay_date": "2026-02-01",
        "rate": "0.25",
        "currency": "USD",
        "kind": "regular",
        "status": "announced",
    })
}

/// Operations staff enter an announcement by hand: 201 with its address, and
/// the change log says who did; `status` and `currency` take the model's
/// defaults when left out. `days_to_payment` is computed, never sent.
pub(crate) async fn a_dividend_is_created_by_hand_and_logged(fixture: Fixture) {
    let security = fixture.security_id("AAPL").await;
    let (status, location, created) = fixture
        .post(
            "/dividends",
            &announcement("B00000001", security),
            Some("ops:jane"),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(location, format!("/dividends/{}", created["id"]));
    assert_eq!(created["rate"], "0.25");
    assert_eq!(created["status"], "announced");
    assert_eq!(created["days_to_payment"], 12, "2026-01-20 to 2026-02-01");
    let (status, _, fetched) = fixture.get(&location).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(fetched, created);
    let (_, _, history) = fixture.get(&format!("{location}/history")).await;
    assert_eq!(history["results"][0]["operation"], "insert", "{history}");
    assert_eq!(history["results"][0]["actor"], "ops:jane", "{history}");

    let mut minimal = announcement("B00000002", security);
    let fields = minimal.as_object_mut().expect("an object");
    fields.remove("status");
    fields.remove("currency");
    let (status, _, created) = fixture.post("/dividends", &minimal, None).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["status"], "announced");
    assert_eq!(created["currency"], "USD");

    let mut computed = announcement("B00000003", security);
    computed["days_to_payment"] = 3.into();
    let (status, _, problem) = fixture.post("/dividends", &computed, None).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(
        problem["errors"][0]["pointer"], "/days_to_payment",
        "{problem}"
    );
    assert_eq!(problem["errors"][0]["code"], "read_only", "{problem}");
}

/// Operations staff cancel an announcement by hand, confirming its
/// announcement id: the change log records who did, a mistyped id cancels
/// nothing, a second cancel is a conflict, and support may not cancel.
pub(crate) async fn an_operator_cancels_an_announcement_by_hand(fixture: Fixture) {
    let security = fixture.security_id("AAPL").await;
    let (status, location, created) = fixture
        .post("/dividends", &announcement("C00000001", security), None)
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let cancel = format!("{location}/cancel");
    let operator = fixture.token("olivia", roles::OPERATIONS).await;
    let support = fixture.token("sam", roles::SUPPORT).await;
    let body =
        |announcement_id: &str| Some(serde_json::json!({"announcement_id": announcement_id}));
    let (status, _, refused) = fixture
        .send_as(Some(&support), Method::POST, &cancel, body("C00000001"))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{refused}");
    let (status, _, mistyped) = fixture
        .send_as(Some(&operator), Method::POST, &cancel, body("C00000002"))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{mistyped}");
    assert_eq!(mistyped["errors"][0]["pointer"], "/announcement_id");
    let (status, _, malformed) = fixture
        .send_as(Some(&operator), Method::POST, &cancel, body("c-1"))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{malformed}");
    assert_eq!(malformed["errors"][0]["code"], "pattern");
    let (status, _, cancelled) = fixture
        .send_as(Some(&operator), Method::POST, &cancel, body("C00000001"))
        .await;
    assert_eq!(status, StatusCode::OK, "{cancelled}");
    assert_eq!(cancelled["status"], "cancelled");
    assert_eq!(cancelled["version"], 2);
    let (status, _, again) = fixture
        .send_as(Some(&operator), Method::POST, &cancel, body("C00000001"))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{again}");
    let (_, _, history) = fixture.get(&format!("{location}/history")).await;
    let update = &history["results"][1];
    assert_eq!(update["operation"], "update", "{history}");
    let status = update["fields"]
        .as_array()
        .and_then(|fields| fields.iter().find(|field| field["field"] == "status"))
        .unwrap_or_else(|| panic!("the cancel changed the status: {history}"));
    assert_eq!(
        (&status["old"], &status["new"]),
        (&"announced".into(), &"cancelled".into())
    );
    let actor = update["actor"].as_str().expect("an actor");
    assert!(actor.starts_with("user:"), "the operator's token: {actor}");
}

/// A client of the first release (2026-06-01) and one of the newest
/// (2026-12-01) on the same rows: the old one writes and reads the rate as
/// `amount_per_share`, never sees a status, may not filter or write one, has
/// no cancel, and its errors point at the names it sent; every answer says
/// the version it was made in.
pub(crate) async fn an_old_client_and_a_new_client_work_side_by_side(fixture: Fixture) {
    const OLD: Option<&str> = Some("2026-06-01");
    let security = fixture.security_id("AAPL").await;
    let mut old_body = announcement("V00000001", security);
    let rate = old_body
        .as_object_mut()
        .and_then(|body| body.remove("rate"))
        .expect("a rate");
    old_body["amount_per_share"] = rate;
    old_body.as_object_mut().map(|body| body.remove("status"));
    let (status, headers, created) = fixture
        .send_in(OLD, Method::POST, "/dividends", Some(old_body.clone()))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(headers["api-version"], "2026-06-01");
    assert!(
        headers
            .get_all("vary")
            .iter()
            .any(|vary| vary == "api-version"),
        "{headers:?}"
    );
    assert_eq!(created["amount_per_share"], "0.25", "{created}");
    assert!(
        created.get("rate").is_none() && created.get("status").is_none(),
        "{created}"
    );
    let location = headers["location"].to_str().expect("a location").to_owned();

    let (status, headers, new) = fixture.send_in(None, Method::GET, &location, None).await;
    assert_eq!(status, StatusCode::OK, "{new}");
    assert_eq!(headers["api-version"], "2026-12-01");
    assert_eq!(
        (&new["rate"], &new["status"]),
        (&"0.25".into(), &"announced".into()),
        "{new}"
    );
    assert!(new.get("amount_per_share").is_none(), "{new}");
    let (_, _, old) = fixture.send_in(OLD, Method::GET, &location, None).await;
    let mut expected = new.clone();
    expected.as_object_mut().map(|row| row.remove("status"));
    let rate = expected.as_object_mut().and_then(|row| row.remove("rate"));
    expected["amount_per_share"] = rate.expect("a rate");
    assert_eq!(old, expected, "the same row, the old shape");

    let (status, _, page) = fixture
        .send_in(
            OLD,
            Method::GET,
            "/dividends?symbol=AAPL&page_size=1&ordering=ex_date",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(
        page["results"][0].get("amount_per_share").is_some(),
        "{page}"
    );
    let next = page["next"].as_str().expect("a next page");
    let (status, _, second) = fixture.send_in(OLD, Method::GET, next, None).await;
    assert_eq!(status, StatusCode::OK, "{second}");
    assert!(second["results"][0].get("status").is_none(), "{second}");

    let (status, _, problem) = fixture
        .send_in(OLD, Method::GET, "/dividends?status=announced", None)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{problem}");
    let mut with_status = old_body.clone();
    with_status["announcement_id"] = "V00000002".into();
    with_status["status"] = "announced".into();
    let (status, _, problem) = fixture
        .send_in(OLD, Method::POST, "/dividends", Some(with_status))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(problem["errors"][0]["pointer"], "/status", "{problem}");
    let mut zero = old_body.clone();
    zero["announcement_id"] = "V00000003".into();
    zero["amount_per_share"] = "0".into();
    let (status, _, problem) = fixture
        .send_in(OLD, Method::POST, "/dividends", Some(zero))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(
        problem["errors"][0]["pointer"], "/amount_per_share",
        "{problem}"
    );

    // The change log speaks the old version too: the row's history, a page
    // of the log and its live tail name the rate as the old version did and
    // leave the status out.
    let (_, _, history) = fixture
        .send_in(OLD, Method::GET, &format!("{location}/history"), None)
        .await;
    let fields = |record: &serde_json::Value| -> Vec<String> {
        record["fields"]
            .as_array()
            .expect("fields")
            .iter()
            .map(|entry| entry["field"].as_str().unwrap_or_default().to_owned())
            .collect()
    };
    let recorded = fields(&history["results"][0]);
    assert!(
        recorded.contains(&"amount_per_share".to_owned()),
        "{history}"
    );
    assert!(
        !recorded
            .iter()
            .any(|field| field == "rate" || field == "status"),
        "{history}"
    );
    let (_, _, newest_history) = fixture
        .send_in(None, Method::GET, &format!("{location}/history"), None)
        .await;
    assert!(fields(&newest_history["results"][0]).contains(&"status".to_owned()));
    let (status, _, log) = fixture
        .send_in(
            OLD,
            Method::GET,
            "/changes?model=dividend&page_size=500",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{log}");
    let last = log["results"]
        .as_array()
        .and_then(|records| records.last())
        .expect("records");
    assert!(
        fields(last).contains(&"amount_per_share".to_owned()),
        "{last}"
    );
    let seq = last["seq"].as_i64().expect("a position");
    let request = Request::get(format!("/changes/stream?after={}", seq - 1))
        .extension(fw::testing::superuser())
        .header("api-version", "2026-06-01")
        .body(Body::empty())
        .expect("request");
    let response = fixture
        .router
        .clone()
        .oneshot(request)
        .await
        .expect("response");
    assert_eq!(response.headers()["api-version"], "2026-06-01");
    let mut body = response.into_body().into_data_stream();
    let mut event = String::new();
    while !event.contains("\n\n") {
        let frame = tokio::time::timeout(std::time::Duration::from_secs(10), body.next())
            .await
            .expect("an event in time")
            .expect("the stream goes on")
            .expect("a frame");
        event.push_str(std::str::from_utf8(&frame).expect("text"));
    }
    let data = event
        .lines()
        .find_map(|line| line.strip_prefix("data:"))
        .expect("a data line");
    let record: serde_json::Value = serde_json::from_str(data.trim()).expect("a record");
    assert!(
        fields(&record).contains(&"amount_per_share".to_owned()),
        "{record}"
    );

    let cancel = Some(serde_json::json!({"announcement_id": "V00000001"}));
    let (status, _, problem) = fixture
        .send_in(
            OLD,
            Method::POST,
            &format!("{location}/cancel"),
            cancel.clone(),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{problem}");
    let (status, _, cancelled) = fixture
        .send_in(None, Method::POST, &format!("{location}/cancel"), cancel)
        .await;
    assert_eq!(status, StatusCode::OK, "{cancelled}");

    for unknown in ["2025-01-01", "yesterday"] {
        let (status, headers, problem) = fixture
            .send_in(Some(unknown), Method::GET, &location, None)
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{problem}");
        assert_eq!(headers["content-type"], "application/problem+json");
        let detail = problem["detail"].as_str().unwrap_or_default();
        assert!(detail.contains("2026-12-01, 2026-06-01"), "{problem}");
    }
}

/// Each version's document is served at `/openapi/{date}.json` and is the
/// one committed for it; `/openapi.json` is the newest's.
pub(crate) async fn each_version_serves_its_committed_document(fixture: Fixture) {
    let crate_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    for (path, file) in [
        ("/openapi.json", crate_dir.join("openapi.json")),
        ("/openapi/2026-12-01.json", crate_dir.join("openapi.json")),
        (
            "/openapi/2026-06-01.json",
            crate_dir.join("openapi/2026-06-01.json"),
        ),
    ] {
        let (status, _, served) = fixture.send_in(None, Method::GET, path, None).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        let committed: Value =
            serde_json::from_str(&std::fs::read_to_string(&file).expect("committed document"))
                .expect("JSON");
        assert_eq!(served, committed, "{path} is {}", file.display());
    }
}

/// What the import refuses, the API refuses: dates out of order (every one
/// reported, with the import's words), a taken announcement id, a security
/// that does not exist; and nothing is written.
pub(crate) async fn a_bad_dividend_is_refused_and_not_written(fixture: Fixture) {
    let security = fixture.security_id("KO").await;
    let mut reversed = announcement("B00000003", security);
    reversed["pay_date"] = "2026-01-19".into();
    let (status, _, problem) = fixture.post("/dividends", &reversed, None).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    let errors: Vec<(&str, &str, &str)> = problem["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|error| {
            (
                error["pointer"].as_str().unwrap_or_default(),
                error["code"].as_str().unwrap_or_default(),
                error["detail"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        errors,
        [
            (
                "/pay_date",
                "date_order",
                "the pay date 2026-01-19 is before the ex-date 2026-01-20"
            ),
            (
                "/pay_date",
                "date_order",
                "the pay date 2026-01-19 is before the record date 2026-01-21"
            ),
        ]
    );

    let (status, _, _) = fixture
        .post("/dividends", &announcement("B00000004", security), None)
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _, problem) = fixture
        .post("/dividends", &announcement("B00000004", security), None)
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{problem}");
    assert_eq!(problem["errors"][0]["pointer"], "/announcement_id");
    assert_eq!(problem["errors"][0]["code"], "unique");
    let imported = announcement("DV2026031600005", security);
    let (status, _, _) = fixture.post("/dividends", &imported, None).await;
    assert_eq!(status, StatusCode::CONFLICT, "an imported id is taken too");

    let (status, _, problem) = fixture
        .post("/dividends", &announcement("B00000005", 999_999), None)
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{problem}");
    assert_eq!(problem["errors"][0]["pointer"], "/security");
    assert_eq!(problem["errors"][0]["code"], "does_not_exist");

    let (_, _, page) = fixture.get("/dividends?page_size=500").await;
    let mut ids: Vec<&str> = page["results"]
        .as_array()
        .expect("results")
        .iter()
        .filter_map(|dividend| dividend["announcement_id"].as_str())
        .filter(|id| id.starts_with('B'))
        .collect();
    ids.sort_unstable();
    assert_eq!(ids, ["B00000004"], "refused dividends are not written");
}

/// A rate of zero pays nothing: the API refuses it with the constraint's code
/// (as it refuses a negative one, which the document's pattern already rules
/// out), and so does the database's CHECK when a write skips the API.
pub(crate) async fn a_zero_rate_is_refused_by_the_api_and_the_database(fixture: Fixture) {
    let security = fixture.security_id("KO").await;
    for (rate, detail) in [
        ("0", "must be more than 0"),
        ("0.00000000", "must be more than 0"),
        ("-0.25", "must be more than 0, without a sign"),
    ] {
        let mut zero = announcement("B00000006", security);
        zero["rate"] = rate.into();
        let (status, _, problem) = fixture.post("/dividends", &zero, None).await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{rate}: {problem}"
        );
        assert_eq!(problem["errors"][0]["pointer"], "/rate", "{problem}");
        assert_eq!(
            problem["errors"][0]["code"], "exclusive_min_value",
            "{problem}"
        );
        assert_eq!(problem["errors"][0]["detail"], detail, "{problem}");
    }
    let mut smallest = announcement("B00000007", security);
    smallest["rate"] = "0.00000001".into();
    let (status, _, created) = fixture.post("/dividends", &smallest, None).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");

    let zero_rate = NewDividend {
        announcement_id: "B00000008".to_owned(),
        security: fw::Ref::new(security),
        declaration_date: date("2026-01-02"),
        ex_date: date("2026-01-20"),
        record_date: date("2026-01-21"),
        pay_date: date("2026-02-01"),
        rate: Decimal::ZERO,
        currency: "USD".to_owned(),
        kind: DividendKind::Regular,
        status: DividendStatus::Announced,
    };
    let error = Dividend::insert(fixture.test_db.db(), zero_rate)
        .await
        .expect_err("the database refuses a zero rate");
    assert!(
        matches!(&error, fw::Error::CheckViolation { constraint } if constraint == "dividend_rate_check"),
        "{error:?}"
    );
}

fn date(text: &str) -> NaiveDate {
    text.parse().expect("a date")
}

/// One request of [`every_route_answers_only_what_its_operation_lists`].
struct Probe {
    /// What it provokes, for failure messages.
    what: &'static str,
    /// Appended to the path.
    query: &'static str,
    headers: Vec<(&'static str, String)>,
    /// The body and its `Content-Type`.
    body: Option<(&'static str, Vec<u8>)>,
    /// Whether it names a row that does not exist.
    missing_row: bool,
    /// Whether its `Idempotency-Key` was first sent with another request.
    reusing_key: bool,
    /// Who sends it, as authentication would hand it over.
    caller: fw::Caller,
}

impl Probe {
    fn new(what: &'static str) -> Probe {
        Probe {
            what,
            query: "",
            headers: Vec::new(),
            body: None,
            missing_row: false,
            reusing_key: false,
            caller: fw::testing::superuser(),
        }
    }

    fn header(mut self, name: &'static str, value: impl Into<String>) -> Probe {
        self.headers.push((name, value.into()));
        self
    }

    fn json(mut self, body: &Value) -> Probe {
        self.body = Some(("application/json", body.to_string().into_bytes()));
        self
    }

    fn body(mut self, content_type: &'static str, body: impl Into<Vec<u8>>) -> Probe {
        self.body = Some((content_type, body.into()));
        self
    }
}

/// A valid body for a write of a security (`n` keeps its unique values apart).
fn security_body(n: usize) -> Value {
    serde_json::json!({"symbol": format!("P{n}"), "cusip": format!("{n:09}"), "name": "Probe Corp"})
}

/// What a request to `METHOD path` sends when it should succeed: securities'
/// writes need a valid body, everything else none.
fn valid_body(method: &Method, path: &str, n: usize) -> Option<Value> {
    match (method.as_str(), path) {
        ("POST", "/securities") => Some(security_body(n)),
        ("PUT", "/securities/{id}") => Some(security_body(n + 500_000)),
        ("PATCH", "/securities/{id}") => Some(serde_json::json!({"name": "Renamed Corp"})),
        _ => None,
    }
}

/// The probes of `METHOD path`: the plain request, then one per refusal a
/// step of a route may answer (a probe a route does not read is answered as
/// the plain request would be).
fn probes(method: &Method, path: &str, n: usize) -> Vec<Probe> {
    let valid = |probe: Probe| match valid_body(method, path, n) {
        Some(body) => probe.json(&body),
        None => probe,
    };
    let mut probes = vec![
        valid(Probe::new("plain")),
        Probe {
            caller: fw::Caller::Anonymous,
            ..valid(Probe::new("no credentials"))
        },
        Probe {
            caller: fw::testing::user(1, &[]),
            ..valid(Probe::new("a user without the permission"))
        },
        valid(Probe::new("an Accept without JSON")).header("accept", "text/html"),
        valid(Probe::new("an If-Match naming another version")).header("if-match", "\"0\""),
    ];
    if path.contains("{id}") {
        probes.push(Probe {
            missing_row: true,
            ..valid(Probe::new("a row that does not exist"))
        });
    }
    if method.is_safe() {
        probes.extend([
            Probe {
                query: "?no_such_parameter=1",
                ..Probe::new("an unknown query parameter")
            },
            Probe::new("a malformed If-None-Match").header("if-none-match", "not-a-tag"),
            Probe::new("a matching If-None-Match").header("if-none-match", "*"),
        ]);
    } else {
        probes.extend([
            valid(Probe::new("a malformed If-Match")).header("if-match", "not-a-tag"),
            valid(Probe::new("a malformed Idempotency-Key")).header("idempotency-key", "a key"),
            Probe::new("a body that is not JSON").body("application/json", "not json"),
            Probe::new("a body sent as text").body("text/plain", "text"),
            Probe::new("an empty JSON object").json(&serde_json::json!({})),
            Probe::new("a body over the limit")
                .header("idempotency-key", format!("large-{n}"))
                .body("application/json", vec![b' '; (1 << 20) + 1]),
            Probe {
                reusing_key: true,
                ..Probe::new("an Idempotency-Key used with another request")
                    .header("idempotency-key", format!("reused-{n}"))
                    .json(&serde_json::json!({"another": "request"}))
            },
        ]);
    }
    probes
}

/// Each role reads and writes what it is for and is refused the rest: 403 for
/// a known user without the permission, 401 with a challenge for no one.
pub(crate) async fn each_role_may_do_what_it_is_for_and_nothing_else(fixture: Fixture) {
    let operations = fixture.token("olivia", roles::OPERATIONS).await;
    let customer_app = fixture.token("customer-app", roles::CUSTOMER_APP).await;
    let support = fixture.token("sam", roles::SUPPORT).await;
    let compliance = fixture.token("carol", roles::COMPLIANCE).await;
    let security = fixture.security_id("AAPL").await;
    let account = format!("/accounts/{}", fixture.account.id);
    let by_tax_id = format!("/accounts?tax_id={}", fixture.account.tax_id);
    let upcoming = fixture.upcoming("?from=2026-03-17");
    let new_security =
        serde_json::json!({"symbol": "ROLE", "cusip": "R00000001", "name": "Role Corp"});
    let rename = serde_json::json!({"name": "Renamed Corp"});
    let securities = format!("/securities/{security}");
    let reads = [
        "/securities",
        "/dividends",
        "/accounts",
        account.as_str(),
        "/sensitive-reads",
        by_tax_id.as_str(),
        upcoming.as_str(),
        "/changes",
    ];
    // Per role, the reads it may make (of `reads`, in order) and its writes.
    let allowed_reads = [
        (
            &operations,
            "operations",
            [true, true, false, false, false, false, false, false],
        ),
        (
            &customer_app,
            "customer_app",
            [true, true, false, false, false, false, false, false],
        ),
        (
            &support,
            "support",
            [true, true, true, true, false, false, true, false],
        ),
        (
            &compliance,
            "compliance",
            [true, true, true, true, true, true, true, true],
        ),
    ];
    for (token, role, allowed) in allowed_reads {
        for (uri, allowed) in reads.iter().zip(allowed) {
            let (status, _, body) = fixture.send_as(Some(token), Method::GET, uri, None).await;
            let expected = if allowed {
                StatusCode::OK
            } else {
                StatusCode::FORBIDDEN
            };
            assert_eq!(status, expected, "{role} GET {uri}: {body}");
        }
    }
    let writes = [
        (&operations, true),
        (&customer_app, false),
        (&support, false),
        (&compliance, false),
    ];
    for (n, (token, may_write)) in writes.into_iter().enumerate() {
        let (expected_create, expected_change) = if may_write {
            (StatusCode::CREATED, StatusCode::OK)
        } else {
            (StatusCode::FORBIDDEN, StatusCode::FORBIDDEN)
        };
        let body = announcement(&format!("R{n:08}"), security);
        let (status, _, answer) = fixture
            .send_as(Some(token), Method::POST, "/dividends", Some(body))
            .await;
        assert_eq!(status, expected_create, "POST /dividends: {answer}");
        let mut body = new_security.clone();
        body["symbol"] = format!("ROLE{n}").into();
        body["cusip"] = format!("R0000000{n}").into();
        let (status, _, answer) = fixture
            .send_as(Some(token), Method::POST, "/securities", Some(body))
            .await;
        assert_eq!(status, expected_create, "POST /securities: {answer}");
        let (status, _, answer) = fixture
            .send_as(
                Some(token),
                Method::PATCH,
                &securities,
                Some(rename.clone()),
            )
            .await;
        assert_eq!(status, expected_change, "PATCH {securities}: {answer}");
    }

    for uri in reads {
        let (status, challenge, body) = fixture.send_as(None, Method::GET, uri, None).await;
        assert_eq!(
            status,
            StatusCode::UNAUTHORIZED,
            "anonymous GET {uri}: {body}"
        );
        assert_eq!(challenge, "Bearer", "GET {uri}");
    }
    let (status, _, body) = fixture
        .send_as(
            Some("Bearer fw_not-a-token"),
            Method::GET,
            "/securities",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "a bad token: {body}");
}

/// Support looks accounts up by number and sees who holds them, never the
/// tax id (omitted, not masked), and may not search by one; compliance reads
/// the same accounts with it, finds them by it, and reads the audit of who
/// was shown what.
pub(crate) async fn only_compliance_sees_the_tax_id(fixture: Fixture) {
    let support = fixture.token("sam", roles::SUPPORT).await;
    let compliance = fixture.token("carol", roles::COMPLIANCE).await;
    let by_number = format!("/accounts?number={DEMO_ACCOUNT_NUMBER}");

    let (status, _, page) = fixture
        .send_as(Some(&support), Method::GET, &by_number, None)
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let listed = &page["results"][0];
    assert_eq!(listed["id"], fixture.account.id.to_string(), "{page}");
    assert_eq!(listed["holder_name"], "Ada Lovelace");
    assert!(listed.get("tax_id").is_none(), "{listed}");
    let (status, _, account) = fixture
        .send_as(
            Some(&support),
            Method::GET,
            &format!("/accounts/{}", fixture.account.id),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{account}");
    assert!(account.get("tax_id").is_none(), "{account}");
    assert!(
        !account.to_string().contains(&fixture.account.tax_id),
        "{account}"
    );
    let by_tax_id = format!("/accounts?tax_id={}", fixture.account.tax_id);
    let (status, _, problem) = fixture
        .send_as(Some(&support), Method::GET, &by_tax_id, None)
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{problem}");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("`view_account_tax_id`"),
        "the refusal names the permission: {problem}"
    );
    assert!(!problem.to_string().contains(&fixture.account.tax_id));

    let (status, _, page) = fixture
        .send_as(Some(&compliance), Method::GET, &by_tax_id, None)
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(page["results"][0]["id"], fixture.account.id.to_string());
    assert_eq!(
        page["results"][0]["tax_id"], fixture.account.tax_id,
        "{page}"
    );

    let (status, _, audit) = fixture
        .send_as(
            Some(&compliance),
            Method::GET,
            "/sensitive-reads?model_table=account",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{audit}");
    let fields: Vec<&str> = audit["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|read| read["fields"].as_str())
        .collect();
    assert_eq!(
        fields,
        [
            r#"["holder_name","tax_id"]"#,
            r#"["holder_name"]"#,
            r#"["holder_name"]"#
        ],
        "newest first: compliance's search, support's two reads: {audit}"
    );
}

/// A row action that answers with the security unchanged.
struct Touch;

impl fw::RowAction for Touch {
    type Resource = example_dividends::api::SecurityResource;
    type Body = ();
    const NAME: &'static str = "touch";
    const SUMMARY: &'static str = "Answer with the security unchanged";
    const ACCESS: fw::Access = fw::Access::Permission("touch_security");

    async fn run(
        _request: &fw::RequestContext,
        _tx: &mut fw::Tx,
        security: example_dividends::models::Security,
        _body: (),
    ) -> Result<example_dividends::models::Security, fw::ApiError> {
        Ok(security)
    }
}

/// The route table drives the router and the document alike: walked against
/// a real router for a resource with every action (securities, plus a custom
/// action), each method on each path answers only what its operation lists,
/// and a 405 naming the documented methods where the document has no
/// operation; and every refusal listed is answered to some probe, but those
/// no request can provoke here (a conflict, an unavailable database, and
/// `serve`'s own refusals).
pub(crate) async fn every_route_answers_only_what_its_operation_lists(fixture: Fixture) {
    let api = example_dividends::api::api().row_action::<Touch>();
    let document = api.openapi_json();
    let router = api.into_router(fixture.test_db.context());
    let send = |method: Method, uri: String, probe: &Probe| {
        let mut request = Request::builder()
            .method(method)
            .uri(uri)
            .extension(probe.caller.clone());
        for (name, value) in &probe.headers {
            request = request.header(*name, value);
        }
        let body = match &probe.body {
            Some((content_type, body)) => {
                request = request.header("content-type", *content_type);
                Body::from(body.clone())
            }
            None => Body::empty(),
        };
        let request = request.body(body).expect("request");
        let router = router.clone();
        async move { router.oneshot(request).await.expect("response") }
    };
    let methods = [
        Method::GET,
        Method::HEAD,
        Method::POST,
        Method::PUT,
        Method::PATCH,
        Method::DELETE,
    ];
    let mut n = 0;
    let paths = document["paths"].as_object().expect("paths");
    let mut walked = 0;
    for (path, item) in paths
        .iter()
        .filter(|(path, _)| path.starts_with("/securities"))
    {
        let documented: Vec<&Method> = methods
            .iter()
            .filter(|method| item.get(operation_key(method)).is_some())
            .collect();
        for method in &methods {
            let Some(operation) = item.get(operation_key(method)) else {
                n += 1;
                let uri = path.replace("{id}", &create_security(&send, n).await.to_string());
                let response = send(method.clone(), uri, &Probe::new("plain")).await;
                assert_eq!(
                    response.status(),
                    StatusCode::METHOD_NOT_ALLOWED,
                    "{method} {path}"
                );
                let allow = response.headers()["allow"]
                    .to_str()
                    .expect("ascii")
                    .to_owned();
                let mut allowed: Vec<&str> = allow.split(',').map(str::trim).collect();
                allowed.sort_unstable();
                let mut expected: Vec<&str> =
                    documented.iter().map(|method| method.as_str()).collect();
                expected.sort_unstable();
                assert_eq!(allowed, expected, "Allow of {path}");
                continue;
            };
            walked += 1;
            let listed: Vec<u16> = operation["responses"]
                .as_object()
                .expect("responses")
                .keys()
                .map(|status| status.parse().expect("a status"))
                .collect();
            let mut answered = Vec::new();
            let set = n;
            let valid = |probe: Probe| match valid_body(method, path, set) {
                Some(body) => probe.json(&body),
                None => probe,
            };
            for probe in probes(method, path, set) {
                n += 1;
                let id = if !path.contains("{id}") {
                    0
                } else if probe.missing_row {
                    999_999_999
                } else {
                    create_security(&send, n).await
                };
                let uri = format!("{}{}", path.replace("{id}", &id.to_string()), probe.query);
                if probe.reusing_key {
                    let mut first = valid(Probe::new("the key's first request"));
                    first.headers.clone_from(&probe.headers);
                    send(method.clone(), uri.clone(), &first).await;
                }
                let status = send(method.clone(), uri, &probe).await.status().as_u16();
                assert!(
                    listed.contains(&status),
                    "{method} {path} with {} answered {status}, which its operation does not list ({listed:?})",
                    probe.what
                );
                answered.push(status);
            }
            let unprovoked: Vec<u16> = listed
                .iter()
                .copied()
                .filter(|status| !answered.contains(status))
                // The server's limits and the rate limit answer in front
                // of the router, a race and a database down inside it.
                .filter(|status| ![408, 409, 414, 429, 431, 503].contains(status))
                .collect();
            assert!(
                unprovoked.is_empty(),
                "{method} {path} lists {unprovoked:?}, which no probe provoked"
            );
        }
    }
    // GET, HEAD and POST on the collection; GET, HEAD, PUT, PATCH and DELETE on
    // an item; GET and HEAD on its history; POST on the custom action.
    assert_eq!(walked, 11, "every route of the table was walked");
}

/// A new security, as `POST /securities` makes it through `send`: its id.
async fn create_security<F, Fut>(send: &F, n: usize) -> i64
where
    F: Fn(Method, String, &Probe) -> Fut,
    Fut: std::future::Future<Output = axum::response::Response>,
{
    let response = send(
        Method::POST,
        "/securities".to_owned(),
        &Probe::new("a new security").json(&security_body(n)),
    )
    .await;
    assert_eq!(response.status(), StatusCode::CREATED, "a new security");
    let body = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .expect("body");
    let row: Value = serde_json::from_slice(&body).expect("JSON");
    row["id"].as_i64().expect("an id")
}

/// The key of `method`'s operation in a path item (`HEAD` is `GET`'s).
fn operation_key(method: &Method) -> &'static str {
    match *method {
        Method::HEAD | Method::GET => "get",
        Method::POST => "post",
        Method::PUT => "put",
        Method::PATCH => "patch",
        _ => "delete",
    }
}

/// Runs `case` on the [`Fixture`] over a fresh database.
async fn with_fixture(test_db: fw::testing::TestDb, case: impl AsyncFnOnce(Fixture)) {
    case(Fixture::new(test_db).await).await;
}

fw::testing::database_suite! {
    database: crate::DATABASE,
    run: with_fixture,
    cases: [
        upcoming_payments_are_exact_and_skip_cancellations,
        an_operator_cancels_an_announcement_by_hand,
        an_old_client_and_a_new_client_work_side_by_side,
        each_version_serves_its_committed_document,
        unknown_accounts_are_404_problems,
        bad_parameters_are_400_problems_naming_them,
        the_spec_documents_the_custom_endpoint,
        a_dividends_history_shows_the_import_and_the_correction,
        dividends_filter_by_the_securitys_symbol,
        a_dividend_is_created_by_hand_and_logged,
        a_bad_dividend_is_refused_and_not_written,
        every_route_answers_only_what_its_operation_lists,
        a_zero_rate_is_refused_by_the_api_and_the_database,
        each_role_may_do_what_it_is_for_and_nothing_else,
        only_compliance_sees_the_tax_id,
    ],
}
