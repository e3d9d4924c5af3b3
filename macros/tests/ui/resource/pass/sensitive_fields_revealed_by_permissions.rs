#[derive(Clone)]
#[fw::model]
pub struct Account {
    pub id: i64,
    pub branch: String,
    #[field(sensitive)]
    pub holder_name: String,
    #[field(sensitive(searchable), unique)]
    pub tax_id: Option<String>,
}

/// Exact and `in` filters on a searchable sensitive field compare its digest;
/// a write-only sensitive field needs no permission to be written.
#[fw::resource(
    model = Account,
    path = "/accounts",
    actions(list, retrieve, create),
    permissions(model),
    filter(branch, tax_id(exact, in)),
    read_only(id),
    write_only(holder_name)
)]
pub struct AccountResource {
    pub id: i64,
    pub branch: String,
    pub holder_name: String,
    #[field(reveal = "view_account_tax_id")]
    pub tax_id: Option<String>,
}

fn main() {}
