//! Backend-agnostic cases for API versions: three versions of a parcels API,
//! each edit kind between them, through an app's router in-process. The same
//! rows are read and written in every version, and each version's document
//! says what its clients get.

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderMap, StatusCode};
use serde_json::{Map, Value as Json, json};
use tower::ServiceExt as _;

use fw::testing::TestDb;
use fw::{App, Edit, FieldError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, fw::Choices)]
pub(crate) enum Size {
    Small,
    Large,
    Huge,
}

#[fw::model]
pub(crate) struct Parcel {
    pub(crate) id: i64,
    #[field(max_length = 40)]
    pub(crate) label: String,
    pub(crate) weight_grams: i64,
    pub(crate) size: Size,
    #[field(max_length = 20)]
    pub(crate) carrier: String,
    #[field(max_length = 200)]
    pub(crate) note: Option<String>,
    #[field(version)]
    pub(crate) version: i64,
}

/// A parcel.
#[fw::resource(
    model = Parcel,
    path = "/parcels",
    fields = all,
    actions(list, retrieve, create, partial_update, destroy),
    permissions(public, create = public, partial_update = public, destroy = public),
    filter(label(exact), weight_grams(gte), size(exact, in)),
    ordering(label, weight_grams),
    default_ordering = "label",
    page_size = 50,
    max_page_size = 100
)]
pub(crate) struct ParcelResource;

/// On 2026-12-01: `name` became `label`, weights became numbers, parcels can
/// be huge, `tracked` went (it is the carrier's business), and parcels are no
/// longer deleted.
const DECEMBER: fw::VersionChange = fw::VersionChange::new(
    "`name` is `label`; weights are integers; sizes include `huge`; no `tracked`; \
     no deleting.",
    &[
        fw::Edit::renamed(fw::field!(ParcelResource, label), "name"),
        Edit::Converted {
            field: fw::field!(ParcelResource, weight_grams),
            schema: || json!({"type": "string", "pattern": "^[0-9]{1,9}$"}),
            up: grams_from_text,
            down: |grams| Json::from(grams.to_string()),
        },
        Edit::EnumValueAdded {
            field: fw::field!(ParcelResource, size),
            value: "huge",
            was: "large",
        },
        Edit::Removed {
            resource: <ParcelResource as fw::Resource>::SPEC,
            name: "tracked",
            schema: || json!({"type": "boolean", "description": "Whether the carrier tracks it."}),
            read: |parcel| {
                Json::from(
                    parcel
                        .get("carrier")
                        .is_some_and(|carrier| carrier != "post"),
                )
            },
        },
        fw::Edit::endpoint_removed("DELETE", "/parcels/{id}"),
    ],
);

/// On 2026-09-01 the note became a plain string; it was `{"text": ...}`.
const SEPTEMBER: fw::VersionChange = fw::VersionChange::new(
    "A parcel's `note` is a string.",
    &[Edit::Custom {
        resource: <ParcelResource as fw::Resource>::SPEC,
        request: note_from_object,
        response: |parcel| {
            if let Some(note) = parcel.get_mut("note")
                && note.is_string()
            {
                *note = json!({"text": note.take()});
            }
        },
        document: |document| {
            document["components"]["schemas"]["Parcel"]["properties"]["note"] = json!({
                "type": ["object", "null"],
                "properties": {"text": {"type": "string"}},
            });
        },
    }],
);

fn grams_from_text(weight: &Json) -> Result<Json, String> {
    weight
        .as_str()
        .filter(|text| {
            !text.is_empty() && text.len() <= 9 && text.bytes().all(|b| b.is_ascii_digit())
        })
        .and_then(|text| text.parse::<i64>().ok())
        .map(Json::from)
        .ok_or_else(|| "is not a weight in grams, digits only".to_owned())
}

fn note_from_object(parcel: &mut Map<String, Json>) -> Result<(), FieldError> {
    let Some(note) = parcel.get_mut("note") else {
        return Ok(());
    };
    match note.get("text").and_then(Json::as_str) {
        Some(text) => {
            *note = Json::from(text);
            Ok(())
        }
        None if note.is_null() => Ok(()),
        None => Err(FieldError::new(
            "/note",
            "invalid",
            "must be {\"text\": \"...\"}",
        )),
    }
}

pub(crate) const VERSIONS: fw::Versions = fw::Versions::new(&[
    fw::Version::new(
        "2026-12-01",
        "Labels, weights in grams, huge parcels.",
        &[DECEMBER],
    ),
    fw::Version::new("2026-09-01", "Notes are strings.", &[SEPTEMBER]),
    fw::Version::first("2026-06-01", "The first release."),
]);

