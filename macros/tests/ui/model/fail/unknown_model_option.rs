#[fw::model(tabel = "securities")]
pub struct Security {
    pub id: i64,
}

fn main() {}
