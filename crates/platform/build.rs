// The migrations under `sql/` are embedded into the binary (sqlx::migrate! and include_dir!);
// rebuild when any of them changes so a stale binary never applies old DDL.
fn main() {
    println!("cargo:rerun-if-changed=../../sql");
}
