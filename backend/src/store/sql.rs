//! The SQL both stores share, written once: PostgreSQL and SQLite run the same statements on
//! the same tables, apart from how parameters are written (`?` here, numbered for PostgreSQL by
//! the store's `sql`). [`store_sql!`] gives a store its unit of work (`begin_write`, the audit
//! record), the generic object rows (`objects`), the object store's reads, and the projects and
//! images of [`Store`](super::Store).

use std::borrow::Cow;

/// `?` placeholders numbered `$1, $2, ...` in order, as PostgreSQL writes them.
pub(super) fn numbered(sql: &str) -> Cow<'_, str> {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut n = 0;
    for c in sql.chars() {
        if c == '?' {
            n += 1;
            out.push('$');
            out.push_str(&n.to_string());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Runs one statement (written with `?`) on the store's pool with `binds` in order, answering
/// nothing: inside a store's impl, `execute!(self, "DELETE ... WHERE a = ?", a)`.
macro_rules! execute {
    ($self:ident, $sql:expr $(, $bind:expr)* $(,)?) => {
        sqlx::query(&Self::sql($sql))
            $(.bind($bind))*
            .execute(&$self.pool)
            .await
            .map(drop)
    };
}
pub(crate) use execute;

/// Reads every row of one query (written with `?`) on the store's pool with `binds` in order,
/// each as a `$row` made into what the store answers (`From<$row>`): inside a store's impl,
/// `fetch_all!(self, Row, "SELECT ... WHERE a = ?", a)`.
macro_rules! fetch_all {
    ($self:ident, $row:ty, $sql:expr $(, $bind:expr)* $(,)?) => {
        sqlx::query_as::<_, $row>(&Self::sql($sql))
            $(.bind($bind))*
            .fetch_all(&$self.pool)
            .await
            .map(|rows| rows.into_iter().map(Into::into).collect())
            .map_err(Into::into)
    };
}
pub(crate) use fetch_all;

/// Reads at most one row of one query (written with `?`) on the store's pool with `binds` in
/// order: `fetch_optional!(self, "SELECT a, b FROM t WHERE k = ?", k)` answers a
/// `StoreResult<Option<(A, B)>>`; `fetch_optional!(scalar: self, ...)` the one column's
/// `StoreResult<Option<A>>`.
macro_rules! fetch_optional {
    (scalar: $self:ident, $sql:expr $(, $bind:expr)* $(,)?) => {
        sqlx::query_scalar(&Self::sql($sql))
            $(.bind($bind))*
            .fetch_optional(&$self.pool)
            .await
            .map_err($crate::store::StoreError::from)
    };
    ($self:ident, $sql:expr $(, $bind:expr)* $(,)?) => {
        sqlx::query_as(&Self::sql($sql))
            $(.bind($bind))*
            .fetch_optional(&$self.pool)
            .await
            .map_err($crate::store::StoreError::from)
    };
}
pub(crate) use fetch_optional;

/// The shared SQL for `$store` on database `$db` (whose connection is `$conn`); the store has a
/// `fn sql(&'static str) -> Cow<str>` that writes a statement in its dialect.
macro_rules! store_sql {
    ($store:ty, $db:ty, $conn:ty) => {
        const _: () = {
            use $crate::audit::Actor;
            use $crate::store::objects::{ObjectStore, Stored, audit_ns, bounded};
            use $crate::store::sqlite::{Change, decode_all, encode, on_constraint};
            use $crate::store::unit::{UnitOfWork, WriteTx};
            use $crate::store::{Listed, Store, StoreError, StoreResult};
            use tagstream_shared::object::ApiResource;
            use tagstream_shared::resources as kinds;
            use tagstream_shared::{Image, Project, ProjectName};

        impl $store {
            /// Starts a write acting as `actor`: takes the next revision first, which also takes
            /// the store's write lock (SQLite's lock, PostgreSQL's row lock on the revision) before anything is read.
            pub(super) async fn begin_write(&self, actor: &Actor) -> StoreResult<WriteTx<$db>> {
                let mut tx = self.pool.begin().await?;
                let revision: i64 = sqlx::query_scalar(&Self::sql("UPDATE revision SET value = value + 1 WHERE id = 1 RETURNING value"),
                )
                .fetch_one(&mut *tx)
                .await?;
                Ok(WriteTx::new(tx, revision, actor, &self.changed))
            }

            /// Starts a read whose statements all see one snapshot of the database.
            pub(super) async fn begin_read(&self) -> StoreResult<sqlx::Transaction<'static, $db>> {
                let mut tx = self.pool.begin().await?;
                if let Some(statement) = Self::READ_SNAPSHOT {
                    sqlx::query(statement).execute(&mut *tx).await?;
                }
                Ok(tx)
            }

            /// Commits a write and wakes every watch.
            pub(super) async fn commit(&self, tx: WriteTx<$db>) -> StoreResult<()> {
                tx.finish().await
            }

            /// Records `change` in the audit log of the write `tx` and commits it.
            pub(super) async fn commit_recorded(
                &self,
                mut tx: WriteTx<$db>,
                change: Change<'_>,
            ) -> StoreResult<()> {
                Self::record(&mut tx, change).await?;
                self.commit(tx).await
            }

            /// Records a change in the audit log inside the transaction that makes it.
            pub(super) async fn record(tx: &mut WriteTx<$db>, change: Change<'_>) -> StoreResult<()> {
                let event = change.audit_event(&tx.actor);
                sqlx::query(&Self::sql("INSERT INTO audit_events (namespace, body) VALUES (?, ?)"))
                    .bind(change.namespace)
                    .bind(serde_json::to_string(&event)?)
                    .execute(&mut **tx)
                    .await?;
                Ok(())
            }

            /// The stored resourceVersion and body, inside a transaction.
            pub(super) async fn row_in(
                tx: &mut $conn,
                r: &'static ApiResource,
                ns: &str,
                name: &str,
            ) -> StoreResult<Option<(i64, String)>> {
                Ok(sqlx::query_as(&Self::sql("SELECT resource_version, body FROM objects \
                     WHERE resource = ? AND namespace = ? AND name = ?"),
                )
                .bind(r.plural)
                .bind(ns)
                .bind(name)
                .fetch_optional(&mut *tx)
                .await?)
            }

            /// Inserts a new object at `revision` and records it in the audit log.
            pub(super) async fn insert_in(
                tx: &mut WriteTx<$db>,
                revision: i64,
                r: &'static ApiResource,
                ns: &str,
                name: &str,
                object: &mut dyn Stored,
            ) -> StoreResult<()> {
                if r.is_namespaced() {
                    let projects: i64 = sqlx::query_scalar(&Self::sql(
                        "SELECT count(*) FROM projects WHERE name = ?",
                    ))
                    .bind(ns)
                    .fetch_one(&mut **tx)
                    .await?;
                    if projects == 0 {
                        return Err(StoreError::NoProject {
                            name: ns.to_owned(),
                        });
                    }
                }
                object.set_resource_version(revision);
                sqlx::query(&Self::sql("INSERT INTO objects (resource, namespace, name, resource_version, body) \
                     VALUES (?, ?, ?, ?, ?)"),
                )
                .bind(r.plural)
                .bind(ns)
                .bind(name)
                .bind(revision)
                .bind(bounded(r, name, object.encode()?)?)
                .execute(&mut **tx)
                .await
                .map_err(on_constraint(r, audit_ns(ns), name))?;
                Self::record(tx, Change::create(r, audit_ns(ns), name, revision)).await
            }

            /// Replaces an object at `expected` with `object` at `revision`; answers the old body.
            pub(super) async fn update_in(
                tx: &mut WriteTx<$db>,
                revision: i64,
                r: &'static ApiResource,
                ns: &str,
                name: &str,
                expected: Option<u64>,
                object: &mut dyn Stored,
            ) -> StoreResult<String> {
                let (before, old) = Self::row_in(tx, r, ns, name)
                    .await?
                    .ok_or_else(|| StoreError::not_found(r, name))?;
                if expected.is_some_and(|e| u64::try_from(before).ok() != Some(e)) {
                    return Err(StoreError::conflict(r, name));
                }
                object.set_resource_version(revision);
                sqlx::query(&Self::sql("UPDATE objects SET resource_version = ?, body = ? \
                     WHERE resource = ? AND namespace = ? AND name = ?"),
                )
                .bind(revision)
                .bind(bounded(r, name, object.encode()?)?)
                .bind(r.plural)
                .bind(ns)
                .bind(name)
                .execute(&mut **tx)
                .await?;
                Self::record(tx, Change::update(r, audit_ns(ns), name, before, revision)).await?;
                Ok(old)
            }

            /// Removes an object and records it; answers its body as it was.
            pub(super) async fn remove_in(
                tx: &mut WriteTx<$db>,
                r: &'static ApiResource,
                ns: &str,
                name: &str,
            ) -> StoreResult<String> {
                let row: Option<(String, i64)> = sqlx::query_as(&Self::sql("DELETE FROM objects WHERE resource = ? AND namespace = ? AND name = ? \
                     RETURNING body, resource_version"),
                )
                .bind(r.plural)
                .bind(ns)
                .bind(name)
                .fetch_optional(&mut **tx)
                .await?;
                let (body, before) = row.ok_or_else(|| StoreError::not_found(r, name))?;
                Self::record(tx, Change::delete(r, audit_ns(ns), name, Some(before))).await?;
                // Here, not in each caller: every way a stream goes (its API, kubectl, a
                // template instance, the samples) queues its registry repository's purge in
                // the delete's own transaction, so the next owner of the name never gets the
                // old images.
                if r.plural == kinds::IMAGESTREAMS.plural {
                    Self::queue_stream_purge_in(tx, ns, name, &body).await?;
                    // Its tags' checks go too: a stream made again under the name is not shown
                    // when the old one was last checked, or tried next.
                    sqlx::query(&Self::sql(
                        "DELETE FROM tag_checks WHERE namespace = ? AND stream = ?",
                    ))
                    .bind(ns)
                    .bind(name)
                    .execute(&mut **tx)
                    .await?;
                }
                Ok(body)
            }

            /// Every body of a resource inside a transaction (`ns` or every project), by project
            /// and name.
            pub(super) async fn bodies_in(
                tx: &mut $conn,
                r: &'static ApiResource,
                ns: Option<&str>,
            ) -> StoreResult<Vec<(String, String)>> {
                Ok(sqlx::query_as(&Self::sql("SELECT namespace, body FROM objects WHERE resource = ? \
                     AND (? IS NULL OR namespace = ?) ORDER BY namespace, name"),
                )
                .bind(r.plural)
                .bind(ns)
                .bind(ns)
                .fetch_all(&mut *tx)
                .await?)
            }
        }

        #[async_trait::async_trait]
        impl ObjectStore for $store {
            async fn get_body(&self, r: &'static ApiResource, ns: &str, name: &str) -> StoreResult<String> {
                let body: Option<String> = sqlx::query_scalar(&Self::sql("SELECT body FROM objects WHERE resource = ? AND namespace = ? AND name = ?"),
                )
                .bind(r.plural)
                .bind(ns)
                .bind(name)
                .fetch_optional(&self.pool)
                .await?;
                body.ok_or_else(|| StoreError::not_found(r, name))
            }

            async fn get_row(
                &self,
                r: &'static ApiResource,
                ns: &str,
                name: &str,
            ) -> StoreResult<(u64, String)> {
                let row: Option<(i64, String)> = sqlx::query_as(&Self::sql("SELECT resource_version, body FROM objects WHERE resource = ? AND namespace = ? AND name = ?"),
                )
                .bind(r.plural)
                .bind(ns)
                .bind(name)
                .fetch_optional(&self.pool)
                .await?;
                let (rv, body) = row.ok_or_else(|| StoreError::not_found(r, name))?;
                Ok((u64::try_from(rv).unwrap_or_default(), body))
            }

            async fn list_bodies(
                &self,
                r: &'static ApiResource,
                ns: Option<&str>,
            ) -> StoreResult<Listed<String>> {
                let mut tx = self.begin_read().await?;
                let revision: i64 = sqlx::query_scalar(&Self::sql("SELECT value FROM revision WHERE id = 1"))
                    .fetch_one(&mut *tx)
                    .await?;
                let rows = Self::bodies_in(&mut tx, r, ns).await?;
                tx.commit().await?;
                Ok(Listed {
                    items: rows.into_iter().map(|(_, body)| body).collect(),
                    resource_version: u64::try_from(revision).unwrap_or_default(),
                })
            }

            async fn begin(&self, actor: &Actor) -> StoreResult<Box<dyn UnitOfWork>> {
                Ok(Box::new(self.begin_write(actor).await?))
            }
        }

        #[async_trait::async_trait]
        impl Store for $store {
            async fn get_image(&self, digest: &str) -> StoreResult<Option<Image>> {
                let body: Option<String> = sqlx::query_scalar(&Self::sql("SELECT body FROM images WHERE digest = ?"))
                    .bind(digest)
                    .fetch_optional(&self.pool)
                    .await?;
                Ok(body.map(|b| serde_json::from_str(&b)).transpose()?)
            }

            async fn put_image(&self, image: &Image) -> StoreResult<()> {
                sqlx::query(&Self::sql("INSERT INTO images (digest, body) VALUES (?, ?) ON CONFLICT (digest) DO NOTHING"),
                )
                .bind(image.digest())
                .bind(serde_json::to_string(image)?)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn list_projects(&self) -> StoreResult<Listed<Project>> {
                let mut tx = self.begin_read().await?;
                let revision: i64 = sqlx::query_scalar(&Self::sql("SELECT value FROM revision WHERE id = 1"))
                    .fetch_one(&mut *tx)
                    .await?;
                let bodies: Vec<String> = sqlx::query_scalar(&Self::sql("SELECT body FROM projects ORDER BY name"))
                    .fetch_all(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(Listed {
                    items: decode_all(bodies)?,
                    resource_version: u64::try_from(revision).unwrap_or_default(),
                })
            }

            async fn get_project(&self, name: &ProjectName) -> StoreResult<Project> {
                let body: Option<String> = sqlx::query_scalar(&Self::sql("SELECT body FROM projects WHERE name = ?"))
                    .bind(name.as_str())
                    .fetch_optional(&self.pool)
                    .await?;
                Ok(serde_json::from_str(&body.ok_or_else(|| {
                    StoreError::not_found(&kinds::PROJECTS, name.as_str())
                })?)?)
            }

            async fn create_project(
                &self,
                actor: &Actor,
                name: &ProjectName,
                mut project: Project,
                admin: Option<tagstream_shared::user::RoleBinding>,
            ) -> StoreResult<Project> {
                let mut tx = self.begin_write(actor).await?;
                let revision = tx.revision;
                let body = encode(&mut project, revision)?;
                sqlx::query(&Self::sql("INSERT INTO projects (name, resource_version, body, created_revision) \
                     VALUES (?, ?, ?, ?)"),
                )
                .bind(name.as_str())
                .bind(revision)
                .bind(body)
                .bind(revision)
                .execute(&mut *tx)
                .await
                .map_err(on_constraint(&kinds::PROJECTS, None, name.as_str()))?;
                Self::record(
                    &mut tx,
                    Change::create(&kinds::PROJECTS, None, name.as_str(), revision),
                )
                .await?;
                if let Some(mut binding) = admin {
                    let binding_name = binding.metadata.name().to_owned();
                    binding.metadata.namespace = Some(name.to_string());
                    Self::insert_in(
                        &mut tx,
                        revision,
                        &kinds::ROLEBINDINGS,
                        name.as_str(),
                        &binding_name,
                        &mut binding,
                    )
                    .await?;
                }
                self.commit(tx).await?;
                Ok(project)
            }

            async fn delete_project(&self, actor: &Actor, name: &ProjectName) -> StoreResult<Project> {
                let mut tx = self.begin_write(actor).await?;
                // Read before the project's objects cascade away with it.
                let streams = Self::bodies_in(&mut tx, &kinds::IMAGESTREAMS, Some(name.as_str())).await?;
                let row: Option<(String, i64)> =
                    sqlx::query_as(&Self::sql("DELETE FROM projects WHERE name = ? RETURNING body, resource_version"))
                        .bind(name.as_str())
                        .fetch_optional(&mut *tx)
                        .await?;
                let (body, before) =
                    row.ok_or_else(|| StoreError::not_found(&kinds::PROJECTS, name.as_str()))?;
                let project = serde_json::from_str(&body)?;
                // Its history stays with it, not with the name: its events go, and its audit rows stay
                // in the cluster-wide log only (the body keeps the namespace; the column that a
                // project's log is read by is cleared), so a new project of the same name starts empty.
                sqlx::query(&Self::sql("DELETE FROM events WHERE namespace = ?"))
                    .bind(name.as_str())
                    .execute(&mut *tx)
                    .await?;
                sqlx::query(&Self::sql("UPDATE audit_events SET namespace = NULL WHERE namespace = ?"))
                    .bind(name.as_str())
                    .execute(&mut *tx)
                    .await?;
                // Its registry repositories go with it: each stream's (with its history's
                // digests) and, for repositories no stream named, every one under `project/`.
                for (_, body) in &streams {
                    let stream: tagstream_shared::ImageStream = serde_json::from_str(body)?;
                    Self::queue_stream_purge_in(&mut tx, name.as_str(), stream.metadata.name(), body).await?;
                }
                Self::queue_purge_in(&mut tx, &format!("{name}/"), Vec::new()).await?;
                sqlx::query(&Self::sql("DELETE FROM tag_checks WHERE namespace = ?"))
                    .bind(name.as_str())
                    .execute(&mut *tx)
                    .await?;
                self.commit_recorded(
                    tx,
                    Change::delete(&kinds::PROJECTS, None, name.as_str(), Some(before)),
                )
                .await?;
                Ok(project)
            }
        }

        };
    };
}
pub(super) use store_sql;

/// Everything both stores run the same way, for `$store` on `$db` (whose connection is
/// `$conn`): the SQL whose only difference between the dialects is how parameters are written.
/// What differs more (triggers' leases, purge claims) each store gives its own arguments.
macro_rules! shared_sql {
    ($store:ty, $db:ty, $conn:ty) => {
        super::unit::unit_of_work!($store, $db);
        super::sql::store_sql!($store, $db, $conn);
        super::sql_access::access_sql!($store, $db);
        super::sql_changes::change_sql!($store);
        super::sql_keys::server_keys_sql!($store);
        super::refusals::refusal_sql!($store);
        super::held::held_sql!($store);
    };
}
pub(super) use shared_sql;
