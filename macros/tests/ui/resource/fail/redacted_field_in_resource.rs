#[derive(Clone)]
#[fw::model]
pub struct Client {
    pub id: i64,
    #[field(redacted)]
    pub secret_hash: String,
}

#[fw::resource(model = Client, path = "/clients", actions(retrieve), permissions(model))]
pub struct ClientResource {
    pub id: i64,
    pub secret_hash: String,
}

fn main() {}
