#[fw::model]
pub struct Event {
    pub id: i64,
    #[field(auto_now_add, auto_now)]
    pub at: chrono::DateTime<chrono::Utc>,
}

fn main() {}
