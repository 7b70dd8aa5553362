//! The SQL of [`KeyStore`](super::KeyStore), written once for both stores (placeholders as
//! `?`, numbered for PostgreSQL by the store's `sql`, as in `sql.rs`).

/// [`KeyStore`] for `$store`, the same SQL on both databases (`Self::sql` numbers the
/// placeholders for PostgreSQL).
macro_rules! server_keys_sql {
    ($store:ty) => {
        #[async_trait::async_trait]
        impl $crate::store::server_keys::KeyStore for $store {
            async fn server_key(&self, name: &str) -> $crate::store::StoreResult<Option<String>> {
                Ok(
                    sqlx::query_scalar(&Self::sql("SELECT value FROM server_keys WHERE name = ?"))
                        .bind(name)
                        .fetch_optional(&self.pool)
                        .await?,
                )
            }

            async fn keep_server_key(
                &self,
                name: &str,
                value: &str,
            ) -> $crate::store::StoreResult<String> {
                // A concurrent insert of the same name waits for the first to commit, then
                // does nothing: the read after it sees the first one's value.
                $crate::store::sql::execute!(
                    self,
                    "INSERT INTO server_keys (name, value) VALUES (?, ?) \
                     ON CONFLICT (name) DO NOTHING",
                    name,
                    value,
                )?;
                self.server_key(name).await?.ok_or_else(|| {
                    $crate::store::StoreError::Config(format!(
                        "the key {name:?} vanished from the database after it was stored"
                    ))
                })
            }
        }
    };
}
pub(super) use server_keys_sql;
