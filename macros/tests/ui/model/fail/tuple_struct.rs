#[fw::model]
pub struct Security(i64, String);

fn main() {}
