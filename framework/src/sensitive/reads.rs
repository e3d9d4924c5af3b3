//! The read audit: every response that shows sensitive values appends one row
//! to `fw_sensitive_read` (who, when, which request, which table, which rows,
//! which fields), in the request's work and before the response leaves, so a
//! reveal that could not be recorded is an error and never a silent one.
//!
//! Compliance reads it through `GET /sensitive-reads` (permission
//! [`VIEW_SENSITIVE_READS`]) or the `sensitive-reads` command.

use chrono::{DateTime, Utc};

use crate::db::Conn;
use crate::model::Model;
use crate::rest::{ApiError, RequestContext, ResourceSpec, Reveal};

/// The permission that lets compliance read the audit of sensitive reads.
pub const VIEW_SENSITIVE_READS: &str = "view_sensitive_reads";

/// The most row keys one audit row lists: a list page's, which the largest
/// page size bounds well below this.
const MAX_ROW_KEYS: usize = 1000;

/// One response that showed sensitive values: no values, only where they were.
#[derive(Clone)]
#[crate::model(table = "fw_sensitive_read")]
pub struct SensitiveRead {
    /// The record's id, in the order reads were recorded.
    pub id: i64,
    /// When the values were shown.
    #[field(index)]
    pub at: DateTime<Utc>,
    /// Who was shown them: `user:<id>`, or `user:<id>/token:<id>` for a token
    /// (the change log's actor).
    #[field(index, max_length = 200)]
    pub actor: String,
    /// The request's `x-request-id`, which leads to its log lines.
    #[field(max_length = 200)]
    pub request_id: Option<String>,
    /// The table the rows are in.
    #[field(index, max_length = 200)]
    pub model_table: String,
    /// The primary keys of the rows shown, as a JSON array of their text (a
    /// list page's keys, in page order).
    pub row_keys: String,
    /// The names in JSON of the sensitive fields shown, as a JSON array.
    pub fields: String,
}

/// Records that `request` was shown `spec`'s sensitive fields that `reveal`
/// shows, for the rows whose keys are `keys`; nothing when it shows none or
/// there are no rows.
///
/// # Errors
///
/// The database error as an [`ApiError`] (503 when the database is
/// unavailable, else 500): the caller must not send the values then.
pub(crate) async fn record(
    conn: Conn<'_>,
    request: &RequestContext,
    spec: &ResourceSpec,
    reveal: Reveal,
    keys: Vec<String>,
) -> Result<(), ApiError> {
    let fields = reveal.revealed(spec);
    if fields.is_empty() || keys.is_empty() {
        return Ok(());
    }
    let keys = &keys[..keys.len().min(MAX_ROW_KEYS)];
    let new = NewSensitiveRead {
        at: Utc::now(),
        // A caller who is shown sensitive fields holds a permission, so is a user.
        actor: request.caller.actor().unwrap_or_default(),
        request_id: crate::changes::current_request_id(),
        model_table: spec.model.table.to_owned(),
        row_keys: serde_json::json!(keys).to_string(),
        fields: serde_json::json!(fields).to_string(),
    };
    SensitiveRead::insert(conn, new)
        .await
        .map(|_| ())
        .map_err(ApiError::from)
}

/// The audit as compliance reads it: newest first, filtered by table, actor
/// and time, and by row (`row_keys__contains`, the key's text in JSON with its
/// quotes, e.g. `"42"`, matches the records listing that row).
#[crate::resource(
    model = SensitiveRead,
    path = "/sensitive-reads",
    name = "SensitiveRead",
    actions(list, retrieve),
    permissions(list = "view_sensitive_reads", retrieve = "view_sensitive_reads"),
    filter(model_table, actor, at(gte, lte), row_keys(contains)),
    ordering(id),
    default_ordering = "-id"
)]
pub(crate) struct SensitiveReadResource {
    pub(crate) id: i64,
    pub(crate) at: DateTime<Utc>,
    pub(crate) actor: String,
    pub(crate) request_id: Option<String>,
    pub(crate) model_table: String,
    pub(crate) row_keys: String,
    pub(crate) fields: String,
}