const JUNE: &str = "2026-06-01";
const SEPT: &str = "2026-09-01";

fn app() -> App {
    App::new("versions", env!("CARGO_MANIFEST_DIR"))
        .model::<Parcel>()
        .api(
            fw::Api::new("Parcels", "1.0.0")
                .resource::<ParcelResource>()
                .versions(VERSIONS),
        )
}

async fn router(test_db: &TestDb) -> Router {
    let app = app();
    fw::testing::create_tables(test_db.db(), app.models())
        .await
        .expect("the tables");
    app.router(test_db.context())
}

struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: Json,
}

/// `method uri`, with `body` as JSON when given, in `version` (none: the
/// header is not sent).
async fn send(
    router: &Router,
    version: Option<&str>,
    method: &str,
    uri: &str,
    body: Option<Json>,
) -> Reply {
    let headers: Vec<(&str, &str)> = version
        .map(|version| ("api-version", version))
        .into_iter()
        .collect();
    send_with(router, &headers, method, uri, body).await
}

/// `method uri` with `headers`, and `body` as JSON when given.
async fn send_with(
    router: &Router,
    headers: &[(&str, &str)],
    method: &str,
    uri: &str,
    body: Option<Json>,
) -> Reply {
    let mut request = Request::builder().method(method).uri(uri);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let request = match body {
        Some(body) => request
            .header("content-type", "application/json")
            .body(Body::from(body.to_string())),
        None => request.body(Body::empty()),
    };
    let response = router.clone().oneshot(request.unwrap()).await.unwrap();
    let (parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap();
    Reply {
        status: parts.status,
        headers: parts.headers,
        body: serde_json::from_slice(&bytes).unwrap_or(Json::Null),
    }
}

/// A parcel written in the first release's shape is read in every version's:
/// renamed, converted, removed-but-computed and reshaped fields each as that
/// version shows them, and a new enum value mapped for the versions before it.
pub(crate) async fn one_row_reads_in_every_version_s_shape(test_db: TestDb) {
    let router = router(&test_db).await;
    let created = send(
        &router,
        Some(JUNE),
        "POST",
        "/parcels",
        Some(json!({
            "name": "books",
            "weight_grams": "1200",
            "size": "large",
            "carrier": "courier",
            "tracked": false,
            "note": {"text": "fragile"},
        })),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(created.headers["api-version"], JUNE);
    let id = created.body["id"].as_i64().unwrap();
    assert_eq!(
        created.body,
        json!({"id": id, "name": "books", "weight_grams": "1200", "size": "large",
               "carrier": "courier", "tracked": true, "note": {"text": "fragile"}, "version": 1}),
        "what was sent for `tracked` is dropped; it is read from the carrier"
    );

    let newest = send(&router, None, "GET", &format!("/parcels/{id}"), None).await;
    assert_eq!(newest.headers["api-version"], "2026-12-01");
    assert_eq!(
        newest.body,
        json!({"id": id, "label": "books", "weight_grams": 1200, "size": "large",
               "carrier": "courier", "note": "fragile", "version": 1})
    );

    let huge = send(
        &router,
        None,
        "PATCH",
        &format!("/parcels/{id}"),
        Some(json!({"size": "huge"})),
    )
    .await;
    assert_eq!(huge.status, StatusCode::OK, "{}", huge.body);
    assert_eq!(huge.body["size"], "huge");
    let september = send(&router, Some(SEPT), "GET", &format!("/parcels/{id}"), None).await;
    assert_eq!(
        september.body,
        json!({"id": id, "name": "books", "weight_grams": "1200", "size": "large",
               "carrier": "courier", "tracked": true, "note": "fragile", "version": 2})
    );
    let june = send(&router, Some(JUNE), "GET", &format!("/parcels/{id}"), None).await;
    assert_eq!(june.body["note"], json!({"text": "fragile"}));
    assert_eq!(june.body["size"], "large");
}

/// An older client's filters and ordering use its names and formats, and
/// the links of its pages keep them.
pub(crate) async fn older_queries_are_made_new_and_links_made_old(test_db: TestDb) {
    let router = router(&test_db).await;
    for (name, grams) in [("a", "100"), ("b", "2000"), ("c", "3000")] {
        let created = send(
            &router,
            Some(JUNE),
            "POST",
            "/parcels",
            Some(json!({"name": name, "weight_grams": grams, "size": "small", "carrier": "post"})),
        )
        .await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    }
    let page = send(
        &router,
        Some(JUNE),
        "GET",
        "/parcels?weight_grams__gte=1000&ordering=-name&page_size=1",
        None,
    )
    .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert_eq!(page.body["results"][0]["name"], "c", "{}", page.body);
    let next = page.body["next"].as_str().unwrap().to_owned();
    assert!(next.contains("ordering=-name"), "{next}");
    let second = send(&router, Some(JUNE), "GET", &next, None).await;
    assert_eq!(second.body["results"][0]["name"], "b", "{}", second.body);
    assert_eq!(second.body["results"][0]["weight_grams"], "2000");

    let by_name = send(&router, Some(JUNE), "GET", "/parcels?name=a", None).await;
    assert_eq!(
        by_name.body["results"][0]["tracked"], false,
        "{}",
        by_name.body
    );
    let newest = send(&router, None, "GET", "/parcels?name=a", None).await;
    assert_eq!(
        newest.status,
        StatusCode::BAD_REQUEST,
        "the newest version has no `name`"
    );
    let bad = send(
        &router,
        Some(JUNE),
        "GET",
        "/parcels?weight_grams__gte=1kg",
        None,
    )
    .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.body);
    assert_eq!(bad.headers["content-type"], "application/problem+json");
}

/// What an older client sends wrong is refused with the pointers it would
/// understand; a value the newest version added is refused to older ones.
pub(crate) async fn older_errors_point_at_older_names(test_db: TestDb) {
    let router = router(&test_db).await;
    let too_long = "x".repeat(41);
    let refused = send(
        &router,
        Some(JUNE),
        "POST",
        "/parcels",
        Some(json!({"name": too_long, "weight_grams": "1", "size": "small", "carrier": "post"})),
    )
    .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    assert_eq!(
        refused.body["errors"][0]["pointer"], "/name",
        "{}",
        refused.body
    );
    let not_grams = send(
        &router,
        Some(JUNE),
        "POST",
        "/parcels",
        Some(json!({"name": "n", "weight_grams": "1kg", "size": "small", "carrier": "post"})),
    )
    .await;
    assert_eq!(not_grams.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(not_grams.body["errors"][0]["pointer"], "/weight_grams");
    let bad_note = send(
        &router,
        Some(JUNE),
        "POST",
        "/parcels",
        Some(json!({"name": "n", "weight_grams": "1", "size": "small", "carrier": "post", "note": "plain"})),
    )
    .await;
    assert_eq!(
        bad_note.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        bad_note.body
    );
    assert_eq!(bad_note.body["errors"][0]["pointer"], "/note");
    let renamed_twice = send(
        &router,
        Some(SEPT),
        "POST",
        "/parcels",
        Some(json!({"label": "n", "weight_grams": "1", "size": "small", "carrier": "post"})),
    )
    .await;
    assert_eq!(
        renamed_twice.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "`label` is not a field before 2026-12-01: {}",
        renamed_twice.body
    );
    let unknown = send(&router, Some("2026-01-01"), "GET", "/parcels", None).await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
    assert!(
        unknown.body["detail"]
            .as_str()
            .unwrap()
            .contains("2026-12-01, 2026-09-01, 2026-06-01"),
        "{}",
        unknown.body
    );
}

/// An endpoint removed in a version is served to the versions before it
/// only; each version's document lists what it serves.
pub(crate) async fn removed_endpoints_serve_older_clients_only(test_db: TestDb) {
    let router = router(&test_db).await;
    let created = send(
        &router,
        None,
        "POST",
        "/parcels",
        Some(json!({"label": "gone", "weight_grams": 5, "size": "small", "carrier": "post"})),
    )
    .await;
    let path = format!("/parcels/{}", created.body["id"]);
    let refused = send(&router, None, "DELETE", &path, None).await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND);
    let deleted = send(&router, Some(SEPT), "DELETE", &path, None).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);

    let newest = send(&router, None, "GET", "/openapi.json", None).await.body;
    assert!(newest["paths"]["/parcels/{id}"].get("delete").is_none());
    assert_eq!(newest["info"]["version"], "2026-12-01");
    let june = send(&router, None, "GET", "/openapi/2026-06-01.json", None)
        .await
        .body;
    assert_eq!(june["info"]["version"], JUNE);
    assert!(june["paths"]["/parcels/{id}"].get("delete").is_some());
    let parcel = &june["components"]["schemas"]["Parcel"];
    assert_eq!(parcel["properties"]["weight_grams"]["type"], "string");
    assert_eq!(parcel["properties"]["tracked"]["type"], "boolean");
    assert_eq!(
        parcel["properties"]["note"]["type"],
        json!(["object", "null"])
    );
    assert!(parcel["properties"].get("label").is_none());
    assert!(
        parcel["required"]
            .as_array()
            .unwrap()
            .contains(&json!("name"))
    );
    let size = &parcel["properties"]["size"];
    assert!(!size.to_string().contains("huge"), "{size}");
    let list = &june["paths"]["/parcels"]["get"]["parameters"];
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert!(
        names.contains(&"name") && !names.contains(&"label"),
        "{names:?}"
    );
    let ordering = list
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "ordering")
        .unwrap();
    assert!(ordering.to_string().contains("\"-name\""), "{ordering}");
    assert!(!ordering.to_string().contains("label"), "{ordering}");
    let september = send(&router, None, "GET", "/openapi/2026-09-01.json", None)
        .await
        .body;
    assert_eq!(
        september["components"]["schemas"]["Parcel"]["properties"]["note"],
        newest["components"]["schemas"]["Parcel"]["properties"]["note"]
    );
}

