#[derive(Clone)]
#[fw::model]
pub struct Account {
    pub id: i64,
    #[field(sensitive)]
    pub holder_name: String,
}

#[fw::resource(model = Account, path = "/accounts", actions(retrieve), permissions(model))]
pub struct AccountResource {
    pub id: i64,
    pub holder_name: String,
}

fn main() {}
