//! Registering a route means declaring what it needs: [`Routes`] has no way to add a handler
//! without a [`Need`], wraps each one in the authorization check, and keeps the table that the
//! authorization matrix test walks.

use axum::Router;
use axum::handler::Handler;
use axum::routing::{MethodRouter, delete, get, patch, post, put};

use crate::access::{Need, authorize};
use crate::app::AppState;

/// One registered route and what it needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RouteRule {
    pub method: &'static str,
    pub path: &'static str,
    pub need: Need,
}

#[derive(Debug, Default)]
pub struct Routes {
    router: Router<AppState>,
    table: Vec<RouteRule>,
}

macro_rules! verb {
    ($fn:ident, $method:literal, $routing:ident) => {
        pub fn $fn<H, T>(self, path: &'static str, need: Need, handler: H) -> Self
        where
            H: Handler<T, AppState>,
            T: 'static,
        {
            self.add($method, path, need, $routing(handler))
        }
    };
}

impl Routes {
    pub fn new() -> Self {
        Self::default()
    }

    verb!(get, "GET", get);
    verb!(post, "POST", post);
    verb!(put, "PUT", put);
    verb!(patch, "PATCH", patch);
    verb!(delete, "DELETE", delete);

    fn add(
        mut self,
        method: &'static str,
        path: &'static str,
        need: Need,
        route: MethodRouter<AppState>,
    ) -> Self {
        let checked = route.route_layer(axum::middleware::from_fn(move |req, next| {
            authorize(need, req, next)
        }));
        self.router = self.router.route(path, checked);
        self.table.push(RouteRule { method, path, need });
        self
    }

    /// These routes with what `add` registers, when `wanted` (a kind that declares the verb).
    pub fn when(self, wanted: bool, add: impl FnOnce(Self) -> Self) -> Self {
        if wanted { add(self) } else { self }
    }

    pub fn merge(mut self, other: Self) -> Self {
        self.router = self.router.merge(other.router);
        self.table.extend(other.table);
        self
    }

    pub fn into_parts(self) -> (Router<AppState>, Vec<RouteRule>) {
        (self.router, self.table)
    }
}