/// A token is pinned to a version when it is made (the newest unless it
/// names one): its requests are served in that version unless they send
/// `Api-Version`. A version the API does not have is refused.
pub(crate) async fn a_token_s_pinned_version_serves_its_requests(test_db: TestDb) {
    let app = App::new("versions", env!("CARGO_MANIFEST_DIR"))
        .model::<Parcel>()
        .auth()
        .api(
            fw::Api::new("Parcels", "1.0.0")
                .resource::<ParcelResource>()
                .versions(VERSIONS),
        );
    fw::testing::create_tables(test_db.db(), app.models())
        .await
        .expect("the tables");
    let router = app.router(test_db.context());
    let bearer = fw::testing::bearer(test_db.db(), "pat", &[]).await;
    let send_as = async |authorization: &str,
                         version: Option<&str>,
                         method: &str,
                         uri: &str,
                         body: Option<Json>| {
        let mut headers = vec![("authorization", authorization)];
        headers.extend(version.map(|version| ("api-version", version)));
        send_with(&router, &headers, method, uri, body).await
    };
    let pinned = send_as(
        &bearer,
        None,
        "POST",
        "/auth/tokens",
        Some(json!({"name": "old app", "api_version": JUNE})),
    )
    .await;
    assert_eq!(pinned.status, StatusCode::CREATED, "{}", pinned.body);
    assert_eq!(pinned.body["api_version"], JUNE);
    let old_app = format!("Bearer {}", pinned.body["token"].as_str().unwrap());
    let newest = send_as(
        &bearer,
        None,
        "POST",
        "/auth/tokens",
        Some(json!({"name": "new app"})),
    )
    .await;
    assert_eq!(
        newest.body["api_version"], "2026-12-01",
        "the newest version now"
    );
    let refused = send_as(
        &bearer,
        None,
        "POST",
        "/auth/tokens",
        Some(json!({"name": "typo", "api_version": "2026-06-02"})),
    )
    .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    assert_eq!(refused.body["errors"][0]["pointer"], "/api_version");

    let created = send_as(
        &old_app,
        None,
        "POST",
        "/parcels",
        Some(json!({"name": "pinned", "weight_grams": "10", "size": "small", "carrier": "post"})),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(created.headers["api-version"], JUNE);
    let path = format!("/parcels/{}", created.body["id"]);
    let overridden = send_as(&old_app, Some("2026-12-01"), "GET", &path, None).await;
    assert_eq!(overridden.headers["api-version"], "2026-12-01");
    assert_eq!(overridden.body["label"], "pinned");
    let listed = send_as(&bearer, None, "GET", "/auth/tokens", None).await;
    let versions: Vec<&Json> = listed.body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|token| &token["api_version"])
        .collect();
    assert!(versions.contains(&&json!(JUNE)), "{}", listed.body);
}

fw::testing::database_suite! {
    database: crate::DATABASE,
    cases: [
        one_row_reads_in_every_version_s_shape,
        older_queries_are_made_new_and_links_made_old,
        older_errors_point_at_older_names,
        removed_endpoints_serve_older_clients_only,
        a_token_s_pinned_version_serves_its_requests,
    ],
}
