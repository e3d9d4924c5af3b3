#[derive(Clone)]
#[fw::model]
pub struct Account {
    pub id: i64,
    #[field(max_length = 20)]
    pub number: String,
    #[field(sensitive, max_length = 200)]
    pub holder_name: String,
    #[field(redacted, max_length = 200)]
    pub pin_hash: Option<String>,
}

#[fw::resource(model = Account, path = "/accounts", fields = all, actions(list), permissions(model))]
pub struct AccountResource;

#[fw::resource(model = Account, path = "/numbers", exclude(holder_name), actions(list), permissions(model))]
pub struct NumberResource {
    pub pin_hash: Option<String>,
}

fn main() {}
