//! The HTML document around every page and the router that picks the page. The server
//! renders `shell`; the browser hydrates `App`.

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Title};
use leptos_router::components::{ParentRoute, Route, Router, Routes};
use leptos_router::path;

use crate::layout::Layout;
use crate::pages::{
    ExclusionsPage, LoginPage, NewRunPage, NotFoundPage, OverviewPage, PoolsPage, ReliabilityPage,
    RunDetailPage, RunsPage, SlaPage, SlaReportPage,
};

/// The whole HTML document, for server rendering.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <AutoReload options=options.clone() />
                <HydrationScripts options />
                <MetaTags />
                <link rel="stylesheet" id="leptos" href="/pkg/factory.css" />
                // No favicon yet: an empty one keeps browsers from asking for /favicon.ico.
                <link rel="icon" href="data:," />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// Every page. `/login` stands alone; the rest share the layout with the navigation.
/// `runs/new` comes before `runs/:id` so "new" is never taken for a run id.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();

    view! {
        <Title formatter=|page: String| format!("{page} · Factory") />
        <Router>
            <Routes fallback=NotFoundPage>
                <Route path=path!("/login") view=LoginPage />
                <ParentRoute path=path!("") view=Layout>
                    <Route path=path!("") view=RunsPage />
                    <Route path=path!("/runs") view=RunsPage />
                    <Route path=path!("/runs/new") view=NewRunPage />
                    <Route path=path!("/runs/:id") view=RunDetailPage />
                    <Route path=path!("/overview") view=OverviewPage />
                    <Route path=path!("/pools") view=PoolsPage />
                    <Route path=path!("/reliability") view=ReliabilityPage />
                    <Route path=path!("/sla") view=SlaPage />
                    <Route path=path!("/sla/:tenant/:month") view=SlaReportPage />
                    <Route path=path!("/exclusions") view=ExclusionsPage />
                </ParentRoute>
            </Routes>
        </Router>
    }
}
