#[derive(Clone)]
#[fw::model]
pub struct Account {
    pub id: i64,
    pub branch: String,
}

#[fw::resource(model = Account, path = "/accounts", actions(retrieve), permissions(model))]
pub struct AccountResource {
    pub id: i64,
    #[field(reveal = "view_account_branch")]
    pub branch: String,
}

fn main() {}
