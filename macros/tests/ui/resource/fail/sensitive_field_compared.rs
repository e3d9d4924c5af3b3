#[derive(Clone)]
#[fw::model]
pub struct Account {
    pub id: i64,
    #[field(sensitive)]
    pub holder_name: String,
    #[field(sensitive(searchable), unique)]
    pub tax_id: String,
}

#[fw::resource(
    model = Account,
    path = "/accounts",
    actions(list),
    permissions(model),
    filter(holder_name, tax_id(exact, in, startswith)),
    ordering(tax_id),
    search(holder_name)
)]
pub struct AccountResource {
    pub id: i64,
    #[field(reveal = "view_account_holder_name")]
    pub holder_name: String,
    #[field(reveal = "view_account_tax_id")]
    pub tax_id: String,
}

fn main() {}
