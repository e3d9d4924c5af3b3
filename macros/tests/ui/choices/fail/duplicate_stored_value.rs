#[derive(Clone, Copy, fw::Choices)]
pub enum Status {
    PaidOut,
    #[choice(rename = "paid_out")]
    Paid,
}

fn main() {}
