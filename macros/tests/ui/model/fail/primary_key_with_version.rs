#[fw::model]
pub struct Event {
    #[field(primary_key, version)]
    pub key: i64,
}

fn main() {}
