//! The change log on SQLite, tested: it prunes itself, and a revision pruned away is gone.
//! ([`ChangeStore`](super::ChangeStore) itself is shared SQL, in `sql_changes.rs`.)

#[cfg(test)]
mod tests {
    use crate::store::Store as _;
    use crate::store::sqlite::SqliteStore;
    use crate::store::{ChangeStore as _, Cursor};
    use tagstream_shared::{Project, ProjectName};

    #[tokio::test]
    async fn the_log_prunes_itself_and_old_revisions_are_gone() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = SqliteStore::open(&dir.path().join("t.db"))
            .await
            .expect("opens");
        for i in 0..2300 {
            let name: ProjectName = format!("p{i}").parse().expect("valid");
            store
                .create_project(
                    &crate::audit::Actor::SERVER,
                    &name,
                    Project::new(name.as_str()),
                    None,
                )
                .await
                .expect("created");
        }
        let kept: i64 = sqlx::query_scalar("SELECT count(*) FROM changes")
            .fetch_one(&store.pool)
            .await
            .expect("counts");
        assert!((2000..=2200).contains(&kept), "{kept} changes kept");
        assert!(matches!(store.cursor_after(1).await, Ok(Cursor::Gone(_))));
        let newest = store.current_revision().await.expect("revision");
        let Ok(Cursor::After(cursor)) = store.cursor_after(newest - 3).await else {
            panic!("a recent revision resumes");
        };
        let Ok(Ok((rows, _))) = store.changes_after(cursor, "projects", 10).await else {
            panic!("rows after a recent revision");
        };
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[2].name, "p2299");
    }
}
