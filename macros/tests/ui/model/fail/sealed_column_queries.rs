use fw::Model;

#[fw::model]
pub struct Patient {
    pub id: i64,
    #[field(sensitive)]
    pub name: String,
    #[field(sensitive(searchable), unique)]
    pub tax_id: String,
}

fn main() {
    let _ = Patient::query().filter(Patient::NAME.eq("Ada"));
    let _ = Patient::query().filter(Patient::NAME.is_in(["Ada"]));
    let _ = Patient::query().order_by(Patient::TAX_ID.asc());
    let _ = Patient::query().filter(Patient::TAX_ID.gt("1"));
    let _ = Patient::query().filter(Patient::TAX_ID.ne("1"));
    let _ = Patient::query().filter(Patient::TAX_ID.icontains("1"));
    let _ = Patient::query().filter(Patient::NAME.starts_with("A"));
    // What a searchable field allows compiles.
    let _ = Patient::query().filter(Patient::TAX_ID.eq("1"));
    let _ = Patient::query().filter(Patient::TAX_ID.is_in(["1", "2"]));
}
