//! Resources that take their model's fields: all, some, all but some, mixed
//! with written-out fields; a model in another module and in a function body.

mod models {
    use chrono::NaiveDate;

    #[derive(Debug, Clone, Copy, PartialEq, Eq, fw::Choices)]
    pub enum Status {
        Announced,
        Cancelled,
    }

    #[derive(Clone)]
    #[fw::model]
    pub struct Security {
        pub id: i64,
        #[field(max_length = 12)]
        pub symbol: String,
        #[field(version)]
        pub version: i64,
    }

    /// A dividend, with types this module imports and the resource's does not.
    #[derive(Clone)]
    #[fw::model(changelog)]
    pub struct Dividend {
        pub id: i64,
        pub security: fw::Ref<Security>,
        /// The day the stock trades without the dividend.
        pub ex_date: NaiveDate,
        pub record_date: Option<NaiveDate>,
        #[field(default = "announced")]
        pub status: Status,
        #[field(sensitive, max_length = 100)]
        pub note: Option<String>,
        #[field(version)]
        pub version: i64,
    }
}

use models::Dividend;

#[fw::resource(
    model = Dividend,
    path = "/dividends",
    exclude(note),
    actions(list, retrieve, create, update, partial_update, destroy, history),
    permissions(model),
    filter(ex_date(gte, lte), record_date(isnull), status, symbol = security.symbol(exact, in)),
    ordering(ex_date)
)]
pub struct DividendResource;

#[fw::resource(
    model = crate::models::Dividend,
    path = "/dividend-notes",
    fields(id, ex_date),
    actions(retrieve, partial_update),
    permissions(model)
)]
pub struct DividendNoteResource {
    #[field(reveal = "view_dividend_note")]
    pub note: Option<String>,
    /// The ex-date, as the first clients named it.
    #[field(rename = "exDate")]
    pub ex_date: chrono::NaiveDate,
}

#[fw::resource(model = models::Security, path = "/securities", fields = all, actions(list, create, update), permissions(model))]
pub struct SecurityResource;

fn main() {
    #[derive(Clone)]
    #[fw::model]
    struct Memo {
        id: i64,
        #[field(max_length = 100)]
        text: String,
    }

    #[fw::resource(model = Memo, path = "/memos", fields = all, actions(create), permissions(model))]
    struct MemoResource;

    let _ = fw::Api::new("Test", "1.0.0")
        .resource::<DividendResource>()
        .resource::<DividendNoteResource>()
        .resource::<SecurityResource>()
        .resource::<MemoResource>();
}
